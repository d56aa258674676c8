#include "api/sagemaker_runtime/runtime_routes.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>
#include <regex>

namespace loam::api::sagemaker_runtime {

using nlohmann::json;
using hosting::InvocationResult;

namespace {

constexpr size_t kMaxPayloadBytes = 6 * 1024 * 1024;  // SageMaker's real-time payload limit
constexpr const char* kInvocationsSuffix = "/invocations";

http::Response RuntimeError(unsigned status, const std::string& type, json body) {
  http::Response r = http::Response::Json(status, body.dump());
  r.headers.emplace_back("x-amzn-ErrorType", type);
  return r;
}

http::Response ValidationError(const std::string& message) {
  return RuntimeError(400, "ValidationError", {{"message", message}, {"Message", message}});
}

// The one mapping from a Status to SageMaker Runtime's errors (body-level failures found by
// the HTTP server, e.g. a payload over the limit, come through here).
http::Response StatusError(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kFailedPrecondition:
      return ValidationError(st.message());
    case StatusCode::kResourceExhausted: {
      http::Response r = ValidationError(st.message());
      r.status = 413;
      return r;
    }
    case StatusCode::kUnavailable:
      return RuntimeError(503, "ServiceUnavailable", {{"message", st.message()}, {"Message", st.message()}});
    default:
      return RuntimeError(500, "InternalFailure", {{"message", st.message()}, {"Message", st.message()}});
  }
}

bool ValidEndpointName(const std::string& name) {
  static const std::regex kPattern("^[a-zA-Z0-9](-*[a-zA-Z0-9])*$");
  return !name.empty() && name.size() <= 63 && std::regex_match(name, kPattern);
}

http::Response ModelError(const RuntimeOptions& o, const std::string& endpoint, const InvocationResult& r) {
  const std::string log_stream = fmt::format("arn:aws:logs:{}:{}:log-group:/aws/sagemaker/Endpoints/{}", o.region,
                                             o.account, endpoint);
  const unsigned code = r.model_status;
  const std::string original = code != 0 ? r.body : r.message;
  const std::string kind = code >= 400 && code < 500 ? "client" : "server";
  const std::string message = fmt::format(
      "Received {} error ({}) from primary with message \"{}\". See {} in account {} for more information.", kind,
      code, original, log_stream, o.account);
  return RuntimeError(424, "ModelError",
                      {{"ErrorCode", code >= 400 && code < 500 ? "CLIENT_ERROR_FROM_MODEL" : "SERVER_ERROR_FROM_MODEL"},
                       {"message", message},
                       {"Message", message},
                       {"OriginalStatusCode", code},
                       {"OriginalMessage", original},
                       {"LogStreamArn", log_stream}});
}

http::Response ToResponse(const RuntimeOptions& o, const std::string& endpoint, InvocationResult r) {
  switch (r.outcome) {
    case InvocationResult::Outcome::kOk: {
      http::Response res;
      res.status = 200;
      res.content_type = r.content_type.empty() ? "application/json" : r.content_type;
      res.body = std::move(r.body);
      res.headers.emplace_back("x-Amzn-Invoked-Production-Variant", r.variant);
      if (!r.custom_attributes.empty()) res.headers.emplace_back("X-Amzn-SageMaker-Custom-Attributes", r.custom_attributes);
      return res;
    }
    case InvocationResult::Outcome::kEndpointNotFound:
      return ValidationError(fmt::format("Endpoint {} of account {} not found.", endpoint, o.account));
    case InvocationResult::Outcome::kUnknownVariant:
      return ValidationError(r.message);
    case InvocationResult::Outcome::kNoHealthyInstance:
      return RuntimeError(503, "ServiceUnavailable", {{"message", r.message}, {"Message", r.message}});
    case InvocationResult::Outcome::kModelError:
      return ModelError(o, endpoint, r);
  }
  return StatusError(Internal("unexpected invocation outcome"));
}

}  // namespace

void AddRoutes(http::Router& router, std::shared_ptr<hosting::Invoker> invoker, RuntimeOptions options) {
  router.Add({.name = "sagemaker_runtime.InvokeEndpoint",
              .methods = {"POST"},
              .path = "/endpoints/",
              .prefix = true,
              .max_body_bytes = kMaxPayloadBytes,
              .async_handler =
                  [invoker, options](http::Request& req, http::Responder done) {
                    // The decoded path: SageMaker decodes the endpoint name's label (bad%21 is bad!).
                    const std::string tail = req.path.substr(std::min(req.path.size(), std::strlen("/endpoints/")));
                    const size_t suffix = std::strlen(kInvocationsSuffix);
                    if (tail.size() <= suffix || tail.compare(tail.size() - suffix, suffix, kInvocationsSuffix) != 0) {
                      done(StatusError(NotFound("Unknown path " + req.path + ".")));
                      return;
                    }
                    const std::string endpoint = tail.substr(0, tail.size() - suffix);
                    if (!ValidEndpointName(endpoint)) {
                      done(ValidationError(fmt::format(
                          "1 validation error detected: Value '{}' at 'endpointName' failed to satisfy constraint: "
                          "Member must satisfy regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9])*",
                          endpoint)));
                      return;
                    }
                    hosting::Invocation inv;
                    inv.endpoint = endpoint;
                    inv.content_type = std::string(req.Header("content-type").value_or("application/octet-stream"));
                    inv.accept = std::string(req.Header("accept").value_or(""));
                    inv.custom_attributes = std::string(req.Header("x-amzn-sagemaker-custom-attributes").value_or(""));
                    inv.target_variant = std::string(req.Header("x-amzn-sagemaker-target-variant").value_or(""));
                    inv.body = std::move(req.body);
                    invoker->Invoke(std::move(inv), [options, endpoint, done](InvocationResult r) {
                      done(ToResponse(options, endpoint, std::move(r)));
                    });
                  },
              .errors = StatusError});
}

}  // namespace loam::api::sagemaker_runtime
