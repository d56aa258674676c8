// The SageMaker service integrations of Task states: the optimized ones
// (arn:aws:states:::sagemaker:createTrainingJob[.sync], createProcessingJob[.sync],
// createHyperParameterTuningJob[.sync], createTransformJob[.sync], createModel,
// createEndpointConfig, createEndpoint, updateEndpoint) and the SDK ones
// (arn:aws:states:::aws-sdk:sagemaker:<anyAction>, e.g. describeEndpoint), over Loam's own
// SageMaker operations called in process.
#pragma once

#include <functional>
#include <string>

#include "common/status.h"
#include "workflows/task_integration.h"

namespace loam::workflows {

// One SageMaker operation ("CreateTrainingJob") with its request: the response, or a Status
// whose TypedError type is the AWS error type (ValidationException, ResourceNotFound, ...).
using SageMakerCall = std::function<StatusOr<nlohmann::json>(const std::string& operation, const nlohmann::json& request)>;

class SageMakerTasks final : public TaskIntegration {
 public:
  // `has_operation`: whether Loam serves a SageMaker operation (for aws-sdk:sagemaker:<action>).
  SageMakerTasks(SageMakerCall call, std::function<bool(const std::string& operation)> has_operation)
      : call_(std::move(call)), has_operation_(std::move(has_operation)) {}

  std::optional<std::string> Problem(const TaskResource& resource) const override;
  TaskOutcome Call(const TaskResource& resource, const nlohmann::json& parameters, bool resumed) override;
  std::optional<TaskOutcome> Poll(const TaskResource& resource, const nlohmann::json& parameters,
                                  const nlohmann::json& submitted) override;
  void Stop(const TaskResource& resource, const nlohmann::json& parameters, const nlohmann::json& submitted) override;

 private:
  SageMakerCall call_;
  std::function<bool(const std::string&)> has_operation_;
};

}  // namespace loam::workflows
