// SageMaker training jobs: Create/Describe/List/Stop with SageMaker's semantics; a JobRunner
// with the TrainingKind runs them, each recorded as an MLflow run. Requests and responses are
// SageMaker's JSON shapes (already validated against the service model by the adapter); the
// service knows no HTTP.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "common/status.h"
#include "jobs/job_runner.h"

namespace loam::jobs {

struct TrainingServiceOptions {
  std::string region = "us-east-1";
  std::string account = "000000000000";
};

// The tuning job a training job belongs to: its run is a child of the tuning job's run, in the
// tuning job's experiment; DescribeTrainingJob reports TuningJobArn.
struct TrainingJobParent {
  std::string tuning_job_name;
  std::string tuning_job_arn;
  std::string experiment;  // MLflow experiment name
  std::string run_id;      // the tuning job's MLflow run
};

class TrainingService {
 public:
  TrainingService(TrainingServiceOptions options, std::shared_ptr<JobRunner> runner);

  StatusOr<nlohmann::json> Create(const nlohmann::json& request, const TrainingJobParent* parent = nullptr);
  // The checks Create makes before accepting a request, without creating anything.
  Status Check(const nlohmann::json& request);
  StatusOr<nlohmann::json> Describe(const std::string& name);
  StatusOr<nlohmann::json> List(const nlohmann::json& request);
  Status Stop(const std::string& name) { return runner_->Stop(name); }
  // Captured stdout/stderr of one instance from byte `offset`, at most `max_bytes`.
  StatusOr<std::string> ReadLog(const std::string& name, const std::string& host, uint64_t offset,
                                uint64_t max_bytes) {
    return runner_->ReadLog(name, host, offset, max_bytes);
  }

  std::string ArnOf(const std::string& name) const;
  JobRunner& runner() { return *runner_; }

 private:
  TrainingServiceOptions options_;
  std::shared_ptr<JobRunner> runner_;
};

}  // namespace loam::jobs
