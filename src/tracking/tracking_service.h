// Experiment tracking with MLflow's semantics: validation, defaults, page tokens, run names,
// logged-model history and the artifact proxy. Knows no HTTP; talks to a TrackingStore and
// an ObjectStore.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "objects/object_store.h"
#include "tracking/entities.h"
#include "tracking/tracking_store.h"

namespace loam::tracking {

struct SearchExperimentsRequest {
  std::string filter;
  std::vector<std::string> order_by;
  ViewType view_type = ViewType::kActiveOnly;
  std::optional<int64_t> max_results;
  std::string page_token;
};

struct SearchRunsRequest {
  std::vector<std::string> experiment_ids;
  std::string filter;
  std::vector<std::string> order_by;
  ViewType view_type = ViewType::kActiveOnly;
  std::optional<int64_t> max_results;
  std::string page_token;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;  // empty on the last page
};

struct ArtifactListing {
  std::string root_uri;
  std::vector<objects::ObjectEntry> files;  // names relative to the listed directory
};

struct CreateRunRequest {
  std::string experiment_id;
  std::string user_id;
  std::string run_name;
  std::optional<int64_t> start_time;
  std::vector<Tag> tags;
};

class TrackingService {
 public:
  // artifact_scheme_root: the URI prefix of proxied artifacts, "mlflow-artifacts:".
  TrackingService(std::shared_ptr<TrackingStore> store, std::shared_ptr<objects::ObjectStore> artifacts,
                  Clock clock = SystemNowMillis);

  StatusOr<std::string> CreateExperiment(const std::string& name, const std::string& artifact_location,
                                         const std::vector<Tag>& tags);
  StatusOr<Experiment> GetExperiment(const std::string& experiment_id);
  StatusOr<Experiment> GetExperimentByName(const std::string& name);
  StatusOr<Page<Experiment>> SearchExperiments(const SearchExperimentsRequest& req);
  Status RenameExperiment(const std::string& experiment_id, const std::string& new_name);
  Status DeleteExperiment(const std::string& experiment_id);
  Status RestoreExperiment(const std::string& experiment_id);
  Status SetExperimentTag(const std::string& experiment_id, const Tag& tag);
  Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key);

  StatusOr<Run> CreateRun(const CreateRunRequest& req);
  StatusOr<Run> GetRun(const std::string& run_id);
  StatusOr<RunInfo> UpdateRun(const std::string& run_id, const RunUpdate& update);
  Status DeleteRun(const std::string& run_id);
  Status RestoreRun(const std::string& run_id);
  Status LogMetric(const std::string& run_id, const Metric& metric);
  Status LogParam(const std::string& run_id, const Param& param);
  Status SetTag(const std::string& run_id, const Tag& tag);
  Status DeleteTag(const std::string& run_id, const std::string& key);
  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics, const std::vector<Param>& params,
                  const std::vector<Tag>& tags);
  Status LogModel(const std::string& run_id, const std::string& model_json);
  Status LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs);
  StatusOr<Page<Run>> SearchRuns(const SearchRunsRequest& req);

  StatusOr<Page<Metric>> GetMetricHistory(const std::string& run_id, const std::string& key,
                                          std::optional<int64_t> max_results, const std::string& page_token);
  StatusOr<std::vector<MetricWithRunId>> GetMetricHistoryBulkInterval(const std::vector<std::string>& run_ids,
                                                                      const std::string& key,
                                                                      std::optional<int64_t> start_step,
                                                                      std::optional<int64_t> end_step,
                                                                      std::optional<int64_t> max_results);

  // Logged models (MLflow 3).
  struct NewLoggedModel {
    std::string experiment_id;
    std::string name;  // generated when empty
    std::string model_type;
    std::string source_run_id;
    std::vector<Tag> tags;
    std::vector<Param> params;
  };
  StatusOr<LoggedModel> CreateLoggedModel(const NewLoggedModel& req);
  StatusOr<LoggedModel> GetLoggedModel(const std::string& model_id, bool allow_deleted);
  StatusOr<LoggedModel> FinalizeLoggedModel(const std::string& model_id, LoggedModelStatus status);
  Status DeleteLoggedModel(const std::string& model_id);
  Status SetLoggedModelTags(const std::string& model_id, const std::vector<Tag>& tags);
  Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key);
  Status LogLoggedModelParams(const std::string& model_id, const std::vector<Param>& params);
  struct LoggedModelOrder {
    std::string field_name;
    bool ascending = true;
  };
  StatusOr<Page<LoggedModel>> SearchLoggedModels(const std::vector<std::string>& experiment_ids,
                                                 const std::string& filter,
                                                 const std::vector<LoggedModelOrder>& order_by,
                                                 std::optional<int64_t> max_results, const std::string& page_token);
  Status LogRunModels(const std::string& run_id, const std::vector<ModelLink>& models, bool as_inputs);
  // Immediate children of a directory of the model's artifacts, paths relative to its root.
  StatusOr<ArtifactListing> ListLoggedModelArtifacts(const std::string& model_id, const std::string& path);

  // Artifacts of a run (the /mlflow/artifacts/list endpoint).
  StatusOr<ArtifactListing> ListRunArtifacts(const std::string& run_id, const std::string& path);

  // The artifact proxy (/mlflow-artifacts/artifacts/<path>).
  Status PutArtifact(const std::string& path, const std::filesystem::path& uploaded_file);
  StatusOr<objects::ReadableObject> GetArtifact(const std::string& path);
  StatusOr<std::vector<objects::ObjectEntry>> ListArtifacts(const std::string& path);
  Status DeleteArtifact(const std::string& path);

  static constexpr const char* kArtifactScheme = "mlflow-artifacts:";

 private:
  StatusOr<ArtifactListing> ListUnder(const std::string& root_uri, const std::string& path);

  std::shared_ptr<TrackingStore> store_;
  std::shared_ptr<objects::ObjectStore> artifacts_;
  Clock clock_;
};

}  // namespace loam::tracking
