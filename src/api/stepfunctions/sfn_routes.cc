#include "api/stepfunctions/sfn_routes.h"

#include "api/aws/aws_json.h"

namespace loam::api::stepfunctions {

using nlohmann::json;
using workflows::WorkflowService;

void AddRoutes(http::Router& router, std::shared_ptr<WorkflowService> workflows) {
  aws::AwsJsonService service;
  service.target_prefix = "AWSStepFunctions.";
  service.content_type = "application/x-amz-json-1.0";
  service.model = aws::ServiceModel::StepFunctions();
  using Method = StatusOr<json> (WorkflowService::*)(const json&);
  const std::pair<const char*, Method> operations[] = {
      {"CreateStateMachine", &WorkflowService::CreateStateMachine},
      {"DescribeStateMachine", &WorkflowService::DescribeStateMachine},
      {"UpdateStateMachine", &WorkflowService::UpdateStateMachine},
      {"DeleteStateMachine", &WorkflowService::DeleteStateMachine},
      {"ListStateMachines", &WorkflowService::ListStateMachines},
      {"ValidateStateMachineDefinition", &WorkflowService::ValidateStateMachineDefinition},
      {"StartExecution", &WorkflowService::StartExecution},
      {"DescribeExecution", &WorkflowService::DescribeExecution},
      {"ListExecutions", &WorkflowService::ListExecutions},
      {"GetExecutionHistory", &WorkflowService::GetExecutionHistory},
      {"DescribeStateMachineForExecution", &WorkflowService::DescribeStateMachineForExecution},
      {"SendTaskHeartbeat", &WorkflowService::SendTaskHeartbeat},
      {"TagResource", &WorkflowService::TagResource},
      {"UntagResource", &WorkflowService::UntagResource},
      {"ListTagsForResource", &WorkflowService::ListTagsForResource},
  };
  for (const auto& [name, method] : operations) {
    service.operations[name] = [workflows, method](const json& in) { return ((*workflows).*method)(in); };
  }
  // These answer when the execution has done something (ended, recorded an answer): never
  // waiting on an I/O thread.
  service.async_operations["StartSyncExecution"] = [workflows](const json& in, auto done) {
    workflows->StartSyncExecution(in, std::move(done));
  };
  service.async_operations["StopExecution"] = [workflows](const json& in, auto done) {
    workflows->StopExecution(in, std::move(done));
  };
  service.async_operations["SendTaskSuccess"] = [workflows](const json& in, auto done) {
    workflows->SendTaskSuccess(in, std::move(done));
  };
  service.async_operations["SendTaskFailure"] = [workflows](const json& in, auto done) {
    workflows->SendTaskFailure(in, std::move(done));
  };
  aws::AddAwsJsonService(router, std::move(service), "stepfunctions");
}

}  // namespace loam::api::stepfunctions
