// The running side of endpoints: each production variant's instances are worker processes of
// the model's runtime (`<python> -m loam_inference`, the toolkit in python/loam_inference),
// started through the executor port in their own directory with the model unpacked, and
// health-checked on GET /ping. A monitor restarts instances whose process ended. A deployment
// (one endpoint config's variants) is built and checked healthy before it takes traffic, so
// an update swaps configs without dropping a request.
#pragma once

#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"
#include "executors/executor.h"
#include "hosting/data_capture.h"
#include "hosting/native_xgboost.h"
#include "hosting/worker_client.h"
#include "jobs/data_locations.h"
#include "jobs/runtimes.h"

namespace loam::hosting {

struct VariantSpec {
  std::string variant_name;
  std::string model_name;
  nlohmann::json container;  // the model's (single) container: Image, ModelDataUrl, Environment
  int instance_count = 1;
  double weight = 1.0;
};

struct DeploymentSpec {
  std::string endpoint;
  std::string config;
  std::vector<VariantSpec> variants;
  nlohmann::json data_capture;  // the config's DataCaptureConfig (null: none)
};

struct Instance {
  std::string name;  // "<variant>/instance-<i>", the log stream name
  std::filesystem::path dir;
  // The connections to the current worker process from one server event loop (all replaced
  // when the monitor restarts it).
  std::shared_ptr<WorkerConnectionPool> Pool(size_t loop) const {
    std::lock_guard lock(mu);
    return pools.empty() ? nullptr : pools[loop % pools.size()];
  }
  mutable std::mutex mu;
  std::vector<std::shared_ptr<WorkerConnectionPool>> pools;  // one per loop; guarded by mu
  std::atomic<uint16_t> port{0};                             // the current worker's
  executors::ProcessHandle handle;             // monitor / deploy thread only
  std::atomic<bool> healthy{false};
  std::atomic<bool> retired{false};
  std::atomic<int> outstanding{0};
  int restarts = 0;  // monitor thread only
  int failed_pings = 0;                                 // monitor thread only
  // When the worker last answered an invocation: a worker answering requests is not stuck,
  // even when a busy interpreter makes it slow to answer /ping.
  std::atomic<std::chrono::steady_clock::time_point> last_answer{};
  std::chrono::steady_clock::time_point next_ping{};   // monitor thread only
  std::shared_ptr<XgboostModel> native;  // set: served in process, no worker (see native_xgboost.h)
};

struct Variant {
  std::string name;
  std::string model_name;
  std::string image;
  std::atomic<double> weight{1.0};
  std::vector<std::shared_ptr<Instance>> instances;  // guarded by Deployment::mu after Deploy
  std::vector<std::pair<std::string, std::string>> env;  // the workers' environment (port added per instance)
  std::vector<std::string> argv;
  std::filesystem::path dir;
  // Built-in XGBoost models libxgboost can load are served in process (no worker processes).
  std::filesystem::path native_model;  // empty: Python workers
  std::string default_accept = "application/json";
};

struct Deployment {
  std::string endpoint;
  std::string config;
  std::string id;
  std::filesystem::path dir;
  std::vector<std::shared_ptr<Variant>> variants;
  mutable std::mutex mu;  // instance lists
  std::atomic<int> in_flight{0};
  std::shared_ptr<const CaptureSettings> capture;  // null: no data capture
};

struct FleetOptions {
  std::filesystem::path root;            // <data>/endpoints
  std::filesystem::path toolkit_dir;     // put on the workers' PYTHONPATH
  std::string tracking_uri;
  std::chrono::seconds startup_timeout{300};
  std::chrono::seconds stop_grace{10};
  // A serving worker is pinged every health_interval; one that fails health_failures pings in
  // a row (each given health_timeout) is alive but stuck: it is killed and restarted.
  std::chrono::milliseconds health_interval{5000};
  std::chrono::milliseconds health_timeout{2000};
  int health_failures = 3;
};

struct FleetDeps {
  std::shared_ptr<executors::Executor> executor;
  std::shared_ptr<const jobs::RuntimeRegistry> runtimes;
  std::shared_ptr<const jobs::DataLocations> locations;
};

class EndpointFleet {
 public:
  // Requests reach workers from each of `loops` (the HTTP server's), over connections of that loop.
  EndpointFleet(FleetOptions options, FleetDeps deps, std::vector<boost::asio::io_context*> loops);
  ~EndpointFleet();

  // Prepares every variant's model and code, starts its instances and waits until all answer
  // /ping. Blocking. On failure nothing of it is left running; the status says why, with the
  // worker's last output line when one ended.
  StatusOr<std::shared_ptr<Deployment>> Deploy(const DeploymentSpec& spec, const std::atomic<bool>& cancelled);
  // Makes `d` its endpoint's live deployment; returns the one it replaces (or null).
  std::shared_ptr<Deployment> Activate(std::shared_ptr<Deployment> d);
  // The endpoint's live deployment, or null.
  std::shared_ptr<Deployment> Live(const std::string& endpoint) const;
  // Takes the endpoint's deployment out of service (if `d` is still the live one) and stops its
  // workers after its requests in flight have finished (bounded by the stop grace).
  void Retire(const std::shared_ptr<Deployment>& d);
  // Sets a variant's weight and/or instance count on the live deployment (new instances take
  // traffic once healthy). NotFound for an unknown variant.
  Status Resize(const std::string& endpoint, const std::string& variant, std::optional<double> weight,
                std::optional<int> instance_count);
  // Stops every worker (server shutdown); endpoints are redeployed by the next start.
  void Shutdown();
  // Kills worker processes an earlier server left behind (after a crash), found by their
  // working directory under the fleet's root.
  void KillLeftoverWorkers();

 private:
  Status PrepareVariant(const Deployment& d, const VariantSpec& spec, Variant& v);
  Status StartInstance(Variant& v, Instance& inst);
  void StopInstance(Instance& inst);
  // The reason a worker ended during startup: its exit status and last output line.
  std::string WorkerFailure(const Instance& inst);
  void MonitorLoop();
  // The periodic ping of a serving worker; kills one that stopped answering.
  void CheckHealth(const Deployment& d, Instance& inst);

  FleetOptions options_;
  FleetDeps deps_;
  std::vector<boost::asio::io_context*> loops_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Deployment>> live_;  // guarded by mu_
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mu_
  std::thread monitor_;
};

}  // namespace loam::hosting
