// The Amazon States Language interpreter (JSONPath query mode): a definition is validated as
// Step Functions validates it at CreateStateMachine, and an execution walks its states,
// processing each state's input and output (InputPath, Parameters, ResultSelector, ResultPath,
// OutputPath) and recording the history events Step Functions records.
//
// Every state type runs. Task states call a TaskIntegration (workflows/task_integration.h);
// the interpreter owns their integration patterns (request-response, .sync,
// .waitForTaskToken), timeouts and history events. An execution can be resumed after a restart
// by replaying its recorded history: states whose events are recorded are not run again, and a
// task whose job was submitted is polled, not started twice.
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>
#include <string>
#include <vector>

#include "common/status.h"
#include "workflows/task_integration.h"

namespace loam::workflows {

// Step Functions' limit on an execution's input, a state's output and a task's result (256 KiB):
// beyond it, InvalidExecutionInput at the start and States.DataLimitExceeded while running.
inline constexpr size_t kMaxPayloadBytes = 262144;

struct ValidationOptions {
  // Why a Task state's Resource cannot run (e.g. "is not recognized"), or nothing when it can.
  // Unset: every "arn:" resource is accepted.
  std::function<std::optional<std::string>(const std::string& resource)> resource_problem;
};

// InvalidArgument "Invalid State Machine Definition: '<CODE>: <message> at /States/<name>/...'"
// for a definition Step Functions would refuse (or one using what Loam has not built yet).
Status ValidateDefinition(const nlohmann::json& definition, const ValidationOptions& options = {});

// The expression in a JSONata state's "{% expression %}" string, trimmed (so validation, the
// interpreter and variableReferences share one compiled copy); nullopt for any other value,
// which is literal.
std::optional<std::string_view> JsonataExpressionIn(const nlohmann::json& value);

struct HistoryEvent {
  int64_t id = 0;
  int64_t previous_event_id = 0;
  int64_t timestamp_ms = 0;
  std::string type;        // "PassStateEntered", "ExecutionSucceeded", ...
  // The event's details member, e.g. {"name", "input"}; "inputDetails"/"outputDetails" are the
  // API's to add (nothing is ever truncated).
  nlohmann::json details;
};

struct ExecutionResult {
  // kInterrupted: the server is shutting down; nothing terminal was recorded and the execution
  // resumes from its history on the next start.
  enum class Status { kSucceeded, kFailed, kAborted, kTimedOut, kInterrupted };
  Status status = Status::kSucceeded;
  nlohmann::json output;  // kSucceeded
  std::string error;      // kFailed, kTimedOut (and kAborted when StopExecution gave one)
  std::string cause;
  std::vector<HistoryEvent> events;  // the whole history, replayed events included (with keep_history)
  int64_t last_event_ms = 0;         // when the last event was recorded
};

// What a running execution is asked to do at its next checkpoint.
enum class Interruption { kNone, kAbort, kShutdown };

// How a .waitForTaskToken task's wait ended.
struct TokenAnswer {
  enum class Kind { kSucceeded, kFailed, kTimedOut, kHeartbeatTimedOut, kInterrupted };
  Kind kind = Kind::kInterrupted;
  nlohmann::json output;  // kSucceeded
  std::string error, cause;  // kFailed
};

struct ExecutionEnvironment {
  nlohmann::json context = nlohmann::json::object();  // the context object ("$$"): Execution, StateMachine, ...
  std::function<int64_t()> now_ms;                     // the clock events and Wait read
  // How Wait and retry backoff wait; returns early when the execution is interrupted. Unset:
  // the calling thread sleeps.
  std::function<void(std::chrono::milliseconds)> sleep;
  std::function<Interruption()> interruption;          // unset: never interrupted
  // The error and cause StopExecution gave, for the ExecutionAborted event.
  std::function<std::pair<std::string, std::string>()> abort_reason;
  size_t max_events = 25000;                           // Step Functions' history limit

  TaskIntegration* tasks = nullptr;                    // unset: a Task state fails with States.Runtime
  std::string region = "us-east-1";                    // as TaskScheduled events name it
  std::chrono::milliseconds poll_interval{1000};       // how often a .sync task asks whether its job ended
  std::string task_token_seed;                         // random per execution; task tokens derive from it
  // Waits for SendTaskSuccess/Failure on `token`; a heartbeat of 0 means none.
  std::function<TokenAnswer(const std::string& token, int64_t deadline_ms, int64_t heartbeat_seconds)> await_token;

  // New events, in order, to make durable: before every side effect (a task call, a wait) and at
  // the end; in between in batches. Returns false when they could not be written: the execution
  // then stops as at shutdown (kInterrupted), to resume from what is durable.
  std::function<bool(const std::vector<HistoryEvent>&)> record;
  // Whether ExecutionResult::events holds the history; a service that persists it through
  // `record` needs no copy in memory.
  bool keep_history = true;
  // The history of an execution being resumed (what `record` received before the restart).
  std::vector<HistoryEvent> recorded;
};

// Runs a validated definition to its end (or until interrupted).
ExecutionResult Execute(const nlohmann::json& definition, const nlohmann::json& input, const ExecutionEnvironment& env);

}  // namespace loam::workflows
