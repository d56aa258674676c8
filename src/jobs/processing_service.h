// SageMaker processing jobs: Create/Describe/List/Stop with SageMaker's semantics; a JobRunner
// with the ProcessingKind runs them on the same scheduler and executor as training jobs, each
// recorded as an MLflow run with its inputs as datasets.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "common/status.h"
#include "jobs/job_runner.h"

namespace loam::jobs {

class ProcessingService {
 public:
  ProcessingService(std::string region, std::string account, std::shared_ptr<JobRunner> runner);

  StatusOr<nlohmann::json> Create(const nlohmann::json& request);
  StatusOr<nlohmann::json> Describe(const std::string& name);
  StatusOr<nlohmann::json> List(const nlohmann::json& request);
  Status Stop(const std::string& name) { return runner_->Stop(name); }
  StatusOr<std::string> ReadLog(const std::string& name, const std::string& host, uint64_t offset,
                                uint64_t max_bytes) {
    return runner_->ReadLog(name, host, offset, max_bytes);
  }
  std::string ArnOf(const std::string& name) const;

 private:
  std::string region_, account_;
  std::shared_ptr<JobRunner> runner_;
};

}  // namespace loam::jobs
