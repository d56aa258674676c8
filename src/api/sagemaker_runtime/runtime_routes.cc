#include "api/sagemaker_runtime/runtime_routes.h"

#include "api/aws/service_model.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstring>

namespace loam::api::sagemaker_runtime {

using nlohmann::json;
using hosting::InvocationResult;

namespace {

constexpr size_t kMaxPayloadBytes = 6 * 1024 * 1024;  // SageMaker's real-time payload limit
constexpr const char* kInvocationsSuffix = "/invocations";

http::Response RuntimeError(unsigned status, const std::string& type, json body) {
  // Messages may quote what a client sent: never let bytes that are not UTF-8 break the answer.
  http::Response r = http::Response::Json(status, body.dump(-1, ' ', false, json::error_handler_t::replace));
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

// InvokeEndpoint's header members (botocore's sagemaker-runtime model), by wire name.
struct HeaderMember {
  const char* header;  // lower case
  const char* member;
};
constexpr HeaderMember kHeaderMembers[] = {
    {"content-type", "ContentType"},
    {"accept", "Accept"},
    {"x-amzn-sagemaker-custom-attributes", "CustomAttributes"},
    {"x-amzn-sagemaker-target-model", "TargetModel"},
    {"x-amzn-sagemaker-target-variant", "TargetVariant"},
    {"x-amzn-sagemaker-target-container-hostname", "TargetContainerHostname"},
    {"x-amzn-sagemaker-inference-id", "InferenceId"},
    {"x-amzn-sagemaker-enable-explanations", "EnableExplanations"},
    {"x-amzn-sagemaker-inference-component", "InferenceComponentName"},
    {"x-amzn-sagemaker-session-id", "SessionId"},
};
// Members that select what Loam's endpoints do not have yet: refused, not ignored.
constexpr std::pair<const char*, const char*> kUnsupportedMembers[] = {
    {"TargetModel", "multi-model endpoints"},
    {"TargetContainerHostname", "multi-container endpoints"},
    {"InferenceComponentName", "inference components"},
    {"SessionId", "stateful sessions"},
    {"EnableExplanations", "SageMaker Clarify explanations"},
};

// The request as InvokeEndpoint's input shape, validated against the service model (names,
// lengths, patterns, with AWS's messages). The body's size is the route's limit.
StatusOr<hosting::Invocation> ParseInvocation(http::Request& req, const std::string& endpoint) {
  json input = {{"EndpointName", endpoint}, {"Body", ""}};
  for (const HeaderMember& h : kHeaderMembers) {
    if (auto v = req.Header(h.header)) input[h.member] = std::string(*v);
  }
  RETURN_IF_ERROR(aws::ServiceModel::SageMakerRuntime()->ValidateInput("InvokeEndpoint", input));
  for (const auto& [member, feature] : kUnsupportedMembers) {
    if (input.contains(member)) {
      return InvalidArgument(fmt::format("{} selects {}, which Loam endpoints do not support yet.", member, feature));
    }
  }
  hosting::Invocation inv;
  inv.endpoint = endpoint;
  inv.content_type = input.value("ContentType", "application/octet-stream");
  inv.accept = input.value("Accept", "");
  inv.custom_attributes = input.value("CustomAttributes", "");
  inv.target_variant = input.value("TargetVariant", "");
  inv.inference_id = input.value("InferenceId", "");
  inv.loop = req.loop;
  inv.body = std::move(req.body);
  return inv;
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
  // The members of botocore's ModelError shape.
  return RuntimeError(424, "ModelError",
                      {{"message", message},
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
                    auto inv = ParseInvocation(req, endpoint);
                    if (!inv.ok()) {
                      done(StatusError(inv.status()));
                      return;
                    }
                    invoker->Invoke(std::move(inv).value(), [options, endpoint, done](InvocationResult r) {
                      done(ToResponse(options, endpoint, std::move(r)));
                    });
                  },
              .errors = StatusError});
}

}  // namespace loam::api::sagemaker_runtime
