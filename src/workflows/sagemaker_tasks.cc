#include "workflows/sagemaker_tasks.h"

#include <fmt/format.h>

#include <array>

#include "common/strings.h"

namespace loam::workflows {

using nlohmann::json;

namespace {

// A job an optimized integration can run to its end (.sync).
struct JobAction {
  std::string_view action;       // "createTrainingJob"
  std::string_view kind;         // "TrainingJob": Create<kind>, Describe<kind>, Stop<kind>
  std::string_view name_member;  // "TrainingJobName"
  std::string_view status_member;
};

constexpr std::array<JobAction, 4> kJobs = {{
    {"createTrainingJob", "TrainingJob", "TrainingJobName", "TrainingJobStatus"},
    {"createProcessingJob", "ProcessingJob", "ProcessingJobName", "ProcessingJobStatus"},
    {"createHyperParameterTuningJob", "HyperParameterTuningJob", "HyperParameterTuningJobName", "HyperParameterTuningJobStatus"},
    {"createTransformJob", "TransformJob", "TransformJobName", "TransformJobStatus"},
}};

constexpr std::array<std::string_view, 4> kOtherOptimized = {"createModel", "createEndpointConfig", "createEndpoint",
                                                             "updateEndpoint"};

const JobAction* JobOf(const std::string& action) {
  for (const auto& j : kJobs) {
    if (j.action == action) return &j;
  }
  return nullptr;
}

std::string OperationOf(const std::string& action) {
  std::string op = action;
  if (!op.empty()) op[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(op[0])));
  return op;
}

bool IsSdk(const TaskResource& r) { return r.service == "aws-sdk:sagemaker"; }

// How Step Functions names a failed call: the optimized integrations answer
// SageMaker.AmazonSageMakerException, the SDK ones SageMaker.<the AWS error type>.
TaskOutcome CallFailure(const TaskResource& resource, const Status& status) {
  auto [type, message] = ErrorTypeOf(status);
  const std::string aws_type = type.empty() ? "InternalFailure" : std::string(type);
  return TaskOutcome::Failure(IsSdk(resource) ? "SageMaker." + aws_type : "SageMaker.AmazonSageMakerException",
                              fmt::format("{} (Service: SageMaker, Error Code: {})", message, aws_type));
}

}  // namespace

std::optional<std::string> SageMakerTasks::Problem(const TaskResource& r) const {
  const std::string unknown =
      "is not recognized. The value is not a valid resource ARN, or the resource is not available in this region "
      "(Loam runs arn:aws:states:::sagemaker:* and arn:aws:states:::aws-sdk:sagemaker:* tasks)";
  if (IsSdk(r)) {
    if (r.pattern == IntegrationPattern::kSync) return "is not recognized: AWS SDK integrations do not support .sync";
    if (!has_operation_(OperationOf(r.action))) {
      return fmt::format("is not recognized: Loam does not serve the SageMaker operation {}", OperationOf(r.action));
    }
    return std::nullopt;
  }
  if (r.service != "sagemaker") return unknown;
  const bool job = JobOf(r.action) != nullptr;
  bool other = false;
  for (auto a : kOtherOptimized) other = other || a == r.action;
  if (!job && !other) return unknown;
  if (r.pattern == IntegrationPattern::kWaitForTaskToken || (r.pattern == IntegrationPattern::kSync && !job)) {
    return fmt::format("is not recognized: sagemaker:{} does not support {}", r.action, r.resource().substr(r.action.size()));
  }
  return std::nullopt;
}

TaskOutcome SageMakerTasks::Call(const TaskResource& resource, const json& parameters, bool resumed) {
  if (!parameters.is_object()) {
    return TaskOutcome::Failure("States.Runtime", "A SageMaker task's parameters must be a JSON object");
  }
  const std::string operation = OperationOf(resource.action);
  // A restart may have come between a create call and its answer being recorded: if what it
  // creates exists by that name (a job, a model, an endpoint config, an endpoint), it is this
  // task's, and the answer is the create call's.
  if (resumed && StartsWith(resource.action, "create")) {
    const std::string kind = operation.substr(6);  // "CreateModel" -> "Model"
    const std::string name_member = kind + "Name";
    if (parameters.contains(name_member) && has_operation_("Describe" + kind)) {
      auto described = call_("Describe" + kind, {{name_member, parameters[name_member]}});
      const std::string arn_member = kind + "Arn";
      if (described.ok() && described->contains(arn_member)) return TaskOutcome::Success({{arn_member, (*described)[arn_member]}});
    }
  }
  auto result = call_(operation, parameters);
  if (!result.ok()) return CallFailure(resource, result.status());
  return TaskOutcome::Success(std::move(result).value());
}

std::optional<TaskOutcome> SageMakerTasks::Poll(const TaskResource& resource, const json& parameters, const json&) {
  const JobAction* job = JobOf(resource.action);
  if (!job) return TaskOutcome::Failure("States.Runtime", fmt::format("sagemaker:{} has no job to wait for", resource.action));
  auto described = call_(fmt::format("Describe{}", job->kind), {{job->name_member, parameters.value(job->name_member, json())}});
  if (!described.ok()) return CallFailure(resource, described.status());
  const std::string status = described->value(job->status_member, "");
  if (status == "Completed") return TaskOutcome::Success(std::move(described).value());
  // Step Functions fails a .sync task whose job failed or was stopped with the Describe
  // response as the cause.
  if (status == "Failed" || status == "Stopped") return TaskOutcome::Failure("States.TaskFailed", described->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  return std::nullopt;
}

void SageMakerTasks::Stop(const TaskResource& resource, const json& parameters, const json&) {
  const JobAction* job = JobOf(resource.action);
  if (!job || !parameters.contains(job->name_member)) return;
  // A job that already ended cannot be stopped; nothing else is left to do either way.
  (void)call_(fmt::format("Stop{}", job->kind), {{job->name_member, parameters[job->name_member]}});
}

}  // namespace loam::workflows
