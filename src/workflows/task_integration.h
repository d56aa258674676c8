// What a Task state calls: a service integration such as arn:aws:states:::sagemaker:createTrainingJob.
// The interpreter strips the integration pattern (".sync", ".waitForTaskToken") and drives it;
// an integration only knows how to call its service and how to tell whether a job it started
// has ended.
#pragma once

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

namespace loam::workflows {

// The result of a call: its output, or the error and cause a Task state fails with (which
// Retry and Catch see).
struct TaskOutcome {
  bool ok = true;
  nlohmann::json output;
  std::string error, cause;

  static TaskOutcome Success(nlohmann::json output) { return {true, std::move(output), {}, {}}; }
  static TaskOutcome Failure(std::string error, std::string cause) { return {false, nullptr, std::move(error), std::move(cause)}; }
};

enum class IntegrationPattern { kRequestResponse, kSync, kWaitForTaskToken };

// A Task state's Resource split into its parts: "arn:aws:states:::sagemaker:createTrainingJob.sync"
// is service "sagemaker", action "createTrainingJob", pattern kSync.
struct TaskResource {
  std::string service;  // "sagemaker"; "aws-sdk:sagemaker" for the SDK integrations
  std::string action;   // "createTrainingJob"
  IntegrationPattern pattern = IntegrationPattern::kRequestResponse;
  std::string resource_type() const;  // as history events name it: "sagemaker", "aws-sdk:sagemaker"
  std::string resource() const;       // "createTrainingJob.sync"
};

// Nothing when the text is not an arn:aws:states:::<service>:<action>[.sync|.waitForTaskToken].
std::optional<TaskResource> ParseTaskResource(const std::string& arn);

class TaskIntegration {
 public:
  virtual ~TaskIntegration() = default;

  // Why this resource cannot run (unknown service or action, a pattern the action does not
  // support), or nothing when it can.
  virtual std::optional<std::string> Problem(const TaskResource& resource) const = 0;

  // Calls the action with the state's parameters. For .sync this submits the job and the
  // outcome is the submission's output. `resumed` is set when an execution resumed after a
  // restart finds this call started but not recorded as answered: the job may already exist.
  virtual TaskOutcome Call(const TaskResource& resource, const nlohmann::json& parameters, bool resumed) = 0;

  // .sync: nothing while the submitted job runs; its outcome (the Describe output, or the
  // failure) once it has ended.
  virtual std::optional<TaskOutcome> Poll(const TaskResource& resource, const nlohmann::json& parameters,
                                          const nlohmann::json& submitted) = 0;

  // .sync: stops the submitted job, because the execution was aborted or the task timed out.
  virtual void Stop(const TaskResource& resource, const nlohmann::json& parameters, const nlohmann::json& submitted) = 0;
};

}  // namespace loam::workflows
