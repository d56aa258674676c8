// TrackingStore on SQLite: one writer connection (writes are serialised, as SQLite requires)
// and a pool of reader connections that run concurrently with it under WAL.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <variant>
#include <string>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "tracking/tracking_store.h"

namespace loam::sqlite {

struct SqliteStoreOptions {
  std::filesystem::path path;                          // the database file, e.g. DATA/loam.db
  std::string default_artifact_root = "mlflow-artifacts:";  // experiment i gets "<root>/<i>"
  Durability durability = Durability::kNormal;
};

class SqliteTrackingStore final : public tracking::TrackingStore {
 public:
  static StatusOr<std::unique_ptr<SqliteTrackingStore>> Open(const SqliteStoreOptions& options);

  StatusOr<std::string> CreateExperiment(const tracking::NewExperiment& e) override;
  StatusOr<tracking::Experiment> GetExperiment(const std::string& experiment_id) override;
  StatusOr<tracking::Experiment> GetExperimentByName(const std::string& name) override;
  StatusOr<tracking::ExperimentPage> SearchExperiments(const tracking::ExperimentQuery& q) override;
  Status RenameExperiment(const std::string& experiment_id, const std::string& new_name, int64_t now) override;
  Status SetExperimentLifecycle(const std::string& experiment_id, tracking::LifecycleStage stage, int64_t now) override;
  Status SetExperimentTag(const std::string& experiment_id, const tracking::Tag& tag) override;
  Status DeleteExperimentTag(const std::string& experiment_id, const std::string& key) override;

  StatusOr<tracking::Run> CreateRun(const tracking::NewRun& r, const std::string& run_id) override;
  StatusOr<tracking::Run> GetRun(const std::string& run_id) override;
  StatusOr<tracking::RunInfo> UpdateRun(const std::string& run_id, const tracking::RunUpdate& u) override;
  Status SetRunLifecycle(const std::string& run_id, tracking::LifecycleStage stage, int64_t now) override;
  Status LogBatch(const std::string& run_id, const std::vector<tracking::Metric>& metrics,
                  const std::vector<tracking::Param>& params, const std::vector<tracking::Tag>& tags) override;
  Status DeleteTag(const std::string& run_id, const std::string& key) override;
  Status LogInputs(const std::string& run_id, const std::vector<tracking::DatasetInput>& inputs) override;
  StatusOr<tracking::RunPage> SearchRuns(const tracking::RunQuery& q) override;

  StatusOr<tracking::LoggedModel> CreateLoggedModel(const tracking::LoggedModel& model) override;
  StatusOr<tracking::LoggedModel> GetLoggedModel(const std::string& model_id, bool allow_deleted) override;
  StatusOr<tracking::LoggedModel> FinalizeLoggedModel(const std::string& model_id, tracking::LoggedModelStatus status,
                                                      int64_t now) override;
  Status DeleteLoggedModel(const std::string& model_id, int64_t now) override;
  Status SetLoggedModelTags(const std::string& model_id, const std::vector<tracking::Tag>& tags, int64_t now) override;
  Status DeleteLoggedModelTag(const std::string& model_id, const std::string& key, int64_t now) override;
  Status LogLoggedModelParams(const std::string& model_id, const std::vector<tracking::Param>& params,
                              int64_t now) override;
  StatusOr<tracking::LoggedModelPage> SearchLoggedModels(const tracking::LoggedModelQuery& q) override;
  Status LinkRunModels(const std::string& run_id, const std::vector<tracking::ModelLink>& models,
                       bool as_inputs) override;

  StatusOr<tracking::MetricHistoryPage> GetMetricHistory(const std::string& run_id, const std::string& key,
                                                         std::optional<int64_t> max_results,
                                                         std::optional<tracking::HistoryCursor> after) override;
  StatusOr<std::vector<tracking::MetricWithRunId>> GetMetricPointsInRange(const std::vector<std::string>& run_ids,
                                                                          const std::string& key,
                                                                          std::optional<int64_t> start_step,
                                                                          std::optional<int64_t> end_step) override;

 private:
  explicit SqliteTrackingStore(SqliteStoreOptions options) : options_(std::move(options)) {}

  // A reader connection for the duration of one call, returned to the pool afterwards.
  class Reader {
   public:
    Reader(SqliteTrackingStore& store, std::unique_ptr<Connection> c) : store_(store), c_(std::move(c)) {}
    ~Reader();
    Connection& operator*() { return *c_; }
    Connection* operator->() { return c_.get(); }

   private:
    SqliteTrackingStore& store_;
    std::unique_ptr<Connection> c_;
  };
  StatusOr<std::unique_ptr<Reader>> AcquireReader();

  // Runs `body` on the writer connection inside BEGIN IMMEDIATE ... COMMIT; any error
  // rolls the whole transaction back.
  template <typename Body>
  Status Write(Body&& body) {
    std::lock_guard lock(write_mu_);
    Transaction tx(*writer_);
    RETURN_IF_ERROR(tx.begin_status());
    RETURN_IF_ERROR(body(*writer_));
    RETURN_IF_ERROR(tx.Commit());
    RefreshStatisticsIfStale();
    return Status::Ok();
  }

  // ANALYZE statistics (sampled: analysis_limit) steer the plans SQLite still chooses; they
  // are refreshed as the data grows, after 50k, 100k, 200k, ... more rows. Called with
  // write_mu_ held.
  void CountRowsWritten(size_t n) { rows_since_analyze_ += n; }
  void RefreshStatisticsIfStale();

  SqliteStoreOptions options_;
  std::mutex write_mu_;
  std::unique_ptr<Connection> writer_;  // guarded by write_mu_
  size_t rows_since_analyze_ = 0;            // guarded by write_mu_
  size_t rows_before_next_analyze_ = 50000;  // guarded by write_mu_
  std::mutex pool_mu_;
  std::vector<std::unique_ptr<Connection>> readers_;  // guarded by pool_mu_
};

// Internal helpers shared by the store's translation units.
namespace detail {
StatusOr<tracking::Experiment> LoadExperiment(Connection& c, const std::string& experiment_id);
// Full runs (info, latest metrics, params, tags, inputs) in the order of `run_ids`.
StatusOr<std::vector<tracking::Run>> LoadRuns(Connection& c, const std::vector<std::string>& run_ids);
std::string IdsJson(const std::vector<std::string>& ids);
// "('active')", "('deleted')" or both, for a lifecycle_stage IN clause.
const char* LifecycleFilter(tracking::ViewType v);

// A SQL text with its positional arguments, built from a parsed search.
struct SqlBuilder {
  std::string sql;
  std::vector<std::variant<int64_t, double, std::string>> args;

  void Arg(std::variant<int64_t, double, std::string> v) {
    sql += '?';
    args.push_back(std::move(v));
  }
  void BindAll(Statement& s) const;
};
// "<column> <op> <value>" for string comparisons (LIKE, ILIKE, IN, ...) and numeric ones.
void StringComparison(SqlBuilder& b, const std::string& column, const tracking::Comparison& c);
void NumericComparison(SqlBuilder& b, const std::string& column, const tracking::Comparison& c);
// Runs an id query ending in "LIMIT max_results + 1 ..." and returns at most max_results ids,
// setting has_more when the extra row came back.
StatusOr<std::vector<std::string>> PagedIds(Connection& c, const SqlBuilder& b, int64_t max_results, bool& has_more);
}  // namespace detail

}  // namespace loam::sqlite
