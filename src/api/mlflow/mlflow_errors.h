// The one mapping from a Status to MLflow's error shape:
// {"error_code": "...", "message": "..."} with MLflow's HTTP statuses.
#pragma once

#include "common/status.h"
#include "http/request.h"

namespace loam::api::mlflow {

const char* MlflowErrorCode(StatusCode code);
unsigned MlflowHttpStatus(StatusCode code);
http::Response MlflowError(const Status& status);
http::Response EndpointNotFound(const http::Request& req);

}  // namespace loam::api::mlflow
