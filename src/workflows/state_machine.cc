#include "workflows/state_machine.h"

#include <fmt/format.h>

#include <cmath>
#include <ctime>
#include <optional>
#include <string_view>
#include <thread>

#include "common/ids.h"
#include "common/strings.h"
#include "workflows/choice_rules.h"
#include "workflows/intrinsics.h"
#include "workflows/json_path.h"
#include "workflows/timestamps.h"

namespace loam::workflows {

using nlohmann::json;

namespace {

// -- execution --------------------------------------------------------------------------------

struct Failure {
  std::string error, cause;
};


// Whether a retrier's or catcher's ErrorEquals names the error. States.ALL matches any error but
// the terminal ones (States.Runtime, States.DataLimitExceeded); States.TaskFailed any but those
// and States.Timeout.
bool ErrorMatches(const json& names, const std::string& error) {
  const bool terminal = error == "States.Runtime" || error == "States.DataLimitExceeded";
  for (const auto& n : names) {
    if (n == error) return true;
    if (n == "States.ALL" && !terminal) return true;
    if (n == "States.TaskFailed" && !terminal && error != "States.Timeout") return true;
  }
  return false;
}

class Run {
 public:
  Run(const json& definition, const ExecutionEnvironment& env) : def_(definition), env_(env), context_(env.context) {}

  ExecutionResult Go(const json& input) {
    Add("ExecutionStarted", {{"input", input.dump()}, {"inputDetails", {{"truncated", false}}}});
    json output;
    if (std::optional<Failure> failure = RunMachine(def_, input, output)) return Fail(*failure);
    result_.status = ExecutionResult::Status::kSucceeded;
    result_.output = output;
    Add("ExecutionSucceeded", {{"output", output.dump()}, {"outputDetails", {{"truncated", false}}}});
    return std::move(result_);
  }

 private:
  // Runs one machine (the definition, a Parallel branch, a Map iteration) from StartAt to an
  // end: the failure that ended it, or nothing with `output` set.
  std::optional<Failure> RunMachine(const json& machine, json data, json& output) {
    std::string current = machine["StartAt"].get<std::string>();
    while (true) {
      if (result_.events.size() >= env_.max_events) {
        return Failure{"States.Runtime", fmt::format("The execution reached the limit of {} history events.", env_.max_events)};
      }
      const json& state = machine["States"][current];
      const std::string type = state["Type"].get<std::string>();
      context_["State"] = {{"Name", current}, {"EnteredTime", IsoTime(env_.now_ms ? env_.now_ms() : 0)}};
      Add(type + "StateEntered", {{"name", current}, {"input", data.dump()}, {"inputDetails", {{"truncated", false}}}});
      std::string next;
      std::optional<Failure> failure;
      auto out = StepWithErrorHandling(current, state, type, data, next, failure);
      if (failure) return failure;
      if (!out.ok()) return Failure{"States.Runtime", std::string(out.status().message())};
      data = std::move(out).value();
      Add(type + "StateExited", {{"name", current}, {"output", data.dump()}, {"outputDetails", {{"truncated", false}}}});
      if (next.empty()) {
        output = std::move(data);
        return std::nullopt;
      }
      current = next;
    }
  }

  // Retry, then Catch, for the states that have them; a runtime error is neither retried nor caught.
  StatusOr<json> StepWithErrorHandling(const std::string& name, const json& state, const std::string& type, const json& raw,
                                       std::string& next, std::optional<Failure>& failure) {
    static const json kNone = json::array();
    const json& retriers = state.contains("Retry") ? state["Retry"] : kNone;
    const json& catchers = state.contains("Catch") ? state["Catch"] : kNone;
    std::vector<int64_t> attempts(retriers.size(), 0);
    while (true) {
      std::optional<Failure> f;
      auto out = Step(name, state, type, raw, next, f);
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
          ++attempts[i];
          Sleep(std::chrono::milliseconds(static_cast<int64_t>(delay * 1000)));
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
        std::optional<Failure> conflict;
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

  void Add(const std::string& type, json details) {
    HistoryEvent e;
    e.id = static_cast<int64_t>(result_.events.size()) + 1;
    e.previous_event_id = e.id - 1;
    e.timestamp_ms = env_.now_ms ? env_.now_ms() : 0;
    e.type = type;
    e.details = std::move(details);
    result_.events.push_back(std::move(e));
  }

  ExecutionResult Fail(const Failure& f) {
    result_.status = ExecutionResult::Status::kFailed;
    result_.error = f.error;
    result_.cause = f.cause;
    Add("ExecutionFailed", {{"error", f.error}, {"cause", f.cause}});
    return std::move(result_);
  }

  StatusOr<json> Path(const json& data, const std::string& text) {
    ASSIGN_OR_RETURN(JsonPath p, ParsePath(text));
    auto v = Select(p.context ? context_ : data, p);
    if (v.status().code() == StatusCode::kNotFound) {
      return InvalidArgument(fmt::format("Invalid path '{}' : No results for path: {}", text, text));
    }
    return v;
  }

  // InputPath / OutputPath: a Path, "$" when absent, {} when null.
  StatusOr<json> Filter(const json& state, const char* field, const json& data) {
    if (!state.contains(field)) return data;
    if (state[field].is_null()) return json::object();
    return Path(data, state[field].get<std::string>());
  }

  StatusOr<json> Expand(const json& node, const json& data, std::optional<Failure>& failure) {
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
        ASSIGN_OR_RETURN(IntrinsicCall call, ParseIntrinsic(value.get<std::string>()));
        auto v = EvaluateIntrinsic(call, data, context_);
        if (!v.ok()) {
          failure = Failure{"States.IntrinsicFailure", std::string(v.status().message())};
          return json();
        }
        out[key.substr(0, key.size() - 2)] = std::move(v).value();
      } else if (EndsWith(key, ".$")) {
        auto v = Path(data, value.get<std::string>());
        if (!v.ok()) {
          return InvalidArgument(fmt::format("The JSONPath '{}' specified for the field '{}' could not be found in the input '{}'",
                                             value.get<std::string>(), key, data.dump()));
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
  StatusOr<json> PlaceResult(const json& state, const json& raw_input, json result, std::optional<Failure>& failure) {
    if (!state.contains("ResultPath")) return result;
    if (state["ResultPath"].is_null()) return raw_input;
    ASSIGN_OR_RETURN(JsonPath p, ParsePath(state["ResultPath"].get<std::string>()));
    json out = raw_input;
    Status placed = Assign(out, p, std::move(result));
    if (!placed.ok()) failure = Failure{"States.ReferencePathConflict", std::string(placed.message())};
    return out;
  }

  // ResultSelector (over the state's result), ResultPath, OutputPath: a Parallel or Map state's
  // output, or the failure that stops it.
  StatusOr<json> Finish(const json& state, const json& raw, json result, std::optional<Failure>& failure) {
    if (state.contains("ResultSelector")) {
      ASSIGN_OR_RETURN(result, Expand(state["ResultSelector"], result, failure));
      if (failure) return json();
    }
    ASSIGN_OR_RETURN(json output, PlaceResult(state, raw, std::move(result), failure));
    if (failure) return json();
    return Filter(state, "OutputPath", output);
  }

  StatusOr<json> RunParallel(const json& state, const json& raw, std::optional<Failure>& failure) {
    ASSIGN_OR_RETURN(json input, Filter(state, "InputPath", raw));
    if (state.contains("Parameters")) {
      ASSIGN_OR_RETURN(input, Expand(state["Parameters"], input, failure));
      if (failure) return json();
    }
    Add("ParallelStateStarted", json::object());
    const json saved_state = context_["State"];
    json results = json::array();
    for (const json& branch : state["Branches"]) {
      json out;
      if (auto f = RunMachine(branch, input, out)) {
        context_["State"] = saved_state;
        Add("ParallelStateFailed", {{"error", f->error}, {"cause", f->cause}});
        failure = f;
        return json();
      }
      results.push_back(std::move(out));
    }
    context_["State"] = saved_state;
    Add("ParallelStateSucceeded", json::object());
    return Finish(state, raw, std::move(results), failure);
  }

  StatusOr<json> RunMap(const std::string& name, const json& state, const json& raw, std::optional<Failure>& failure) {
    ASSIGN_OR_RETURN(json input, Filter(state, "InputPath", raw));
    json items = input;
    if (state.contains("ItemsPath")) {
      ASSIGN_OR_RETURN(items, Path(input, state["ItemsPath"].get<std::string>()));
    }
    if (!items.is_array()) {
      return InvalidArgument(fmt::format("Map state '{}': the items must be a JSON array, not {}", name, items.type_name()));
    }
    const json& processor = state.contains("ItemProcessor") ? state["ItemProcessor"] : state["Iterator"];
    const char* selector = state.contains("ItemSelector") ? "ItemSelector" : "Parameters";
    const bool count_limit = state.contains("ToleratedFailureCount");
    const bool percent_limit = state.contains("ToleratedFailurePercentage");
    Add("MapStateStarted", {{"length", items.size()}});
    const json saved_state = context_["State"];
    json results = json::array();
    size_t failed = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      context_["Map"] = {{"Item", {{"Index", i}, {"Value", items[i]}}}};
      context_["State"] = saved_state;
      json item = items[i];
      if (state.contains(selector)) {
        ASSIGN_OR_RETURN(item, Expand(state[selector], input, failure));
        if (failure) return json();
      }
      Add("MapIterationStarted", {{"index", i}, {"name", name}});
      json out;
      std::optional<Failure> f = RunMachine(processor, std::move(item), out);
      if (!f) {
        Add("MapIterationSucceeded", {{"index", i}, {"name", name}});
        results.push_back(std::move(out));
        continue;
      }
      Add("MapIterationFailed", {{"index", i}, {"name", name}});
      ++failed;
      if (!count_limit && !percent_limit) {
        failure = f;
      } else if ((count_limit && failed > state["ToleratedFailureCount"].get<size_t>()) ||
                 (percent_limit && static_cast<double>(failed) * 100.0 / static_cast<double>(items.size()) >
                                       state["ToleratedFailurePercentage"].get<double>())) {
        failure = Failure{"States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded"};
      }
      if (failure) {
        context_.erase("Map");
        context_["State"] = saved_state;
        Add("MapStateFailed", json::object());
        return json();
      }
      results.push_back({{"Error", f->error}, {"Cause", f->cause}});
    }
    context_.erase("Map");
    context_["State"] = saved_state;
    Add("MapStateSucceeded", json::object());
    return Finish(state, raw, std::move(results), failure);
  }

  StatusOr<json> Step(const std::string& name, const json& state, const std::string& type, const json& raw,
                      std::string& next, std::optional<Failure>& failure) {
    if (type == "Fail") {
      Failure f;
      if (state.contains("ErrorPath")) {
        ASSIGN_OR_RETURN(json e, Path(raw, state["ErrorPath"].get<std::string>()));
        f.error = e.is_string() ? e.get<std::string>() : e.dump();
      } else {
        f.error = state.value("Error", "");
      }
      if (state.contains("CausePath")) {
        ASSIGN_OR_RETURN(json c, Path(raw, state["CausePath"].get<std::string>()));
        f.cause = c.is_string() ? c.get<std::string>() : c.dump();
      } else {
        f.cause = state.value("Cause", "");
      }
      failure = f;
      return json();
    }
    if (type == "Parallel" || type == "Map") {
      auto out = type == "Parallel" ? RunParallel(state, raw, failure) : RunMap(name, state, raw, failure);
      if (out.ok() && !failure) next = state.value("Next", "");
      return out;
    }
    ASSIGN_OR_RETURN(json input, Filter(state, "InputPath", raw));
    json output;
    if (type == "Pass") {
      json result;
      if (state.contains("Result")) {
        result = state["Result"];
      } else if (state.contains("Parameters")) {
        ASSIGN_OR_RETURN(result, Expand(state["Parameters"], input, failure));
        if (failure) return json();
      } else {
        result = input;
      }
      ASSIGN_OR_RETURN(output, PlaceResult(state, raw, std::move(result), failure));
      if (failure) return json();
    } else if (type == "Choice") {
      for (const json& rule : state["Choices"]) {
        ASSIGN_OR_RETURN(bool hit, Matches(rule, input, context_));
        if (hit) {
          next = rule["Next"].get<std::string>();
          break;
        }
      }
      if (next.empty()) {
        if (!state.contains("Default")) {
          failure = Failure{"States.NoChoiceMatched", fmt::format("No Matches! at state '{}'", name)};
          return json();
        }
        next = state["Default"].get<std::string>();
      }
      output = input;
    } else if (type == "Wait") {
      RETURN_IF_ERROR(Wait(state, input));
      output = input;
    } else {  // Succeed
      output = input;
    }
    ASSIGN_OR_RETURN(output, Filter(state, "OutputPath", output));
    if (type == "Pass" || type == "Wait") next = state.value("Next", "");
    return output;
  }

  Status Wait(const json& state, const json& input) {
    std::chrono::milliseconds delay{0};
    if (state.contains("Seconds")) delay = std::chrono::seconds(state["Seconds"].get<int64_t>());
    if (state.contains("SecondsPath")) {
      ASSIGN_OR_RETURN(json s, Path(input, state["SecondsPath"].get<std::string>()));
      const std::string path = state["SecondsPath"].get<std::string>();
      if (!s.is_number_integer()) {
        return InvalidArgument(fmt::format("The SecondsPath parameter cannot be parsed as a long value: {} == {}", path, s.dump()));
      }
      if (s.get<int64_t>() < 0) {
        return InvalidArgument(fmt::format("The SecondsPath parameter references a negative value: {} == {}", path, s.dump()));
      }
      delay = std::chrono::seconds(s.get<int64_t>());
    }
    std::optional<int64_t> until;
    if (state.contains("Timestamp")) until = ParseTimestamp(state["Timestamp"].get<std::string>());
    if (state.contains("TimestampPath")) {
      ASSIGN_OR_RETURN(json t, Path(input, state["TimestampPath"].get<std::string>()));
      until = t.is_string() ? ParseTimestamp(t.get<std::string>()) : std::nullopt;
      if (!until) {
        return InvalidArgument(fmt::format("The TimestampPath parameter does not reference a valid ISO-8601 timestamp: {}", t.dump()));
      }
    }
    if (until) {
      *until -= *until % 1000000;  // Step Functions waits until the whole second
      const int64_t now = env_.now_ms ? env_.now_ms() : 0;
      delay = std::chrono::milliseconds(std::max<int64_t>(0, *until / 1000 - now));
    }
    Sleep(delay);
    return Status::Ok();
  }

  void Sleep(std::chrono::milliseconds delay) {
    if (delay.count() <= 0) return;
    if (env_.sleep) {
      env_.sleep(delay);
    } else {
      std::this_thread::sleep_for(delay);
    }
  }

  const json& def_;
  const ExecutionEnvironment& env_;
  json context_;  // the environment's, with $$.State (and $$.Map in an iteration) set as the run goes
  ExecutionResult result_;
};

}  // namespace

ExecutionResult Execute(const json& definition, const json& input, const ExecutionEnvironment& env) {
  return Run(definition, env).Go(input);
}

}  // namespace loam::workflows
