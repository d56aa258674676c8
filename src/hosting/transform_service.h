// SageMaker batch transform: Create/Describe/List/Stop with SageMaker's semantics. The model is
// read when the job is created (a later change or deletion of the model does not affect it);
// a JobRunner with the TransformKind runs the job on the scheduler and executor every job
// shares, recorded as an MLflow run with its input as a dataset.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "common/status.h"
#include "hosting/hosting_definitions.h"
#include "jobs/job_runner.h"

namespace loam::hosting {

class TransformService {
 public:
  TransformService(std::shared_ptr<HostingDefinitions> definitions, std::shared_ptr<jobs::JobRunner> runner);

  StatusOr<nlohmann::json> Create(const nlohmann::json& request);
  StatusOr<nlohmann::json> Describe(const std::string& name);
  StatusOr<nlohmann::json> List(const nlohmann::json& request);
  Status Stop(const std::string& name);
  StatusOr<std::string> ReadLog(const std::string& name, const std::string& host, uint64_t offset, uint64_t max_bytes) {
    return runner_->ReadLog(name, host, offset, max_bytes);
  }
  std::string ArnOf(const std::string& name) const;

 private:
  std::shared_ptr<HostingDefinitions> definitions_;
  std::shared_ptr<jobs::JobRunner> runner_;
};

}  // namespace loam::hosting
