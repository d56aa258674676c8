// SageMaker endpoints: Create/Describe/List/Update/Delete/UpdateEndpointWeightsAndCapacities.
// The control plane answers at once and a background operation per call brings the fleet to
// the new state (Creating -> InService | Failed, Updating -> InService, Deleting -> gone),
// persisting every status change, so a restarted server redeploys every endpoint that was in
// service, being created or being updated, and finishes deletions.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "hosting/endpoint_fleet.h"
#include "hosting/hosting_definitions.h"

namespace loam::hosting {

class EndpointService {
 public:
  EndpointService(std::shared_ptr<HostingDefinitions> definitions, std::shared_ptr<jobs::JobStore> store,
                  std::shared_ptr<EndpointFleet> fleet);
  ~EndpointService();

  StatusOr<nlohmann::json> Create(const nlohmann::json& request);
  StatusOr<nlohmann::json> Describe(const std::string& name);
  StatusOr<nlohmann::json> List(const nlohmann::json& request);
  StatusOr<nlohmann::json> Update(const nlohmann::json& request);
  Status Delete(const std::string& name);
  StatusOr<nlohmann::json> UpdateWeightsAndCapacities(const nlohmann::json& request);

  // Kills workers a crashed server left, then redeploys endpoints that were serving or being
  // created or updated, and finishes deletions.
  Status Recover();
  // Waits for background operations and stops every worker.
  void Shutdown();

 private:
  StatusOr<jobs::JobRecord> LoadRecord(const std::string& name);
  // Read-modify-write of the endpoint's record under one lock: `change` may refuse (its error
  // is returned, nothing written); LastModifiedTime and the indexed status follow the document.
  Status Modify(const std::string& name, const std::function<Status(jobs::JobRecord&)>& change);
  // The deployment of a config, from the config and its models as stored now.
  StatusOr<DeploymentSpec> SpecFor(const std::string& endpoint, const std::string& config_name);
  // Serialises the background operations of one endpoint.
  std::shared_ptr<std::mutex> OpLock(const std::string& name);
  // Runs `op` on a background thread of this service.
  void Background(std::function<void()> op);
  // Deploys `config` for the endpoint and makes it live, retiring what served before.
  // `current` (a Describe's ProductionVariants) overrides weights and instance counts where it
  // names the same variants; `deployed` (a record's kDeployedSpec) is used instead of reading the config and models
  // again: what runs keeps running after a restart even if they were deleted meanwhile.
  void Deploy(const std::string& name, const std::string& config, bool update,
              const nlohmann::json& current = nlohmann::json::array(), const nlohmann::json& deployed = nullptr);
  void Remove(const std::string& name);
  nlohmann::json VariantsOf(const DeploymentSpec& spec) const;
  std::map<std::string, std::shared_ptr<std::mutex>> op_locks_;  // guarded by mu_

  std::shared_ptr<HostingDefinitions> definitions_;
  std::shared_ptr<jobs::JobStore> store_;
  std::shared_ptr<EndpointFleet> fleet_;
  std::mutex mu_;  // serialises document read-modify-writes
  std::mutex threads_mu_;
  struct BackgroundOp {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> finished;
  };
  std::vector<BackgroundOp> threads_;  // guarded by threads_mu_
  std::atomic<bool> stopping_{false};
};

}  // namespace loam::hosting
