// MLflow REST handlers, one file per resource. Each handler parses its message with Fields,
// calls the tracking service and returns the response body; routes.cc wires them.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "api/mlflow/mlflow_json.h"
#include "http/router.h"
#include "tracking/tracking_service.h"

namespace loam::api::mlflow {

using JsonHandler = std::function<StatusOr<std::string>(tracking::TrackingService&, const Fields&)>;

struct Endpoint {
  std::string name;                  // metrics label suffix, e.g. "runs.get"
  std::vector<std::string> methods;
  std::string path;                  // below /api/2.0/mlflow
  JsonHandler handler;
  size_t max_body_bytes = 16 * 1024 * 1024;
};

std::vector<Endpoint> ExperimentEndpoints();
std::vector<Endpoint> RunEndpoints();
std::vector<Endpoint> MetricHistoryEndpoints();
std::vector<Endpoint> RunArtifactEndpoints();
std::vector<Endpoint> LoggedModelEndpoints();

// /mlflow/logged-models/{model_id}[/params|/tags[/{key}]|/artifacts/directories].
void AddLoggedModelRoutes(http::Router& router, const std::string& api_prefix,
                          std::shared_ptr<tracking::TrackingService> service);

// The artifact proxy under <prefix>/mlflow-artifacts/artifacts.
void AddArtifactProxyRoutes(http::Router& router, const std::string& api_prefix,
                            std::shared_ptr<tracking::TrackingService> service);

inline std::string Dump(const nlohmann::json& j) {
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
inline StatusOr<std::string> EmptyResponse() { return std::string("{}"); }

// Tags as [{key, value}] with both fields required.
StatusOr<std::vector<tracking::Tag>> ParseTags(const Fields& f, const std::string& name);
StatusOr<tracking::ViewType> ParseViewTypeField(const Fields& f, const std::string& name);

}  // namespace loam::api::mlflow
