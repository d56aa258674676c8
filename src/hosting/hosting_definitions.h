// SageMaker models and endpoint configurations: Create/Describe/List/Delete with SageMaker's
// semantics and messages, stored as documents in the job store (kinds "model" and
// "endpoint-config"). Requests arrive validated against the service model; the checks here are
// the ones the model cannot express (a model's container, variant names unique, models exist).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>

#include "common/ids.h"
#include "common/status.h"
#include "jobs/data_locations.h"
#include "jobs/job_runner.h"
#include "jobs/job_store.h"

namespace loam::hosting {

inline constexpr const char* kModelKind = "model";
inline constexpr const char* kEndpointConfigKind = "endpoint-config";
inline constexpr const char* kEndpointKind = "endpoint";

struct HostingOptions {
  std::string region = "us-east-1";
  std::string account = "000000000000";
};

// arn:aws:sagemaker:<region>:<account>:<type>/<name in lower case>, as SageMaker writes them.
std::string HostingArn(const HostingOptions& o, const std::string& type, const std::string& name);

class HostingDefinitions {
 public:
  HostingDefinitions(HostingOptions options, std::shared_ptr<jobs::JobStore> store,
                     std::shared_ptr<const jobs::DataLocations> locations, Clock clock);

  StatusOr<nlohmann::json> CreateModel(const nlohmann::json& request);
  StatusOr<nlohmann::json> DescribeModel(const std::string& name);
  StatusOr<nlohmann::json> ListModels(const nlohmann::json& request);
  Status DeleteModel(const std::string& name);

  StatusOr<nlohmann::json> CreateEndpointConfig(const nlohmann::json& request);
  StatusOr<nlohmann::json> DescribeEndpointConfig(const std::string& name);
  StatusOr<nlohmann::json> ListEndpointConfigs(const nlohmann::json& request);
  Status DeleteEndpointConfig(const std::string& name);

  // The one container a model runs (PrimaryContainer, or a single-entry Containers list).
  static nlohmann::json ContainerOf(const nlohmann::json& model);
  const HostingOptions& options() const { return options_; }
  double Now() const { return static_cast<double>(clock_()) / 1000.0; }

 private:
  StatusOr<nlohmann::json> Create(const char* kind, const std::string& name, const std::string& arn,
                                  const std::string& type_words, nlohmann::json doc, const nlohmann::json& tags);
  StatusOr<nlohmann::json> Load(const char* kind, const std::string& name, const std::string& type_words,
                                const std::string& arn_type);

  HostingOptions options_;
  std::shared_ptr<jobs::JobStore> store_;
  std::shared_ptr<const jobs::DataLocations> locations_;
  Clock clock_;
};

}  // namespace loam::hosting
