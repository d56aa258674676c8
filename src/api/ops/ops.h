// Operational endpoints: GET /health and Prometheus GET /metrics.
#pragma once

#include <memory>
#include <string>

#include "http/metrics.h"
#include "http/router.h"

namespace loam::api::ops {

void AddRoutes(http::Router& router, std::shared_ptr<http::HttpMetrics> metrics, std::string version);

}  // namespace loam::api::ops
