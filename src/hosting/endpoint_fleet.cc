#include "hosting/endpoint_fleet.h"

#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>

#include "common/ids.h"
#include "common/log.h"
#include "common/strings.h"
#include "hosting/model_staging.h"
#include "jobs/job_kind.h"

namespace loam::hosting {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr auto kPingTimeout = std::chrono::milliseconds(1000);
constexpr auto kMonitorPeriod = std::chrono::milliseconds(200);

std::string LastLine(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return "";
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  const std::streamoff from = std::max<std::streamoff>(0, size - 4096);
  in.seekg(from);
  std::string tail(static_cast<size_t>(size - from), '\0');
  in.read(tail.data(), static_cast<std::streamsize>(tail.size()));
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == '\r' || tail.back() == ' ')) tail.pop_back();
  const auto nl = tail.find_last_of('\n');
  return nl == std::string::npos ? tail : tail.substr(nl + 1);
}

// Why a variant may be served natively ("" when it may not): SageMaker's built-in XGBoost
// algorithm (an xgboost image, no inference script, the model at <model>/xgboost-model),
// unless the model's Environment sets LOAM_XGBOOST_NATIVE=false.
std::string NativeXgboostCandidate(const std::string& image, const json& environment, const fs::path& model_dir) {
  const std::string lower = ToLower(image);
  const std::string opt = environment.value("LOAM_XGBOOST_NATIVE", "");
  if (lower.find("xgboost") == std::string::npos || !environment.value("SAGEMAKER_PROGRAM", "").empty() ||
      opt == "false" || opt == "0") {
    return "";
  }
  std::error_code ec;
  return fs::is_regular_file(model_dir / "xgboost-model", ec) ? "built-in XGBoost model" : "";
}

}  // namespace

EndpointFleet::EndpointFleet(FleetOptions options, FleetDeps deps, std::vector<boost::asio::io_context*> loops)
    : options_(std::move(options)), deps_(std::move(deps)), loops_(std::move(loops)) {
  monitor_ = std::thread([this] { MonitorLoop(); });
}

EndpointFleet::~EndpointFleet() { Shutdown(); }

Status EndpointFleet::PrepareVariant(const Deployment& d, const VariantSpec& spec, Variant& v) {
  v.name = spec.variant_name;
  v.model_name = spec.model_name;
  v.image = spec.container.value("Image", "");
  v.weight = spec.weight;
  v.dir = d.dir / spec.variant_name;
  ASSIGN_OR_RETURN(StagedModel staged,
                   StageModel(spec.container, v.dir,
                              {.locations = deps_.locations.get(), .runtimes = deps_.runtimes.get(),
                               .toolkit_dir = options_.toolkit_dir, .tracking_uri = options_.tracking_uri}));
  v.argv = {staged.runtime->python, "-m", "loam_inference"};
  v.env = std::move(staged.env);
  jobs::SetEnv(v.env, "SM_CURRENT_HOST", spec.variant_name);
  const json environment = spec.container.value("Environment", json::object());
  if (const std::string accept = environment.value("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", ""); !accept.empty()) {
    v.default_accept = MediaType(accept);
  }
  if (std::string why = NativeXgboostCandidate(v.image, environment, staged.model_dir); !why.empty()) {
    auto model = XgboostModel::Load(staged.model_dir / "xgboost-model");
    if (model.ok()) {
      v.native_model = staged.model_dir / "xgboost-model";
      log::Info("endpoint.native_xgboost", {{"endpoint", d.endpoint}, {"variant", v.name}, {"model", v.native_model.string()},
                                            {"libxgboost", XgboostModel::LibraryVersion()}});
    } else {
      log::Warn("endpoint.native_fallback", {{"endpoint", d.endpoint}, {"variant", v.name},
                                             {"reason", model.status().message()}, {"served_by", "python worker"}});
    }
  }
  return Status::Ok();
}

Status EndpointFleet::StartInstance(Variant& v, Instance& inst) {
  std::error_code ec;
  fs::create_directories(inst.dir, ec);
  if (!v.native_model.empty()) {
    ASSIGN_OR_RETURN(inst.native, XgboostModel::Load(v.native_model));
    inst.healthy = true;
    return Status::Ok();
  }
  fs::remove(inst.dir / "exit-status", ec);
  const uint16_t port = FreeLoopbackPort();
  executors::ProcessSpec spec;
  spec.argv = v.argv;
  spec.env = v.env;
  jobs::SetEnv(spec.env, "SAGEMAKER_BIND_TO_PORT", std::to_string(port));
  spec.cwd = inst.dir;
  spec.log_file = inst.dir / "worker.log";
  spec.exit_file = inst.dir / "exit-status";
  ASSIGN_OR_RETURN(inst.handle, deps_.executor->Start(spec));
  {
    std::vector<std::shared_ptr<WorkerConnectionPool>> pools;
    for (auto* loop : loops_) pools.push_back(std::make_shared<WorkerConnectionPool>(*loop, port));
    std::lock_guard lock(inst.mu);
    inst.pools = std::move(pools);
  }
  inst.port = port;
  inst.healthy = false;
  return Status::Ok();
}

void EndpointFleet::StopInstance(Instance& inst) {
  inst.retired = true;
  inst.healthy = false;
  if (inst.handle.pid == 0) return;
  deps_.executor->Stop(inst.handle, false);
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  while (deps_.executor->Alive(inst.handle) && std::chrono::steady_clock::now() < deadline) {
    deps_.executor->WaitAny({inst.handle}, std::chrono::milliseconds(100));
  }
  if (deps_.executor->Alive(inst.handle)) deps_.executor->Stop(inst.handle, true);
}

std::string EndpointFleet::WorkerFailure(const Instance& inst) {
  std::string why;
  if (auto exit = deps_.executor->Result(inst.handle, inst.dir / "exit-status")) why = exit->Describe();
  const std::string last = LastLine(inst.dir / "worker.log");
  if (!last.empty()) why += (why.empty() ? "" : ": ") + last;
  return why.empty() ? "the worker ended" : why;
}

StatusOr<std::shared_ptr<Deployment>> EndpointFleet::Deploy(const DeploymentSpec& spec, const std::atomic<bool>& cancelled) {
  auto d = std::make_shared<Deployment>();
  d->endpoint = spec.endpoint;
  d->config = spec.config;
  d->id = NewUuidHex().substr(0, 12);
  d->dir = options_.root / spec.endpoint / d->id;
  ASSIGN_OR_RETURN(d->capture, ParseCaptureConfig(spec.data_capture));
  auto fail = [&](Status st) -> StatusOr<std::shared_ptr<Deployment>> {
    for (auto& v : d->variants) {
      for (auto& inst : v->instances) StopInstance(*inst);
    }
    std::error_code ec;
    fs::remove_all(d->dir, ec);
    return st;
  };
  for (const VariantSpec& vs : spec.variants) {
    auto v = std::make_shared<Variant>();
    d->variants.push_back(v);
    if (Status st = PrepareVariant(*d, vs, *v); !st.ok()) return fail(st);
    for (int i = 1; i <= vs.instance_count; ++i) {
      auto inst = std::make_shared<Instance>();
      inst->name = fmt::format("{}/instance-{}", vs.variant_name, i);
      inst->dir = v->dir / fmt::format("instance-{}", i);
      v->instances.push_back(inst);
      if (Status st = StartInstance(*v, *inst); !st.ok()) return fail(st);
    }
  }
  const auto deadline = std::chrono::steady_clock::now() + options_.startup_timeout;
  while (true) {
    bool all = true;
    for (auto& v : d->variants) {
      for (auto& inst : v->instances) {
        if (inst->healthy) continue;
        if (!deps_.executor->Alive(inst->handle)) {
          return fail(InvalidArgument(fmt::format(
              "The primary container for production variant {} did not pass the ping health check: {}", v->name,
              WorkerFailure(*inst))));
        }
        if (PingWorker(inst->port.load(), kPingTimeout)) {
          inst->healthy = true;
        } else {
          all = false;
        }
      }
    }
    if (all) break;
    if (cancelled) return fail(FailedPrecondition("The deployment was cancelled."));
    if (std::chrono::steady_clock::now() > deadline) {
      return fail(InvalidArgument(fmt::format("The model workers did not pass the ping health check within {} seconds.",
                                              options_.startup_timeout.count())));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  for (auto& v : d->variants) {
    for (auto& inst : v->instances) {
      if (inst->native) {
        log::Info("endpoint.native_ready", {{"endpoint", d->endpoint}, {"instance", inst->name}});
      } else {
        log::Info("endpoint.worker_ready", {{"endpoint", d->endpoint}, {"instance", inst->name}, {"port", inst->port.load()}});
      }
    }
  }
  return d;
}

std::shared_ptr<Deployment> EndpointFleet::Activate(std::shared_ptr<Deployment> d) {
  std::lock_guard lock(mu_);
  auto& slot = live_[d->endpoint];
  std::shared_ptr<Deployment> previous = std::move(slot);
  slot = std::move(d);
  return previous;
}

std::shared_ptr<Deployment> EndpointFleet::Live(const std::string& endpoint) const {
  std::lock_guard lock(mu_);
  auto it = live_.find(endpoint);
  return it == live_.end() ? nullptr : it->second;
}

void EndpointFleet::Retire(const std::shared_ptr<Deployment>& d) {
  if (!d) return;
  {
    std::lock_guard lock(mu_);
    auto it = live_.find(d->endpoint);
    if (it != live_.end() && it->second == d) live_.erase(it);
  }
  // Requests already routed to it finish first. A request that read the live deployment just
  // before it was taken out counts itself within microseconds: wait a moment before trusting 0.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
  while (d->in_flight > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  std::vector<std::shared_ptr<Instance>> all;
  {
    std::lock_guard lock(d->mu);
    for (auto& v : d->variants) all.insert(all.end(), v->instances.begin(), v->instances.end());
  }
  for (auto& inst : all) inst->retired = true;
  for (auto& inst : all) StopInstance(*inst);
  std::error_code ec;
  fs::remove_all(d->dir, ec);
  fs::remove(d->dir.parent_path(), ec);  // the endpoint's directory, once empty
}

Status EndpointFleet::Resize(const std::string& endpoint, const std::string& variant, std::optional<double> weight,
                             std::optional<int> instance_count) {
  auto d = Live(endpoint);
  if (!d) return FailedPrecondition("The endpoint has no live deployment.");
  std::shared_ptr<Variant> v;
  for (auto& candidate : d->variants) {
    if (candidate->name == variant) v = candidate;
  }
  if (!v) return NotFound(fmt::format("The variant {} is not part of the endpoint.", variant));
  if (weight) v->weight = *weight;
  if (!instance_count) return Status::Ok();
  std::vector<std::shared_ptr<Instance>> removed, added;
  {
    std::lock_guard lock(d->mu);
    int next = 0;
    for (auto& inst : v->instances) next = std::max(next, std::stoi(inst->name.substr(inst->name.rfind('-') + 1)));
    while (static_cast<int>(v->instances.size()) < *instance_count) {
      auto inst = std::make_shared<Instance>();
      inst->name = fmt::format("{}/instance-{}", v->name, ++next);
      inst->dir = v->dir / fmt::format("instance-{}", next);
      RETURN_IF_ERROR(StartInstance(*v, *inst));  // the monitor admits it once /ping answers
      v->instances.push_back(inst);
      added.push_back(inst);
    }
    while (static_cast<int>(v->instances.size()) > *instance_count) {
      removed.push_back(v->instances.back());
      removed.back()->retired = true;
      v->instances.pop_back();
    }
  }
  // The new capacity is in service when it answers /ping (the monitor checks, and restarts a
  // worker that ended).
  const auto ready_by = std::chrono::steady_clock::now() + options_.startup_timeout;
  for (auto& inst : added) {
    while (!inst->healthy && std::chrono::steady_clock::now() < ready_by) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!inst->healthy) {
      return InvalidArgument(fmt::format("The new instance {} did not pass the ping health check within {} seconds.",
                                         inst->name, options_.startup_timeout.count()));
    }
  }
  for (auto& inst : removed) {
    const auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
    while (inst->outstanding > 0 && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    StopInstance(*inst);
    std::error_code ec;
    fs::remove_all(inst->dir, ec);
  }
  return Status::Ok();
}

void EndpointFleet::MonitorLoop() {
  std::unique_lock lock(mu_);
  while (!stopping_) {
    wake_.wait_for(lock, kMonitorPeriod, [this] { return stopping_; });
    if (stopping_) break;
    std::vector<std::shared_ptr<Deployment>> deployments;
    for (auto& [name, d] : live_) deployments.push_back(d);
    lock.unlock();
    for (auto& d : deployments) {
      std::vector<std::pair<std::shared_ptr<Variant>, std::shared_ptr<Instance>>> instances;
      {
        std::lock_guard dl(d->mu);
        for (auto& v : d->variants) {
          for (auto& inst : v->instances) instances.emplace_back(v, inst);
        }
      }
      for (auto& [v, inst] : instances) {
        if (inst->retired || inst->native) continue;
        if (!deps_.executor->Alive(inst->handle)) {
          inst->healthy = false;
          const std::string why = WorkerFailure(*inst);
          ++inst->restarts;
          log::Warn("endpoint.worker_restart", {{"endpoint", d->endpoint}, {"instance", inst->name},
                                                {"reason", why}, {"restarts", inst->restarts}});
          if (Status st = StartInstance(*v, *inst); !st.ok()) {
            log::Error("endpoint.worker_restart_failed", {{"endpoint", d->endpoint}, {"instance", inst->name}, {"error", st.ToString()}});
          }
        } else if (inst->healthy) {
          CheckHealth(*d, *inst);
        } else if (PingWorker(inst->port.load(), kPingTimeout)) {
          inst->healthy = true;
          inst->failed_pings = 0;
          log::Info("endpoint.worker_ready", {{"endpoint", d->endpoint}, {"instance", inst->name}, {"port", inst->port.load()}});
        }
      }
    }
    lock.lock();
  }
}

void EndpointFleet::CheckHealth(const Deployment& d, Instance& inst) {
  const auto now = std::chrono::steady_clock::now();
  if (now < inst.next_ping) return;
  inst.next_ping = now + options_.health_interval;
  if (PingWorker(inst.port.load(), options_.health_timeout) ||
      std::chrono::steady_clock::now() - inst.last_answer.load() < options_.health_interval) {
    inst.failed_pings = 0;
    return;
  }
  ++inst.failed_pings;
  log::Warn("endpoint.worker_ping_failed", {{"endpoint", d.endpoint}, {"instance", inst.name},
                                            {"failed_pings", inst.failed_pings}});
  if (inst.failed_pings < options_.health_failures) return;
  // Alive but not answering: out of rotation, killed; the next round restarts it.
  inst.healthy = false;
  inst.failed_pings = 0;
  log::Warn("endpoint.worker_unresponsive", {{"endpoint", d.endpoint}, {"instance", inst.name},
                                             {"pid", static_cast<int64_t>(inst.handle.pid)}});
  deps_.executor->Stop(inst.handle, /*force=*/true);
}

void EndpointFleet::Shutdown() {
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  std::vector<std::shared_ptr<Deployment>> all;
  {
    std::lock_guard lock(mu_);
    for (auto& [name, d] : live_) all.push_back(d);
  }
  for (auto& d : all) Retire(d);
}

void EndpointFleet::KillLeftoverWorkers() {
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(options_.root, ec);
  const std::string prefix = root.string() + "/";
  for (const auto& entry : fs::directory_iterator("/proc", ec)) {
    const std::string pid_text = entry.path().filename().string();
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(pid_text);
    if (pid == getpid()) continue;
    std::error_code lec;
    const fs::path cwd = fs::read_symlink(entry.path() / "cwd", lec);
    if (lec) continue;
    if (cwd.string().rfind(prefix, 0) == 0) {
      log::Warn("endpoint.leftover_worker", {{"pid", pid}, {"cwd", cwd.string()}});
      ::kill(pid, SIGKILL);
    }
  }
}

}  // namespace loam::hosting
