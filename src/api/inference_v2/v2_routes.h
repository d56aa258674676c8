// The Open Inference Protocol's REST routes (KServe v2, as Triton and KServe clients call them)
// over Loam's endpoints: a model is an endpoint, `infer` is an invocation of it with the input
// tensors as JSON (see tensors.h). Errors are {"error": "..."} with 400, 404 or 500.
//
//   GET  /v2                          server metadata
//   GET  /v2/health/live, /ready      200 while the server runs
//   GET  /v2/models/<endpoint>        model metadata
//   GET  /v2/models/<endpoint>/ready  200 when an instance is healthy, else 400
//   POST /v2/models/<endpoint>/infer  inference
#pragma once

#include <memory>

#include "hosting/invoker.h"
#include "http/router.h"

namespace loam::api::inference_v2 {

void AddRoutes(http::Router& router, std::shared_ptr<hosting::Invoker> invoker);

}  // namespace loam::api::inference_v2
