// JSONata states: "{% expression %}" strings in a state's fields, evaluated with `$states`
// (input, context, and the result or error output where the field may read them) and the
// workflow variables. A failed evaluation, or one that yields nothing, is
// States.QueryEvaluationError, recorded with an EvaluationFailed event naming the field.
#include <fmt/format.h>

#include "common/strings.h"
#include "workflows/jsonata/jsonata.h"
#include "workflows/run.h"
#include "workflows/timestamps.h"

namespace loam::workflows::internal {

using nlohmann::json;


bool Run::IsJsonata(const json& state) const {
  if (auto it = state.find("QueryLanguage"); it != state.end()) return *it == "JSONata";
  return jsonata_default_;
}

jsonata::Value Run::StatesValue(const StatesData& states) const {
  jsonata::ObjectData data;
  if (states.input) data.Set("input", jsonata::FromJson(*states.input));
  // The context object: Execution (with the execution's input) and StateMachine never change
  // during a run, so they are converted once; State, Task and Map each time.
  jsonata::ObjectData context;
  for (const auto& [key, value] : context_.items()) {
    if (key == "Execution" || key == "StateMachine") {
      auto cached = context_values_.find(key);
      if (cached == context_values_.end()) cached = context_values_.emplace(key, jsonata::FromJson(value)).first;
      context.Set(key, cached->second);
    } else {
      context.Set(key, jsonata::FromJson(value));
    }
  }
  data.Set("context", jsonata::Value::Object(std::move(context)));
  if (states.result) data.Set("result", jsonata::FromJson(*states.result));
  if (states.error_output) data.Set("errorOutput", jsonata::FromJson(*states.error_output));
  return jsonata::Value::Object(std::move(data));
}

StatusOr<json> Run::Evaluate(const json& value, const StatesData& states, const std::string& field,
                             std::optional<Failure>& failure) {
  std::optional<jsonata::Value> states_value;  // converted once per field, on first use
  auto fail = [&](const std::string& where, std::string cause) -> StatusOr<json> {
    FailEvaluation(where, std::move(cause), failure);
    return json();
  };
  // `where` names the spot in the field ("Output/v") as Step Functions' causes do.
  std::function<StatusOr<json>(const json&, const std::string&)> walk = [&](const json& node,
                                                                           const std::string& where) -> StatusOr<json> {
    if (node.is_array()) {
      json out = json::array();
      for (size_t i = 0; i < node.size(); ++i) {
        ASSIGN_OR_RETURN(json v, walk(node[i], fmt::format("{}[{}]", where, i)));
        if (failure) return json();
        out.push_back(std::move(v));
      }
      return out;
    }
    if (node.is_object()) {
      json out = json::object();
      for (const auto& [key, item] : node.items()) {
        ASSIGN_OR_RETURN(json v, walk(item, where + "/" + key));
        if (failure) return json();
        out[key] = std::move(v);
      }
      return out;
    }
    const std::optional<std::string_view> expression_text = JsonataExpressionIn(node);
    if (!expression_text) return node;
    const std::string_view text = *expression_text;
    auto expression = jsonata::CachedExpression(text);
    if (!expression.ok()) {
      return fail(where, fmt::format("The JSONata expression '{}' specified for the field '{}' is not valid: {}", text, where,
                              expression.status().message()));
    }
    jsonata::Bindings bindings;
    for (const std::string& name : (*expression)->FreeVariables()) {
      if (name == "states") {
        if (!states_value) states_value = StatesValue(states);
        bindings.emplace(name, *states_value);
      } else if (const json* variable = Variable(name)) {
        bindings.emplace(name, jsonata::FromJson(*variable));
      }
    }
    jsonata::EvaluateOptions options;
    options.now_millis = Now();
    auto result = (*expression)->Evaluate(jsonata::Value(), bindings, options);
    if (!result.ok()) {
      return fail(where, fmt::format("The JSONata expression '{}' specified for the field '{}' threw an error during evaluation. {}",
                              text, where, result.status().message()));
    }
    if (result->undefined()) {
      return fail(where, fmt::format("The JSONata expression '{}' specified for the field '{}' returned nothing (undefined).", text, where));
    }
    auto out = jsonata::ToJson(*result);
    if (!out.ok() || out->is_discarded()) {
      return fail(where, fmt::format("The JSONata expression '{}' specified for the field '{}' gave a value JSON cannot hold: {}", text,
                              where, out.ok() ? "undefined" : out.status().message()));
    }
    return std::move(*out);
  };
  return walk(value, field);
}

StatusOr<json> Run::JsonataOutput(const json& holder, const StatesData& states, json fallback, std::optional<Failure>& failure) {
  if (!holder.contains("Output")) return fallback;
  return Evaluate(holder["Output"], states, "Output", failure);
}

StatusOr<int64_t> Run::JsonataSeconds(const json& state, const char* field, const StatesData& states, int64_t minimum,
                                      std::optional<Failure>& failure) {
  if (!state.contains(field)) return 0;
  if (!JsonataExpressionIn(state[field])) return state[field].get<int64_t>();
  ASSIGN_OR_RETURN(json v, Evaluate(state[field], states, field, failure));
  if (failure) return 0;
  if (!v.is_number_integer() || v.get<int64_t>() < minimum || v.get<int64_t>() > 99999999) {
    FailEvaluation(field, fmt::format("The JSONata expression for the field '{}' must give an integer from {} to 99999999, not {}",
                                      field, minimum, v.dump(-1, ' ', false, kReplaceInvalid)),
                   failure);
    return 0;
  }
  return v.get<int64_t>();
}

void Run::FailEvaluation(const std::string& field, std::string cause, std::optional<Failure>& failure) {
  // Step Functions names the state and the event that entered it first.
  cause = fmt::format("An error occurred while executing the state '{}' (entered at the event id #{}). {}", current_state_,
                      current_entered_id_, cause);
  failure = Failure{"States.QueryEvaluationError", std::move(cause)};
  Add("EvaluationFailed", {{"error", failure->error}, {"cause", failure->cause}, {"location", field}, {"state", current_state_}});
}

StatusOr<json> Run::JsonataStep(const std::string& name, const json& state, const std::string& type, const json& raw,
                                std::string& next, std::optional<Failure>& failure) {
  const StatesData states{&raw};
  if (type == "Fail") {
    Failure f;
    for (const char* field : {"Error", "Cause"}) {
      std::string& text = std::string(field) == "Error" ? f.error : f.cause;
      if (!state.contains(field)) continue;
      ASSIGN_OR_RETURN(json v, Evaluate(state[field], states, field, failure));
      if (failure) return json();
      if (!v.is_string()) {
        FailEvaluation(field, fmt::format("The field '{}' must evaluate to a string, not {}", field, v.dump(-1, ' ', false, kReplaceInvalid)),
                       failure);
        return json();
      }
      text = v.get<std::string>();
    }
    failure = f;
    return json();
  }
  if (type == "Choice") {
    const json* chosen = nullptr;
    for (size_t i = 0; i < state["Choices"].size() && !chosen; ++i) {
      const json& rule = state["Choices"][i];
      const std::string field = fmt::format("Choices[{}]/Condition", i);
      ASSIGN_OR_RETURN(json hit, Evaluate(rule["Condition"], states, field, failure));
      if (failure) return json();
      if (!hit.is_boolean()) {
        FailEvaluation(field, fmt::format("The Condition must evaluate to a boolean, not {}", hit.dump(-1, ' ', false, kReplaceInvalid)),
                       failure);
        return json();
      }
      if (hit.get<bool>()) chosen = &rule;
    }
    if (chosen) {
      next = (*chosen)["Next"].get<std::string>();
      SetJsonataAssign(*chosen, raw, nullptr, nullptr);  // the matching rule's Assign, not the state's
      return JsonataOutput(chosen->contains("Output") ? *chosen : state, states, raw, failure);
    }
    if (!state.contains("Default")) {
      failure = Failure{"States.NoChoiceMatched", fmt::format("No Matches! at state '{}'", name)};
      return json();
    }
    next = state["Default"].get<std::string>();
    SetJsonataAssign(state, raw, nullptr, nullptr);
    return JsonataOutput(state, states, raw, failure);
  }
  if (type == "Wait") {
    json resolved = json::object();  // the wait with its expressions evaluated, as Run::Wait reads it
    if (state.contains("Seconds")) {
      ASSIGN_OR_RETURN(resolved["Seconds"], JsonataSeconds(state, "Seconds", states, 0, failure));
      if (failure) return json();
    } else {
      ASSIGN_OR_RETURN(json at, Evaluate(state["Timestamp"], states, "Timestamp", failure));
      if (failure) return json();
      if (!at.is_string() || !ParseTimestamp(at.get<std::string>())) {
        FailEvaluation("Timestamp", fmt::format("The Timestamp must evaluate to an ISO-8601 timestamp, not {}",
                                                at.dump(-1, ' ', false, kReplaceInvalid)),
                       failure);
        return json();
      }
      resolved["Timestamp"] = std::move(at);
    }
    RETURN_IF_ERROR(Wait(resolved, raw));
  }
  if (type != "Succeed") SetJsonataAssign(state, raw, nullptr, nullptr);
  if (type == "Pass" || type == "Wait") next = state.value("Next", "");
  return JsonataOutput(state, states, raw, failure);
}

}  // namespace loam::workflows::internal

namespace loam::workflows {

std::optional<std::string_view> JsonataExpressionIn(const nlohmann::json& value) {
  if (!value.is_string()) return std::nullopt;
  const auto& text = value.get_ref<const std::string&>();
  if (text.size() < 4 || !StartsWith(text, "{%") || !EndsWith(text, "%}")) return std::nullopt;
  return Trim(std::string_view(text).substr(2, text.size() - 4));
}

}  // namespace loam::workflows
