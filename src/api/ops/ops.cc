#include "api/ops/ops.h"

#include <nlohmann/json.hpp>

namespace loam::api::ops {

void AddRoutes(http::Router& router, std::shared_ptr<http::HttpMetrics> metrics, std::string version) {
  router.Add({.name = "ops.health",
              .methods = {"GET"},
              .path = "/health",
              .handler =
                  [version](http::Request&) {
                    return http::Response::Json(200, nlohmann::json{{"status", "ok"}, {"version", version}}.dump());
                  }});
  router.Add({.name = "ops.metrics",
              .methods = {"GET"},
              .path = "/metrics",
              .handler =
                  [metrics](http::Request&) {
                    return http::Response::Text(200, metrics->RenderPrometheus(), "text/plain; version=0.0.4");
                  }});
}

}  // namespace loam::api::ops
