#include "jobs/tuning_service.h"

#include <fmt/format.h>

#include <regex>

#include "common/log.h"
#include "jobs/job_kind.h"
#include "jobs/job_runner.h"
#include "jobs/training_state.h"

namespace loam::jobs {

using nlohmann::json;

namespace {

constexpr const char* kKind = "tuning";

std::string NotFoundMessage(const std::string& name) {
  return fmt::format("Amazon SageMaker can't find a tuning job with name {}", name);
}

// A probe training job request per definition, to run the training job checks at Create.
Status CheckDefinitions(const TuningSpec& spec, TrainingService& training) {
  for (const auto& def : spec.definitions) {
    std::vector<double> middle(static_cast<size_t>(def.space.dims()), 0.5);
    ASSIGN_OR_RETURN(auto config, def.space.FromUnit(middle));
    ASSIGN_OR_RETURN(json probe, TrialTrainingRequest(def, TrialJobName(spec.name, 1, "00000000"),
                                                      def.space.ToHyperParameters(config)));
    if (Status s = training.Check(probe); !s.ok()) {
      std::string where = def.name.empty() ? "TrainingJobDefinition" : "training job definition '" + def.name + "'";
      return Status(s.code(), fmt::format("{}: {}", where, s.message()));
    }
  }
  return Status::Ok();
}

}  // namespace

std::string TuningExperimentName(const std::string& name) {
  static const std::regex kSuffix(R"(-\d{6}-\d{4}$)");
  std::string base = std::regex_replace(name, kSuffix, "");
  return base.empty() ? name : base;
}

TuningService::TuningService(TuningServiceOptions options, TuningDeps deps)
    : options_(std::move(options)), deps_(std::move(deps)) {}

TuningService::~TuningService() { Shutdown(); }

std::string TuningService::ArnOf(const std::string& name) const {
  return SageMakerArn(options_.region, options_.account, "hyper-parameter-tuning-job", name);
}

StatusOr<JobRecord> TuningService::Load(const std::string& name) {
  auto job = deps_.store->GetJob(kKind, name);
  if (job.status().code() == StatusCode::kNotFound) return NotFound(NotFoundMessage(name));
  return job;
}

StatusOr<json> TuningService::WarmStartSnapshot(const TuningSpec& spec) {
  json snapshot = json::array();
  for (const auto& parent : spec.warm_start_parents) {
    auto job = deps_.store->GetJob(kKind, parent);
    if (!job.ok()) {
      return InvalidArgument(fmt::format(
          "WarmStartConfig: the parent hyperparameter tuning job {} does not exist.", parent));
    }
    if (job->status == "InProgress" || job->status == "Stopping") {
      return InvalidArgument(fmt::format(
          "WarmStartConfig: the parent hyperparameter tuning job {} is {}; a parent must have ended.", parent,
          job->status));
    }
    auto parent_spec = ParseTuningSpec(job->doc);
    if (!parent_spec.ok()) return InvalidArgument("WarmStartConfig: " + parent_spec.status().message());
    if (parent_spec->objective != spec.objective) {
      return InvalidArgument(fmt::format(
          "WarmStartConfig: the parent hyperparameter tuning job {} has a different objective type.", parent));
    }
    ASSIGN_OR_RETURN(auto views, LoadTrials(*deps_.store, *job, *parent_spec));
    const json& trials = job->doc["_loam"]["trials"];
    JobListQuery q{.kind = "training", .parent = parent, .limit = 1'000'000};
    ASSIGN_OR_RETURN(auto children, deps_.store->ListJobs(q));
    for (size_t i = 0; i < views.size(); ++i) {
      json child;
      for (const auto& c : children.first) {
        if (c.name != views[i].name) continue;
        child = json::object();
        for (const char* f : {"TrainingJobArn", "TrainingJobStatus", "CreationTime", "TrainingStartTime",
                              "TrainingEndTime", "FinalMetricDataList", "FailureReason"}) {
          if (c.doc.contains(f)) child[f] = c.doc[f];
        }
      }
      snapshot.push_back({{"tuning_job", parent}, {"metric", views[i].metric}, {"trial", trials[i]}, {"child", child}});
    }
    // The parents' own parents count for OverallBestTrainingJob too.
    for (const auto& e : job->doc["_loam"].value("warm_start_trials", json::array())) snapshot.push_back(e);
  }
  return snapshot;
}

StatusOr<json> TuningService::Create(const json& request) {
  ASSIGN_OR_RETURN(TuningSpec spec, ParseTuningSpec(request));
  const std::string& name = spec.name;
  const std::string arn = ArnOf(name);
  const std::string duplicate = fmt::format(
      "Hyperparameter tuning job names must be unique within an AWS account and region, and a hyperparameter "
      "tuning job with this name already exists ({})",
      arn);
  if (deps_.store->GetJob(kKind, name).ok()) return AlreadyExists(duplicate);
  RETURN_IF_ERROR(CheckDefinitions(spec, *deps_.training));
  ASSIGN_OR_RETURN(json warm_start, WarmStartSnapshot(spec));

  const int64_t now_ms = deps_.clock();
  const double now = static_cast<double>(now_ms) / 1000.0;
  const std::string experiment = TuningExperimentName(name);
  const json& config = request["HyperParameterTuningJobConfig"];
  ASSIGN_OR_RETURN(auto run, deps_.training->runner().OpenRun(
                                 experiment, name,
                                 {{"sagemaker.tuning_job_name", name},
                                  {"sagemaker.tuning_job_arn", arn},
                                  {"sagemaker.tuning_strategy", spec.strategy}},
                                 {}));
  (void)deps_.tracking->UpdateRun(run.run_id, {.status = tracking::RunStatus::kRunning});
  std::vector<tracking::Param> params = {
      {"strategy", spec.strategy},
      {"objective_metric", spec.definitions[0].metric},
      {"objective_type", spec.objective == tuning::ObjectiveType::kMinimize ? "Minimize" : "Maximize"},
      {"max_number_of_training_jobs", std::to_string(spec.max_jobs)},
      {"max_parallel_training_jobs", std::to_string(spec.max_parallel)},
      {"early_stopping", spec.early_stopping ? "Auto" : "Off"}};
  (void)deps_.tracking->LogBatch(run.run_id, {}, params, {});

  json doc = request;
  doc.erase("Tags");
  doc["HyperParameterTuningJobArn"] = arn;
  doc["HyperParameterTuningJobStatus"] = "InProgress";
  doc["CreationTime"] = now;
  doc["LastModifiedTime"] = now;
  if (!config.contains("TrainingJobEarlyStoppingType")) {
    doc["HyperParameterTuningJobConfig"]["TrainingJobEarlyStoppingType"] = "Off";
  }
  doc["_loam"] = {{"run_id", run.run_id},
                  {"experiment_id", run.experiment_id},
                  {"experiment", experiment},
                  {"trials", json::array()},
                  {"warm_start_trials", warm_start}};
  doc.update(DerivedFields(spec, doc, {}, now));
  Status created = deps_.store->CreateJob({kKind, name, arn, "InProgress", now_ms, now_ms, "", doc});
  if (!created.ok()) {
    (void)deps_.tracking->DeleteRun(run.run_id);
    if (created.code() == StatusCode::kAlreadyExists) return AlreadyExists(duplicate);
    return created;
  }
  const std::vector<Tag> tags = TagsOf(request.value("Tags", json::array()));
  if (!tags.empty()) RETURN_IF_ERROR(deps_.store->AddTags(arn, tags));
  log::Info("tuning.created", {{"job", name}, {"strategy", spec.strategy}, {"run_id", run.run_id}});
  StartController(name);
  return json{{"HyperParameterTuningJobArn", arn}};
}

StatusOr<json> TuningService::Describe(const std::string& name) {
  ASSIGN_OR_RETURN(JobRecord job, Load(name));
  ASSIGN_OR_RETURN(TuningSpec spec, ParseTuningSpec(job.doc));
  ASSIGN_OR_RETURN(auto trials, LoadTrials(*deps_.store, job, spec));
  json out = PublicView(job.doc);
  out.update(DerivedFields(spec, job.doc, trials, static_cast<double>(deps_.clock()) / 1000.0));
  return out;
}

StatusOr<json> TuningService::List(const json& request) {
  json r = request;
  if (!r.contains("SortBy")) r["SortBy"] = "Name";
  if (!r.contains("SortOrder")) r["SortOrder"] = "Ascending";
  return ListJobPage(*deps_.store, r, JobListQuery{.kind = kKind}, "HyperParameterTuningJobSummaries",
                     [](const JobRecord& job) {
                       const json& d = job.doc;
                       json s = {{"HyperParameterTuningJobName", job.name},
                                 {"HyperParameterTuningJobArn", job.arn},
                                 {"HyperParameterTuningJobStatus", d["HyperParameterTuningJobStatus"]},
                                 {"Strategy", d["HyperParameterTuningJobConfig"]["Strategy"]},
                                 {"CreationTime", d["CreationTime"]},
                                 {"LastModifiedTime", d["LastModifiedTime"]},
                                 {"TrainingJobStatusCounters", d["TrainingJobStatusCounters"]},
                                 {"ObjectiveStatusCounters", d["ObjectiveStatusCounters"]},
                                 {"ResourceLimits", d["HyperParameterTuningJobConfig"]["ResourceLimits"]}};
                       if (d.contains("HyperParameterTuningEndTime")) {
                         s["HyperParameterTuningEndTime"] = d["HyperParameterTuningEndTime"];
                       }
                       return s;
                     });
}

Status TuningService::Stop(const std::string& name) {
  {
    std::lock_guard lock(*deps_.doc_mu);
    ASSIGN_OR_RETURN(JobRecord job, Load(name));
    if (job.status == "Stopping") return Status::Ok();
    if (job.status != "InProgress") {
      return FailedPrecondition(fmt::format(
          "The request was rejected because the hyperparameter tuning job is in status {}.", job.status));
    }
    job.status = job.doc["HyperParameterTuningJobStatus"] = "Stopping";
    job.last_modified_time_ms = deps_.clock();
    job.doc["LastModifiedTime"] = static_cast<double>(job.last_modified_time_ms) / 1000.0;
    RETURN_IF_ERROR(deps_.store->UpdateJob(job));
  }
  std::lock_guard lock(mu_);
  if (auto it = controllers_.find(name); it != controllers_.end()) it->second->Wake();
  return Status::Ok();
}

StatusOr<json> TuningService::ListTrainingJobs(const json& request) {
  const std::string name = request["HyperParameterTuningJobName"].get<std::string>();
  ASSIGN_OR_RETURN(JobRecord job, Load(name));
  ASSIGN_OR_RETURN(TuningSpec spec, ParseTuningSpec(job.doc));
  ASSIGN_OR_RETURN(auto trials, LoadTrials(*deps_.store, job, spec));
  std::vector<TrialView> listed;
  for (auto& t : trials) {
    if (t.arn.empty()) continue;  // its training job does not exist (yet)
    if (request.contains("StatusEquals") && t.status != request["StatusEquals"].get<std::string>()) continue;
    listed.push_back(std::move(t));
  }
  SortTrials(listed, request.value("SortBy", "Name"), request.value("SortOrder", "Ascending") == "Ascending");
  size_t offset = 0;
  if (request.contains("NextToken")) {
    ASSIGN_OR_RETURN(offset, DecodePageToken(request["NextToken"].get<std::string>()));
  }
  const size_t limit = static_cast<size_t>(request.value("MaxResults", 10));
  json summaries = json::array();
  for (size_t i = offset; i < listed.size() && i < offset + limit; ++i) {
    summaries.push_back(TrainingJobSummary(listed[i], spec.objective));
  }
  json out = {{"TrainingJobSummaries", summaries}};
  if (offset + limit < listed.size()) out["NextToken"] = EncodePageToken(offset + limit);
  return out;
}

void TuningService::StartController(const std::string& name) {
  std::lock_guard lock(mu_);
  if (shutting_down_) return;
  for (auto it = controllers_.begin(); it != controllers_.end();) {  // reap finished loops
    it = it->second->done() ? controllers_.erase(it) : std::next(it);
  }
  controllers_[name] = std::make_unique<TuningController>(name, deps_);
}

Status TuningService::Recover() {
  ASSIGN_OR_RETURN(auto unfinished, deps_.store->JobsWithStatus(kKind, {"InProgress", "Stopping"}));
  for (const auto& job : unfinished) {
    log::Info("tuning.recover", {{"job", job.name}, {"status", job.status}});
    StartController(job.name);
  }
  return Status::Ok();
}

void TuningService::Shutdown() {
  std::map<std::string, std::unique_ptr<TuningController>> controllers;
  {
    std::lock_guard lock(mu_);
    shutting_down_ = true;
    controllers.swap(controllers_);
  }
  controllers.clear();  // each destructor ends and joins its loop
}

}  // namespace loam::jobs
