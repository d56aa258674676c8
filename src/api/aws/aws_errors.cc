#include "api/aws/aws_errors.h"

#include <nlohmann/json.hpp>

#include "common/ids.h"

namespace loam::api::aws {
namespace {

std::string_view DefaultType(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition: return kValidationException;
    case StatusCode::kAlreadyExists: return kResourceInUse;
    case StatusCode::kResourceExhausted: return kResourceLimitExceeded;
    case StatusCode::kUnimplemented: return kNotImplementedException;
    case StatusCode::kOk:
    case StatusCode::kInternal: return kInternalFailure;
    case StatusCode::kUnavailable: return kServiceUnavailable;
  }
  return kInternalFailure;
}

}  // namespace

Status AwsError(StatusCode code, std::string_view aws_type, std::string_view message) {
  return TypedError(code, aws_type, message);
}

AwsErrorReply ToAwsError(const Status& status) {
  AwsErrorReply reply;
  // Only internal failures and unreachable dependencies are answered 5xx: botocore retries
  // those, and nothing else is worth retrying unchanged.
  bool internal = status.code() == StatusCode::kInternal || status.ok();
  reply.http_status = status.code() == StatusCode::kUnavailable ? 503 : internal ? 500 : 400;
  auto [type, message] = ErrorTypeOf(status);
  reply.type = type.empty() ? DefaultType(status.code()) : type;
  reply.message = message;
  return reply;
}

http::Response AwsErrorResponse(const Status& status, std::string_view content_type) {
  AwsErrorReply reply = ToAwsError(status);
  // botocore reads "message" (then "Message") into Error.Message; SageMaker's modeled
  // exceptions declare a "Message" member, which typed SDKs read into the exception.
  nlohmann::json body = {{"__type", reply.type}, {"message", reply.message}, {"Message", reply.message}};
  http::Response res =
      http::Response::Json(reply.http_status, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  res.content_type = std::string(content_type);
  res.headers.emplace_back("x-amzn-RequestId", NewAwsRequestId());
  res.headers.emplace_back("x-amzn-ErrorType", reply.type);
  return res;
}

std::string NewAwsRequestId() {
  std::string hex = NewUuidHex();
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" + hex.substr(16, 4) + "-" +
         hex.substr(20);
}

}  // namespace loam::api::aws
