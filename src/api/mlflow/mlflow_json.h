// MLflow's JSON conventions: reading request fields leniently where MLflow is lenient
// (int64 as number or string, booleans in any case, GET fields from the query string) and
// writing entities with MLflow's field names (NaN/Infinity as strings, unset fields omitted).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/request.h"
#include "tracking/entities.h"

namespace loam::api::mlflow {

// Typed access to the fields of one request message (or a nested message).
class Fields {
 public:
  explicit Fields(nlohmann::json obj)
      : root_(std::make_shared<const nlohmann::json>(std::move(obj))), obj_(root_.get()) {}
  // GET: the query string; other methods: the JSON body ("" counts as {}).
  static StatusOr<Fields> FromRequest(const http::Request& req);

  StatusOr<std::optional<std::string>> String(const std::string& name) const;
  StatusOr<std::string> RequiredString(const std::string& name) const;
  StatusOr<std::optional<int64_t>> Int64(const std::string& name) const;
  StatusOr<std::optional<double>> Double(const std::string& name) const;
  StatusOr<std::optional<bool>> Bool(const std::string& name) const;
  StatusOr<std::vector<std::string>> StringList(const std::string& name) const;
  StatusOr<std::vector<Fields>> MessageList(const std::string& name) const;
  StatusOr<std::optional<Fields>> Message(const std::string& name) const;
  bool Has(const std::string& name) const { return Find(name) != nullptr; }
  // run_id, or the deprecated run_uuid; required.
  StatusOr<std::string> RunId() const;

 private:
  const nlohmann::json* Find(const std::string& name) const;
  Status TypeError(const std::string& name, const nlohmann::json& value) const;
  // Nested messages share the parsed document; a Fields is a view of one object in it.
  Fields(std::shared_ptr<const nlohmann::json> root, const nlohmann::json* obj, std::string prefix)
      : root_(std::move(root)), obj_(obj), prefix_(std::move(prefix)) {}
  std::shared_ptr<const nlohmann::json> root_;
  const nlohmann::json* obj_;
  std::string prefix_;
};

nlohmann::json ToJson(const tracking::Experiment& e);
nlohmann::json ToJson(const tracking::RunInfo& info);
nlohmann::json ToJson(const tracking::Run& run);
nlohmann::json ToJson(const tracking::Metric& m);
nlohmann::json ToJson(const tracking::LoggedModel& m);
nlohmann::json MetricValueJson(double v);
// Fast path for long metric lists: appends {"key":..,"value":..,"timestamp":..,"step":..}.
void AppendMetricJson(std::string& out, const std::string& escaped_key, double value, int64_t timestamp, int64_t step,
                      const std::string* escaped_run_id = nullptr);
std::string EscapeJsonString(const std::string& s);  // quoted

}  // namespace loam::api::mlflow
