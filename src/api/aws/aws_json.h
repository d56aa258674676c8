// Serves one AWS JSON protocol service (SageMaker today, Step Functions later) on the shared
// router: POST / with "X-Amz-Target: <prefix><Operation>" and a JSON body. The adapter parses
// the body, validates it against the botocore model, calls the operation and maps its Status
// to AWS's error shape (api/aws/aws_errors.h). SigV4 signatures are accepted unverified.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "api/aws/aws_errors.h"
#include "api/aws/service_model.h"
#include "common/status.h"
#include "http/router.h"

namespace loam::api::aws {

// One operation: the validated request body in, the response body out. To answer a specific
// AWS error type, return AwsError(code, type, message).
using AwsOperation = std::function<StatusOr<nlohmann::json>(const nlohmann::json& input)>;
// One that answers later (e.g. when a workflow ends): it must not block, and calls `done` exactly
// once, from any thread.
using AwsAsyncOperation =
    std::function<void(const nlohmann::json& input, std::function<void(StatusOr<nlohmann::json>)> done)>;

struct AwsJsonService {
  std::string target_prefix;  // "SageMaker.": X-Amz-Target is this plus the operation name
  std::string content_type = std::string(kAwsJson11ContentType);
  std::shared_ptr<const ServiceModel> model;  // every operation below must be in it
  std::map<std::string, AwsOperation, std::less<>> operations;
  std::map<std::string, AwsAsyncOperation, std::less<>> async_operations;
};

// Adds one route per operation, named "<metrics_name_prefix>.<Operation>" so metrics are per
// operation, and "<metrics_name_prefix>.unknown" for targets with the prefix but no known
// operation (answered UnknownOperationException).
void AddAwsJsonService(http::Router& router, AwsJsonService service, const std::string& metrics_name_prefix);

}  // namespace loam::api::aws
