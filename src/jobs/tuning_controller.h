// The loop of one hyperparameter tuning job: a thread that, every tick, reads the tuning job
// and its training jobs from the store, stops children the median rule condemns, checks the
// completion criteria and the runtime limit, asks the strategies for new configurations and
// starts them as training jobs (at most MaxParallelTrainingJobs at once,
// MaxNumberOfTrainingJobs in all), and ends the job. Everything it decides is persisted
// before it acts: a trial is recorded in the tuning job's document before its training job
// is created, so a restart creates a missing child under the recorded name and never a
// duplicate.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <optional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/ids.h"
#include "common/status.h"
#include "jobs/job_store.h"
#include "jobs/training_service.h"
#include "jobs/tuning_request.h"
#include "jobs/tuning_state.h"
#include "tracking/tracking_service.h"

namespace loam::jobs {

struct TuningDeps {
  std::shared_ptr<JobStore> store;
  std::shared_ptr<tracking::TrackingService> tracking;
  std::shared_ptr<TrainingService> training;
  Clock clock = SystemNowMillis;
  std::chrono::milliseconds tick{200};
  // Serialises read-modify-write of tuning job documents (the loops and StopHyperParameterTuningJob).
  std::shared_ptr<std::mutex> doc_mu = std::make_shared<std::mutex>();
};

// The trials of a stored tuning job with their training jobs' current state, and the trials of
// its warm-start parents as snapshotted at creation.
StatusOr<std::vector<TrialView>> LoadTrials(JobStore& store, const JobRecord& tuning_job, const TuningSpec& spec);
std::vector<TrialView> WarmStartTrials(const nlohmann::json& doc);

// The Describe fields computed from the trials: counters, BestTrainingJob,
// OverallBestTrainingJob (with warm start), TuningJobCompletionDetails, ConsumedResources.
nlohmann::json DerivedFields(const TuningSpec& spec, const nlohmann::json& doc, const std::vector<TrialView>& trials,
                             double now);

class TuningController {
 public:
  // Starts the loop of a stored tuning job (InProgress or Stopping).
  TuningController(std::string name, TuningDeps deps);
  ~TuningController();  // ends the loop (the tuning job stays as stored)
  TuningController(const TuningController&) = delete;
  TuningController& operator=(const TuningController&) = delete;

  void Wake();
  bool done() const { return done_; }

 private:
  void Run();
  // One pass; false once the tuning job has reached a final status (or vanished).
  StatusOr<bool> Tick();
  Status Launch(JobRecord& record, const std::vector<TrialView>& views, int count);
  Status CreateChild(nlohmann::json& trial, const JobRecord& record);
  void EarlyStop(JobRecord& record, const std::vector<TrialView>& views);
  void HyperbandStop(JobRecord& record, const std::vector<TrialView>& views);
  void StopEarly(JobRecord& record, size_t trial, const std::string& reason);
  std::vector<double> Curve(const std::string& child_name);
  void LogProgress(JobRecord& record, const std::vector<TrialView>& views);
  Status Persist(JobRecord& record);

  const std::string name_;
  TuningDeps deps_;
  TuningSpec spec_;
  std::vector<std::unique_ptr<tuning::Strategy>> strategies_;  // one per definition; loop thread only
  std::optional<tuning::HyperbandSchedule> hyperband_;         // with the Hyperband strategy
  std::map<std::string, std::vector<double>> curves_;          // finished children; loop thread only
  std::mutex mu_;
  std::condition_variable cv_;
  bool woken_ = false;  // guarded by mu_
  std::atomic<bool> shutting_down_{false};
  std::atomic<bool> done_{false};
  std::thread thread_;
};

}  // namespace loam::jobs
