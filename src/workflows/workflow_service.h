// Step Functions' state machines and executions as a core service (no HTTP): requests and
// responses are the API's JSON shapes, errors are Statuses whose TypedError type is the Step
// Functions error (StateMachineDoesNotExist, InvalidDefinition, ...).
//
// State machines and executions are JobStore records (kinds "state-machine", "execution");
// history events go to the HistoryStore as an execution runs. Each running execution has a
// thread of its own; a restart resumes every RUNNING execution by replaying its history.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "jobs/job_store.h"
#include "workflows/history_store.h"
#include "workflows/state_machine.h"
#include "workflows/task_integration.h"

namespace loam::workflows {

struct WorkflowOptions {
  std::string region = "us-east-1";
  std::string account;
  std::chrono::milliseconds poll_interval{1000};  // how often a .sync task asks whether its job ended
  Clock clock = SystemNowMillis;
};

class WorkflowService {
 public:
  WorkflowService(std::shared_ptr<jobs::JobStore> store, std::shared_ptr<HistoryStore> history,
                  std::shared_ptr<TaskIntegration> tasks, WorkflowOptions options);
  ~WorkflowService();
  WorkflowService(const WorkflowService&) = delete;
  WorkflowService& operator=(const WorkflowService&) = delete;

  // State machines (workflow_service.cc)
  StatusOr<nlohmann::json> CreateStateMachine(const nlohmann::json& request);
  StatusOr<nlohmann::json> DescribeStateMachine(const nlohmann::json& request);
  StatusOr<nlohmann::json> UpdateStateMachine(const nlohmann::json& request);
  StatusOr<nlohmann::json> DeleteStateMachine(const nlohmann::json& request);
  StatusOr<nlohmann::json> ListStateMachines(const nlohmann::json& request);
  StatusOr<nlohmann::json> ValidateStateMachineDefinition(const nlohmann::json& request);
  StatusOr<nlohmann::json> TagResource(const nlohmann::json& request);
  StatusOr<nlohmann::json> UntagResource(const nlohmann::json& request);
  StatusOr<nlohmann::json> ListTagsForResource(const nlohmann::json& request);

  // Executions (executions.cc)
  StatusOr<nlohmann::json> StartExecution(const nlohmann::json& request);
  // Answers through `done` once the (EXPRESS) execution has ended, from the execution's thread.
  using SyncDone = std::function<void(StatusOr<nlohmann::json>)>;
  void StartSyncExecution(const nlohmann::json& request, SyncDone done);
  StatusOr<nlohmann::json> DescribeExecution(const nlohmann::json& request);
  // These answer through `done` (from any thread) once what they wait for is in the history.
  using Done = std::function<void(StatusOr<nlohmann::json>)>;
  void StopExecution(const nlohmann::json& request, Done done);
  StatusOr<nlohmann::json> ListExecutions(const nlohmann::json& request);
  StatusOr<nlohmann::json> GetExecutionHistory(const nlohmann::json& request);
  StatusOr<nlohmann::json> DescribeStateMachineForExecution(const nlohmann::json& request);
  void SendTaskSuccess(const nlohmann::json& request, Done done);
  void SendTaskFailure(const nlohmann::json& request, Done done);
  StatusOr<nlohmann::json> SendTaskHeartbeat(const nlohmann::json& request);

  // Resumes every execution a previous process left RUNNING.
  Status Recover();
  // Interrupts every running execution without recording an end (the next start resumes
  // them) and joins their threads.
  void Shutdown();

 private:
  struct Live;  // a running execution's thread and what it waits for

  StatusOr<jobs::JobRecord> StateMachineByArn(const std::string& arn);
  StatusOr<jobs::JobRecord> ExecutionByArn(const std::string& arn);
  Status CheckTaggable(const std::string& arn);
  Status AddTags(const std::string& arn, const nlohmann::json& tags);
  StatusOr<nlohmann::json> ParseDefinition(const std::string& text, const std::string& type) const;
  ExecutionEnvironment Environment(const jobs::JobRecord& execution, Live* live);
  void Launch(jobs::JobRecord execution, std::vector<HistoryEvent> recorded);
  void RunExecution(std::shared_ptr<Live> live, jobs::JobRecord execution, std::vector<HistoryEvent> recorded);
  Status Finish(jobs::JobRecord& execution, const ExecutionResult& result);
  void JoinFinished();
  void Retire(const std::shared_ptr<Live>& live);
  StatusOr<std::shared_ptr<Live>> LiveByToken(const std::string& token);
  void Answer(const std::shared_ptr<Live>& live, const std::string& token, TokenAnswer answer, Done done);
  StatusOr<nlohmann::json> StopNow(const nlohmann::json& request);

  std::shared_ptr<jobs::JobStore> store_;
  std::shared_ptr<HistoryStore> history_;
  std::shared_ptr<TaskIntegration> tasks_;
  WorkflowOptions options_;

  std::mutex mu_;  // guards what follows
  bool shutting_down_ = false;
  std::map<std::string, std::shared_ptr<Live>> live_;  // by execution ARN
  std::map<std::string, std::string> tokens_;          // an awaited task token -> execution ARN
  std::set<std::string> closed_tokens_;                // tokens whose task has ended
  std::vector<std::thread> finished_;                  // threads of ended executions, to join
};

}  // namespace loam::workflows
