#include "jobs/training_service.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <regex>

#include "common/base64.h"
#include "common/log.h"
#include "jobs/metric_parser.h"
#include "jobs/script_mode.h"
#include "jobs/training_state.h"
#include "jobs/training_workspace.h"

namespace loam::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

TrainingService::TrainingService(TrainingServiceOptions options, TrainingServiceDeps deps)
    : options_(std::move(options)), deps_(std::move(deps)) {}

TrainingService::~TrainingService() { Shutdown(); }

std::string TrainingService::ArnOf(const std::string& name) const {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return fmt::format("arn:aws:sagemaker:{}:{}:training-job/{}", options_.region, options_.account, lower);
}

namespace {

// The SageMaker Python SDK names jobs <base>-YYYY-MM-DD-HH-MM-SS-mmm; the base names the experiment.
std::string BaseJobName(const std::string& name) {
  static const std::regex kSuffix(R"(-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}$)");
  std::string base = std::regex_replace(name, kSuffix, "");
  return base.empty() ? name : base;
}

StatusOr<std::string> ExperimentFor(tracking::TrackingService& tracking, const std::string& name) {
  auto found = tracking.GetExperimentByName(name);
  if (found.ok()) return found->experiment_id;
  auto created = tracking.CreateExperiment(name, "", {});
  if (created.ok()) return created;
  if (created.status().code() == StatusCode::kAlreadyExists) {  // created concurrently
    ASSIGN_OR_RETURN(auto e, tracking.GetExperimentByName(name));
    return e.experiment_id;
  }
  return created.status();
}

struct ListToken {
  size_t offset = 0;
};

std::string EncodeToken(size_t offset) { return Base64Encode(json{{"offset", offset}}.dump()); }

StatusOr<size_t> DecodeToken(const std::string& token) {
  auto raw = Base64Decode(token);
  json j = raw ? json::parse(*raw, nullptr, false) : json();
  if (!j.is_object() || !j.contains("offset") || !j["offset"].is_number_unsigned()) {
    return InvalidArgument("Invalid pagination token.");
  }
  return j["offset"].get<size_t>();
}

std::optional<int64_t> TimeMillis(const json& request, const char* field) {
  if (!request.contains(field) || !request[field].is_number()) return std::nullopt;
  return static_cast<int64_t>(request[field].get<double>() * 1000.0);
}

}  // namespace

StatusOr<JobRecord> TrainingService::Load(const std::string& name) {
  return deps_.store->GetJob(kTrainingKind, name);
}

Status TrainingService::UpdateJob(const std::string& name, const std::function<void(json& doc)>& change) {
  std::lock_guard lock(update_mu_);
  ASSIGN_OR_RETURN(JobRecord job, Load(name));
  change(job.doc);
  job.status = job.doc.value("TrainingJobStatus", job.status);
  job.last_modified_time_ms = deps_.clock();
  job.doc["LastModifiedTime"] = static_cast<double>(job.last_modified_time_ms) / 1000.0;
  return deps_.store->UpdateJob(job);
}

Status TrainingService::CheckActiveJobLimit() {
  {
    std::lock_guard lock(mu_);
    if (workers_.size() < options_.max_active_jobs) return Status::Ok();
  }
  // A worker leaves the map just after its job's final status is stored: count from the store.
  ASSIGN_OR_RETURN(auto active, deps_.store->JobsWithStatus(kTrainingKind, {"InProgress", "Stopping"}));
  if (active.size() < options_.max_active_jobs) return Status::Ok();
  return ResourceExhausted(fmt::format(
      "The account-level service limit 'Number of concurrent training jobs' is {} Jobs, with current utilization "
      "of {} Jobs. Wait for a job to end or raise --max-active-jobs.",
      options_.max_active_jobs, active.size()));
}

StatusOr<json> TrainingService::Create(const json& request) {
  const std::string name = request["TrainingJobName"].get<std::string>();
  const std::string arn = ArnOf(name);
  RETURN_IF_ERROR(CheckTrainingRequest(request, *deps_.locations));
  std::vector<MetricDefinition> definitions;
  for (const auto& d : request["AlgorithmSpecification"].value("MetricDefinitions", json::array())) {
    definitions.push_back({d.value("Name", ""), d.value("Regex", "")});
  }
  RETURN_IF_ERROR(MetricParser::Create(definitions).status());
  if (Load(name).ok()) return AlreadyExists(DuplicateJobMessage(arn));
  RETURN_IF_ERROR(CheckActiveJobLimit());

  const int64_t now_ms = deps_.clock();
  const double now = static_cast<double>(now_ms) / 1000.0;
  json doc = request;
  doc.erase("Tags");
  doc["TrainingJobArn"] = arn;
  doc["CreationTime"] = now;
  doc["LastModifiedTime"] = now;
  doc["TrainingJobStatus"] = "InProgress";
  doc["SecondaryStatus"] = "Starting";
  doc["SecondaryStatusTransitions"] = json::array();
  AddTransition(doc, "Starting", "Launching requested ML instances", now);
  doc["EnableNetworkIsolation"] = request.value("EnableNetworkIsolation", false);
  doc["EnableInterContainerTrafficEncryption"] = request.value("EnableInterContainerTrafficEncryption", false);
  doc["EnableManagedSpotTraining"] = request.value("EnableManagedSpotTraining", false);
  if (!doc.contains("StoppingCondition")) doc["StoppingCondition"] = json::object();
  if (!doc["StoppingCondition"].contains("MaxRuntimeInSeconds")) doc["StoppingCondition"]["MaxRuntimeInSeconds"] = 86400;
  doc["AlgorithmSpecification"]["TrainingInputMode"] = request["AlgorithmSpecification"].value("TrainingInputMode", "File");
  if (!doc["AlgorithmSpecification"].contains("EnableSageMakerMetricsTimeSeries")) {
    doc["AlgorithmSpecification"]["EnableSageMakerMetricsTimeSeries"] = false;
  }

  // The job's MLflow run: the experiment named in ExperimentConfig, else the job's base name.
  std::string experiment = BaseJobName(name);
  if (request.contains("ExperimentConfig") && request["ExperimentConfig"].contains("ExperimentName")) {
    experiment = request["ExperimentConfig"]["ExperimentName"].get<std::string>();
  }
  ASSIGN_OR_RETURN(std::string experiment_id, ExperimentFor(*deps_.tracking, experiment));
  tracking::CreateRunRequest run_req;
  run_req.experiment_id = experiment_id;
  run_req.run_name = name;
  run_req.start_time = now_ms;
  run_req.tags = {{"sagemaker.training_job_name", name},
                  {"sagemaker.training_job_arn", arn},
                  {"sagemaker.training_image", request["AlgorithmSpecification"].value("TrainingImage", "")},
                  {"sagemaker.instance_type", request["ResourceConfig"].value("InstanceType", "")},
                  {"sagemaker.instance_count", std::to_string(request["ResourceConfig"].value("InstanceCount", 1))},
                  {"mlflow.source.type", "JOB"},
                  {"mlflow.source.name", name}};
  ASSIGN_OR_RETURN(tracking::Run run, deps_.tracking->CreateRun(run_req));
  (void)deps_.tracking->UpdateRun(run.info.run_id, {.status = tracking::RunStatus::kScheduled});
  // The channels, as the run's input datasets.
  std::vector<tracking::DatasetInput> inputs;
  for (const auto& ch : request.value("InputDataConfig", json::array())) {
    std::string uri = ch["DataSource"]["S3DataSource"].value("S3Uri", "");
    tracking::DatasetInput in;
    in.dataset.name = ch.value("ChannelName", "");
    in.dataset.digest = fmt::format("{:08x}", static_cast<uint32_t>(std::hash<std::string>{}(uri)));
    in.dataset.source_type = uri.rfind("s3://", 0) == 0 ? "s3" : "local";
    in.dataset.source = json{{"uri", uri}}.dump();
    in.tags = {{"mlflow.data.context", in.dataset.name}};
    inputs.push_back(std::move(in));
  }
  if (!inputs.empty()) (void)deps_.tracking->LogInputs(run.info.run_id, inputs);
  doc["_loam"] = {{"run_id", run.info.run_id}, {"experiment_id", experiment_id}, {"processes", json::array()}};

  JobRecord record{kTrainingKind, name, arn, "InProgress", now_ms, now_ms, "", doc};
  if (Status s = deps_.store->CreateJob(record); !s.ok()) {
    (void)deps_.tracking->DeleteRun(run.info.run_id);
    if (s.code() == StatusCode::kAlreadyExists) return AlreadyExists(DuplicateJobMessage(arn));
    return s;
  }
  std::vector<Tag> tags;
  for (const auto& t : request.value("Tags", json::array())) tags.push_back({t.value("Key", ""), t.value("Value", "")});
  if (!tags.empty()) RETURN_IF_ERROR(deps_.store->AddTags(arn, tags));
  log::Info("training.created", {{"job", name}, {"run_id", run.info.run_id}});
  StartWorker(name, /*attach=*/false);
  return json{{"TrainingJobArn", arn}};
}

StatusOr<json> TrainingService::Describe(const std::string& name) {
  ASSIGN_OR_RETURN(JobRecord job, Load(name));
  return PublicView(job.doc);
}

StatusOr<json> TrainingService::List(const json& request) {
  JobListQuery q;
  q.kind = kTrainingKind;
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
    ASSIGN_OR_RETURN(q.offset, DecodeToken(request["NextToken"].get<std::string>()));
  }
  ASSIGN_OR_RETURN(auto page, deps_.store->ListJobs(q));
  json summaries = json::array();
  for (const auto& job : page.first) {
    json s = {{"TrainingJobName", job.name},
              {"TrainingJobArn", job.arn},
              {"CreationTime", job.doc["CreationTime"]},
              {"LastModifiedTime", job.doc["LastModifiedTime"]},
              {"TrainingJobStatus", job.doc["TrainingJobStatus"]},
              {"SecondaryStatus", job.doc["SecondaryStatus"]}};
    if (job.doc.contains("TrainingEndTime")) s["TrainingEndTime"] = job.doc["TrainingEndTime"];
    summaries.push_back(std::move(s));
  }
  json out = {{"TrainingJobSummaries", summaries}};
  if (page.second) out["NextToken"] = EncodeToken(q.offset + q.limit);
  return out;
}

Status TrainingService::Stop(const std::string& name) {
  Status rejected = Status::Ok();
  RETURN_IF_ERROR(UpdateJob(name, [&](json& doc) {
    std::string status = doc["TrainingJobStatus"].get<std::string>();
    if (status == "Stopping") return;
    if (status != "InProgress") {
      rejected = FailedPrecondition(
          fmt::format("The request was rejected because the training job is in status {}.", status));
      return;
    }
    doc["TrainingJobStatus"] = "Stopping";
    doc["_loam"]["stop_reason"] = "user";
    AddTransition(doc, "Stopping", "Stopping the training job", NowSeconds());
  }));
  RETURN_IF_ERROR(rejected);
  std::lock_guard lock(mu_);
  if (auto it = workers_.find(name); it != workers_.end()) it->second->stop_requested = true;
  deps_.scheduler->Wake();
  return Status::Ok();
}

StatusOr<std::string> TrainingService::ReadLog(const std::string& name, const std::string& host, uint64_t offset,
                                               uint64_t max_bytes) {
  ASSIGN_OR_RETURN(JobRecord job, Load(name));
  int count = job.doc["ResourceConfig"].value("InstanceCount", 1);
  auto hosts = HostNames(count);
  if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) {
    return InvalidArgument(fmt::format("Job {} has no host {}; its hosts are algo-1 to algo-{}.", name, host, count));
  }
  std::ifstream in(InstanceLog(options_.jobs_root / name, host), std::ios::binary);
  if (!in) return std::string();
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(max_bytes, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max_bytes));
  out.resize(static_cast<size_t>(std::max<std::streamsize>(0, in.gcount())));
  return out;
}

Status TrainingService::Recover() {
  ASSIGN_OR_RETURN(auto unfinished, deps_.store->JobsWithStatus(kTrainingKind, {"InProgress", "Stopping"}));
  // Jobs whose processes run hold their CPUs before any queued job may be admitted.
  std::vector<std::pair<std::string, bool>> recovered;
  for (const auto& job : unfinished) {
    bool has_processes = !job.doc["_loam"].value("processes", json::array()).empty();
    if (has_processes) ReserveRunning(job.doc);
    recovered.emplace_back(job.name, has_processes);
  }
  for (const auto& [name, attach] : recovered) {
    log::Info("training.recover", {{"job", name}, {"attach", attach}});
    StartWorker(name, attach);
  }
  return Status::Ok();
}

}  // namespace loam::jobs
