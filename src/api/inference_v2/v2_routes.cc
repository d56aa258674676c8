#include "api/inference_v2/v2_routes.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "api/inference_v2/tensors.h"
#include "common/version.h"

namespace loam::api::inference_v2 {

using nlohmann::json;
using hosting::InvocationResult;

namespace {

constexpr size_t kMaxPayloadBytes = 6 * 1024 * 1024;  // as for InvokeEndpoint
constexpr std::string_view kModelsPrefix = "/v2/models/";

http::Response Error(unsigned status, const std::string& message) {
  return http::Response::Json(status, json{{"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace));
}

http::Response StatusError(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kFailedPrecondition: return Error(400, st.message());
    case StatusCode::kResourceExhausted: return Error(413, st.message());
    case StatusCode::kNotFound: return Error(404, st.message());
    case StatusCode::kUnavailable: return Error(503, st.message());
    default: return Error(500, st.message());
  }
}

// "/v2/models/<model>[/<action>]" -> (model, action); versions are not a Loam concept.
struct ModelPath {
  std::string model;
  std::string action;  // "", "ready" or "infer"
};

StatusOr<ModelPath> ParseModelPath(const std::string& path) {
  std::string rest = path.substr(kModelsPrefix.size());
  ModelPath p;
  const size_t slash = rest.find('/');
  p.model = rest.substr(0, slash);
  if (slash != std::string::npos) p.action = rest.substr(slash + 1);
  if (p.model.empty()) return NotFound("No model named in " + path);
  if (p.action.rfind("versions/", 0) == 0) {
    return NotFound(fmt::format("Model '{}' has no versions: Loam serves each endpoint as one unversioned model", p.model));
  }
  if (!p.action.empty() && p.action != "ready" && p.action != "infer") return NotFound("Unknown path " + path);
  return p;
}

json ModelMetadata(const std::string& model) {
  // A SageMaker model declares no tensor signature: one input and one output of any shape.
  return {{"name", model},
          {"versions", json::array()},
          {"platform", "sagemaker"},
          {"inputs", json::array({{{"name", "input-0"}, {"datatype", "FP64"}, {"shape", {-1, -1}}}})},
          {"outputs", json::array({{{"name", "output-0"}, {"datatype", "FP64"}, {"shape", {-1}}}})}};
}

http::Response InferResponse(const std::string& model, const json& request, InvocationResult r) {
  switch (r.outcome) {
    case InvocationResult::Outcome::kOk: break;
    case InvocationResult::Outcome::kEndpointNotFound:
      return Error(404, fmt::format("Model '{}' is not found (no endpoint of that name is in service)", model));
    case InvocationResult::Outcome::kUnknownVariant: return Error(400, r.message);
    case InvocationResult::Outcome::kNoHealthyInstance: return Error(503, r.message);
    case InvocationResult::Outcome::kModelError: {
      const std::string what = r.model_status != 0 ? fmt::format("the model answered {}: {}", r.model_status, r.body)
                                                   : r.message;
      return Error(r.model_status >= 400 && r.model_status < 500 ? 400 : 500, what);
    }
  }
  json answer = json::parse(r.body, nullptr, /*allow_exceptions=*/false);
  if (answer.is_discarded()) {
    return Error(500, fmt::format("the model answered {} that is not JSON", r.content_type.empty() ? "a body" : r.content_type));
  }
  std::string output_name = "output-0";
  if (request.contains("outputs") && request["outputs"].is_array() && !request["outputs"].empty() &&
      request["outputs"][0].is_object() && request["outputs"][0].contains("name") &&
      request["outputs"][0]["name"].is_string() && !request["outputs"][0]["name"].get<std::string>().empty()) {
    output_name = request["outputs"][0]["name"].get<std::string>();
  }
  auto outputs = OutputTensors(answer, output_name);
  if (!outputs.ok()) return Error(500, outputs.status().message());
  json body = {{"model_name", model}, {"outputs", std::move(outputs).value()}};
  if (request.contains("id") && request["id"].is_string()) body["id"] = request["id"];
  http::Response res = http::Response::Json(200, body.dump(-1, ' ', false, json::error_handler_t::replace));
  res.headers.emplace_back("x-Amzn-Invoked-Production-Variant", r.variant);
  return res;
}

}  // namespace

void AddRoutes(http::Router& router, std::shared_ptr<hosting::Invoker> invoker) {
  router.Add({.name = "inference_v2.server_metadata",
              .methods = {"GET"},
              .path = "/v2",
              .handler = [](http::Request&) {
                return http::Response::Json(
                    200, json{{"name", "loam"}, {"version", kLoamVersion}, {"extensions", json::array()}}.dump());
              },
              .errors = StatusError});
  for (const char* health : {"/v2/health/live", "/v2/health/ready"}) {
    const bool live = std::string_view(health).ends_with("live");
    router.Add({.name = live ? "inference_v2.live" : "inference_v2.ready",
                .methods = {"GET"},
                .path = health,
                .handler = [live](http::Request&) {
                  return http::Response::Json(200, json{{live ? "live" : "ready", true}}.dump());
                },
                .errors = StatusError});
  }
  router.Add({.name = "inference_v2.models",
              .methods = {"GET", "POST"},
              .path = std::string(kModelsPrefix),
              .prefix = true,
              .max_body_bytes = kMaxPayloadBytes,
              .async_handler =
                  [invoker](http::Request& req, http::Responder done) {
                    auto path = ParseModelPath(req.path);
                    if (!path.ok()) {
                      done(StatusError(path.status()));
                      return;
                    }
                    const std::string model = path->model;
                    const bool post = req.method == "POST";
                    if (post != (path->action == "infer")) {
                      done(Error(405, fmt::format("{} is not allowed on {}", req.method, req.path)));
                      return;
                    }
                    if (path->action.empty() || path->action == "ready") {
                      if (!invoker->Exists(model)) {
                        done(Error(404, fmt::format("Model '{}' is not found (no endpoint of that name is in service)", model)));
                      } else if (path->action.empty()) {
                        done(http::Response::Json(200, ModelMetadata(model).dump()));
                      } else if (invoker->Ready(model)) {
                        done(http::Response::Json(200, json{{"name", model}, {"ready", true}}.dump()));
                      } else {
                        done(Error(400, fmt::format("Model '{}' has no healthy instance right now", model)));
                      }
                      return;
                    }
                    if (req.Header("inference-header-content-length")) {
                      done(Error(400, "The binary tensor data extension is not supported: send the tensors as JSON"));
                      return;
                    }
                    json request = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
                    if (request.is_discarded() || !request.is_object()) {
                      done(Error(400, "The request body is not a JSON object"));
                      return;
                    }
                    auto body = RequestBody(request.contains("inputs") ? request["inputs"] : json());
                    if (!body.ok()) {
                      done(StatusError(body.status()));
                      return;
                    }
                    hosting::Invocation inv;
                    inv.endpoint = model;
                    inv.content_type = "application/json";
                    inv.accept = "application/json";
                    inv.body = body->dump();
                    inv.loop = req.loop;
                    invoker->Invoke(std::move(inv), [model, request = std::move(request), done](InvocationResult r) {
                      try {
                        done(InferResponse(model, request, std::move(r)));
                      } catch (const std::exception& e) {  // answered, whatever the model sent back
                        done(Error(500, std::string("internal error: ") + e.what()));
                      }
                    });
                  },
              .errors = StatusError});
}

}  // namespace loam::api::inference_v2
