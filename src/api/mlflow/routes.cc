#include "api/mlflow/routes.h"

#include "api/mlflow/handlers.h"
#include "api/mlflow/mlflow_errors.h"

namespace loam::api::mlflow {

void AddRoutes(http::Router& router, std::shared_ptr<tracking::TrackingService> service) {
  std::vector<Endpoint> endpoints;
  for (auto group : {ExperimentEndpoints(), RunEndpoints(), MetricHistoryEndpoints(), RunArtifactEndpoints(),
                     LoggedModelEndpoints()}) {
    for (auto& e : group) endpoints.push_back(std::move(e));
  }
  for (const char* prefix : {"/api/2.0", "/ajax-api/2.0"}) {
    for (const auto& e : endpoints) {
      JsonHandler fn = e.handler;
      router.Add({.name = "mlflow." + e.name,
                  .methods = e.methods,
                  .path = std::string(prefix) + "/mlflow" + e.path,
                  .max_body_bytes = e.max_body_bytes,
                  .handler =
                      [service, fn](http::Request& req) {
                        auto fields = Fields::FromRequest(req);
                        if (!fields.ok()) return MlflowError(fields.status());
                        auto body = fn(*service, *fields);
                        if (!body.ok()) return MlflowError(body.status());
                        return http::Response::Json(200, std::move(*body));
                      },
                  .errors = MlflowError});
    }
    AddArtifactProxyRoutes(router, prefix, service);
    AddLoggedModelRoutes(router, prefix, service);
    for (const char* area : {"/mlflow/", "/mlflow-artifacts/"}) {
      router.Add({.name = "mlflow.unknown",
                  .methods = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"},
                  .path = std::string(prefix) + area,
                  .prefix = true,
                  .handler = [](http::Request& req) { return EndpointNotFound(req); },
                  .errors = MlflowError});
    }
  }
}

}  // namespace loam::api::mlflow
