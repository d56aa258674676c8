// The tracking port: what the tracking service needs from a metadata store. SQLite
// implements it (store/sqlite); PostgreSQL can be added without touching the service.
//
// Contract: every mutating call is atomic (all of it or none of it is applied) and durable
// against a crash of the process once it returns OK. Implementations are thread-safe.
// Writes to a run check inside the same transaction that the run exists (NotFound) and is
// active (InvalidArgument, MLflow's wording).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tracking/entities.h"
#include "tracking/search_filter.h"

namespace loam::tracking {

struct NewExperiment {
  std::string name;
  std::string artifact_location;  // empty: the store derives "<artifact_root>/<id>"
  std::vector<Tag> tags;
  int64_t now = 0;
};

struct ExperimentQuery {
  Filter filter;
  std::vector<OrderBy> order_by;
  ViewType view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  int64_t offset = 0;
};

struct ExperimentPage {
  std::vector<Experiment> experiments;
  bool has_more = false;
};

struct NewRun {
  std::string experiment_id;
  std::string run_name;
  std::string user_id;
  int64_t start_time = 0;
  std::vector<Tag> tags;
};

struct RunUpdate {
  std::optional<RunStatus> status;
  std::optional<int64_t> end_time;
  std::optional<std::string> run_name;
};

struct RunQuery {
  std::vector<std::string> experiment_ids;
  Filter filter;
  std::vector<OrderBy> order_by;
  ViewType view_type = ViewType::kActiveOnly;
  int64_t max_results = 1000;
  int64_t offset = 0;
};

struct RunPage {
  std::vector<Run> runs;
  bool has_more = false;
};

// Position after the last metric of a history page (keyset pagination over the unique
// (step, timestamp, value, is_nan) order of a metric's points).
struct HistoryCursor {
  int64_t step = 0;
  int64_t timestamp = 0;
  double value = 0;  // as stored: NaN is stored as 0 with is_nan set
  bool is_nan = false;
};

struct MetricHistoryPage {
  std::vector<Metric> metrics;
  std::optional<HistoryCursor> next;  // set when more points follow
};

struct LoggedModelQuery {
  std::vector<std::string> experiment_ids;
  Filter filter;
  std::vector<OrderBy> order_by;
  int64_t max_results = 100;
  int64_t offset = 0;
};

struct LoggedModelPage {
  std::vector<LoggedModel> models;
  bool has_more = false;
};

class TrackingStore {
 public:
  virtual ~TrackingStore() = default;

  virtual StatusOr<std::string> CreateExperiment(const NewExperiment& e) = 0;
  virtual StatusOr<Experiment> GetExperiment(const std::string& experiment_id) = 0;
  virtual StatusOr<Experiment> GetExperimentByName(const std::string& name) = 0;
  virtual StatusOr<ExperimentPage> SearchExperiments(const ExperimentQuery& q) = 0;
  virtual Status RenameExperiment(const std::string& experiment_id, const std::string& new_name, int64_t now) = 0;
  // Deleting an experiment deletes its runs; restoring restores them.
  virtual Status SetExperimentLifecycle(const std::string& experiment_id, LifecycleStage stage, int64_t now) = 0;
  virtual Status SetExperimentTag(const std::string& experiment_id, const Tag& tag) = 0;
  virtual Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) = 0;

  // The run's artifact_uri is "<experiment artifact_location>/<run_id>/artifacts".
  virtual StatusOr<Run> CreateRun(const NewRun& r, const std::string& run_id) = 0;
  virtual StatusOr<Run> GetRun(const std::string& run_id) = 0;
  virtual StatusOr<RunInfo> UpdateRun(const std::string& run_id, const RunUpdate& u) = 0;
  virtual Status SetRunLifecycle(const std::string& run_id, LifecycleStage stage, int64_t now) = 0;
  // Params are immutable: a different value for a logged key fails the whole batch.
  virtual Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                          const std::vector<Param>& params, const std::vector<Tag>& tags) = 0;
  virtual Status DeleteTag(const std::string& run_id, const std::string& key) = 0;
  virtual Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) = 0;
  virtual StatusOr<RunPage> SearchRuns(const RunQuery& q) = 0;

  // Logged models (MLflow 3). The store assigns artifact_uri
  // "<experiment artifact_location>/models/<model_id>/artifacts".
  virtual StatusOr<LoggedModel> CreateLoggedModel(const LoggedModel& model) = 0;
  // allow_deleted: also find models whose lifecycle stage is deleted.
  virtual StatusOr<LoggedModel> GetLoggedModel(const std::string& model_id, bool allow_deleted) = 0;
  virtual StatusOr<LoggedModel> FinalizeLoggedModel(const std::string& model_id, LoggedModelStatus status,
                                                    int64_t now) = 0;
  virtual Status DeleteLoggedModel(const std::string& model_id, int64_t now) = 0;
  virtual Status SetLoggedModelTags(const std::string& model_id, const std::vector<Tag>& tags, int64_t now) = 0;
  virtual Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key, int64_t now) = 0;
  virtual Status LogLoggedModelParams(const std::string& model_id, const std::vector<Param>& params, int64_t now) = 0;
  virtual StatusOr<LoggedModelPage> SearchLoggedModels(const LoggedModelQuery& q) = 0;
  // Links models to a run as its outputs (or, with `as_inputs`, its inputs).
  virtual Status LinkRunModels(const std::string& run_id, const std::vector<ModelLink>& models, bool as_inputs) = 0;

  virtual StatusOr<MetricHistoryPage> GetMetricHistory(const std::string& run_id, const std::string& key,
                                                       std::optional<int64_t> max_results,
                                                       std::optional<HistoryCursor> after) = 0;
  // All points of `key` for the runs with start_step <= step <= end_step, ordered by run then step.
  virtual StatusOr<std::vector<MetricWithRunId>> GetMetricPointsInRange(const std::vector<std::string>& run_ids,
                                                                        const std::string& key,
                                                                        std::optional<int64_t> start_step,
                                                                        std::optional<int64_t> end_step) = 0;
};

}  // namespace loam::tracking
