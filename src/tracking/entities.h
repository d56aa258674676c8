// Tracking entities, in MLflow's model: experiments hold runs; runs hold params (immutable),
// metrics (histories), tags and dataset inputs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loam::tracking {

enum class LifecycleStage { kActive, kDeleted };
const char* LifecycleStageName(LifecycleStage s);  // "active" / "deleted"

enum class ViewType { kActiveOnly, kDeletedOnly, kAll };
std::optional<ViewType> ParseViewType(std::string_view name);  // ACTIVE_ONLY, DELETED_ONLY, ALL

enum class RunStatus { kRunning, kScheduled, kFinished, kFailed, kKilled };
const char* RunStatusName(RunStatus s);
std::optional<RunStatus> ParseRunStatus(std::string_view name);

struct Tag {
  std::string key;
  std::string value;
};
using Param = Tag;

struct Metric {
  std::string key;
  double value = 0;
  int64_t timestamp = 0;
  int64_t step = 0;
};

struct MetricWithRunId {
  Metric metric;
  std::string run_id;
};

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  std::vector<Tag> tags;
};

struct Dataset {
  std::string name;
  std::string digest;
  std::string source_type;
  std::string source;
  std::string schema;   // empty when unset
  std::string profile;  // empty when unset
};

struct DatasetInput {
  std::vector<Tag> tags;
  Dataset dataset;
};

struct RunInfo {
  std::string run_id;
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  RunStatus status = RunStatus::kRunning;
  std::optional<int64_t> start_time;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
};

// A model a run produced (MLflow 3's LoggedModelOutput) or consumed (ModelInput).
struct ModelLink {
  std::string model_id;
  int64_t step = 0;
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // latest value per key
  std::vector<Param> params;
  std::vector<Tag> tags;
  std::vector<DatasetInput> inputs;
  std::vector<ModelLink> model_inputs;
  std::vector<ModelLink> model_outputs;
};

// MLflow 3's logged model: a model with its own id, artifacts, params and tags, usually
// produced by a run.
enum class LoggedModelStatus { kUnspecified, kPending, kReady, kUploadFailed };
const char* LoggedModelStatusName(LoggedModelStatus s);  // LOGGED_MODEL_PENDING, ...
std::optional<LoggedModelStatus> ParseLoggedModelStatus(std::string_view name);

struct LoggedModel {
  std::string model_id;  // "m-" + 32 hex characters
  std::string experiment_id;
  std::string name;
  std::string artifact_uri;
  int64_t creation_timestamp_ms = 0;
  int64_t last_updated_timestamp_ms = 0;
  std::string model_type;
  std::string source_run_id;
  LoggedModelStatus status = LoggedModelStatus::kPending;
  std::string status_message;
  LifecycleStage lifecycle_stage = LifecycleStage::kActive;
  std::vector<Tag> tags;
  std::vector<Param> params;
};

// Well-known tags the server keeps in sync with run attributes.
inline constexpr std::string_view kRunNameTag = "mlflow.runName";
inline constexpr std::string_view kLoggedModelsTag = "mlflow.log-model.history";

}  // namespace loam::tracking
