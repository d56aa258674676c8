// Runs jobs of one kind: a worker thread per queued or running job takes it through
// admission by the scheduler, staging, its processes (metrics from their logs, stop requests,
// the runtime limit), upload and its final status, persisting each step, so a restart of the
// server picks every job up where it was. The job's MLflow run follows its status.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "executors/executor.h"
#include "jobs/data_locations.h"
#include "jobs/job_kind.h"
#include "jobs/job_store.h"
#include "jobs/resources.h"
#include "jobs/runtimes.h"
#include "tracking/tracking_service.h"

namespace loam::jobs {

struct JobRunnerOptions {
  std::filesystem::path jobs_root;  // one directory per job: <jobs_root>/<name>/
  std::filesystem::path data_dir;   // Loam's own data, hidden from sandboxed jobs
  std::string tracking_uri;         // MLFLOW_TRACKING_URI handed to jobs
  bool sandbox = false;             // run under bubblewrap with the instance directory at /opt/ml
  std::chrono::milliseconds stop_grace{10000};  // SIGTERM to SIGKILL
  int machine_gpus = 0;
  size_t max_active_jobs = 1000;    // queued + running; beyond it Create is refused
};

struct JobRunnerDeps {
  std::shared_ptr<JobStore> store;
  std::shared_ptr<tracking::TrackingService> tracking;
  std::shared_ptr<executors::Executor> executor;
  std::shared_ptr<Scheduler> scheduler;
  std::shared_ptr<const RuntimeRegistry> runtimes;
  std::shared_ptr<const DataLocations> locations;
  Clock clock = SystemNowMillis;
};

struct JobWorker;

// One page of a SageMaker List call over the store: `query` completed from the request's
// NameContains, StatusEquals, time bounds, SortBy, SortOrder, MaxResults and NextToken, each
// row turned into a summary under `list_key`.
StatusOr<nlohmann::json> ListJobPage(JobStore& store, const nlohmann::json& request, JobListQuery query,
                                     const char* list_key,
                                     const std::function<nlohmann::json(const JobRecord&)>& summary);
// A new job's document: the request without its Tags, with its ARN, creation and last-modified
// times and `status_field` InProgress.
nlohmann::json NewJobDocument(const nlohmann::json& request, const char* arn_field, const std::string& arn,
                              const char* status_field, double now);
// The NextToken of List calls: an offset into the sorted rows.
std::string EncodePageToken(size_t offset);
StatusOr<size_t> DecodePageToken(const std::string& token);

class JobRunner {
 public:
  JobRunner(std::shared_ptr<const JobKind> kind, JobRunnerOptions options, JobRunnerDeps deps);
  ~JobRunner();
  JobRunner(const JobRunner&) = delete;
  JobRunner& operator=(const JobRunner&) = delete;

  // ResourceExhausted when max_active_jobs are queued or running.
  Status CheckActiveJobLimit(const std::string& limit_name);

  // The MLflow run a new job is recorded in (SCHEDULED until the job starts), in the named
  // experiment (created when missing), with the job's inputs as datasets.
  struct JobRun {
    std::string run_id;
    std::string experiment_id;
  };
  StatusOr<JobRun> OpenRun(const std::string& experiment, const std::string& job_name,
                           std::vector<tracking::Tag> tags, const std::vector<tracking::DatasetInput>& inputs);
  // Stores a new job (AlreadyExists for a duplicate name: the run is then deleted), its AWS
  // tags, and starts its worker.
  Status Submit(const JobRecord& job, const std::vector<Tag>& tags, const std::string& run_id);
  // Starts the worker of a job just stored as InProgress.
  void Start(const std::string& name);
  // Stopping (idempotent) for an InProgress job; FailedPrecondition for one that has ended.
  Status Stop(const std::string& name);
  Status Recover();
  // Ends the worker threads; running job processes are left running (a restart re-attaches).
  void Shutdown();

  StatusOr<JobRecord> Load(const std::string& name);
  // Read-modify-write of a job's document under one lock, persisted before returning.
  Status Update(const std::string& name, const std::function<void(nlohmann::json& doc)>& change);
  std::filesystem::path JobDir(const std::string& name) const { return options_.jobs_root / name; }
  // A List page: the store's rows for `query` turned into summaries under `list_key`.
  StatusOr<nlohmann::json> List(const nlohmann::json& request, JobListQuery query, const char* list_key,
                                const std::function<nlohmann::json(const JobRecord&)>& summary);
  // Captured output of one instance from byte `offset`.
  StatusOr<std::string> ReadLog(const std::string& name, const std::string& host, uint64_t offset, uint64_t max_bytes);

  const JobKind& kind() const { return *kind_; }
  const JobRunnerDeps& deps() const { return deps_; }
  double NowSeconds() const { return static_cast<double>(deps_.clock()) / 1000.0; }

 private:
  void StartWorker(const std::string& name, bool attach);
  void ReserveRunning(const nlohmann::json& doc);
  void RunWorker(const std::shared_ptr<JobWorker>& worker, bool attach);
  // The job's life after admission; false when shutdown interrupted it.
  bool Supervise(JobWorker& worker, bool attach);
  void Fail(const std::string& name, const std::string& run_id, const std::string& reason);
  void Finish(const std::string& name, const std::string& run_id, const JobOutcome& outcome);

  std::shared_ptr<const JobKind> kind_;
  JobRunnerOptions options_;
  JobRunnerDeps deps_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<JobWorker>> workers_;  // guarded by mu_
  std::vector<std::thread> finished_threads_;                  // guarded by mu_
  std::mutex update_mu_;  // serialises document updates
  std::atomic<bool> shutting_down_{false};
};

}  // namespace loam::jobs
