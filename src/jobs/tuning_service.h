// SageMaker hyperparameter tuning jobs: Create/Describe/List/Stop and
// ListTrainingJobsForHyperParameterTuningJob with SageMaker's semantics. A tuning job is a
// document of kind "tuning" in the JobStore; its training jobs are real training jobs created
// through the TrainingService, stored with `parent` = the tuning job; a TuningController per
// unfinished tuning job drives the search. The tuning job is an MLflow run whose children are
// its training jobs' runs. Requests and responses are SageMaker's JSON shapes (validated
// against the service model by the adapter); the service knows no HTTP.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/status.h"
#include "jobs/training_service.h"
#include "jobs/tuning_controller.h"

namespace loam::jobs {

// The region and account of the tuning jobs' ARNs.
using TuningServiceOptions = TrainingServiceOptions;

class TuningService {
 public:
  TuningService(TuningServiceOptions options, TuningDeps deps);
  ~TuningService();
  TuningService(const TuningService&) = delete;
  TuningService& operator=(const TuningService&) = delete;

  // InvalidArgument for a request SageMaker would refuse, AlreadyExists for a duplicate name.
  StatusOr<nlohmann::json> Create(const nlohmann::json& request);
  // NotFound for an unknown tuning job (SageMaker answers ResourceNotFound).
  StatusOr<nlohmann::json> Describe(const std::string& name);
  StatusOr<nlohmann::json> List(const nlohmann::json& request);
  // Stopping, then Stopped once every running training job has stopped. FailedPrecondition for a
  // tuning job that has ended.
  Status Stop(const std::string& name);
  StatusOr<nlohmann::json> ListTrainingJobs(const nlohmann::json& request);

  // Resumes the loops of tuning jobs an earlier server left InProgress or Stopping (after the
  // training runner has re-attached their training jobs).
  Status Recover();
  void Shutdown();

  std::string ArnOf(const std::string& name) const;

 private:
  StatusOr<JobRecord> Load(const std::string& name);
  StatusOr<nlohmann::json> WarmStartSnapshot(const TuningSpec& spec);
  void StartController(const std::string& name);

  TuningServiceOptions options_;
  TuningDeps deps_;
  std::mutex mu_;
  std::map<std::string, std::unique_ptr<TuningController>> controllers_;  // guarded by mu_
  bool shutting_down_ = false;                                           // guarded by mu_
};

// The MLflow experiment of a tuning job: its name without the SageMaker Python SDK's
// -yymmdd-hhmm suffix, so the tuning jobs of one tuner share an experiment.
std::string TuningExperimentName(const std::string& tuning_job_name);

}  // namespace loam::jobs
