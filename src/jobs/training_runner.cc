// The life of one training job after CreateTrainingJob: admission, staging, the processes,
// metrics from their logs, upload of the model and outputs, and the final status — each step
// persisted before the next, so a restart of the server can pick the job up where it was.
#include <fmt/format.h>

#include <algorithm>
#include <fstream>

#include "common/log.h"
#include "jobs/archive.h"
#include "jobs/metric_parser.h"
#include "jobs/script_mode.h"
#include "jobs/training_service.h"
#include "jobs/training_state.h"
#include "jobs/training_workspace.h"

namespace loam::jobs {

namespace fs = std::filesystem;
using nlohmann::json;
using Millis = std::chrono::milliseconds;

namespace {

constexpr size_t kMaxParamValue = 6000;  // MLflow's limit on a param value
constexpr int64_t kMetricPersistEveryMs = 1000;

struct Demand {
  int cpus;
  int64_t memory_mb;
};

Demand DemandOf(const json& doc, int machine_gpus) {
  const json& rc = doc["ResourceConfig"];
  InstanceShape shape = ShapeOf(rc.value("InstanceType", "local"), machine_gpus);
  int count = rc.value("InstanceCount", 1);
  return {shape.vcpus * count, shape.memory_mb * count};
}

std::vector<executors::ProcessHandle> HandlesOf(const json& doc) {
  std::vector<executors::ProcessHandle> out;
  for (const auto& p : doc["_loam"].value("processes", json::array())) {
    out.push_back({p.value("pid", 0), p.value("start_ticks", uint64_t{0})});
  }
  return out;
}

std::string ReadSmallFile(const fs::path& file, size_t max = 1024) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return {};
  std::string s(max, '\0');
  in.read(s.data(), static_cast<std::streamsize>(max));
  s.resize(static_cast<size_t>(in.gcount()));
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// The last lines of a log, for a failure reason that says what went wrong.
std::string LogTail(const fs::path& file, size_t lines = 5) {
  std::ifstream in(file, std::ios::binary | std::ios::ate);
  if (!in) return {};
  std::streamoff size = in.tellg();
  std::streamoff start = std::max<std::streamoff>(0, size - 4096);
  in.seekg(start);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::string> all;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty()) all.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  std::string out;
  for (size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i) out += (out.empty() ? "" : "\n") + all[i];
  return out;
}

// Follows the instances' logs and turns MetricDefinitions matches into metrics.
class MetricFollower {
 public:
  MetricFollower(MetricParser parser, const json& loam_state, std::vector<fs::path> logs)
      : parser_(std::move(parser)), logs_(std::move(logs)), splitters_(logs_.size()) {
    offsets_ = loam_state.value("log_offsets", std::vector<uint64_t>(logs_.size(), 0));
    offsets_.resize(logs_.size(), 0);
    steps_ = loam_state.value("metric_steps", std::map<std::string, int64_t>{});
  }

  // New samples since the last call; at the end, partial last lines count too.
  std::vector<tracking::Metric> Poll(int64_t now_ms, bool final) {
    std::vector<tracking::Metric> out;
    for (size_t i = 0; i < logs_.size(); ++i) {
      std::ifstream in(logs_[i], std::ios::binary);
      if (!in) continue;
      in.seekg(static_cast<std::streamoff>(offsets_[i]));
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      offsets_[i] += chunk.size();
      if (parser_.empty()) continue;
      auto on_line = [&](std::string_view line) {
        for (auto& sample : parser_.ParseLine(line)) {
          out.push_back({sample.name, sample.value, now_ms, steps_[sample.name]++});
        }
      };
      splitters_[i].Feed(chunk, on_line);
      if (final) splitters_[i].Flush(on_line);
    }
    return out;
  }

  void Save(json& loam_state) const {
    loam_state["log_offsets"] = offsets_;
    loam_state["metric_steps"] = steps_;
  }

 private:
  MetricParser parser_;
  std::vector<fs::path> logs_;
  std::vector<LineSplitter> splitters_;
  std::vector<uint64_t> offsets_;
  std::map<std::string, int64_t> steps_;
};

void MergeFinalMetrics(json& doc, const std::vector<tracking::Metric>& samples) {
  json& list = doc["FinalMetricDataList"];
  if (!list.is_array()) list = json::array();
  for (const auto& m : samples) {
    auto it = std::find_if(list.begin(), list.end(), [&](const json& e) { return e["MetricName"] == m.key; });
    json entry = {{"MetricName", m.key}, {"Value", m.value}, {"Timestamp", static_cast<double>(m.timestamp) / 1000.0}};
    if (it == list.end()) list.push_back(entry);
    else *it = entry;
  }
}

}  // namespace

void TrainingService::ReserveRunning(const json& doc) {
  Demand demand = DemandOf(doc, options_.machine_gpus);
  deps_.scheduler->AcquireRunning(demand.cpus, demand.memory_mb);
}

void TrainingService::StartWorker(const std::string& name, bool attach) {
  auto worker = std::make_shared<TrainingWorker>();
  worker->name = name;
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mu_);
    if (shutting_down_) return;
    done.swap(finished_threads_);
    workers_[name] = worker;
    worker->thread = std::thread([this, worker, attach] { RunWorker(worker, attach); });
  }
  for (auto& t : done) t.join();
}

void TrainingService::Shutdown() {
  std::map<std::string, std::shared_ptr<TrainingWorker>> workers;
  std::vector<std::thread> done;
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    workers.swap(workers_);
    done.swap(finished_threads_);
  }
  deps_.scheduler->Wake();
  for (auto& [name, w] : workers) {
    if (w->thread.joinable()) w->thread.join();
  }
  for (auto& t : done) t.join();
}

void TrainingService::RunWorker(const std::shared_ptr<TrainingWorker>& worker, bool attach) {
  auto job = Load(worker->name);
  if (job.ok()) {
    if (job->doc["TrainingJobStatus"] == "Stopping") worker->stop_requested = true;
    Demand demand = DemandOf(job->doc, options_.machine_gpus);
    bool admitted = true;
    if (!attach) {
      admitted = deps_.scheduler->Acquire(demand.cpus, demand.memory_mb,
                                          [&] { return shutting_down_.load() || worker->stop_requested.load(); });
    }
    if (admitted) {
      Supervise(*worker, attach);
      deps_.scheduler->Release(demand.cpus, demand.memory_mb);
    } else if (!shutting_down_) {
      // Stopped while still queued: nothing ran.
      (void)UpdateJob(worker->name, [&](json& doc) {
        doc["TrainingJobStatus"] = "Stopped";
        AddTransition(doc, "Stopped", "Training job stopped before it started", NowSeconds());
        doc["TrainingEndTime"] = NowSeconds();
      });
      (void)deps_.tracking->UpdateRun(job->doc["_loam"].value("run_id", ""),
                                      {.status = tracking::RunStatus::kKilled, .end_time = deps_.clock()});
    }
  } else {
    log::Error("training.worker", {{"job", worker->name}, {"error", job.status().ToString()}});
  }
  std::lock_guard lock(mu_);
  if (auto it = workers_.find(worker->name); it != workers_.end() && it->second == worker) workers_.erase(it);
  if (!shutting_down_) finished_threads_.push_back(std::move(worker->thread));
  else worker->thread.detach();  // Shutdown holds no handle to it any more
}

bool TrainingService::Supervise(TrainingWorker& worker, bool attach) {
  const std::string& name = worker.name;
  const fs::path job_dir = options_.jobs_root / name;
  auto loaded = Load(name);
  if (!loaded.ok()) return true;
  json doc = loaded->doc;
  const std::string run_id = doc["_loam"].value("run_id", "");
  auto fail = [&](const std::string& reason) {
    (void)UpdateJob(name, [&](json& d) {
      d["TrainingJobStatus"] = "Failed";
      d["FailureReason"] = reason.substr(0, 1024);
      AddTransition(d, "Failed", "Training job failed", NowSeconds());
      d["TrainingEndTime"] = NowSeconds();
    });
    (void)deps_.tracking->UpdateRun(run_id, {.status = tracking::RunStatus::kFailed, .end_time = deps_.clock()});
    log::Warn("training.failed", {{"job", name}, {"reason", reason}});
  };

  std::vector<std::string> hosts = HostNames(doc["ResourceConfig"].value("InstanceCount", 1));
  std::vector<executors::ProcessHandle> handles;
  if (!attach) {
    std::error_code ec;
    fs::remove_all(job_dir, ec);  // a half-staged attempt from before a restart
    Status s = UpdateJob(name, [&](json& d) {
      d["TrainingStartTime"] = NowSeconds();
      AddTransition(d, "Downloading", "Downloading input data", NowSeconds());
    });
    if (!s.ok()) return true;
    auto reloaded = Load(name);
    if (!reloaded.ok()) return true;
    doc = reloaded->doc;
    (void)deps_.tracking->UpdateRun(run_id, {.status = tracking::RunStatus::kRunning});
    std::vector<tracking::Param> params;
    const Hyperparameters hps = SplitHyperparameters(doc.value("HyperParameters", json::object()));
    for (const auto& [k, v] : hps.user.items()) {
      params.push_back({k.substr(0, 250), PythonStr(v).substr(0, kMaxParamValue)});
    }
    for (size_t i = 0; i < params.size(); i += 100) {
      std::vector<tracking::Param> batch(params.begin() + static_cast<long>(i),
                                         params.begin() + static_cast<long>(std::min(params.size(), i + 100)));
      (void)deps_.tracking->LogBatch(run_id, {}, batch, {});
    }

    WorkspaceContext ctx{deps_.locations.get(), deps_.runtimes.get(), options_.sandbox,
                         deps_.scheduler->capacity().cpus, options_.machine_gpus, options_.tracking_uri,
                         options_.data_dir};
    auto ws = PrepareTrainingWorkspace(doc, job_dir, run_id, ctx);
    if (!ws.ok()) {
      fail((ws.status().code() == StatusCode::kInvalidArgument ? "ClientError: " : "InternalServerError: ") +
           ws.status().message());
      return true;
    }
    json processes = json::array();
    for (size_t i = 0; i < ws->processes.size(); ++i) {
      auto h = deps_.executor->Start(ws->processes[i]);
      if (!h.ok()) {
        for (const auto& started : handles) deps_.executor->Stop(started, /*force=*/true);
        fail("InternalServerError: " + h.status().message());
        return true;
      }
      handles.push_back(*h);
      processes.push_back({{"host", ws->hosts[i]}, {"pid", h->pid}, {"start_ticks", h->start_ticks}});
    }
    (void)UpdateJob(name, [&](json& d) {
      d["_loam"]["processes"] = processes;
      AddTransition(d, "Training", "Training image download completed. Training in progress.", NowSeconds());
    });
    log::Info("training.started", {{"job", name}, {"instances", static_cast<int>(handles.size())}});
  } else {
    handles = HandlesOf(doc);
  }

  // Follow the processes: metrics, stop requests, the runtime limit.
  std::vector<fs::path> logs;
  for (const auto& h : hosts) logs.push_back(InstanceLog(job_dir, h));
  std::vector<MetricDefinition> definitions;
  for (const auto& d : doc["AlgorithmSpecification"].value("MetricDefinitions", json::array())) {
    definitions.push_back({d.value("Name", ""), d.value("Regex", "")});
  }
  auto parser = MetricParser::Create(definitions);
  MetricFollower follower(parser.ok() ? std::move(parser).value() : MetricParser(), doc["_loam"], logs);
  const double start = doc.value("TrainingStartTime", NowSeconds());
  const double deadline = start + doc["StoppingCondition"].value("MaxRuntimeInSeconds", 86400);
  std::string stop_reason = doc["_loam"].value("stop_reason", "");
  std::optional<int64_t> term_sent_ms;
  int64_t last_persist_ms = deps_.clock();
  std::vector<tracking::Metric> unsaved;

  auto flush_metrics = [&](bool force) {
    if (unsaved.empty() && !force) return;
    if (!force && deps_.clock() - last_persist_ms < kMetricPersistEveryMs) return;
    for (size_t i = 0; i < unsaved.size(); i += 1000) {
      std::vector<tracking::Metric> batch(unsaved.begin() + static_cast<long>(i),
                                          unsaved.begin() + static_cast<long>(std::min(unsaved.size(), i + 1000)));
      (void)deps_.tracking->LogBatch(run_id, batch, {}, {});
    }
    (void)UpdateJob(name, [&](json& d) {
      MergeFinalMetrics(d, unsaved);
      follower.Save(d["_loam"]);
    });
    unsaved.clear();
    last_persist_ms = deps_.clock();
  };

  while (true) {
    deps_.executor->WaitAny(handles, Millis(100));
    for (auto& m : follower.Poll(deps_.clock(), false)) unsaved.push_back(std::move(m));
    flush_metrics(false);
    bool any_alive = std::any_of(handles.begin(), handles.end(),
                                 [&](const executors::ProcessHandle& h) { return deps_.executor->Alive(h); });
    if (!any_alive) break;
    if (shutting_down_) {
      flush_metrics(true);
      return false;  // the processes keep running; the next server re-attaches
    }
    const int64_t now_ms = deps_.clock();
    if (!term_sent_ms && (worker.stop_requested || NowSeconds() >= deadline)) {
      if (stop_reason.empty()) {
        stop_reason = worker.stop_requested ? "user" : "max_runtime";
        if (stop_reason == "max_runtime") {
          (void)UpdateJob(name, [&](json& d) {
            d["_loam"]["stop_reason"] = stop_reason;
            d["TrainingJobStatus"] = "Stopping";
            AddTransition(d, "Stopping", "Stopping the training job: MaxRuntimeInSeconds reached", NowSeconds());
          });
        }
      }
      for (const auto& h : handles) deps_.executor->Stop(h, /*force=*/false);
      term_sent_ms = now_ms;
    } else if (term_sent_ms && now_ms - *term_sent_ms >= options_.stop_grace.count()) {
      for (const auto& h : handles) deps_.executor->Stop(h, /*force=*/true);
    }
  }
  for (auto& m : follower.Poll(deps_.clock(), true)) unsaved.push_back(std::move(m));
  flush_metrics(true);

  // The outcome, from each instance's exit status.
  std::string failure;
  bool unknown_exit = false;
  for (size_t i = 0; i < handles.size(); ++i) {
    auto result = deps_.executor->Result(handles[i], InstanceExitFile(job_dir, hosts[i]));
    if (!result) {
      unknown_exit = true;
      continue;
    }
    if (result->supervisor_failed && failure.empty()) {
      failure = fmt::format("InternalServerError: on {}, {}", hosts[i], result->Describe());
    } else if (!result->ok() && failure.empty()) {
      std::string reason = ReadSmallFile(InstanceRoot(job_dir, hosts[i]) / "output" / "failure");
      if (reason.empty()) {
        reason = fmt::format("AlgorithmError: the training script on {} ended with {}", hosts[i], result->Describe());
        std::string tail = LogTail(logs[i]);
        if (!tail.empty()) reason += ". Last log lines:\n" + tail;
      }
      failure = reason;
    }
  }
  const bool stopped = !stop_reason.empty();
  if (!stopped && failure.empty() && unknown_exit) {
    failure = "InternalServerError: the job's processes ended while Loam was not running and their exit status "
              "was not recorded";
  }

  (void)UpdateJob(name, [&](json& d) { AddTransition(d, "Uploading", "Uploading generated training model", NowSeconds()); });
  const std::string output_prefix =
      DataLocations::Join(DataLocations::Join(doc["OutputDataConfig"].value("S3OutputPath", ""), name), "output");
  std::string model_uri;
  Status upload = Status::Ok();
  if (failure.empty() || stopped) {
    auto dir = deps_.locations->Resolve(output_prefix);
    if (dir.ok()) {
      upload = PackDirectory(InstanceRoot(job_dir, hosts[0]) / "model", *dir / "model.tar.gz");
      if (upload.ok()) model_uri = DataLocations::Join(output_prefix, "model.tar.gz");
    } else {
      upload = dir.status();
    }
  }
  if (auto dir = deps_.locations->Resolve(output_prefix); dir.ok()) {
    (void)PackDirectory(InstanceRoot(job_dir, hosts[0]) / "output" / "data", *dir / "output.tar.gz");
  }
  if (doc.contains("CheckpointConfig")) {
    if (auto dest = deps_.locations->Resolve(doc["CheckpointConfig"].value("S3Uri", "")); dest.ok()) {
      (void)CopyTree(InstanceRoot(job_dir, hosts[0]) / "checkpoints", *dest);
    }
  }
  if (!upload.ok() && failure.empty()) failure = "InternalServerError: uploading the model failed: " + upload.message();

  const double end = NowSeconds();
  std::string status, secondary, message;
  tracking::RunStatus run_status;
  if (stopped && (failure.empty() || stop_reason == "user" || stop_reason == "max_runtime")) {
    status = "Stopped";
    secondary = stop_reason == "max_runtime" ? "MaxRuntimeExceeded" : "Stopped";
    message = stop_reason == "max_runtime" ? "Training job stopped: MaxRuntimeInSeconds reached" : "Training job stopped";
    run_status = tracking::RunStatus::kKilled;
    failure.clear();
  } else if (failure.empty()) {
    status = secondary = "Completed";
    message = "Training job completed";
    run_status = tracking::RunStatus::kFinished;
  } else {
    status = secondary = "Failed";
    message = "Training job failed";
    run_status = tracking::RunStatus::kFailed;
  }
  (void)UpdateJob(name, [&](json& d) {
    d["TrainingJobStatus"] = status;
    AddTransition(d, secondary, message, end);
    d["SecondaryStatusTransitions"].back()["EndTime"] = end;
    d["TrainingEndTime"] = end;
    int64_t seconds = static_cast<int64_t>(end - d.value("TrainingStartTime", end) + 0.999);
    d["TrainingTimeInSeconds"] = seconds;
    d["BillableTimeInSeconds"] = seconds;
    if (!model_uri.empty()) d["ModelArtifacts"] = {{"S3ModelArtifacts", model_uri}};
    if (!failure.empty()) d["FailureReason"] = failure.substr(0, 1024);
  });
  if (!model_uri.empty()) (void)deps_.tracking->SetTag(run_id, {"sagemaker.model_artifacts", model_uri});
  (void)deps_.tracking->UpdateRun(run_id, {.status = run_status, .end_time = deps_.clock()});
  log::Info("training.finished", {{"job", name}, {"status", status}});
  return true;
}

}  // namespace loam::jobs
