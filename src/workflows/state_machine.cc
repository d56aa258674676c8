#include "workflows/state_machine.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <tuple>
#include <thread>

#include "common/ids.h"
#include "common/strings.h"
#include "workflows/intrinsics.h"
#include "workflows/json_path.h"
#include "workflows/run.h"

namespace loam::workflows {

namespace internal {

using nlohmann::json;

namespace {

// Whether a retrier's or catcher's ErrorEquals names the error. States.ALL matches any error but
// the terminal ones (States.Runtime, States.DataLimitExceeded); States.TaskFailed any but those
// and the timeouts.
bool ErrorMatches(const json& names, const std::string& error) {
  const bool terminal = error == "States.Runtime" || error == "States.DataLimitExceeded";
  const bool timeout = error == "States.Timeout" || error == "States.HeartbeatTimeout";
  for (const auto& n : names) {
    if (n == error) return true;
    if (n == "States.ALL" && !terminal) return true;
    if (n == "States.TaskFailed" && !terminal && !timeout) return true;
  }
  return false;
}

// {"name", "<member>": the dumped value}: the details of the events every state records.
json NamedDetails(const std::string& name, const char* member, std::string dumped) {
  json d = json::object();
  d["name"] = name;
  d[member] = std::move(dumped);
  return d;
}

}  // namespace

Run::Run(const json& definition, const ExecutionEnvironment& env)
    : def_(definition),
      env_(env),
      context_(env.context),
      // A JSONata state reads the context as $states.context.
      uses_context_([&] {
        const std::string text = definition.dump(-1, ' ', false, kReplaceInvalid);
        return text.find("$$") != std::string::npos || text.find("context") != std::string::npos;
      }()),
      jsonata_default_(definition.is_object() && definition.contains("QueryLanguage") && definition["QueryLanguage"] == "JSONata") {
  scopes_.emplace_back(json::object());
  roots_.context = &context_;
  roots_.variable = [this](const std::string& name) { return Variable(name); };
  if (env.keep_history) result_.events = env.recorded;
}

ExecutionResult Run::Go(const json& input) {
  try {
    json started = {{"input", input.dump(-1, ' ', false, kReplaceInvalid)}};
    if (const json* role = env_.context.contains("Execution") ? &env_.context["Execution"] : nullptr;
        role && role->contains("RoleArn")) {
      started["roleArn"] = (*role)["RoleArn"];
    }
    Add("ExecutionStarted", std::move(started));
    if (def_.contains("TimeoutSeconds")) {
      execution_deadline_ms_ = last_event_ms_ + def_["TimeoutSeconds"].get<int64_t>() * 1000;
    }
    json output;
    if (std::optional<Failure> failure = RunMachine(def_, input, output)) {
      result_.status = ExecutionResult::Status::kFailed;
      result_.error = failure->error;
      result_.cause = failure->cause;
      Add("ExecutionFailed", {{"error", failure->error}, {"cause", failure->cause}});
    } else {
      result_.status = ExecutionResult::Status::kSucceeded;
      result_.output = output;
      Add("ExecutionSucceeded", {{"output", output.dump(-1, ' ', false, kReplaceInvalid)}});
    }
  } catch (const std::exception& e) {  // a defect or data the library refused: the execution fails, recorded
    final_ = true;
    if (Replaying()) produced_ = static_cast<int64_t>(cursor_ = recorded().size());
    result_.status = ExecutionResult::Status::kFailed;
    result_.error = "States.Runtime";
    result_.cause = std::string("Loam could not run the execution further: ") + e.what();
    Add("ExecutionFailed", {{"error", result_.error}, {"cause", result_.cause}});
  } catch (const Interrupted& i) {
    final_ = true;  // from here on a failed history write must not throw
    if (Replaying()) produced_ = static_cast<int64_t>(cursor_ = recorded().size());  // whatever follows is new
    if (i.why == Interrupted::Why::kShutdown) {
      result_.status = ExecutionResult::Status::kInterrupted;
    } else if (i.why == Interrupted::Why::kHistoryLimit) {
      result_.status = ExecutionResult::Status::kFailed;
      result_.error = "States.Runtime";
      result_.cause = fmt::format("The execution reached the limit of {} history events.", env_.max_events);
      Add("ExecutionFailed", {{"error", result_.error}, {"cause", result_.cause}});
    } else if (i.why == Interrupted::Why::kDiverged) {
      result_.status = ExecutionResult::Status::kFailed;
      result_.error = "States.Runtime";
      result_.cause = "The execution's recorded history does not match its definition, so it cannot be resumed";
      Add("ExecutionFailed", {{"error", result_.error}, {"cause", result_.cause}});
    } else if (i.why == Interrupted::Why::kAbort) {
      result_.status = ExecutionResult::Status::kAborted;
      json details = json::object();
      if (env_.abort_reason) {
        std::tie(result_.error, result_.cause) = env_.abort_reason();
        if (!result_.error.empty()) details["error"] = result_.error;
        if (!result_.cause.empty()) details["cause"] = result_.cause;
      }
      Add("ExecutionAborted", std::move(details));
    } else {
      result_.status = ExecutionResult::Status::kTimedOut;
      result_.error = "States.Timeout";
      result_.cause = "The execution ran longer than the state machine's TimeoutSeconds";
      Add("ExecutionTimedOut", {{"error", result_.error}, {"cause", result_.cause}});
    }
  }
  final_ = true;
  Flush();
  // What is not durable did not happen: the execution stays running and resumes from its
  // history on the next start.
  if (record_failed_) result_.status = ExecutionResult::Status::kInterrupted;
  result_.last_event_ms = last_event_ms_;
  return std::move(result_);
}

// Runs one machine (the definition, a Parallel branch, a Map iteration) from StartAt to an
// end: the failure that ended it, or nothing with `output` set.
std::optional<Failure> Run::RunMachine(const json& machine, json data, json& output) {
  std::string current = machine["StartAt"].get<std::string>();
  const json& states = machine["States"];
  std::string dumped;  // `data` as text, when it is what the last state exited with
  while (true) {
    // Terminal: no Catch or tolerated Map failure may carry on past it.
    if (static_cast<size_t>(produced_) >= env_.max_events) throw Interrupted{Interrupted::Why::kHistoryLimit};
    Checkpoint();
    const json& state = states.find(current).value();
    const std::string& type = state.find("Type")->get_ref<const std::string&>();
    current_state_ = current;
    state_entered_ms_ = Now();
    if (uses_context_) context_["State"] = {{"Name", current}, {"EnteredTime", IsoTime(state_entered_ms_)}};
    if (dumped.empty()) dumped = data.dump(-1, ' ', false, kReplaceInvalid);
    Add(type + "StateEntered", NamedDetails(current, "input", std::move(dumped)));
    const int64_t entered_id = current_entered_id_ = produced_;
    dumped.clear();
    std::string next;
    std::optional<Failure> failure;
    auto out = StepWithErrorHandling(current, state, type, data, next, failure);
    current_state_ = current;  // a Parallel or Map state ran nested states
    current_entered_id_ = entered_id;
    if (failure) return failure;
    if (!out.ok()) return Failure{"States.Runtime", std::string(out.status().message())};
    data = std::move(out).value();
    auto assigned = ApplyAssign(failure);
    if (failure) return failure;
    if (!assigned.ok()) return Failure{"States.Runtime", std::string(assigned.status().message())};
    // What a state gave before a restart stands, even where running it again would differ
    // (States.UUID, the clock).
    if (const HistoryEvent* e = Upcoming(); e && e->type == type + "StateExited" && e->details.contains("output")) {
      data = json::parse(e->details["output"].get<std::string>());
    }
    dumped = data.dump(-1, ' ', false, kReplaceInvalid);
    if (dumped.size() > kMaxPayloadBytes) {
      return Failure{"States.DataLimitExceeded",
                     fmt::format("The state '{}' gave an output of {} bytes, more than the {} a state's data may have", current,
                                 dumped.size(), kMaxPayloadBytes)};
    }
    json exited = NamedDetails(current, "output", dumped);
    if (assigned->is_object() && !assigned->empty()) {
      exited["assignedVariables"] = std::move(assigned).value();
      exited["assignedVariablesDetails"] = {{"truncated", false}};
    }
    Add(type + "StateExited", std::move(exited));
    if (next.empty()) {
      output = std::move(data);
      return std::nullopt;
    }
    current = next;
  }
}

// Retry, then Catch, for the states that have them; a runtime error is neither retried nor caught.
StatusOr<json> Run::StepWithErrorHandling(const std::string& name, const json& state, const std::string& type, const json& raw,
                                          std::string& next, std::optional<Failure>& failure) {
  static const json kNone = json::array();
  const json& retriers = state.contains("Retry") ? state["Retry"] : kNone;
  const json& catchers = state.contains("Catch") ? state["Catch"] : kNone;
  std::vector<int64_t> attempts(retriers.size(), 0);
  int64_t retries = 0;
  const int64_t entered_id = current_entered_id_;
  while (true) {
    if (uses_context_) context_["State"]["RetryCount"] = retries;
    ++retries;
    std::optional<Failure> f;
    assign_ = nullptr;  // only an attempt that ends well assigns
    prepared_assign_ = json();
    auto out = Step(name, state, type, raw, next, f);
    current_state_ = name;
    current_entered_id_ = entered_id;
    // The state's Assign is part of the state: if it fails, Retry and Catch see the failure.
    if (out.ok() && !f && assign_) RETURN_IF_ERROR(PrepareAssign(f));
    if (!out.ok() || !f) return out;
    if (retriers.empty() && catchers.empty()) {
      failure = f;
      return json();
    }
    bool retry = false;
    for (size_t i = 0; i < retriers.size(); ++i) {
      const json& r = retriers[i];
      if (!ErrorMatches(r["ErrorEquals"], f->error)) continue;
      if (attempts[i] < r.value("MaxAttempts", 3)) {
        double delay = static_cast<double>(r.value("IntervalSeconds", 1)) * std::pow(r.value("BackoffRate", 2.0), attempts[i]);
        if (r.contains("MaxDelaySeconds")) delay = std::min(delay, r["MaxDelaySeconds"].get<double>());
        delay = std::min(delay, 99999999.0);  // BackoffRate^attempt can overflow; Step Functions caps waits there
        ++attempts[i];
        // From the failure's event: a resumed execution waits only what is left of the interval.
        SleepUntil(last_event_ms_ + static_cast<int64_t>(delay * 1000));
        retry = true;
      }
      break;  // the first retrier that names the error decides
    }
    if (retry) {
      next.clear();
      continue;
    }
    for (const json& c : catchers) {
      if (!ErrorMatches(c["ErrorEquals"], f->error)) continue;
      json error = {{"Error", f->error}, {"Cause", f->cause}};
      assign_ = nullptr;
      prepared_assign_ = json();
      std::optional<Failure> conflict;
      if (IsJsonata(state)) {
        SetJsonataAssign(c, raw, nullptr, &error);
        ASSIGN_OR_RETURN(json output, JsonataOutput(c, StatesData{&raw, nullptr, &error}, error, conflict));
        if (conflict) {
          failure = conflict;
          return json();
        }
        next = c["Next"].get<std::string>();
        return output;
      }
      SetAssign(c, error);  // a caught failure assigns the catcher's variables, not the state's
      // A catcher without ResultPath replaces the input with the error output ("$").
      ASSIGN_OR_RETURN(json output, c.contains("ResultPath") ? PlaceResult(c, raw, std::move(error), conflict)
                                                             : StatusOr<json>(std::move(error)));
      if (conflict) {
        failure = conflict;
        return json();
      }
      next = c["Next"].get<std::string>();
      return output;
    }
    failure = f;
    return json();
  }
}

void Run::SetAssign(const json& holder, const json& dollar) {
  auto it = holder.find("Assign");
  if (it == holder.end()) return;
  assign_ = &*it;
  assign_dollar_ = dollar;
  assign_jsonata_ = false;
}

void Run::SetJsonataAssign(const json& holder, const json& input, const json* result, const json* error_output) {
  auto it = holder.find("Assign");
  if (it == holder.end()) return;
  assign_ = &*it;
  assign_dollar_ = {{"input", input}};
  if (result) assign_dollar_["result"] = *result;
  if (error_output) assign_dollar_["errorOutput"] = *error_output;
  assign_jsonata_ = true;
}

const json* Run::Variable(const std::string& name) const {
  for (auto scope = scopes_.rbegin(); scope != scopes_.rend(); ++scope) {
    if (!scope->is_object()) continue;  // a scope nothing was assigned in yet
    if (auto it = scope->find(name); it != scope->end()) return &*it;
  }
  return nullptr;
}

Status Run::PrepareAssign(std::optional<Failure>& failure) {
  const json* tmpl = assign_;
  assign_ = nullptr;
  json values;
  // Resuming: the values recorded stand (States.UUID() in them would differ now).
  if (const HistoryEvent* e = Upcoming(); e && EndsWith(e->type, "StateExited") && e->details.contains("assignedVariables")) {
    values = json::object();
    for (const auto& [name, text] : e->details["assignedVariables"].items()) values[name] = json::parse(text.get<std::string>());
  } else if (assign_jsonata_) {
    const json* result = assign_dollar_.contains("result") ? &assign_dollar_["result"] : nullptr;
    const json* error = assign_dollar_.contains("errorOutput") ? &assign_dollar_["errorOutput"] : nullptr;
    ASSIGN_OR_RETURN(values, Evaluate(*tmpl, StatesData{&assign_dollar_["input"], result, error}, "Assign", failure));
    if (failure) return Status::Ok();
  } else {
    ASSIGN_OR_RETURN(values, Expand(*tmpl, assign_dollar_, failure));
    if (failure) return Status::Ok();
  }
  prepared_assign_ = std::move(values);
  return Status::Ok();
}

StatusOr<json> Run::ApplyAssign(std::optional<Failure>& failure) {
  json assigned;  // name -> value as JSON text, for the StateExited event; null when nothing is assigned
  if (assign_) {  // a catcher's, still to evaluate
    RETURN_IF_ERROR(PrepareAssign(failure));
    if (failure) return assigned;
  }
  if (prepared_assign_.is_null()) return assigned;
  json values = std::move(prepared_assign_);
  prepared_assign_ = json();
  // Every value was computed from the values the state entered with; now they take effect.
  assigned = json::object();
  for (auto& [name, value] : values.items()) {
    assigned[name] = value.dump(-1, ' ', false, kReplaceInvalid);
    scopes_.back()[name] = std::move(value);  // a null scope becomes an object here
  }
  return assigned;
}

// Appends an event, or, while resuming, steps over the recorded one it must equal.
void Run::Add(const std::string& type, json details) {
  if (Replaying()) {
    const HistoryEvent& recorded_event = recorded()[cursor_];
    // The definition is the execution's own snapshot, so only a changed interpreter gets here.
    if (recorded_event.type != type) throw Interrupted{Interrupted::Why::kDiverged};
    last_event_ms_ = recorded_event.timestamp_ms;
    ++cursor_;
    ++produced_;
    return;
  }
  HistoryEvent e;
  e.id = ++produced_;
  e.previous_event_id = e.id - 1;
  e.timestamp_ms = last_event_ms_ = Now();
  e.type = type;
  e.details = std::move(details);
  if (env_.keep_history) result_.events.push_back(e);
  pending_.push_back(std::move(e));
  if (pending_.size() >= 256 || last_event_ms_ - last_flush_ms_ >= 200) Flush();
}

void Run::Flush() {
  if (pending_.empty()) return;
  const bool written = !env_.record || env_.record(pending_);
  pending_.clear();  // keeps its capacity for the next batch
  last_flush_ms_ = Now();
  if (!written) {
    record_failed_ = true;
    if (!final_) throw Interrupted{Interrupted::Why::kShutdown};
  }
}

int64_t Run::Now() const {
  if (Replaying()) return recorded()[cursor_].timestamp_ms;
  return env_.now_ms ? env_.now_ms() : 0;
}

void Run::Checkpoint() {
  if (Replaying()) return;
  const Interruption i = env_.interruption ? env_.interruption() : Interruption::kNone;
  if (i == Interruption::kAbort) throw Interrupted{Interrupted::Why::kAbort};
  if (i == Interruption::kShutdown) throw Interrupted{Interrupted::Why::kShutdown};
  if (execution_deadline_ms_ && Now() >= *execution_deadline_ms_) throw Interrupted{Interrupted::Why::kTimedOut};
}

void Run::SleepUntil(int64_t deadline_ms) {
  if (Replaying()) return;
  Flush();
  while (true) {
    Checkpoint();
    int64_t until = deadline_ms;
    if (execution_deadline_ms_) until = std::min(until, *execution_deadline_ms_);
    const int64_t now = Now();
    if (now >= until) {
      if (until < deadline_ms) continue;  // the execution's own deadline: Checkpoint ends it
      return;
    }
    const std::chrono::milliseconds delay(until - now);
    if (env_.sleep) {
      env_.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
  }
}

StatusOr<json> Run::Path(const json& data, const std::string& text) {
  ASSIGN_OR_RETURN(auto p, CachedPath(text));
  auto v = SelectFrom(data, roots_, *p);
  if (v.status().code() == StatusCode::kNotFound) {
    return InvalidArgument(fmt::format("Invalid path '{}' : No results for path: {}", text, text));
  }
  return v;
}

// InputPath / OutputPath: a Path, "$" when absent, {} when null.
StatusOr<json> Run::Filter(const json& state, const char* field, json data) {
  if (!state.contains(field)) return data;
  if (state[field].is_null()) return json::object();
  return Path(data, state[field].get<std::string>());
}

StatusOr<json> Run::Expand(const json& node, const json& data, std::optional<Failure>& failure) {
  if (node.is_array()) {
    json out = json::array();
    for (const auto& item : node) {
      ASSIGN_OR_RETURN(json v, Expand(item, data, failure));
      out.push_back(std::move(v));
    }
    return out;
  }
  if (!node.is_object()) return node;
  json out = json::object();
  for (const auto& [key, value] : node.items()) {
    if (EndsWith(key, ".$") && IsIntrinsic(value.get<std::string>())) {
      ASSIGN_OR_RETURN(auto call, CachedIntrinsic(value.get<std::string>()));
      auto v = EvaluateIntrinsic(*call, data, roots_);
      if (!v.ok()) {
        failure = Failure{"States.IntrinsicFailure", std::string(v.status().message())};
        return json();
      }
      out[key.substr(0, key.size() - 2)] = std::move(v).value();
    } else if (EndsWith(key, ".$")) {
      auto v = Path(data, value.get<std::string>());
      if (!v.ok()) {
        return InvalidArgument(fmt::format("The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                                           value.get<std::string>(), key, data.dump(-1, ' ', false, kReplaceInvalid)));
      }
      out[key.substr(0, key.size() - 2)] = std::move(v).value();
    } else {
      ASSIGN_OR_RETURN(out[key], Expand(value, data, failure));
    }
  }
  return out;
}

// ResultPath: the raw input with the result at the path; null keeps the input unchanged. A
// path through what is not an object is States.ReferencePathConflict.
StatusOr<json> Run::PlaceResult(const json& state, const json& raw_input, json result, std::optional<Failure>& failure) {
  if (!state.contains("ResultPath")) return result;
  if (state["ResultPath"].is_null()) return raw_input;
  ASSIGN_OR_RETURN(auto p, CachedPath(state["ResultPath"].get<std::string>()));
  json out = raw_input;
  Status placed = Assign(out, *p, std::move(result));
  if (!placed.ok()) failure = Failure{"States.ReferencePathConflict", std::string(placed.message())};
  return out;
}

// ResultSelector (over the state's result), ResultPath, OutputPath: a Parallel or Map state's
// output, or the failure that stops it.
StatusOr<json> Run::Finish(const json& state, const json& raw, json result, std::optional<Failure>& failure) {
  if (state.contains("ResultSelector")) {
    ASSIGN_OR_RETURN(result, Expand(state["ResultSelector"], result, failure));
    if (failure) return json();
  }
  ASSIGN_OR_RETURN(json output, PlaceResult(state, raw, std::move(result), failure));
  if (failure) return json();
  return Filter(state, "OutputPath", std::move(output));
}


}  // namespace internal

ExecutionResult Execute(const nlohmann::json& definition, const nlohmann::json& input, const ExecutionEnvironment& env) {
  return internal::Run(definition, env).Go(input);
}

}  // namespace loam::workflows
