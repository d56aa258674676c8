#include "api/mlflow/mlflow_errors.h"

#include <nlohmann/json.hpp>

namespace loam::api::mlflow {

const char* MlflowErrorCode(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument: return "INVALID_PARAMETER_VALUE";
    case StatusCode::kNotFound: return "RESOURCE_DOES_NOT_EXIST";
    case StatusCode::kAlreadyExists: return "RESOURCE_ALREADY_EXISTS";
    case StatusCode::kFailedPrecondition: return "INVALID_STATE";
    case StatusCode::kResourceExhausted: return "REQUEST_LIMIT_EXCEEDED";
    case StatusCode::kUnimplemented: return "NOT_IMPLEMENTED";
    case StatusCode::kOk:
    case StatusCode::kInternal: return "INTERNAL_ERROR";
    case StatusCode::kUnavailable: return "TEMPORARILY_UNAVAILABLE";
  }
  return "INTERNAL_ERROR";
}

unsigned MlflowHttpStatus(StatusCode code) {
  switch (code) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition: return 400;
    case StatusCode::kNotFound: return 404;
    case StatusCode::kResourceExhausted: return 413;
    case StatusCode::kUnimplemented: return 501;
    case StatusCode::kOk:
    case StatusCode::kInternal: return 500;
    case StatusCode::kUnavailable: return 503;
  }
  return 500;
}

http::Response MlflowError(const Status& status) {
  nlohmann::json body = {{"error_code", MlflowErrorCode(status.code())}, {"message", status.message()}};
  return http::Response::Json(MlflowHttpStatus(status.code()),
                              body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

http::Response EndpointNotFound(const http::Request& req) {
  nlohmann::json body = {{"error_code", "ENDPOINT_NOT_FOUND"},
                         {"message", "No API endpoint " + req.method + " " + req.path}};
  return http::Response::Json(404, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace loam::api::mlflow
