#include "jobs/job_runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <optional>

#include "common/base64.h"
#include "common/log.h"

namespace loam::jobs {

namespace fs = std::filesystem;
using nlohmann::json;
using Millis = std::chrono::milliseconds;

struct JobWorker {
  std::string name;
  std::thread thread;
  std::atomic<bool> stop_requested{false};
};

namespace {

constexpr int64_t kMetricPersistEveryMs = 1000;

struct Demand {
  int cpus;
  int64_t memory_mb;
};

Demand DemandOf(const JobKind& kind, const json& doc, int machine_gpus) {
  InstanceShape shape = ShapeOf(kind.instance_type(doc), machine_gpus);
  int count = kind.instance_count(doc);
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
  in.seekg(std::max<std::streamoff>(0, size - 4096));
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
    if (parser_.empty()) return out;
    for (size_t i = 0; i < logs_.size(); ++i) {
      std::ifstream in(logs_[i], std::ios::binary);
      if (!in) continue;
      in.seekg(static_cast<std::streamoff>(offsets_[i]));
      std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      offsets_[i] += chunk.size();
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

tracking::RunStatus RunStatusOf(const JobOutcome& outcome) {
  switch (outcome.kind) {
    case JobOutcome::Kind::kCompleted: return tracking::RunStatus::kFinished;
    case JobOutcome::Kind::kStopped: return tracking::RunStatus::kKilled;
    case JobOutcome::Kind::kFailed: break;
  }
  return tracking::RunStatus::kFailed;
}

std::optional<int64_t> TimeMillis(const json& request, const char* field) {
  if (!request.contains(field) || !request[field].is_number()) return std::nullopt;
  return static_cast<int64_t>(request[field].get<double>() * 1000.0);
}

}  // namespace

JobRunner::JobRunner(std::shared_ptr<const JobKind> kind, JobRunnerOptions options, JobRunnerDeps deps)
    : kind_(std::move(kind)), options_(std::move(options)), deps_(std::move(deps)) {
  std::error_code ec;
  fs::create_directories(options_.jobs_root, ec);
}

JobRunner::~JobRunner() { Shutdown(); }

StatusOr<JobRecord> JobRunner::Load(const std::string& name) { return deps_.store->GetJob(kind_->kind(), name); }

Status JobRunner::Update(const std::string& name, const std::function<void(json& doc)>& change) {
  std::lock_guard lock(update_mu_);
  ASSIGN_OR_RETURN(JobRecord job, Load(name));
  change(job.doc);
  job.status = job.doc.value(kind_->status_field(), job.status);
  job.last_modified_time_ms = deps_.clock();
  job.doc["LastModifiedTime"] = static_cast<double>(job.last_modified_time_ms) / 1000.0;
  return deps_.store->UpdateJob(job);
}

Status JobRunner::CheckActiveJobLimit(const std::string& limit_name) {
  {
    std::lock_guard lock(mu_);
    if (workers_.size() < options_.max_active_jobs) return Status::Ok();
  }
  // A worker leaves the map just after its job's final status is stored: count from the store.
  ASSIGN_OR_RETURN(auto active, deps_.store->JobsWithStatus(kind_->kind(), {"InProgress", "Stopping"}));
  if (active.size() < options_.max_active_jobs) return Status::Ok();
  return ResourceExhausted(fmt::format(
      "The account-level service limit '{}' is {} Jobs, with current utilization of {} Jobs. Wait for a job to end "
      "or raise --max-active-jobs.",
      limit_name, options_.max_active_jobs, active.size()));
}

StatusOr<JobRunner::JobRun> JobRunner::OpenRun(const std::string& experiment, const std::string& job_name,
                                               std::vector<tracking::Tag> tags,
                                               const std::vector<tracking::DatasetInput>& inputs) {
  tracking::TrackingService& tracking = *deps_.tracking;
  std::string experiment_id;
  if (auto found = tracking.GetExperimentByName(experiment); found.ok()) {
    experiment_id = found->experiment_id;
  } else if (auto created = tracking.CreateExperiment(experiment, "", {}); created.ok()) {
    experiment_id = *created;
  } else if (created.status().code() == StatusCode::kAlreadyExists) {  // created concurrently
    ASSIGN_OR_RETURN(auto e, tracking.GetExperimentByName(experiment));
    experiment_id = e.experiment_id;
  } else {
    return created.status();
  }
  tracking::CreateRunRequest req;
  req.experiment_id = experiment_id;
  req.run_name = job_name;
  req.start_time = deps_.clock();
  req.tags = std::move(tags);
  req.tags.push_back({"mlflow.source.type", "JOB"});
  req.tags.push_back({"mlflow.source.name", job_name});
  ASSIGN_OR_RETURN(tracking::Run run, tracking.CreateRun(req));
  (void)tracking.UpdateRun(run.info.run_id, {.status = tracking::RunStatus::kScheduled});
  if (!inputs.empty()) (void)tracking.LogInputs(run.info.run_id, inputs);
  return JobRun{run.info.run_id, experiment_id};
}

Status JobRunner::Submit(const JobRecord& job, const std::vector<Tag>& tags, const std::string& run_id) {
  if (Status s = deps_.store->CreateJob(job); !s.ok()) {
    (void)deps_.tracking->DeleteRun(run_id);
    return s;
  }
  if (!tags.empty()) RETURN_IF_ERROR(deps_.store->AddTags(job.arn, tags));
  log::Info("jobs.created", {{"kind", kind_->kind()}, {"job", job.name}, {"run_id", run_id}});
  Start(job.name);
  return Status::Ok();
}

void JobRunner::Start(const std::string& name) { StartWorker(name, /*attach=*/false); }

Status JobRunner::Stop(const std::string& name) {
  Status rejected = Status::Ok();
  RETURN_IF_ERROR(Update(name, [&](json& doc) {
    std::string status = doc[kind_->status_field()].get<std::string>();
    if (status == "Stopping") return;
    if (status != "InProgress") {
      rejected = FailedPrecondition(
          fmt::format("The request was rejected because the {} is in status {}.", kind_->noun(), status));
      return;
    }
    doc[kind_->status_field()] = "Stopping";
    doc["_loam"]["stop_reason"] = "user";
    kind_->EnterPhase(doc, JobPhase::kStopping, NowSeconds());
  }));
  RETURN_IF_ERROR(rejected);
  std::lock_guard lock(mu_);
  if (auto it = workers_.find(name); it != workers_.end()) it->second->stop_requested = true;
  deps_.scheduler->Wake();
  return Status::Ok();
}

Status JobRunner::Recover() {
  ASSIGN_OR_RETURN(auto unfinished, deps_.store->JobsWithStatus(kind_->kind(), {"InProgress", "Stopping"}));
  // Jobs whose processes run hold their CPUs before any queued job may be admitted.
  std::vector<std::pair<std::string, bool>> recovered;
  for (const auto& job : unfinished) {
    bool has_processes = !job.doc["_loam"].value("processes", json::array()).empty();
    if (has_processes) ReserveRunning(job.doc);
    recovered.emplace_back(job.name, has_processes);
  }
  for (const auto& [name, attach] : recovered) {
    log::Info("jobs.recover", {{"kind", kind_->kind()}, {"job", name}, {"attach", attach}});
    StartWorker(name, attach);
  }
  return Status::Ok();
}

json NewJobDocument(const json& request, const char* arn_field, const std::string& arn, const char* status_field,
                    double now) {
  json doc = request;
  doc.erase("Tags");
  doc[arn_field] = arn;
  doc["CreationTime"] = now;
  doc["LastModifiedTime"] = now;
  doc[status_field] = "InProgress";
  return doc;
}

std::string EncodePageToken(size_t offset) { return EncodeOffsetToken(offset); }

StatusOr<size_t> DecodePageToken(const std::string& token) {
  auto offset = DecodeOffsetToken(token);
  if (!offset) return InvalidArgument("Invalid pagination token.");
  return static_cast<size_t>(*offset);
}

StatusOr<json> ListJobPage(JobStore& store, const json& request, JobListQuery q, const char* list_key,
                           const std::function<json(const JobRecord&)>& summary) {
  if (request.contains("NameContains")) q.name_contains = request["NameContains"].get<std::string>();
  if (request.contains("StatusEquals")) q.status_equals = request["StatusEquals"].get<std::string>();
  q.created_after_ms = TimeMillis(request, "CreationTimeAfter");
  q.created_before_ms = TimeMillis(request, "CreationTimeBefore");
  q.modified_after_ms = TimeMillis(request, "LastModifiedTimeAfter");
  q.modified_before_ms = TimeMillis(request, "LastModifiedTimeBefore");
  std::string sort_by = request.value("SortBy", "CreationTime");
  q.sort_by = sort_by == "Name" ? JobSortBy::kName : sort_by == "Status" ? JobSortBy::kStatus : JobSortBy::kCreationTime;
  q.descending = request.value("SortOrder", "Descending") == "Descending";
  q.limit = static_cast<size_t>(request.value("MaxResults", 10));
  if (request.contains("NextToken")) {
    ASSIGN_OR_RETURN(q.offset, DecodePageToken(request["NextToken"].get<std::string>()));
  }
  ASSIGN_OR_RETURN(auto page, store.ListJobs(q));
  json summaries = json::array();
  for (const auto& job : page.first) summaries.push_back(summary(job));
  json out = {{list_key, summaries}};
  if (page.second) out["NextToken"] = EncodePageToken(q.offset + q.limit);
  return out;
}

StatusOr<json> JobRunner::List(const json& request, JobListQuery q, const char* list_key,
                               const std::function<json(const JobRecord&)>& summary) {
  q.kind = kind_->kind();
  return ListJobPage(*deps_.store, request, std::move(q), list_key, summary);
}

StatusOr<std::string> JobRunner::ReadLog(const std::string& name, const std::string& host, uint64_t offset,
                                         uint64_t max_bytes) {
  ASSIGN_OR_RETURN(JobRecord job, Load(name));
  int count = kind_->instance_count(job.doc);
  auto hosts = HostNames(count);
  if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) {
    return InvalidArgument(fmt::format("Job {} has no host {}; its hosts are algo-1 to algo-{}.", name, host, count));
  }
  std::ifstream in(InstanceLog(JobDir(name), host), std::ios::binary);
  if (!in) return std::string();
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(max_bytes, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max_bytes));
  out.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  return out;
}

void JobRunner::ReserveRunning(const json& doc) {
  Demand demand = DemandOf(*kind_, doc, options_.machine_gpus);
  deps_.scheduler->AcquireRunning(demand.cpus, demand.memory_mb);
}

void JobRunner::StartWorker(const std::string& name, bool attach) {
  auto worker = std::make_shared<JobWorker>();
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

void JobRunner::Shutdown() {
  std::map<std::string, std::shared_ptr<JobWorker>> workers;
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

void JobRunner::Finish(const std::string& name, const std::string& run_id, const JobOutcome& outcome) {
  (void)Update(name, [&](json& d) { kind_->Finish(d, outcome, NowSeconds()); });
  (void)deps_.tracking->UpdateRun(run_id, {.status = RunStatusOf(outcome), .end_time = deps_.clock()});
}

void JobRunner::Fail(const std::string& name, const std::string& run_id, const std::string& reason) {
  Finish(name, run_id, {JobOutcome::Kind::kFailed, "", reason});
  log::Warn("jobs.failed", {{"kind", kind_->kind()}, {"job", name}, {"reason", reason}});
}

void JobRunner::RunWorker(const std::shared_ptr<JobWorker>& worker, bool attach) {
  auto job = Load(worker->name);
  if (job.ok()) {
    if (job->doc[kind_->status_field()] == "Stopping") worker->stop_requested = true;
    Demand demand = DemandOf(*kind_, job->doc, options_.machine_gpus);
    bool admitted = true;
    if (!attach) {  // a re-attached job's resources were reserved by Recover
      admitted = deps_.scheduler->Acquire(demand.cpus, demand.memory_mb,
                                          [&] { return shutting_down_.load() || worker->stop_requested.load(); });
    }
    if (admitted) {
      Supervise(*worker, attach);
      deps_.scheduler->Release(demand.cpus, demand.memory_mb);
    } else if (!shutting_down_) {  // stopped while still queued: nothing ran
      Finish(worker->name, job->doc["_loam"].value("run_id", ""), {JobOutcome::Kind::kStopped, "user", ""});
    }
  } else {
    log::Error("jobs.worker", {{"kind", kind_->kind()}, {"job", worker->name}, {"error", job.status().ToString()}});
  }
  // During Shutdown, Shutdown owns (and joins) this thread's handle.
  std::lock_guard lock(mu_);
  if (auto it = workers_.find(worker->name); it != workers_.end() && it->second == worker) workers_.erase(it);
  if (!shutting_down_) finished_threads_.push_back(std::move(worker->thread));
}

bool JobRunner::Supervise(JobWorker& worker, bool attach) {
  const std::string& name = worker.name;
  const fs::path job_dir = JobDir(name);
  auto loaded = Load(name);
  if (!loaded.ok()) return true;
  json doc = loaded->doc;
  const std::string run_id = doc["_loam"].value("run_id", "");
  std::vector<std::string> hosts = HostNames(kind_->instance_count(doc));
  std::vector<executors::ProcessHandle> handles;

  if (!attach) {
    std::error_code ec;
    fs::remove_all(job_dir, ec);  // a half-staged attempt from before a restart
    Status s = Update(name, [&](json& d) {
      d[kind_->start_time_field()] = NowSeconds();
      kind_->EnterPhase(d, JobPhase::kDownloading, NowSeconds());
    });
    if (!s.ok()) return true;
    auto reloaded = Load(name);
    if (!reloaded.ok()) return true;
    doc = reloaded->doc;
    (void)deps_.tracking->UpdateRun(run_id, {.status = tracking::RunStatus::kRunning});
    auto params = kind_->RunParams(doc);
    for (size_t i = 0; i < params.size(); i += 100) {
      std::vector<tracking::Param> batch(params.begin() + static_cast<long>(i),
                                         params.begin() + static_cast<long>(std::min(params.size(), i + 100)));
      (void)deps_.tracking->LogBatch(run_id, {}, batch, {});
    }

    WorkspaceContext ctx{deps_.locations.get(), deps_.runtimes.get(), options_.sandbox,
                         deps_.scheduler->capacity().cpus, options_.machine_gpus, options_.tracking_uri,
                         options_.data_dir};
    auto prepared = kind_->Prepare(doc, job_dir, run_id, ctx);
    if (!prepared.ok()) {
      Fail(name, run_id,
           (prepared.status().code() == StatusCode::kInvalidArgument ? "ClientError: " : "InternalServerError: ") +
               prepared.status().message());
      return true;
    }
    json processes = json::array();
    for (size_t i = 0; i < prepared->processes.size(); ++i) {
      auto h = deps_.executor->Start(prepared->processes[i]);
      if (!h.ok()) {
        for (const auto& started : handles) deps_.executor->Stop(started, /*force=*/true);
        Fail(name, run_id, "InternalServerError: " + h.status().message());
        return true;
      }
      handles.push_back(*h);
      processes.push_back({{"host", prepared->hosts[i]}, {"pid", h->pid}, {"start_ticks", h->start_ticks}});
    }
    (void)Update(name, [&](json& d) {
      d["_loam"]["processes"] = processes;
      kind_->EnterPhase(d, JobPhase::kRunning, NowSeconds());
    });
    log::Info("jobs.started", {{"kind", kind_->kind()}, {"job", name}, {"instances", static_cast<int>(handles.size())}});
  } else {
    handles = HandlesOf(doc);
  }

  // Follow the processes: metrics, stop requests, the runtime limit.
  std::vector<fs::path> logs;
  for (const auto& h : hosts) logs.push_back(InstanceLog(job_dir, h));
  auto parser = MetricParser::Create(kind_->metric_definitions(doc));
  MetricFollower follower(parser.ok() ? std::move(parser).value() : MetricParser(), doc["_loam"], logs);
  const double deadline = doc.value(kind_->start_time_field(), NowSeconds()) + kind_->max_runtime_seconds(doc);
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
    (void)Update(name, [&](json& d) {
      if (!unsaved.empty()) MergeFinalMetrics(d, unsaved);
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
          (void)Update(name, [&](json& d) {
            d["_loam"]["stop_reason"] = stop_reason;
            d[kind_->status_field()] = "Stopping";
            kind_->EnterPhase(d, JobPhase::kStopping, NowSeconds());
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
  JobOutcome outcome;
  bool unknown_exit = false;
  for (size_t i = 0; i < handles.size(); ++i) {
    auto result = deps_.executor->Result(handles[i], InstanceExitFile(job_dir, hosts[i]));
    if (!result) {
      unknown_exit = true;
      continue;
    }
    if (!outcome.failure.empty() || result->ok()) continue;
    if (result->supervisor_failed) {
      outcome.failure = fmt::format("InternalServerError: on {}, {}", hosts[i], result->Describe());
      continue;
    }
    std::string reason = ReadSmallFile(InstanceRoot(job_dir, hosts[i]) / kind_->failure_file());
    if (reason.empty()) {
      reason = fmt::format("AlgorithmError: the {} process on {} ended with {}", kind_->noun(), hosts[i],
                           result->Describe());
      std::string tail = LogTail(logs[i]);
      if (!tail.empty()) reason += ". Last log lines:\n" + tail;
    }
    outcome.failure = reason;
  }
  if (!stop_reason.empty()) {
    outcome.kind = JobOutcome::Kind::kStopped;
    outcome.stop_reason = stop_reason;
    outcome.failure.clear();
  } else if (!outcome.failure.empty()) {
    outcome.kind = JobOutcome::Kind::kFailed;
  } else if (unknown_exit) {
    outcome.kind = JobOutcome::Kind::kFailed;
    outcome.failure = "InternalServerError: the job's processes ended while Loam was not running and their exit "
                      "status was not recorded";
  }

  (void)Update(name, [&](json& d) { kind_->EnterPhase(d, JobPhase::kUploading, NowSeconds()); });
  // Uploads may take a while: they run outside the document lock, on the state as loaded.
  json changes = json::object();
  std::string upload_failure;
  if (auto current = Load(name); current.ok()) {
    upload_failure = kind_->Upload(current->doc, changes, job_dir, hosts, outcome, *deps_.locations,
                                   *deps_.tracking, run_id);
  }
  if (!changes.empty()) (void)Update(name, [&](json& d) { d.update(changes); });
  if (!upload_failure.empty() && outcome.kind == JobOutcome::Kind::kCompleted) {
    outcome = {JobOutcome::Kind::kFailed, "", upload_failure};
  }
  Finish(name, run_id, outcome);
  log::Info("jobs.finished", {{"kind", kind_->kind()}, {"job", name}, {"outcome", static_cast<int>(outcome.kind)}});
  return true;
}

}  // namespace loam::jobs
