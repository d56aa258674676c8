#include "workflows/state_machine.h"

#include <fmt/format.h>

#include <cctype>
#include <map>
#include <set>

#include "common/strings.h"
#include "workflows/choice_rules.h"
#include "workflows/intrinsics.h"
#include "workflows/json_path.h"
#include "workflows/jsonata/jsonata.h"
#include "workflows/timestamps.h"

namespace loam::workflows {

using nlohmann::json;

namespace {

constexpr size_t kMaxStateNameLength = 80;
// Step Functions' largest number of seconds (Wait, TimeoutSeconds, HeartbeatSeconds, retry intervals).
constexpr int64_t kMaxSeconds = 99999999;

Status Invalid(const std::string& code, const std::string& message, const std::string& where) {
  return InvalidArgument(fmt::format("Invalid State Machine Definition: '{}: {} at {}'", code, message, where));
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
  if (std::string_view(field) == "ResultPath" && !path->variable.empty()) {
    return Invalid("INVALID_JSON_PATH", "'ResultPath' must be a Reference Path into the state's input, not a variable", at);
  }
  return Status::Ok();
}

constexpr size_t kMaxVariableNameLength = 80;

// Step Functions' words for a field the state's query language does not have.
std::string OnlyFor(std::string_view field, std::string_view language) {
  return fmt::format("The QueryLanguage is set to '{}', but field '{}' is only supported for the '{}' QueryLanguage",
                     language == "JSONPath" ? "JSONata" : "JSONPath", field, language);
}

// Every "{% %}" string in a JSONata field must compile; ".$" keys belong to JSONPath.
Status ValidateExpressions(const json& node, const std::string& where) {
  if (node.is_array()) {
    for (size_t i = 0; i < node.size(); ++i) RETURN_IF_ERROR(ValidateExpressions(node[i], fmt::format("{}[{}]", where, i)));
    return Status::Ok();
  }
  if (node.is_object()) {
    for (const auto& [key, value] : node.items()) {
      if (EndsWith(key, ".$")) {
        return Invalid("SCHEMA_VALIDATION_FAILED", "A JSONata state's fields cannot end in '.$'; use a {% %} expression instead",
                       where + "/" + key);
      }
      RETURN_IF_ERROR(ValidateExpressions(value, where + "/" + key));
    }
    return Status::Ok();
  }
  const std::optional<std::string_view> text = JsonataExpressionIn(node);
  if (!text) return Status::Ok();
  auto compiled = jsonata::CachedExpression(*text);
  if (!compiled.ok()) {
    // The parser's message without its code ("S0207: ..."), as Step Functions words it.
    std::string_view message = compiled.status().message();
    if (const size_t colon = message.find(": "); colon != std::string_view::npos && colon < 8) message.remove_prefix(colon + 2);
    return Invalid("INVALID_JSONATA_EXPRESSION", std::string(message), where);
  }
  return Status::Ok();
}

// The fields of a JSONata state: none of JSONPath's, expressions that compile, and numbers that
// may be expressions instead.
Status ValidateJsonataFields(const json& state, const std::string& type, const std::string& where) {
  static const char* kJsonPathOnly[] = {"InputPath", "Parameters", "ResultSelector", "ResultPath", "OutputPath",
                                        "ItemsPath", "SecondsPath", "TimestampPath", "ErrorPath", "CausePath",
                                        "TimeoutSecondsPath", "HeartbeatSecondsPath", "Result", "Iterator",
                                        "MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath"};
  for (const char* field : kJsonPathOnly) {
    if (state.contains(field)) return Invalid("SCHEMA_VALIDATION_FAILED", OnlyFor(field, "JSONPath"), where + "/" + field);
  }
  for (const char* field : {"Arguments", "Output", "Items", "ItemSelector", "Error", "Cause"}) {
    if (state.contains(field)) RETURN_IF_ERROR(ValidateExpressions(state[field], where + "/" + field));
  }
  if (state.contains("Items") && !state["Items"].is_array() && !JsonataExpressionIn(state["Items"])) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "'Items' must be an array or a JSONata expression", where + "/Items");
  }
  for (const char* field : {"Error", "Cause"}) {
    if (state.contains(field) && !state[field].is_string()) {
      return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("'{}' must be a string", field), where + "/" + field);
    }
  }
  if (type != "Task" && state.contains("Arguments") && type != "Parallel") {
    return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("A {} state cannot have 'Arguments'", type), where + "/Arguments");
  }
  if (type == "Fail" && state.contains("Output")) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "A Fail state cannot have 'Output'", where + "/Output");
  }
  return Status::Ok();
}

// A copy of a JSONata state with its expression-valued numbers and timestamps taken out, so the
// checks both languages share see only literal values.
json WithoutExpressions(const json& state) {
  json copy = state;
  for (const char* field : {"Seconds", "Timestamp", "TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency",
                            "ToleratedFailureCount", "ToleratedFailurePercentage"}) {
    if (copy.contains(field) && JsonataExpressionIn(copy[field])) {
      copy.erase(field);
      if (std::string_view(field) == "Seconds" || std::string_view(field) == "Timestamp") copy["Seconds"] = 0;
    }
  }
  for (const char* field : {"Arguments", "Output", "Items", "ItemSelector", "Assign", "QueryLanguage"}) copy.erase(field);
  return copy;
}

// Assign: an object of variable names (a letter or "_", then letters, digits and "_"; "states" is
// reserved) to values, where "name.$" values are paths or intrinsic calls as in Parameters.
Status ValidateAssign(const json& holder, const std::string& where, bool jsonata = false) {
  if (!holder.contains("Assign")) return Status::Ok();
  const std::string at = where + "/Assign";
  const json& assign = holder["Assign"];
  if (!assign.is_object()) return Invalid("SCHEMA_VALIDATION_FAILED", "'Assign' must be an object", at);
  for (const auto& [key, value] : assign.items()) {
    const std::string name = EndsWith(key, ".$") ? key.substr(0, key.size() - 2) : key;
    bool valid = !name.empty() && name.size() <= kMaxVariableNameLength &&
                 (std::isalpha(static_cast<unsigned char>(name[0])) || name[0] == '_');
    for (char c : name) valid = valid && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
    if (!valid) return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("'{}' is not a valid variable name", name), at);
    if (name == "states") return Invalid("SCHEMA_VALIDATION_FAILED", "The variable name 'states' is reserved", at);
  }
  return jsonata ? ValidateExpressions(assign, at) : ValidateTemplate(assign, at);
}

// A transition and where the definition names it ("/States/A/Next").
struct Target {
  std::string state, at;
};

// Next or End, exactly one; the targets are collected for the reachability check.
Status ValidateTransition(const json& state, const std::string& where, std::vector<Target>& targets) {
  const bool has_next = state.contains("Next");
  if (state.contains("End") && !state["End"].is_boolean()) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "'End' must be true or false", where + "/End");
  }
  const bool end = state.value("End", false);
  if (has_next == end) return Invalid("SCHEMA_VALIDATION_FAILED", "A state must have exactly one of 'Next' or 'End': true", where);
  if (has_next) {
    if (!state["Next"].is_string()) return Invalid("SCHEMA_VALIDATION_FAILED", "'Next' must be a state name", where + "/Next");
    targets.push_back({state["Next"].get<std::string>(), where + "/Next"});
  }
  return Status::Ok();
}

Status ValidateMachine(const json& machine, const std::string& where, const ValidationOptions& options, bool jsonata_default);

// Retry and Catch: ErrorEquals lists (States.ALL alone and last), the retriers' numbers, and
// the catchers' Next targets and ResultPath.
Status ValidateErrorHandling(const json& state, const std::string& where, std::vector<Target>& targets, bool jsonata) {
  for (const char* field : {"Retry", "Catch"}) {
    if (!state.contains(field)) continue;
    const std::string at = where + "/" + field;
    if (!state[field].is_array()) return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("'{}' must be an array", field), at);
    const json& rules = state[field];
    for (size_t i = 0; i < rules.size(); ++i) {
      const std::string rule_at = fmt::format("{}[{}]", at, i);
      const json& rule = rules[i];
      if (!rule.is_object() || !rule.contains("ErrorEquals") || !rule["ErrorEquals"].is_array() || rule["ErrorEquals"].empty()) {
        return Invalid("SCHEMA_VALIDATION_FAILED", "'ErrorEquals' must be a non-empty array of error names", rule_at);
      }
      for (size_t k = 0; k < rule["ErrorEquals"].size(); ++k) {
        const json& e = rule["ErrorEquals"][k];
        const std::string name_at = fmt::format("{}/ErrorEquals[{}]", rule_at, k);
        if (!e.is_string()) return Invalid("SCHEMA_VALIDATION_FAILED", "Error names must be strings", name_at);
        if (e == "States.ALL" && (rule["ErrorEquals"].size() != 1 || i + 1 != rules.size())) {
          return Invalid("SCHEMA_VALIDATION_FAILED", "States.ALL must appear alone and at end of list", name_at);
        }
      }
      if (std::string(field) == "Retry") {
        if (rule.contains("Assign")) return Invalid("SCHEMA_VALIDATION_FAILED", "A retrier cannot have 'Assign'", rule_at + "/Assign");
        for (const char* n : {"IntervalSeconds", "MaxAttempts", "MaxDelaySeconds"}) {
          if (rule.contains(n) && (!rule[n].is_number_integer() || rule[n].get<int64_t>() < (std::string(n) == "MaxAttempts" ? 0 : 1) ||
                                   rule[n].get<int64_t>() > kMaxSeconds)) {
            return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("'{}' must be a {} integer", n,
                                                                   std::string(n) == "MaxAttempts" ? "non-negative" : "positive"),
                           rule_at + "/" + n);
          }
        }
        if (rule.contains("BackoffRate") && (!rule["BackoffRate"].is_number() || rule["BackoffRate"].get<double>() < 1.0)) {
          return Invalid("SCHEMA_VALIDATION_FAILED", "'BackoffRate' must be at least 1.0", rule_at + "/BackoffRate");
        }
      } else {
        if (!rule.contains("Next") || !rule["Next"].is_string()) {
          return Invalid("SCHEMA_VALIDATION_FAILED", "A catcher must have a 'Next' state name", rule_at);
        }
        RETURN_IF_ERROR(ValidateAssign(rule, rule_at, jsonata));
        targets.push_back({rule["Next"].get<std::string>(), rule_at + "/Next"});
        if (jsonata) {
          if (rule.contains("ResultPath")) return Invalid("SCHEMA_VALIDATION_FAILED", OnlyFor("ResultPath", "JSONPath"), rule_at + "/ResultPath");
          if (rule.contains("Output")) RETURN_IF_ERROR(ValidateExpressions(rule["Output"], rule_at + "/Output"));
        } else {
          if (rule.contains("Output")) return Invalid("SCHEMA_VALIDATION_FAILED", OnlyFor("Output", "JSONata"), rule_at + "/Output");
          RETURN_IF_ERROR(ValidatePathField(rule, "ResultPath", true, rule_at));
        }
      }
    }
  }
  return Status::Ok();
}

// TimeoutSeconds / HeartbeatSeconds (positive integers) or their Path forms, never both.
Status ValidateTaskSeconds(const json& state, const char* field, const std::string& where) {
  const std::string path_field = std::string(field) + "Path";
  if (state.contains(field) && state.contains(path_field)) {
    return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("A Task state has at most one of '{}' and '{}'", field, path_field), where);
  }
  if (state.contains(field) &&
      (!state[field].is_number_integer() || state[field].get<int64_t>() < 1 || state[field].get<int64_t>() > kMaxSeconds)) {
    return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("'{}' must be a positive integer up to {}", field, kMaxSeconds),
                   where + "/" + field);
  }
  return ValidatePathField(state, path_field.c_str(), true, where);
}

Status ValidateTask(const json& state, const std::string& where, std::vector<Target>& targets, const ValidationOptions& options,
                    bool jsonata) {
  if (!state.contains("Resource") || !state["Resource"].is_string()) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "A Task state must have a 'Resource' string", where);
  }
  const std::string resource = state["Resource"].get<std::string>();
  if (!StartsWith(resource, "arn:")) return Invalid("SCHEMA_VALIDATION_FAILED", "Value is not a valid resource ARN", where + "/Resource");
  if (std::optional<std::string> problem = options.resource_problem ? options.resource_problem(resource) : std::nullopt) {
    return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("The resource provided {} {}", resource, *problem), where + "/Resource");
  }
  RETURN_IF_ERROR(ValidatePathField(state, "ResultPath", true, where));
  for (const char* field : {"Parameters", "ResultSelector"}) {
    if (state.contains(field)) RETURN_IF_ERROR(ValidateTemplate(state[field], where + "/" + field));
  }
  RETURN_IF_ERROR(ValidateTaskSeconds(state, "TimeoutSeconds", where));
  RETURN_IF_ERROR(ValidateTaskSeconds(state, "HeartbeatSeconds", where));
  if (state.contains("TimeoutSeconds") && state.contains("HeartbeatSeconds") &&
      state["HeartbeatSeconds"].get<int64_t>() >= state["TimeoutSeconds"].get<int64_t>()) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "'HeartbeatSeconds' must be smaller than 'TimeoutSeconds'", where + "/HeartbeatSeconds");
  }
  RETURN_IF_ERROR(ValidateErrorHandling(state, where, targets, jsonata));
  return ValidateTransition(state, where, targets);
}

Status ValidateState(const std::string& name, const json& given, std::vector<Target>& targets, const std::string& machine,
                     const ValidationOptions& options, bool jsonata_default) {
  const std::string where = machine + "/States/" + name;
  if (name.empty() || name.size() > kMaxStateNameLength) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "State names must be 1 to 80 characters long", where);
  }
  if (!given.is_object() || !given.contains("Type") || !given["Type"].is_string()) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "A state must be an object with a 'Type'", where);
  }
  const std::string type = given["Type"].get<std::string>();
  if (given.contains("QueryLanguage") && given["QueryLanguage"] != "JSONPath" && given["QueryLanguage"] != "JSONata") {
    return Invalid("SCHEMA_VALIDATION_FAILED", "'QueryLanguage' must be JSONPath or JSONata", where + "/QueryLanguage");
  }
  if (jsonata_default && given.value("QueryLanguage", "JSONata") == "JSONPath") {
    return Invalid("SCHEMA_VALIDATION_FAILED", "'QueryLanguage' can not be 'JSONPath' if set to 'JSONata' for whole state machine",
                   where + "/QueryLanguage");
  }
  const bool jsonata = given.value("QueryLanguage", jsonata_default ? "JSONata" : "JSONPath") == "JSONata";
  if (jsonata) {
    RETURN_IF_ERROR(ValidateJsonataFields(given, type, where));
    if (type != "Succeed" && type != "Fail") RETURN_IF_ERROR(ValidateAssign(given, where, true));
  } else {
    for (const char* field : {"Arguments", "Output", "Items"}) {
      if (given.contains(field)) return Invalid("SCHEMA_VALIDATION_FAILED", OnlyFor(field, "JSONata"), where + "/" + field);
    }
  }
  // The checks both languages share read literal values only.
  const json sanitized = jsonata ? WithoutExpressions(given) : json();
  const json& state = jsonata ? sanitized : given;
  if (type != "Task" && type != "Pass" && type != "Choice" && type != "Wait" && type != "Succeed" && type != "Fail" &&
      type != "Parallel" && type != "Map") {
    return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("'{}' is not a valid state type", type), where + "/Type");
  }
  // Valid States Language that Loam does not run yet is refused by name, never ignored.
  static const std::pair<const char*, const char*> kNotYet[] = {
      {"ItemReader", "Distributed Map's ItemReader"},
      {"ItemBatcher", "Distributed Map's ItemBatcher"},
      {"ResultWriter", "Distributed Map's ResultWriter"},
      {"Credentials", "Task credentials (cross-account roles)"},
  };
  for (const auto& [field, what] : kNotYet) {
    if (state.contains(field)) {
      return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("{} is not supported by Loam yet", what), where + "/" + field);
    }
  }
  if (type == "Map" && state.contains("ItemProcessor") && state["ItemProcessor"].is_object() &&
      state["ItemProcessor"].contains("ProcessorConfig") &&
      (!state["ItemProcessor"]["ProcessorConfig"].is_object() ||
       state["ItemProcessor"]["ProcessorConfig"].value("Mode", json("INLINE")) != "INLINE")) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "Distributed Map (ProcessorConfig Mode DISTRIBUTED) is not supported by Loam yet",
                   where + "/ItemProcessor/ProcessorConfig");
  }
  if (type == "Succeed" || type == "Fail") {
    if (state.contains("Assign")) {
      return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("A {} state cannot have 'Assign'", type), where + "/Assign");
    }
  } else if (!jsonata) {
    RETURN_IF_ERROR(ValidateAssign(state, where));
  }
  if (type != "Fail") {
    RETURN_IF_ERROR(ValidatePathField(state, "InputPath", false, where));
    RETURN_IF_ERROR(ValidatePathField(state, "OutputPath", false, where));
  }
  if (type == "Task") return ValidateTask(state, where, targets, options, jsonata);
  if (type == "Parallel" || type == "Map") {
    RETURN_IF_ERROR(ValidatePathField(state, "ResultPath", true, where));
    for (const char* field : {"Parameters", "ResultSelector", "ItemSelector"}) {
      if (state.contains(field)) RETURN_IF_ERROR(ValidateTemplate(state[field], where + "/" + field));
    }
    RETURN_IF_ERROR(ValidateErrorHandling(state, where, targets, jsonata));
    if (type == "Parallel") {
      if (!state.contains("Branches") || !state["Branches"].is_array() || state["Branches"].empty()) {
        return Invalid("SCHEMA_VALIDATION_FAILED", "A Parallel state must have a non-empty 'Branches' array", where + "/Branches");
      }
      for (size_t i = 0; i < state["Branches"].size(); ++i) {
        RETURN_IF_ERROR(ValidateMachine(state["Branches"][i], fmt::format("{}/Branches[{}]", where, i), options, jsonata_default));
      }
    } else {
      const char* processor = state.contains("ItemProcessor") ? "ItemProcessor" : "Iterator";
      if (!state.contains(processor)) {
        return Invalid("SCHEMA_VALIDATION_FAILED", "A Map state must have an 'ItemProcessor'", where);
      }
      RETURN_IF_ERROR(ValidateMachine(state[processor], where + "/" + processor, options, jsonata_default));
      RETURN_IF_ERROR(ValidatePathField(state, "ItemsPath", true, where));
      if (state.contains("MaxConcurrency") &&
          (!state["MaxConcurrency"].is_number_integer() || state["MaxConcurrency"].get<int64_t>() < 0)) {
        return Invalid("SCHEMA_VALIDATION_FAILED", "'MaxConcurrency' must be a non-negative integer", where + "/MaxConcurrency");
      }
      if (state.contains("ToleratedFailurePercentage") &&
          (!state["ToleratedFailurePercentage"].is_number() || state["ToleratedFailurePercentage"].get<double>() < 0 ||
           state["ToleratedFailurePercentage"].get<double>() > 100)) {
        return Invalid("SCHEMA_VALIDATION_FAILED", "'ToleratedFailurePercentage' must be between 0 and 100",
                       where + "/ToleratedFailurePercentage");
      }
      if (state.contains("ToleratedFailureCount") &&
          (!state["ToleratedFailureCount"].is_number_integer() || state["ToleratedFailureCount"].get<int64_t>() < 0)) {
        return Invalid("SCHEMA_VALIDATION_FAILED", "'ToleratedFailureCount' must be a non-negative integer",
                       where + "/ToleratedFailureCount");
      }
    }
    return ValidateTransition(state, where, targets);
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
    if (state.contains("Seconds") && (!state["Seconds"].is_number_integer() || state["Seconds"].get<int64_t>() < 0 ||
                                      state["Seconds"].get<int64_t>() > kMaxSeconds)) {
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
      if (jsonata) {
        const std::string rule_at = fmt::format("{}/Choices[{}]", where, i);
        if (!rule.is_object() || !rule.contains("Next") || !rule["Next"].is_string()) {
          return Invalid("SCHEMA_VALIDATION_FAILED", "A Choice rule must have a 'Next' state name", rule_at);
        }
        if (rule.contains("Variable")) return Invalid("SCHEMA_VALIDATION_FAILED", OnlyFor("Variable", "JSONPath"), rule_at + "/Variable");
        for (const auto& [key, value] : rule.items()) {
          if (key != "Condition" && key != "Next" && key != "Assign" && key != "Output" && key != "Comment") {
            return Invalid("SCHEMA_VALIDATION_FAILED", OnlyFor(key, "JSONPath"), rule_at + "/" + key);
          }
        }
        if (!rule.contains("Condition") || !(rule["Condition"].is_boolean() || JsonataExpressionIn(rule["Condition"]))) {
          return Invalid("SCHEMA_VALIDATION_FAILED", "A JSONata Choice rule must have a 'Condition' expression", rule_at);
        }
        RETURN_IF_ERROR(ValidateExpressions(rule["Condition"], rule_at + "/Condition"));
        if (rule.contains("Output")) RETURN_IF_ERROR(ValidateExpressions(rule["Output"], rule_at + "/Output"));
        RETURN_IF_ERROR(ValidateAssign(rule, rule_at, true));
        targets.push_back({rule["Next"].get<std::string>(), rule_at + "/Next"});
        continue;
      }
      Status st = ValidateChoiceRule(rule, fmt::format("{}/Choices[{}]", where, i), true);
      if (!st.ok()) return InvalidArgument(fmt::format("Invalid State Machine Definition: '{}'", st.message()));
      RETURN_IF_ERROR(ValidateAssign(rule, fmt::format("{}/Choices[{}]", where, i)));
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
      if (state.contains(pair) && !state[pair].is_string()) {
        return Invalid("SCHEMA_VALIDATION_FAILED", fmt::format("'{}' must be a string", pair), where + "/" + pair);
      }
      RETURN_IF_ERROR(ValidatePathField(state, path_field.c_str(), false, where));
    }
  }
  return Status::Ok();
}

// One machine: the definition's, a Parallel branch or a Map's item processor. `where` is its
// location ("" for the definition).
Status ValidateMachine(const json& def, const std::string& where, const ValidationOptions& options, bool jsonata_default) {
  if (!def.is_object()) return Invalid("SCHEMA_VALIDATION_FAILED", "The definition must be a JSON object", where.empty() ? "/" : where);
  if (!def.contains("StartAt") || !def["StartAt"].is_string()) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "The field 'StartAt' is required", where + "/StartAt");
  }
  if (!def.contains("States") || !def["States"].is_object() || def["States"].empty()) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "The field 'States' must be a non-empty object", where + "/States");
  }
  if (def.contains("QueryLanguage") && def["QueryLanguage"] != "JSONPath" && def["QueryLanguage"] != "JSONata") {
    return Invalid("SCHEMA_VALIDATION_FAILED", "'QueryLanguage' must be JSONPath or JSONata", where + "/QueryLanguage");
  }
  const json& states = def["States"];
  const std::string start = def["StartAt"].get<std::string>();
  if (!states.contains(start)) {
    return Invalid("MISSING_TRANSITION_TARGET", fmt::format("Missing 'Next' target: {}", start), where + "/StartAt");
  }
  std::map<std::string, std::vector<std::string>> edges;
  bool terminal = false;
  for (const auto& [name, state] : states.items()) {
    std::vector<Target> targets;
    RETURN_IF_ERROR(ValidateState(name, state, targets, where, options, jsonata_default));
    for (const auto& t : targets) {
      if (!states.contains(t.state)) {
        return Invalid("MISSING_TRANSITION_TARGET", fmt::format("Missing 'Next' target: {}", t.state), t.at);
      }
      edges[name].push_back(t.state);
    }
    const std::string type = state["Type"].get<std::string>();
    terminal = terminal || state.value("End", false) || type == "Succeed" || type == "Fail";
  }
  if (!terminal) return Invalid("MISSING_END_STATE", "Workflow has no terminal state", where + "/States");
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
      return Invalid("MISSING_TRANSITION_TARGET", fmt::format("State \"{}\" is not reachable.", name), where + "/States/" + name);
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateDefinition(const json& definition, const ValidationOptions& options) {
  if (definition.is_object() && definition.contains("TimeoutSeconds") &&
      (!definition["TimeoutSeconds"].is_number_integer() || definition["TimeoutSeconds"].get<int64_t>() < 1 ||
       definition["TimeoutSeconds"].get<int64_t>() > kMaxSeconds)) {
    return Invalid("SCHEMA_VALIDATION_FAILED", "'TimeoutSeconds' must be a positive integer", "/TimeoutSeconds");
  }
  const bool jsonata = definition.is_object() && definition.contains("QueryLanguage") && definition["QueryLanguage"] == "JSONata";
  return ValidateMachine(definition, "", options, jsonata);
}

}  // namespace loam::workflows
