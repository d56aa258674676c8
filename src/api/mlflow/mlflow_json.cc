#include "api/mlflow/mlflow_json.h"

#include <charconv>
#include <cmath>
#include <fmt/format.h>

#include "common/strings.h"

namespace loam::api::mlflow {

using nlohmann::json;
using namespace tracking;

namespace {

// Protobuf's parser stops at 100 levels; so do we, before a recursive parser could
// exhaust the stack on hostile input.
constexpr int kMaxJsonDepth = 100;

bool NestingExceeds(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return true;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  return false;
}

}  // namespace

StatusOr<Fields> Fields::FromRequest(const http::Request& req) {
  if (req.method == "GET") {
    json obj = json::object();
    for (const auto& [k, v] : req.query) {
      if (!obj.contains(k)) {
        obj[k] = v;
      } else if (obj[k].is_array()) {
        obj[k].push_back(v);
      } else {
        obj[k] = json::array({obj[k], v});
      }
    }
    return Fields(std::move(obj));
  }
  if (Trim(req.body).empty()) return Fields(json::object());
  if (NestingExceeds(req.body, kMaxJsonDepth)) {
    return InvalidArgument("Malformed request body: JSON nested deeper than " + std::to_string(kMaxJsonDepth) +
                           " levels.");
  }
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return InvalidArgument("Malformed JSON in request body: could not parse it as JSON.");
  if (!body.is_object()) return InvalidArgument("Malformed request body: expected a JSON object.");
  return Fields(std::move(body));
}

const json* Fields::Find(const std::string& name) const {
  auto it = obj_->find(name);
  if (it == obj_->end() || it->is_null()) return nullptr;
  return &*it;
}

Status Fields::TypeError(const std::string& name, const json& value) const {
  return InvalidArgument(fmt::format(
      "Invalid value {} for parameter '{}{}' supplied. Hint: Value was of type '{}'. See the API docs for more "
      "information about request parameters.",
      value.dump(-1, ' ', false, json::error_handler_t::replace), prefix_, name, value.type_name()));
}

// Query-string values arrive as one-element lists when repeated; take the first for scalars.
static const json& Scalar(const json& v) { return v.is_array() && v.size() == 1 ? v[0] : v; }

StatusOr<std::optional<std::string>> Fields::String(const std::string& name) const {
  const json* v = Find(name);
  if (!v) return std::optional<std::string>();
  const json& s = Scalar(*v);
  if (!s.is_string()) return TypeError(name, *v);
  return std::optional<std::string>(s.get<std::string>());
}

StatusOr<std::string> Fields::RequiredString(const std::string& name) const {
  ASSIGN_OR_RETURN(auto v, String(name));
  if (!v) {
    return InvalidArgument(fmt::format(
        "Missing value for required parameter '{}{}'. See the API docs for more information about request parameters.",
        prefix_, name));
  }
  return *v;
}

StatusOr<std::optional<int64_t>> Fields::Int64(const std::string& name) const {
  const json* v = Find(name);
  if (!v) return std::optional<int64_t>();
  const json& s = Scalar(*v);
  if (s.is_number_integer()) return std::optional<int64_t>(s.get<int64_t>());
  if (s.is_number_float()) {
    double d = s.get<double>();
    if (std::floor(d) == d && std::fabs(d) < 9.2e18) return std::optional<int64_t>(static_cast<int64_t>(d));
  }
  if (s.is_string()) {
    if (auto parsed = ParseInt64(s.get<std::string>())) return std::optional<int64_t>(*parsed);
  }
  return TypeError(name, *v);
}

StatusOr<std::optional<double>> Fields::Double(const std::string& name) const {
  const json* v = Find(name);
  if (!v) return std::optional<double>();
  const json& s = Scalar(*v);
  if (s.is_number()) return std::optional<double>(s.get<double>());
  if (s.is_string()) {
    if (auto parsed = ParseDouble(s.get<std::string>())) return std::optional<double>(*parsed);
  }
  return TypeError(name, *v);
}

StatusOr<std::optional<bool>> Fields::Bool(const std::string& name) const {
  const json* v = Find(name);
  if (!v) return std::optional<bool>();
  const json& s = Scalar(*v);
  if (s.is_boolean()) return std::optional<bool>(s.get<bool>());
  if (s.is_string()) {
    std::string lower = ToLower(s.get<std::string>());
    if (lower == "true") return std::optional<bool>(true);
    if (lower == "false") return std::optional<bool>(false);
  }
  return TypeError(name, *v);
}

StatusOr<std::vector<std::string>> Fields::StringList(const std::string& name) const {
  std::vector<std::string> out;
  const json* v = Find(name);
  if (!v) return out;
  if (v->is_string()) {
    out.push_back(v->get<std::string>());
    return out;
  }
  if (!v->is_array()) return TypeError(name, *v);
  for (const auto& item : *v) {
    if (!item.is_string()) return TypeError(name, *v);
    out.push_back(item.get<std::string>());
  }
  return out;
}

StatusOr<std::vector<Fields>> Fields::MessageList(const std::string& name) const {
  std::vector<Fields> out;
  const json* v = Find(name);
  if (!v) return out;
  if (!v->is_array()) return TypeError(name, *v);
  out.reserve(v->size());
  std::string prefix = prefix_ + name + ".";
  for (const auto& item : *v) {
    if (!item.is_object()) return TypeError(name, item);
    out.push_back(Fields(root_, &item, prefix));
  }
  return out;
}

StatusOr<std::optional<Fields>> Fields::Message(const std::string& name) const {
  const json* v = Find(name);
  if (!v) return std::optional<Fields>();
  if (!v->is_object()) return TypeError(name, *v);
  return std::optional<Fields>(Fields(root_, v, prefix_ + name + "."));
}

StatusOr<std::string> Fields::RunId() const {
  ASSIGN_OR_RETURN(auto id, String("run_id"));
  if (id && !id->empty()) return *id;
  ASSIGN_OR_RETURN(auto uuid, String("run_uuid"));
  if (uuid && !uuid->empty()) return *uuid;
  return InvalidArgument(
      "Missing value for required parameter 'run_id'. See the API docs for more information about request parameters.");
}

json MetricValueJson(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  return v;
}

static json TagsJson(const std::vector<Tag>& tags) {
  json arr = json::array();
  for (const auto& t : tags) arr.push_back({{"key", t.key}, {"value", t.value}});
  return arr;
}

json ToJson(const Experiment& e) {
  json j = {{"experiment_id", e.experiment_id},
            {"name", e.name},
            {"artifact_location", e.artifact_location},
            {"lifecycle_stage", LifecycleStageName(e.lifecycle_stage)},
            {"last_update_time", e.last_update_time},
            {"creation_time", e.creation_time}};
  if (!e.tags.empty()) j["tags"] = TagsJson(e.tags);
  return j;
}

json ToJson(const RunInfo& info) {
  json j = {{"run_id", info.run_id},
            {"run_uuid", info.run_id},
            {"run_name", info.run_name},
            {"experiment_id", info.experiment_id},
            {"user_id", info.user_id},
            {"status", RunStatusName(info.status)},
            {"artifact_uri", info.artifact_uri},
            {"lifecycle_stage", LifecycleStageName(info.lifecycle_stage)}};
  if (info.start_time) j["start_time"] = *info.start_time;
  if (info.end_time) j["end_time"] = *info.end_time;
  return j;
}

json ToJson(const Metric& m) {
  return {{"key", m.key}, {"value", MetricValueJson(m.value)}, {"timestamp", m.timestamp}, {"step", m.step}};
}

json ToJson(const Run& run) {
  json data = json::object();
  if (!run.metrics.empty()) {
    json arr = json::array();
    for (const auto& m : run.metrics) arr.push_back(ToJson(m));
    data["metrics"] = std::move(arr);
  }
  if (!run.params.empty()) data["params"] = TagsJson(run.params);
  if (!run.tags.empty()) data["tags"] = TagsJson(run.tags);
  json inputs = json::object();
  if (!run.inputs.empty()) {
    json arr = json::array();
    for (const auto& in : run.inputs) {
      json ds = {{"name", in.dataset.name},
                 {"digest", in.dataset.digest},
                 {"source_type", in.dataset.source_type},
                 {"source", in.dataset.source}};
      if (!in.dataset.schema.empty()) ds["schema"] = in.dataset.schema;
      if (!in.dataset.profile.empty()) ds["profile"] = in.dataset.profile;
      json item = {{"dataset", std::move(ds)}};
      if (!in.tags.empty()) item["tags"] = TagsJson(in.tags);
      arr.push_back(std::move(item));
    }
    inputs["dataset_inputs"] = std::move(arr);
  }
  if (!run.model_inputs.empty()) {
    json arr = json::array();
    for (const auto& m : run.model_inputs) arr.push_back({{"model_id", m.model_id}});
    inputs["model_inputs"] = std::move(arr);
  }
  json outputs = json::object();
  if (!run.model_outputs.empty()) {
    json arr = json::array();
    for (const auto& m : run.model_outputs) arr.push_back({{"model_id", m.model_id}, {"step", m.step}});
    outputs["model_outputs"] = std::move(arr);
  }
  return {{"info", ToJson(run.info)}, {"data", std::move(data)}, {"inputs", std::move(inputs)},
          {"outputs", std::move(outputs)}};
}

json ToJson(const LoggedModel& m) {
  json info = {{"model_id", m.model_id},
               {"experiment_id", m.experiment_id},
               {"name", m.name},
               {"artifact_uri", m.artifact_uri},
               {"creation_timestamp_ms", m.creation_timestamp_ms},
               {"last_updated_timestamp_ms", m.last_updated_timestamp_ms},
               {"status", LoggedModelStatusName(m.status)}};
  if (!m.model_type.empty()) info["model_type"] = m.model_type;
  if (!m.source_run_id.empty()) info["source_run_id"] = m.source_run_id;
  if (!m.status_message.empty()) info["status_message"] = m.status_message;
  if (!m.tags.empty()) info["tags"] = TagsJson(m.tags);
  json data = json::object();
  if (!m.params.empty()) data["params"] = TagsJson(m.params);
  return {{"info", std::move(info)}, {"data", std::move(data)}};
}

std::string EscapeJsonString(const std::string& s) { return json(s).dump(-1, ' ', false, json::error_handler_t::replace); }

void AppendMetricJson(std::string& out, const std::string& escaped_key, double value, int64_t timestamp, int64_t step,
                      const std::string* escaped_run_id) {
  char buf[64];
  out += "{\"key\":";
  out += escaped_key;
  out += ",\"value\":";
  if (std::isnan(value)) {
    out += "\"NaN\"";
  } else if (std::isinf(value)) {
    out += value > 0 ? "\"Infinity\"" : "\"-Infinity\"";
  } else {
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, value);
    out.append(buf, p);
  }
  out += ",\"timestamp\":";
  auto [p2, ec2] = std::to_chars(buf, buf + sizeof buf, timestamp);
  out.append(buf, p2);
  out += ",\"step\":";
  auto [p3, ec3] = std::to_chars(buf, buf + sizeof buf, step);
  out.append(buf, p3);
  if (escaped_run_id) {
    out += ",\"run_id\":";
    out += *escaped_run_id;
  }
  out += '}';
}

}  // namespace loam::api::mlflow
