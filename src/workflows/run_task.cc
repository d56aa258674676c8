// Task states: the integration patterns (request-response, .sync, .waitForTaskToken), their
// timeouts and the Task* history events, and how a resumed execution picks a task up again.
#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "workflows/run.h"

namespace loam::workflows::internal {

using nlohmann::json;

namespace {

constexpr int64_t kNoDeadline = std::numeric_limits<int64_t>::max();

bool IsTimeout(const std::string& error) { return error == "States.Timeout" || error == "States.HeartbeatTimeout"; }

}  // namespace

// TimeoutSeconds / HeartbeatSeconds or their Path forms: 0 when the state sets neither.
StatusOr<int64_t> Run::TaskSeconds(const json& state, const json& input, const char* field) {
  if (state.contains(field)) return state[field].get<int64_t>();
  const std::string path_field = std::string(field) + "Path";
  if (!state.contains(path_field)) return 0;
  const std::string path = state[path_field].get<std::string>();
  ASSIGN_OR_RETURN(json v, Path(input, path));
  if (!v.is_number_integer() || v.get<int64_t>() <= 0 || v.get<int64_t>() > 99999999) {
    return InvalidArgument(fmt::format("The {} parameter must reference a positive integer: {} == {}", path_field, path, v.dump(-1, ' ', false, kReplaceInvalid)));
  }
  return v.get<int64_t>();
}

// .sync: polls the submitted job until it ends. An abort or the execution's timeout stops the
// job before the execution unwinds; the task's own timeout stops it and fails the task.
TaskOutcome Run::AwaitJob(const TaskResource& resource, const json& parameters, const json& submitted, int64_t deadline_ms) {
  try {
    while (true) {
      Checkpoint();
      if (std::optional<TaskOutcome> done = env_.tasks->Poll(resource, parameters, submitted)) return *done;
      if (Now() >= deadline_ms) {
        env_.tasks->Stop(resource, parameters, submitted);
        return TaskOutcome::Failure("States.Timeout", "The task ran longer than its TimeoutSeconds");
      }
      SleepUntil(std::min(deadline_ms, Now() + env_.poll_interval.count()));
    }
  } catch (const Interrupted& i) {
    if (i.why != Interrupted::Why::kShutdown) env_.tasks->Stop(resource, parameters, submitted);
    throw;
  }
}

StatusOr<json> Run::RunTask(const std::string& name, const json& state, const json& raw, std::optional<Failure>& failure) {
  const bool jsonata = IsJsonata(state);
  ASSIGN_OR_RETURN(json input, Filter(state, "InputPath", raw));
  const std::string arn = state["Resource"].get<std::string>();
  const std::optional<TaskResource> resource = ParseTaskResource(arn);
  if (!resource || !env_.tasks) return InvalidArgument(fmt::format("Task state '{}': the resource {} cannot be called", name, arn));
  const json who = {{"resourceType", resource->resource_type()}, {"resource", resource->resource()}};

  // A task token names the TaskScheduled event, so a resumed execution hands out the same one.
  std::string token;
  if (resource->pattern == IntegrationPattern::kWaitForTaskToken) {
    token = fmt::format("{}{:08x}", env_.task_token_seed, produced_ + 1);
    context_["Task"] = {{"Token", token}};
  }
  json parameters = input;
  if (jsonata && state.contains("Arguments")) {
    auto evaluated = Evaluate(state["Arguments"], StatesData{&raw}, "Arguments", failure);
    context_.erase("Task");
    if (!evaluated.ok() || failure) return evaluated;
    parameters = std::move(evaluated).value();
  }
  if (state.contains("Parameters")) {
    auto expanded = Expand(state["Parameters"], input, failure);
    context_.erase("Task");
    if (!expanded.ok() || failure) return expanded;
    parameters = std::move(expanded).value();
  }
  context_.erase("Task");
  int64_t timeout = 0, heartbeat = 0;
  if (jsonata) {
    ASSIGN_OR_RETURN(timeout, JsonataSeconds(state, "TimeoutSeconds", StatesData{&raw}, 1, failure));
    if (failure) return json();
    ASSIGN_OR_RETURN(heartbeat, JsonataSeconds(state, "HeartbeatSeconds", StatesData{&raw}, 1, failure));
    if (failure) return json();
  } else {
    ASSIGN_OR_RETURN(timeout, TaskSeconds(state, input, "TimeoutSeconds"));
    ASSIGN_OR_RETURN(heartbeat, TaskSeconds(state, input, "HeartbeatSeconds"));
  }

  // Resuming: the parameters the call was scheduled with stand (States.UUID() or the clock in
  // them would differ now).
  if (const HistoryEvent* e = Upcoming(); e && e->type == "TaskScheduled" && e->details.contains("parameters")) {
    parameters = json::parse(e->details["parameters"].get<std::string>(), nullptr, /*allow_exceptions=*/false);
    if (parameters.is_discarded()) return InvalidArgument("The recorded TaskScheduled event holds parameters that are not JSON");
  }
  json scheduled = who;
  scheduled["region"] = env_.region;
  scheduled["parameters"] = parameters.dump(-1, ' ', false, kReplaceInvalid);
  if (timeout > 0) scheduled["timeoutInSeconds"] = timeout;
  if (heartbeat > 0) scheduled["heartbeatInSeconds"] = heartbeat;
  Add("TaskScheduled", std::move(scheduled));
  Add("TaskStarted", who);
  const int64_t started_ms = last_event_ms_;
  const int64_t deadline_ms = timeout > 0 ? started_ms + timeout * 1000 : kNoDeadline;
  // Started and nothing after it recorded: the call may have been made before the restart.
  const bool resumed = !recorded().empty() && produced_ == static_cast<int64_t>(recorded().size());

  std::optional<TaskOutcome> outcome;
  json submitted;
  bool is_submitted = false;
  if (const HistoryEvent* e = Upcoming(); e && e->type == "TaskSubmitted") {
    submitted = json::parse(e->details.value("output", std::string("null")));
    is_submitted = true;
    Add("TaskSubmitted", e->details);
  }
  if (const HistoryEvent* e = Upcoming()) {  // the answer, recorded before a restart
    if (e->type == "TaskSucceeded") {
      outcome = TaskOutcome::Success(json::parse(e->details.value("output", std::string("null"))));
    } else if (e->type == "TaskFailed" || e->type == "TaskTimedOut") {
      outcome = TaskOutcome::Failure(e->details.value("error", ""), e->details.value("cause", ""));
    }
    if (outcome) Add(e->type, e->details);
  }
  if (!outcome) {
    if (!is_submitted) {
      Flush();  // TaskStarted is durable before the call, so a restart knows it may have happened
      Checkpoint();
      TaskOutcome call = env_.tasks->Call(*resource, parameters, resumed);
      if (!call.ok || resource->pattern == IntegrationPattern::kRequestResponse) {
        outcome = std::move(call);
      } else {
        submitted = call.output;
        is_submitted = true;
        json details = who;
        details["output"] = submitted.dump(-1, ' ', false, kReplaceInvalid);
        Add("TaskSubmitted", std::move(details));
        Flush();
      }
    }
    if (!outcome && resource->pattern == IntegrationPattern::kSync) {
      outcome = AwaitJob(*resource, parameters, submitted, deadline_ms);
    }
    while (!outcome) {  // .waitForTaskToken
      Flush();
      Checkpoint();
      if (Now() >= deadline_ms) {
        outcome = TaskOutcome::Failure("States.Timeout", "");
        break;
      }
      // The execution's own deadline ends the wait too; Checkpoint then times the execution out.
      const int64_t wait_until = execution_deadline_ms_ ? std::min(deadline_ms, *execution_deadline_ms_) : deadline_ms;
      TokenAnswer answer = env_.await_token ? env_.await_token(token, wait_until, heartbeat) : TokenAnswer{};
      switch (answer.kind) {
        case TokenAnswer::Kind::kSucceeded: outcome = TaskOutcome::Success(std::move(answer.output)); break;
        case TokenAnswer::Kind::kFailed: outcome = TaskOutcome::Failure(answer.error, answer.cause); break;
        case TokenAnswer::Kind::kTimedOut:
          Checkpoint();
          outcome = TaskOutcome::Failure("States.Timeout", "");
          break;
        case TokenAnswer::Kind::kHeartbeatTimedOut: outcome = TaskOutcome::Failure("States.HeartbeatTimeout", ""); break;
        case TokenAnswer::Kind::kInterrupted:
          if (!env_.await_token) return InvalidArgument("Task tokens cannot be awaited here");
          break;  // the next Checkpoint says why
      }
    }
    json details = who;
    std::string result_text = outcome->ok ? outcome->output.dump(-1, ' ', false, kReplaceInvalid) : std::string();
    if (outcome->ok && result_text.size() > kMaxPayloadBytes) {
      outcome = TaskOutcome::Failure("States.DataLimitExceeded",
                                     fmt::format("The task's result is {} bytes, more than the {} a state's data may have",
                                                 result_text.size(), kMaxPayloadBytes));
    }
    if (outcome->ok) {
      details["output"] = std::move(result_text);
      Add("TaskSucceeded", std::move(details));
    } else {
      details.update(json{{"error", outcome->error}, {"cause", outcome->cause}});
      Add(IsTimeout(outcome->error) ? "TaskTimedOut" : "TaskFailed", std::move(details));
    }
    Flush();
  }
  if (!outcome->ok) {
    failure = Failure{outcome->error, outcome->cause};
    return json();
  }
  if (jsonata) {
    SetJsonataAssign(state, raw, &outcome->output, nullptr);
    return JsonataOutput(state, StatesData{&raw, &outcome->output}, outcome->output, failure);
  }
  SetAssign(state, outcome->output);  // Assign sees the raw result, before ResultSelector
  return Finish(state, raw, std::move(outcome->output), failure);
}

}  // namespace loam::workflows::internal
