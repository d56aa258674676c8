// SageMaker training jobs: Create/Describe/List/Stop with SageMaker's semantics, each job run
// by a worker thread through admission, staging, the processes, upload and completion, and
// recorded as an MLflow run. Requests and responses are SageMaker's JSON shapes (already
// validated against the service model by the adapter); the service knows no HTTP.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <filesystem>
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
#include "jobs/job_store.h"
#include "jobs/resources.h"
#include "jobs/runtimes.h"
#include "tracking/tracking_service.h"

namespace loam::jobs {

struct TrainingServiceOptions {
  std::filesystem::path jobs_root;  // one directory per job: <jobs_root>/<name>/
  std::filesystem::path data_dir;   // Loam's own data, hidden from sandboxed jobs
  std::string region = "us-east-1";
  std::string account = "000000000000";
  std::string tracking_uri;         // MLFLOW_TRACKING_URI handed to jobs
  bool sandbox = false;             // run under bubblewrap with the job directory at /opt/ml
  std::chrono::milliseconds stop_grace{10000};  // SIGTERM to SIGKILL
  int machine_gpus = 0;
  size_t max_active_jobs = 1000;   // queued + running; beyond it CreateTrainingJob is refused
};

struct TrainingServiceDeps {
  std::shared_ptr<JobStore> store;
  std::shared_ptr<tracking::TrackingService> tracking;
  std::shared_ptr<executors::Executor> executor;
  std::shared_ptr<Scheduler> scheduler;
  std::shared_ptr<const RuntimeRegistry> runtimes;
  std::shared_ptr<const DataLocations> locations;
  Clock clock = SystemNowMillis;
};

inline constexpr const char* kTrainingKind = "training";

struct TrainingWorker;  // one thread per job that is queued or running

class TrainingService {
 public:
  TrainingService(TrainingServiceOptions options, TrainingServiceDeps deps);
  ~TrainingService();

  StatusOr<nlohmann::json> Create(const nlohmann::json& request);
  StatusOr<nlohmann::json> Describe(const std::string& name);
  StatusOr<nlohmann::json> List(const nlohmann::json& request);
  Status Stop(const std::string& name);

  // Captured stdout/stderr of one instance from byte `offset`, at most `max_bytes`.
  StatusOr<std::string> ReadLog(const std::string& name, const std::string& host, uint64_t offset,
                                uint64_t max_bytes);

  // At start: re-attaches jobs whose processes still run, resumes queued ones, and fails
  // those that cannot be recovered, with a reason.
  Status Recover();
  // Ends the worker threads; running job processes are left running (a restart re-attaches).
  void Shutdown();

  std::string ArnOf(const std::string& name) const;

 private:
  // A re-attached job's worker finds its resources reserved by ReserveRunning.
  void StartWorker(const std::string& name, bool attach);
  void ReserveRunning(const nlohmann::json& doc);
  void RunWorker(const std::shared_ptr<TrainingWorker>& worker, bool attach);
  // The job's life after admission; returns false when shutdown interrupted it (the job
  // stays InProgress for the next start to pick up).
  bool Supervise(TrainingWorker& worker, bool attach);
  // Read-modify-write of a job's document under the job's lock, persisted before returning.
  Status UpdateJob(const std::string& name, const std::function<void(nlohmann::json& doc)>& change);
  StatusOr<JobRecord> Load(const std::string& name);
  Status CheckActiveJobLimit();
  double NowSeconds() const { return static_cast<double>(deps_.clock()) / 1000.0; }

  TrainingServiceOptions options_;
  TrainingServiceDeps deps_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<TrainingWorker>> workers_;  // guarded by mu_
  std::vector<std::thread> finished_threads_;                       // guarded by mu_
  std::mutex update_mu_;  // serialises document updates
  std::atomic<bool> shutting_down_{false};
};

}  // namespace loam::jobs
