// The Amazon States Language interpreter's core (JSONPath query mode): a definition is
// validated as Step Functions validates it at CreateStateMachine, and an execution walks its
// states, processing each state's input and output (InputPath, Parameters, ResultSelector,
// ResultPath, OutputPath) and recording the history events Step Functions records.
//
// Built so far: Pass, Choice, Wait, Succeed and Fail, and the intrinsic functions in payload
// templates. A definition with another state type is refused by name at validation (it never
// starts).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loam::workflows {

// InvalidArgument "Invalid State Machine Definition: '<CODE>: <message> at /States/<name>/...'"
// for a definition Step Functions would refuse (or one using what Loam has not built yet).
Status ValidateDefinition(const nlohmann::json& definition);

struct HistoryEvent {
  int64_t id = 0;
  int64_t previous_event_id = 0;
  int64_t timestamp_ms = 0;
  std::string type;       // "PassStateEntered", "ExecutionSucceeded", ...
  nlohmann::json details;  // the event's details member, e.g. {"name", "input"}
};

struct ExecutionResult {
  enum class Status { kSucceeded, kFailed };
  Status status = Status::kSucceeded;
  nlohmann::json output;  // kSucceeded
  std::string error;      // kFailed
  std::string cause;
  std::vector<HistoryEvent> events;
};

struct ExecutionEnvironment {
  nlohmann::json context = nlohmann::json::object();  // the context object ("$$"): Execution, StateMachine, ...
  std::function<int64_t()> now_ms;                     // the clock events and Wait read
  std::function<void(std::chrono::milliseconds)> sleep;  // how Wait waits
  size_t max_events = 25000;                           // Step Functions' history limit
};

// Runs a validated definition to its end.
ExecutionResult Execute(const nlohmann::json& definition, const nlohmann::json& input, const ExecutionEnvironment& env);

}  // namespace loam::workflows
