// One execution of a definition: private to the interpreter (state_machine.cc runs the machine
// and its bookkeeping, run_states.cc the state types, run_task.cc Task states).
#pragma once

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "workflows/json_path.h"
#include "workflows/jsonata/value.h"
#include "workflows/state_machine.h"

namespace loam::workflows::internal {

struct Failure {
  std::string error, cause;
};



// The workflow variables in scope: the definition's own, then one more for each Parallel branch
// or Map iteration being run (they read the outer ones; what they assign stays in them).
class VariableScope {
 public:
  // A new scope starts as null (no allocation): most branches and iterations assign nothing.
  explicit VariableScope(std::vector<nlohmann::json>& scopes) : scopes_(scopes) { scopes_.emplace_back(); }
  ~VariableScope() { scopes_.pop_back(); }
  VariableScope(const VariableScope&) = delete;
  VariableScope& operator=(const VariableScope&) = delete;

 private:
  std::vector<nlohmann::json>& scopes_;
};

// Thrown inside the execution's own thread to unwind every nested machine at once when the
// execution is aborted, times out, the server shuts down, or a resumed history does not match
// the definition; caught by Run::Go.
struct Interrupted {
  enum class Why { kAbort, kShutdown, kTimedOut, kDiverged, kHistoryLimit } why;
};

class Run {
 public:
  Run(const nlohmann::json& definition, const ExecutionEnvironment& env);
  ExecutionResult Go(const nlohmann::json& input);

 private:
  using json = nlohmann::json;

  // -- the machine (state_machine.cc)
  std::optional<Failure> RunMachine(const json& machine, json data, json& output);
  StatusOr<json> StepWithErrorHandling(const std::string& name, const json& state, const std::string& type, const json& raw,
                                       std::string& next, std::optional<Failure>& failure);
  void Add(const std::string& type, json details);
  // Hands the new events to env_.record. When they cannot be made durable the execution stops
  // (Interrupted, as at shutdown) so that nothing it does goes unrecorded.
  void Flush();
  const std::vector<HistoryEvent>& recorded() const { return env_.recorded; }
  bool Replaying() const { return cursor_ < recorded().size(); }
  // The recorded event the next Add will replay, if any.
  const HistoryEvent* Upcoming() const { return Replaying() ? &recorded()[cursor_] : nullptr; }
  int64_t Now() const;
  // Throws Interrupted when the execution must stop here.
  void Checkpoint();
  // Waits (not while replaying), interruptibly.
  void SleepUntil(int64_t deadline_ms);

  // -- input and output processing (state_machine.cc)
  StatusOr<json> Path(const json& data, const std::string& text);
  StatusOr<json> Filter(const json& state, const char* field, json data);
  StatusOr<json> Expand(const json& node, const json& data, std::optional<Failure>& failure);
  StatusOr<json> PlaceResult(const json& state, const json& raw_input, json result, std::optional<Failure>& failure);
  StatusOr<json> Finish(const json& state, const json& raw, json result, std::optional<Failure>& failure);

  // -- variables (state_machine.cc)
  // What the state's (or a Choice rule's, or a catcher's) Assign is evaluated against when the
  // state ends well; the values take effect then, so every expression of the state reads the
  // values it entered with.
  void SetAssign(const json& holder, const json& dollar);
  // Evaluates the pending Assign (the recorded values when resuming) into prepared_assign_.
  Status PrepareAssign(std::optional<Failure>& failure);
  // Puts the prepared variables (a catcher's Assign is evaluated here) in the innermost scope;
  // the names and values (as JSON text) go into the StateExited event's assignedVariables.
  StatusOr<json> ApplyAssign(std::optional<Failure>& failure);
  const json* Variable(const std::string& name) const;

  // -- JSONata states (run_jsonata.cc)
  // What `$states` holds for a field: the state's input, and its result or error output where
  // the field may read them.
  struct StatesData {
    const json* input = nullptr;
    const json* result = nullptr;
    const json* error_output = nullptr;
  };
  bool IsJsonata(const json& state) const;
  jsonata::Value StatesValue(const StatesData& states) const;
  // `value` with every "{% %}" string in it evaluated. A failure or an undefined result is
  // States.QueryEvaluationError, recorded by an EvaluationFailed event naming `field`.
  StatusOr<json> Evaluate(const json& value, const StatesData& states, const std::string& field, std::optional<Failure>& failure);
  // The holder's Output, or `fallback` when it has none.
  StatusOr<json> JsonataOutput(const json& holder, const StatesData& states, json fallback, std::optional<Failure>& failure);
  // A number of seconds (or a count) given as a number or an expression; 0 when absent.
  StatusOr<int64_t> JsonataSeconds(const json& state, const char* field, const StatesData& states, int64_t minimum,
                                   std::optional<Failure>& failure);
  // Pass, Choice, Wait, Succeed and Fail in JSONata.
  StatusOr<json> JsonataStep(const std::string& name, const json& state, const std::string& type, const json& raw,
                             std::string& next, std::optional<Failure>& failure);
  // States.QueryEvaluationError for `field`, with its EvaluationFailed event.
  void FailEvaluation(const std::string& field, std::string cause, std::optional<Failure>& failure);
  // Like SetAssign, for a JSONata Assign: `$states` then holds the input and the result or error.
  void SetJsonataAssign(const json& holder, const json& input, const json* result, const json* error_output);

  // -- states (run_states.cc, run_task.cc)
  StatusOr<json> Step(const std::string& name, const json& state, const std::string& type, const json& raw, std::string& next,
                      std::optional<Failure>& failure);
  Status Wait(const json& state, const json& input);
  StatusOr<json> RunParallel(const json& state, const json& raw, std::optional<Failure>& failure);
  StatusOr<json> RunMap(const std::string& name, const json& state, const json& raw, std::optional<Failure>& failure);
  StatusOr<json> RunTask(const std::string& name, const json& state, const json& raw, std::optional<Failure>& failure);
  StatusOr<int64_t> TaskSeconds(const json& state, const json& input, const char* field);
  TaskOutcome AwaitJob(const TaskResource& resource, const json& parameters, const json& submitted, int64_t deadline_ms);

  const json& def_;
  const ExecutionEnvironment& env_;
  json context_;  // the environment's, with $$.State (and $$.Map, $$.Task) set as the run goes
  const bool uses_context_;  // whether the definition reads "$$" at all; if not, context_ is not kept up to date
  std::vector<json> scopes_;   // the workflow variables, outermost first
  PathRoots roots_;            // "$$" is context_, "$name" looks in scopes_
  const json* assign_ = nullptr;  // the Assign to apply when the current state ends, if any
  json assign_dollar_;            // what "$" means in it (JSONata: what `$states` holds)
  bool assign_jsonata_ = false;   // whether that Assign is a JSONata state's
  json prepared_assign_;          // its values, evaluated, until the state exits
  const bool jsonata_default_;    // the definition's QueryLanguage is JSONata
  std::string current_state_;     // the state running, for EvaluationFailed events
  int64_t current_entered_id_ = 0;  // and the id of its StateEntered event
  mutable std::map<std::string, jsonata::Value> context_values_;  // the context's fixed parts, converted
  ExecutionResult result_;
  size_t cursor_ = 0;                // the next recorded event to replay
  int64_t produced_ = 0;             // events so far, replayed or new: the last event's id
  int64_t last_event_ms_ = 0;        // the last event's time
  std::vector<HistoryEvent> pending_;  // new events not yet handed to env_.record
  int64_t last_flush_ms_ = 0;
  bool record_failed_ = false;  // a batch of history could not be made durable
  bool final_ = false;          // the execution is ending: a failed write no longer interrupts it
  int64_t state_entered_ms_ = 0;                  // when the current state was entered
  std::optional<int64_t> execution_deadline_ms_;  // the definition's TimeoutSeconds
};

}  // namespace loam::workflows::internal
