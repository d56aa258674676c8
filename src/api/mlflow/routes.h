// Wires MLflow's REST API (tracking and the artifact proxy) into the router, under both
// /api/2.0 and /ajax-api/2.0 as MLflow's server does.
#pragma once

#include <memory>

#include "http/router.h"
#include "tracking/tracking_service.h"

namespace loam::api::mlflow {

void AddRoutes(http::Router& router, std::shared_ptr<tracking::TrackingService> service);

}  // namespace loam::api::mlflow
