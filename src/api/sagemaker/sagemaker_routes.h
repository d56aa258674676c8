// The SageMaker API (AWS JSON 1.1, X-Amz-Target: SageMaker.<Operation>) over Loam's job
// and hosting services, and Loam's own log endpoints for jobs.
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "hosting/endpoint_service.h"
#include "hosting/hosting_definitions.h"
#include "hosting/transform_service.h"
#include "http/router.h"
#include "jobs/processing_service.h"
#include "jobs/resource_tags.h"
#include "jobs/training_service.h"
#include "jobs/tuning_service.h"

namespace loam::api::sagemaker {

struct SageMakerServices {
  std::shared_ptr<jobs::TrainingService> training;
  std::shared_ptr<jobs::ProcessingService> processing;
  std::shared_ptr<jobs::ResourceTags> tags;
  std::shared_ptr<jobs::TuningService> tuning;
  std::shared_ptr<hosting::HostingDefinitions> hosting;
  std::shared_ptr<hosting::EndpointService> endpoints;
  std::shared_ptr<hosting::TransformService> transforms;
};

void AddRoutes(http::Router& router, const SageMakerServices& services);

// The same operations called in process (Step Functions' SageMaker task integrations): the
// request is validated against the SageMaker model as an HTTP one is, and an error's Status
// names its AWS error type (TypedError).
using InProcessCall = std::function<StatusOr<nlohmann::json>(const std::string& operation, const nlohmann::json& request)>;
InProcessCall MakeInProcessCall(const SageMakerServices& services);
// Whether Loam serves a SageMaker operation.
bool ServesOperation(const std::string& operation);

}  // namespace loam::api::sagemaker
