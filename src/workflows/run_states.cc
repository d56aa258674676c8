// The state types but Task (run_task.cc): Pass, Choice, Wait, Succeed, Fail, Parallel, Map.
#include <fmt/format.h>

#include <chrono>
#include <optional>

#include "workflows/choice_rules.h"
#include "workflows/json_path.h"
#include "workflows/run.h"
#include "workflows/timestamps.h"

namespace loam::workflows::internal {

using nlohmann::json;

StatusOr<json> Run::RunParallel(const json& state, const json& raw, std::optional<Failure>& failure) {
  const bool jsonata = IsJsonata(state);
  ASSIGN_OR_RETURN(json input, Filter(state, "InputPath", raw));
  if (jsonata && state.contains("Arguments")) {
    ASSIGN_OR_RETURN(input, Evaluate(state["Arguments"], StatesData{&raw}, "Arguments", failure));
    if (failure) return json();
  }
  if (state.contains("Parameters")) {
    ASSIGN_OR_RETURN(input, Expand(state["Parameters"], input, failure));
    if (failure) return json();
  }
  Add("ParallelStateStarted", json::object());
  const json saved_state = uses_context_ ? context_["State"] : json();
  json results = json::array();
  for (const json& branch : state["Branches"]) {
    json out;
    std::optional<Failure> f;
    {
      VariableScope scope(scopes_);  // a branch reads the outer variables; what it assigns stays in it
      f = RunMachine(branch, input, out);
    }
    if (f) {
      if (uses_context_) context_["State"] = saved_state;
      Add("ParallelStateFailed", {{"error", f->error}, {"cause", f->cause}});
      failure = f;
      return json();
    }
    results.push_back(std::move(out));
  }
  if (uses_context_) context_["State"] = saved_state;
  Add("ParallelStateSucceeded", json::object());
  if (jsonata) {
    SetJsonataAssign(state, raw, &results, nullptr);
    return JsonataOutput(state, StatesData{&raw, &results}, results, failure);
  }
  SetAssign(state, results);  // Assign sees the raw result, before ResultSelector
  return Finish(state, raw, std::move(results), failure);
}

StatusOr<json> Run::RunMap(const std::string& name, const json& state, const json& raw, std::optional<Failure>& failure) {
  const bool jsonata = IsJsonata(state);
  ASSIGN_OR_RETURN(json input, Filter(state, "InputPath", raw));
  json items;
  if (jsonata && state.contains("Items")) {
    ASSIGN_OR_RETURN(items, Evaluate(state["Items"], StatesData{&raw}, "Items", failure));
    if (failure) return json();
    if (!items.is_array()) {
      FailEvaluation("Items", fmt::format("The Items field must evaluate to a JSON array, not {}", items.type_name()), failure);
      return json();
    }
  } else if (state.contains("ItemsPath")) {
    ASSIGN_OR_RETURN(items, Path(input, state["ItemsPath"].get<std::string>()));
  } else {
    items = input;
  }
  if (!items.is_array()) {
    return InvalidArgument(fmt::format("Map state '{}': the items must be a JSON array, not {}", name, items.type_name()));
  }
  const json& processor = state.contains("ItemProcessor") ? state["ItemProcessor"] : state["Iterator"];
  const char* selector = state.contains("ItemSelector") ? "ItemSelector" : "Parameters";
  const bool count_limit = state.contains("ToleratedFailureCount");
  const bool percent_limit = state.contains("ToleratedFailurePercentage");
  // Limits given as numbers, or (JSONata) as expressions evaluated once, before any iteration.
  double count_allowed = 0, percent_allowed = 0;
  for (const char* field : {"ToleratedFailureCount", "ToleratedFailurePercentage"}) {
    if (!state.contains(field)) continue;
    json limit = state[field];
    if (jsonata && JsonataExpressionIn(limit)) {
      ASSIGN_OR_RETURN(limit, Evaluate(limit, StatesData{&raw}, field, failure));
      if (failure) return json();
      const double most = std::string(field) == "ToleratedFailureCount" ? 1e15 : 100;
      if (!limit.is_number() || limit.get<double>() < 0 || limit.get<double>() > most) {
        FailEvaluation(field, fmt::format("The field '{}' must evaluate to a number from 0 to {}", field, most), failure);
        return json();
      }
    }
    (std::string(field) == "ToleratedFailureCount" ? count_allowed : percent_allowed) = limit.get<double>();
  }
  Add("MapStateStarted", {{"length", items.size()}});
  const json saved_state = uses_context_ ? context_["State"] : json();
  json results = json::array();
  size_t failed = 0;
  for (size_t i = 0; i < items.size(); ++i) {
    if (uses_context_) context_["Map"] = {{"Item", {{"Index", i}, {"Value", items[i]}}}};
    if (uses_context_) context_["State"] = saved_state;
    json item;
    if (jsonata && state.contains("ItemSelector")) {
      ASSIGN_OR_RETURN(item, Evaluate(state["ItemSelector"], StatesData{&raw}, "ItemSelector", failure));
      if (failure) return json();
    } else if (state.contains(selector)) {
      ASSIGN_OR_RETURN(item, Expand(state[selector], input, failure));
      if (failure) return json();
    } else {
      item = items[i];
    }
    Add("MapIterationStarted", {{"index", i}, {"name", name}});
    json out;
    std::optional<Failure> f;
    {
      VariableScope scope(scopes_);  // so does each iteration
      f = RunMachine(processor, std::move(item), out);
    }
    if (!f) {
      Add("MapIterationSucceeded", {{"index", i}, {"name", name}});
      results.push_back(std::move(out));
      continue;
    }
    Add("MapIterationFailed", {{"index", i}, {"name", name}});
    ++failed;
    if (!count_limit && !percent_limit) {
      failure = f;
    } else if ((count_limit && static_cast<double>(failed) > count_allowed) ||
               (percent_limit && static_cast<double>(failed) * 100.0 / static_cast<double>(items.size()) > percent_allowed)) {
      failure = Failure{"States.ExceedToleratedFailureThreshold", "The specified tolerated failure threshold was exceeded"};
    }
    if (failure) {
      context_.erase("Map");
      if (uses_context_) context_["State"] = saved_state;
      Add("MapStateFailed", json::object());
      return json();
    }
    results.push_back({{"Error", f->error}, {"Cause", f->cause}});
  }
  context_.erase("Map");
  if (uses_context_) context_["State"] = saved_state;
  Add("MapStateSucceeded", json::object());
  if (jsonata) {
    SetJsonataAssign(state, raw, &results, nullptr);
    return JsonataOutput(state, StatesData{&raw, &results}, results, failure);
  }
  SetAssign(state, results);  // Assign sees the raw result, before ResultSelector
  return Finish(state, raw, std::move(results), failure);
}

StatusOr<json> Run::Step(const std::string& name, const json& state, const std::string& type, const json& raw,
                    std::string& next, std::optional<Failure>& failure) {
  if (type != "Parallel" && type != "Map" && type != "Task" && IsJsonata(state)) {
    return JsonataStep(name, state, type, raw, next, failure);
  }
  if (type == "Fail") {
    Failure f;
    if (state.contains("ErrorPath")) {
      ASSIGN_OR_RETURN(json e, Path(raw, state["ErrorPath"].get<std::string>()));
      f.error = e.is_string() ? e.get<std::string>() : e.dump(-1, ' ', false, kReplaceInvalid);
    } else {
      f.error = state.value("Error", "");
    }
    if (state.contains("CausePath")) {
      ASSIGN_OR_RETURN(json c, Path(raw, state["CausePath"].get<std::string>()));
      f.cause = c.is_string() ? c.get<std::string>() : c.dump(-1, ' ', false, kReplaceInvalid);
    } else {
      f.cause = state.value("Cause", "");
    }
    failure = f;
    return json();
  }
  if (type == "Parallel" || type == "Map" || type == "Task") {
    auto out = type == "Parallel" ? RunParallel(state, raw, failure)
               : type == "Map"    ? RunMap(name, state, raw, failure)
                                  : RunTask(name, state, raw, failure);
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
    SetAssign(state, result);  // a Pass state's Assign sees its result
    ASSIGN_OR_RETURN(output, PlaceResult(state, raw, std::move(result), failure));
    if (failure) return json();
  } else if (type == "Choice") {
    for (const json& rule : state["Choices"]) {
      ASSIGN_OR_RETURN(bool hit, Matches(rule, input, roots_));
      if (hit) {
        next = rule["Next"].get<std::string>();
        SetAssign(rule, input);  // the matching rule's Assign, not the state's
        break;
      }
    }
    if (next.empty()) {
      if (!state.contains("Default")) {
        failure = Failure{"States.NoChoiceMatched", fmt::format("No Matches! at state '{}'", name)};
        return json();
      }
      next = state["Default"].get<std::string>();
      SetAssign(state, input);
    }
    output = input;
  } else if (type == "Wait") {
    RETURN_IF_ERROR(Wait(state, input));
    SetAssign(state, input);
    output = input;
  } else {  // Succeed
    output = input;
  }
  ASSIGN_OR_RETURN(output, Filter(state, "OutputPath", std::move(output)));
  if (type == "Pass" || type == "Wait") next = state.value("Next", "");
  return output;
}

Status Run::Wait(const json& state, const json& input) {
  std::chrono::milliseconds delay{0};
  if (state.contains("Seconds")) delay = std::chrono::seconds(state["Seconds"].get<int64_t>());
  if (state.contains("SecondsPath")) {
    ASSIGN_OR_RETURN(json s, Path(input, state["SecondsPath"].get<std::string>()));
    const std::string path = state["SecondsPath"].get<std::string>();
    if (!s.is_number_integer()) {
      return InvalidArgument(fmt::format("The SecondsPath parameter cannot be parsed as a long value: {} == {}", path, s.dump(-1, ' ', false, kReplaceInvalid)));
    }
    if (s.get<int64_t>() > 99999999) {
      return InvalidArgument(fmt::format("The SecondsPath parameter references a value over 99999999: {} == {}", path, s.dump(-1, ' ', false, kReplaceInvalid)));
    }
    if (s.get<int64_t>() < 0) {
      return InvalidArgument(fmt::format("The SecondsPath parameter references a negative value: {} == {}", path, s.dump(-1, ' ', false, kReplaceInvalid)));
    }
    delay = std::chrono::seconds(s.get<int64_t>());
  }
  std::optional<int64_t> until;
  if (state.contains("Timestamp")) until = ParseTimestamp(state["Timestamp"].get<std::string>());
  if (state.contains("TimestampPath")) {
    ASSIGN_OR_RETURN(json t, Path(input, state["TimestampPath"].get<std::string>()));
    until = t.is_string() ? ParseTimestamp(t.get<std::string>()) : std::nullopt;
    if (!until) {
      return InvalidArgument(fmt::format("The TimestampPath parameter does not reference a valid ISO-8601 timestamp: {}", t.dump(-1, ' ', false, kReplaceInvalid)));
    }
  }
  if (until) {
    *until -= *until % 1000000;  // Step Functions waits until the whole second
    SleepUntil(*until / 1000);
  } else {
    SleepUntil(state_entered_ms_ + delay.count());  // a resumed Wait only waits what is left
  }
  return Status::Ok();
}

}  // namespace loam::workflows::internal
