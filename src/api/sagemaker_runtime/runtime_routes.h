// SageMaker Runtime (REST JSON): POST /endpoints/<name>/invocations, what boto3's
// sagemaker-runtime InvokeEndpoint and @aws-sdk/client-sagemaker-runtime send, answered
// asynchronously by the endpoint invoker. Errors carry their type in x-amzn-ErrorType and
// the body, as SageMaker Runtime answers them (ValidationError 400, ModelError 424 with
// OriginalStatusCode/OriginalMessage/LogStreamArn, ServiceUnavailable 503, InternalFailure 500).
#pragma once

#include <memory>
#include <string>

#include "hosting/invoker.h"
#include "http/router.h"

namespace loam::api::sagemaker_runtime {

struct RuntimeOptions {
  std::string region = "us-east-1";
  std::string account = "000000000000";
};

void AddRoutes(http::Router& router, std::shared_ptr<hosting::Invoker> invoker, RuntimeOptions options);

}  // namespace loam::api::sagemaker_runtime
