// AWS resource tags (AddTags/ListTags/DeleteTags) on Loam's SageMaker resources.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>

#include "jobs/job_store.h"

namespace loam::jobs {

class ResourceTags {
 public:
  explicit ResourceTags(std::shared_ptr<JobStore> store) : store_(std::move(store)) {}

  StatusOr<nlohmann::json> Add(const nlohmann::json& request);     // AddTags
  StatusOr<nlohmann::json> List(const nlohmann::json& request);    // ListTags
  StatusOr<nlohmann::json> Delete(const nlohmann::json& request);  // DeleteTags

 private:
  Status CheckExists(const std::string& arn);
  std::shared_ptr<JobStore> store_;
};

}  // namespace loam::jobs
