#include "workflows/state_machine.h"

#include <fmt/format.h>

#include <ctime>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include "workflows/choice_rules.h"
#include "workflows/intrinsics.h"
#include "workflows/json_path.h"
#include "workflows/timestamps.h"

namespace loam::workflows {

using nlohmann::json;

namespace {

constexpr size_t kMaxStateNameLength = 80;

Status Invalid(const std::string& code, const std::string& message, const std::string& where) {
  return InvalidArgument(fmt::format("Invalid State Machine Definition: '{}: {} at {}'", code, message, where));
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// A payload template's "key.$" values: paths into the input or the context, or intrinsic
// function calls.
Status ValidateTemplate(const json& node, const std::string& where) {
  if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) RETURN_IF_ERROR(ValidateTemplate(node[i], fmt::format("{}[{}]", where, i)));
    return Status::Ok();
  }
  if (!node.is_object()) return Status::Ok();
  for (const auto& [key, value] : node.items()) {
    const std::string at = where + "/" + key;
    if (EndsWith(key, ".$")) {
      if (!value.is_string()) return Invalid("SCHEMA_VALIDATION_FAILED", "The value of a field ending in '.$' must be a string", at);
      const std::string text = value.get<std::string>();
      if (IsIntrinsic(text) ? !ParseIntrinsic(text).ok() : !ParsePath(text).ok()) {
        return Invalid("SCHEMA_VALIDATION_FAILED",
                       fmt::format("The value for the field '{}' must be a valid JSONPath or a valid intrinsic function call", key),
                       where);
      }
    } else {
      RETURN_IF_ERROR(ValidateTemplate(value, at));
    }
  }
  return Status::Ok();
}

Status ValidatePathField(const json& state, const char* field, bool reference, const std::string& where) {
  if (!state.contains(field) || state[field].is_null()) return Status::Ok();
  const std::string at = where + "/" + field;
  if (!state[field].is_string()) return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("'{}' must be a string or null", field), at);
  auto path = ParsePath(state[field].get<std::string>());
  if (!path.ok()) return Invalid("INVALID_JSON_PATH", std::string(path.status().message()), at);
  if (reference && (!path->IsReference() || path->context)) {
    return Invalid("INVALID_JSON_PATH", fmt::format("'{}' must be a Reference Path into the state's input", field), at);
  }
  return Status::Ok();
}

// A transition and where the definition names it ("/States/A/Next").
struct Target {
  std::string state, at;
};

// Next or End, exactly one; the targets are collected for the reachability check.
Status ValidateTransition(const json& state, const std::string& where, std::vector<Target>& targets) {
  const bool has_next = state.contains("Next");
  const bool end = state.value("End", false);
  if (has_next == end) return Invalid("SCHEMA_VALIDATION_FAILED", "A state must have exactly one of 'Next' or 'End': true", where);
  if (has_next) {
    if (!state["Next"].is_string()) return Invalid("SCHEMA_VALIDATION_FAILED", "'Next' must be a state name", where + "/Next");
    targets.push_back({state["Next"].get<std::string>(), where + "/Next"});
  }
  return Status::Ok();
}

Status ValidateState(const std::string& name, const json& state, std::vector<Target>& targets) {
  const std::string where = "/States/" + name;
  if (name.empty() || name.size() > kMaxStateNameLength) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "State names must be 1 to 80 characters long", where);
  }
  if (!state.is_object() || !state.contains("Type") || !state["Type"].is_string()) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "A state must be an object with a 'Type'", where);
  }
  const std::string type = state["Type"].get<std::string>();
  if (type == "Task" || type == "Parallel" || type == "Map") {
    return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("The state type '{}' is not supported by Loam yet", type),
                   where + "/Type");
  }
  if (type != "Pass" && type != "Choice" && type != "Wait" && type != "Succeed" && type != "Fail") {
    return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("'{}' is not a valid state type", type), where + "/Type");
  }
  if (type != "Fail") {
    RETURN_IF_ERROR(ValidatePathField(state, "InputPath", false, where));
    RETURN_IF_ERROR(ValidatePathField(state, "OutputPath", false, where));
  }
  if (type == "Pass") {
    RETURN_IF_ERROR(ValidatePathField(state, "ResultPath", true, where));
    if (state.contains("Parameters")) RETURN_IF_ERROR(ValidateTemplate(state["Parameters"], where + "/Parameters"));
    return ValidateTransition(state, where, targets);
  }
  if (type == "Wait") {
    int given = 0;
    for (const char* f : {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"}) given += state.contains(f) ? 1 : 0;
    if (given != 1) {
      return Invalid("SCHEMA_VALIDATION_FAILED",
                     "A Wait state must have exactly one of 'Seconds', 'Timestamp', 'SecondsPath' or 'TimestampPath'", where);
    }
    if (state.contains("Seconds") && (!state["Seconds"].is_number_integer() || state["Seconds"].get<int64_t>() < 0)) {
      return Invalid("SCHEMA_VALIDATION_FAILED", "'Seconds' must be a non-negative integer", where + "/Seconds");
    }
    if (state.contains("Timestamp") &&
        (!state["Timestamp"].is_string() || !ParseTimestamp(state["Timestamp"].get<std::string>()))) {
      return Invalid("SCHEMA_VALIDATION_FAILED", "'Timestamp' must be an RFC 3339 timestamp", where + "/Timestamp");
    }
    RETURN_IF_ERROR(ValidatePathField(state, "SecondsPath", true, where));
    RETURN_IF_ERROR(ValidatePathField(state, "TimestampPath", true, where));
    return ValidateTransition(state, where, targets);
  }
  if (type == "Choice") {
    if (state.contains("Next") || state.contains("End")) {
      return Invalid("SCHEMA_VALIDATION_FAILED", "A Choice state has neither 'Next' nor 'End'", where);
    }
    if (!state.contains("Choices") || !state["Choices"].is_array() || state["Choices"].empty()) {
      return Invalid("SCHEMA_VALIDATION_FAILED", "A Choice state must have a non-empty 'Choices' array", where + "/Choices");
    }
    for (size_t i = 0; i < state["Choices"].size(); ++i) {
      const json& rule = state["Choices"][i];
      Status st = ValidateChoiceRule(rule, fmt::format("{}/Choices[{}]", where, i), true);
      if (!st.ok()) return InvalidArgument(fmt::format("Invalid State Machine Definition: '{}'", st.message()));
      if (rule["Next"].is_string()) targets.push_back({rule["Next"].get<std::string>(), fmt::format("{}/Choices[{}]/Next", where, i)});
    }
    if (state.contains("Default")) {
      if (!state["Default"].is_string()) return Invalid("SCHEMA_VALIDATION_FAILED", "'Default' must be a state name", where + "/Default");
      targets.push_back({state["Default"].get<std::string>(), where + "/Default"});
    }
    return Status::Ok();
  }
  if (state.contains("Next") || state.contains("End")) {
    return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("A {} state has neither 'Next' nor 'End'", type), where);
  }
  if (type == "Fail") {
    for (const char* pair : {"Error", "Cause"}) {
      const std::string path_field = std::string(pair) + "Path";
      if (state.contains(pair) && state.contains(path_field)) {
        return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("A Fail state has at most one of '{}' and '{}'", pair, path_field), where);
      }
      RETURN_IF_ERROR(ValidatePathField(state, path_field.c_str(), false, where));
    }
  }
  return Status::Ok();
}

// -- execution --------------------------------------------------------------------------------

struct Failure {
  std::string error, cause;
};

// "2024-05-01T12:00:10.900Z", as the context object's times are written.
std::string Iso8601(int64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:03d}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

class Run {
 public:
  Run(const json& definition, const ExecutionEnvironment& env) : def_(definition), env_(env), context_(env.context) {}

  ExecutionResult Go(const json& input) {
    Add("ExecutionStarted", {{"input", input.dump()}, {"inputDetails", {{"truncated", false}}}});
    json data = input;
    std::string current = def_["StartAt"].get<std::string>();
    while (true) {
      if (result_.events.size() >= env_.max_events) {
        return Fail({"States.Runtime", fmt::format("The execution reached the limit of {} history events.", env_.max_events)});
      }
      const json& state = def_["States"][current];
      const std::string type = state["Type"].get<std::string>();
      context_["State"] = {{"Name", current}, {"EnteredTime", Iso8601(env_.now_ms ? env_.now_ms() : 0)}};
      Add(type + "StateEntered", {{"name", current}, {"input", data.dump()}, {"inputDetails", {{"truncated", false}}}});
      std::string next;
      std::optional<Failure> failure;
      auto out = Step(current, state, type, data, next, failure);
      if (failure) return Fail(*failure);
      if (!out.ok()) return Fail({"States.Runtime", std::string(out.status().message())});
      data = std::move(out).value();
      Add(type + "StateExited", {{"name", current}, {"output", data.dump()}, {"outputDetails", {{"truncated", false}}}});
      if (next.empty()) {
        result_.status = ExecutionResult::Status::kSucceeded;
        result_.output = data;
        Add("ExecutionSucceeded", {{"output", data.dump()}, {"outputDetails", {{"truncated", false}}}});
        return std::move(result_);
      }
      current = next;
    }
  }

 private:
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
      if (!t.is_string() || !ParseTimestamp(t.get<std::string>())) {
        return InvalidArgument(fmt::format("The TimestampPath parameter does not reference a valid ISO-8601 timestamp: {}", t.dump()));
      }
      until = ParseTimestamp(t.get<std::string>());
    }
    if (until) {
      *until -= *until % 1000000;  // Step Functions waits until the whole second
      const int64_t now = env_.now_ms ? env_.now_ms() : 0;
      delay = std::chrono::milliseconds(std::max<int64_t>(0, *until / 1000 - now));
    }
    if (delay.count() > 0) {
      if (env_.sleep) {
        env_.sleep(delay);
      } else {
        std::this_thread::sleep_for(delay);
      }
    }
    return Status::Ok();
  }

  const json& def_;
  const ExecutionEnvironment& env_;
  json context_;  // the environment's, with $$.State set as each state is entered
  ExecutionResult result_;
};

}  // namespace

Status ValidateDefinition(const json& def) {
  if (!def.is_object()) return Invalid("SCHEMA_VALIDATION_FAILED", "The definition must be a JSON object", "/");
  if (!def.contains("StartAt") || !def["StartAt"].is_string()) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "The field 'StartAt' is required", "/StartAt");
  }
  if (!def.contains("States") || !def["States"].is_object() || def["States"].empty()) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "The field 'States' must be a non-empty object", "/States");
  }
  if (def.contains("QueryLanguage") && def["QueryLanguage"] != "JSONPath") {
    return Invalid("SCHEMA_VALIDATION_FAILED", "QueryLanguage JSONata is not supported by Loam yet", "/QueryLanguage");
  }
  const json& states = def["States"];
  const std::string start = def["StartAt"].get<std::string>();
  if (!states.contains(start)) {
    return Invalid("MISSING_TRANSITION_TARGET", fmt::format("Missing 'Next' target: {}", start), "/StartAt");
  }
  std::map<std::string, std::vector<std::string>> edges;
  bool terminal = false;
  for (const auto& [name, state] : states.items()) {
    std::vector<Target> targets;
    RETURN_IF_ERROR(ValidateState(name, state, targets));
    for (const auto& t : targets) {
      if (!states.contains(t.state)) {
        return Invalid("MISSING_TRANSITION_TARGET", fmt::format("Missing 'Next' target: {}", t.state), t.at);
      }
      edges[name].push_back(t.state);
    }
    const std::string type = state["Type"].get<std::string>();
    terminal = terminal || state.value("End", false) || type == "Succeed" || type == "Fail";
  }
  if (!terminal) return Invalid("MISSING_END_STATE", "Workflow has no terminal state", "/States");
  std::set<std::string> reached = {start};
  std::vector<std::string> todo = {start};
  while (!todo.empty()) {
    const std::string at = todo.back();
    todo.pop_back();
    for (const auto& t : edges[at]) {
      if (reached.insert(t).second) todo.push_back(t);
    }
  }
  for (const auto& [name, state] : states.items()) {
    if (!reached.count(name)) {
      return Invalid("MISSING_TRANSITION_TARGET", fmt::format("State \"{}\" is not reachable.", name), "/States/" + name);
    }
  }
  return Status::Ok();
}

ExecutionResult Execute(const json& definition, const json& input, const ExecutionEnvironment& env) {
  return Run(definition, env).Go(input);
}

}  // namespace loam::workflows
