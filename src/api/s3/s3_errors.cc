#include "api/s3/s3_errors.h"

#include <array>
#include <utility>

#include "common/base64.h"
#include "common/ids.h"
#include "common/strings.h"
#include "objects/xml.h"

namespace loam::api::s3 {

using objects::XmlWriter;

namespace {

namespace r = objects::reason;

constexpr std::array<std::pair<std::string_view, unsigned>, 32> kStatusByCode = {{
    {r::kNoSuchBucket, 404},
    {r::kNoSuchKey, 404},
    {r::kNoSuchUpload, 404},
    {r::kBucketAlreadyOwnedByYou, 409},
    {r::kBucketNotEmpty, 409},
    {r::kInvalidBucketName, 400},
    {r::kKeyTooLongError, 400},
    {r::kInvalidArgument, 400},
    {r::kInvalidRequest, 400},
    {r::kInvalidPart, 400},
    {r::kInvalidPartOrder, 400},
    {r::kEntityTooSmall, 400},
    {r::kBadDigest, 400},
    {r::kInvalidRange, 416},
    {r::kParentIsObject, 409},
    {r::kObjectExistsAsDirectory, 409},
    {kMalformedXML, 400},
    {kMethodNotAllowed, 405},
    {kNotImplemented, 501},
    {kInvalidDigest, 400},
    {kIncompleteBody, 400},
    {kPreconditionFailed, 412},
    {kNotModified, 304},
    {kMaxMessageLengthExceeded, 400},
    {r::kContentSha256Mismatch, 400},
    {kMetadataTooLarge, 400},
    {kEntityTooLarge, 400},
    {kInternalError, 500},
    {"AccessDenied", 403},
    {"BucketAlreadyExists", 409},
    // What an external object store answers when it is overloaded or down (after retries).
    {kServiceUnavailable, 503},
    {"SlowDown", 503},
}};

std::pair<std::string_view, unsigned> Default(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return {r::kInvalidArgument, 400};
    case StatusCode::kNotFound: return {r::kNoSuchKey, 404};
    case StatusCode::kAlreadyExists: return {r::kBucketAlreadyOwnedByYou, 409};
    case StatusCode::kFailedPrecondition: return {kPreconditionFailed, 412};
    case StatusCode::kResourceExhausted: return {kEntityTooLarge, 400};
    case StatusCode::kUnimplemented: return {kNotImplemented, 501};
    case StatusCode::kOk:
    case StatusCode::kInternal: return {kInternalError, 500};
    case StatusCode::kUnavailable: return {kServiceUnavailable, 503};
  }
  return {kInternalError, 500};
}

}  // namespace

S3ErrorReply ToS3Error(const Status& status) {
  auto [reason, message] = objects::SplitBucketError(status);
  S3ErrorReply reply;
  reply.message = std::string(message);
  if (!reason.empty()) {
    for (const auto& [code, http_status] : kStatusByCode) {
      if (code == reason) {
        reply.code = std::string(code);
        reply.http_status = http_status;
        return reply;
      }
    }
  }
  auto [code, http_status] = Default(status.code());
  reply.code = std::string(reason.empty() ? code : reason);
  reply.http_status = http_status;
  return reply;
}

void AddRequestIds(http::Response& response) {
  std::string id = NewUuidHex();
  std::string upper;
  for (char c : id.substr(0, 16)) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  response.headers.emplace_back("x-amz-request-id", upper);
  response.headers.emplace_back("x-amz-id-2", Base64Encode(id));
}

http::Response S3ErrorResponse(const Status& status, std::string_view resource, bool head) {
  S3ErrorReply reply = ToS3Error(status);
  http::Response res;
  res.status = reply.http_status;
  res.content_type = "application/xml";
  AddRequestIds(res);
  if (head || reply.http_status == 304) return res;
  std::string request_id = res.headers[0].second;
  XmlWriter xml("Error", "");
  xml.Element("Code", reply.code).Element("Message", reply.message);
  if (!resource.empty()) xml.Element("Resource", resource);
  xml.Element("RequestId", request_id);
  res.body = xml.Finish();
  return res;
}

}  // namespace loam::api::s3
