#include "jobs/tuning_controller.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/log.h"
#include "tuning/early_stopping.h"

namespace loam::jobs {

using nlohmann::json;

namespace {

constexpr const char* kStatus = "HyperParameterTuningJobStatus";

int DefinitionIndex(const json& trial) { return trial.value("definition", 0); }

tracking::RunStatus RunStatusFor(const std::string& status) {
  if (status == "Completed") return tracking::RunStatus::kFinished;
  if (status == "Stopped") return tracking::RunStatus::kKilled;
  return tracking::RunStatus::kFailed;
}

}  // namespace

StatusOr<std::vector<TrialView>> LoadTrials(JobStore& store, const JobRecord& tuning_job, const TuningSpec& spec) {
  JobListQuery q;
  q.kind = "training";
  q.parent = tuning_job.name;
  q.sort_by = JobSortBy::kCreationTime;
  q.descending = false;
  q.limit = 1'000'000;
  ASSIGN_OR_RETURN(auto page, store.ListJobs(q));
  std::map<std::string, const json*> children;
  for (const auto& job : page.first) children[job.name] = &job.doc;
  std::vector<TrialView> views;
  for (const auto& trial : tuning_job.doc["_loam"].value("trials", json::array())) {
    auto it = children.find(trial.value("name", ""));
    const size_t d = std::min<size_t>(static_cast<size_t>(DefinitionIndex(trial)), spec.definitions.size() - 1);
    views.push_back(ViewTrial(trial, it == children.end() ? json() : *it->second, spec.definitions[d].metric,
                              tuning_job.name));
  }
  return views;
}

std::vector<TrialView> WarmStartTrials(const json& doc) {
  std::vector<TrialView> out;
  for (const auto& e : doc["_loam"].value("warm_start_trials", json::array())) {
    out.push_back(ViewTrial(e["trial"], e["child"], e.value("metric", ""), e.value("tuning_job", "")));
  }
  return out;
}

json DerivedFields(const TuningSpec& spec, const json& doc, const std::vector<TrialView>& trials, double now) {
  json out = Counters(trials);
  if (auto best = BestTrial(trials, spec.objective)) out["BestTrainingJob"] = TrainingJobSummary(trials[*best], spec.objective);
  if (!spec.warm_start_parents.empty()) {
    std::vector<TrialView> all = trials;
    for (auto& t : WarmStartTrials(doc)) all.push_back(std::move(t));
    if (auto best = BestTrial(all, spec.objective)) {
      out["OverallBestTrainingJob"] = TrainingJobSummary(all[*best], spec.objective);
    }
  }
  CompletionState state = EvaluateCompletion(ValuesInCompletionOrder(trials), spec.objective, spec.criteria);
  json details = {{"NumberOfTrainingJobsObjectiveNotImproving", state.not_improving}};
  if (doc["_loam"].contains("converged_at")) details["ConvergenceDetectedTime"] = doc["_loam"]["converged_at"];
  out["TuningJobCompletionDetails"] = details;
  const double end = doc.value("HyperParameterTuningEndTime", now);
  out["ConsumedResources"] = {
      {"RuntimeInSeconds", static_cast<int64_t>(std::max(0.0, end - doc.value("CreationTime", end)))}};
  return out;
}

TuningController::TuningController(std::string name, TuningDeps deps)
    : name_(std::move(name)), deps_(std::move(deps)) {
  thread_ = std::thread([this] { Run(); });
}

TuningController::~TuningController() {
  shutting_down_ = true;
  Wake();
  if (thread_.joinable()) thread_.join();
}

void TuningController::Wake() {
  {
    std::lock_guard lock(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void TuningController::Run() {
  auto record = deps_.store->GetJob("tuning", name_);
  auto spec = record.ok() ? ParseTuningSpec(record->doc) : StatusOr<TuningSpec>(record.status());
  if (!spec.ok()) {
    log::Error("tuning.load", {{"job", name_}, {"error", spec.status().ToString()}});
    done_ = true;
    return;
  }
  spec_ = std::move(spec).value();
  // A restarted loop continues each strategy's sequence instead of proposing its first
  // configurations again: it replays as many suggestions as the definition has trials.
  std::vector<int> launched(spec_.definitions.size(), 0);
  for (const auto& t : record->doc["_loam"].value("trials", json::array())) {
    const size_t d = static_cast<size_t>(DefinitionIndex(t));
    if (d < launched.size()) ++launched[d];
  }
  if (spec_.hyperband) hyperband_ = tuning::HyperbandSchedule::Create(*spec_.hyperband).value();
  for (size_t d = 0; d < spec_.definitions.size(); ++d) {
    tuning::StrategyOptions options;
    options.objective = spec_.objective;
    options.seed = spec_.seed + d;
    // Hyperband samples its configurations uniformly; its schedule decides which jobs go on.
    auto strategy = tuning::MakeStrategy(hyperband_ ? "Random" : spec_.strategy, spec_.definitions[d].space, options);
    if (!strategy.ok()) {
      log::Error("tuning.strategy", {{"job", name_}, {"error", strategy.status().ToString()}});
      done_ = true;
      return;
    }
    if (launched[d] > 0 && spec_.strategy != "Grid") (void)(*strategy)->Suggest(launched[d], {});
    strategies_.push_back(std::move(strategy).value());
  }
  while (!shutting_down_) {
    auto more = Tick();
    if (!more.ok()) {
      log::Warn("tuning.tick", {{"job", name_}, {"error", more.status().ToString()}});
    } else if (!*more) {
      break;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, deps_.tick, [&] { return woken_ || shutting_down_.load(); });
    woken_ = false;
  }
  done_ = true;
}

Status TuningController::Persist(JobRecord& record) {
  record.status = record.doc[kStatus].get<std::string>();
  record.last_modified_time_ms = deps_.clock();
  record.doc["LastModifiedTime"] = static_cast<double>(record.last_modified_time_ms) / 1000.0;
  return deps_.store->UpdateJob(record);
}

StatusOr<bool> TuningController::Tick() {
  std::lock_guard doc_lock(*deps_.doc_mu);
  auto loaded = deps_.store->GetJob("tuning", name_);
  if (loaded.status().code() == StatusCode::kNotFound) return false;
  ASSIGN_OR_RETURN(JobRecord record, std::move(loaded));
  std::string status = record.doc[kStatus].get<std::string>();
  if (status != "InProgress" && status != "Stopping") return false;
  json& loam = record.doc["_loam"];
  const json before = record.doc;
  const double now = static_cast<double>(deps_.clock()) / 1000.0;

  // Trials on record whose training job does not exist: a restart came between the two, or
  // the active job limit refused it. Created now, unless the tuning job is winding down.
  ASSIGN_OR_RETURN(auto views, LoadTrials(*deps_.store, record, spec_));
  for (size_t i = 0; i < views.size(); ++i) {
    json& trial = loam["trials"][i];
    if (!views[i].arn.empty() || trial.contains("failure")) continue;
    if (status == "Stopping" || loam.contains("completing")) {
      trial["failure"] = "The tuning job ended before this training job was created.";
      views[i].status = "Failed";
    } else {
      RETURN_IF_ERROR(CreateChild(trial, record));
    }
  }

  auto stop_running = [&](const std::vector<TrialView>& vs) {
    for (const auto& v : vs) {
      if (v.status == "InProgress" && !v.arn.empty()) (void)deps_.training->Stop(v.name);
    }
  };
  auto running = [](const std::vector<TrialView>& vs) {
    return std::count_if(vs.begin(), vs.end(), [](const TrialView& v) { return v.Running(); });
  };

  if (status == "InProgress") {
    if (spec_.early_stopping) EarlyStop(record, views);
    if (hyperband_) HyperbandStop(record, views);
    std::string completing = loam.value("completing", "");
    if (completing.empty()) {
      CompletionState state = EvaluateCompletion(ValuesInCompletionOrder(views), spec_.objective, spec_.criteria);
      if (state.converged && !loam.contains("converged_at")) loam["converged_at"] = now;
      completing = state.reason;
      if (completing.empty() && spec_.max_runtime_seconds &&
          now - record.doc.value("CreationTime", now) >= static_cast<double>(*spec_.max_runtime_seconds)) {
        completing = "MaxRuntimeInSeconds reached";
      }
      if (!completing.empty()) {
        loam["completing"] = completing;
        log::Info("tuning.completing", {{"job", name_}, {"reason", completing}});
      }
    }
    if (!completing.empty()) {
      stop_running(views);
    } else {
      const int launched = static_cast<int>(loam["trials"].size());
      const int count = std::min(spec_.max_parallel - static_cast<int>(running(views)), spec_.max_jobs - launched);
      if (count > 0 && !loam.value("exhausted", false)) RETURN_IF_ERROR(Launch(record, views, count));
    }
    ASSIGN_OR_RETURN(views, LoadTrials(*deps_.store, record, spec_));
    const bool all_launched =
        static_cast<int>(loam["trials"].size()) >= spec_.max_jobs || loam.value("exhausted", false);
    if (running(views) == 0 && (!completing.empty() || all_launched)) {
      const json counters = Counters(views);
      const bool none_succeeded = counters["ObjectiveStatusCounters"]["Succeeded"].get<int>() == 0;
      status = none_succeeded && !views.empty() ? "Failed" : "Completed";
      if (status == "Failed") {
        record.doc["FailureReason"] = fmt::format(
            "All {} training jobs failed or reported no value for the objective metric. See the FailureReason "
            "of the training jobs.",
            views.size());
      }
    }
  } else {
    stop_running(views);
    if (running(views) == 0) status = "Stopped";
  }

  LogProgress(record, views);
  const bool final = status != record.doc[kStatus].get<std::string>();
  if (final) {
    record.doc[kStatus] = status;
    record.doc["HyperParameterTuningEndTime"] = now;
    (void)deps_.tracking->UpdateRun(loam.value("run_id", ""), {.status = RunStatusFor(status), .end_time = deps_.clock()});
    log::Info("tuning.finished", {{"job", name_}, {"status", status}, {"trials", static_cast<int>(views.size())}});
  }
  record.doc.update(DerivedFields(spec_, record.doc, views, now));
  if (record.doc != before) RETURN_IF_ERROR(Persist(record));
  return !final;
}

Status TuningController::Launch(JobRecord& record, const std::vector<TrialView>& views, int count) {
  json& loam = record.doc["_loam"];
  json& trials = loam["trials"];
  const size_t defs = spec_.definitions.size();
  std::vector<int> wanted(defs, 0);
  for (int i = 0; i < count; ++i) ++wanted[(trials.size() + static_cast<size_t>(i)) % defs];
  const std::vector<TrialView> parents = WarmStartTrials(record.doc);
  std::set<int> exhausted = loam.value("exhausted_definitions", std::set<int>{});
  const size_t first_new = trials.size();
  for (size_t d = 0; d < defs; ++d) {
    if (wanted[d] == 0 || exhausted.count(static_cast<int>(d))) continue;
    const TuningDefinition& def = spec_.definitions[d];
    std::vector<tuning::Trial> history;
    for (const auto& p : parents) {
      auto config = ConfigurationFromHyperParameters(def.space, p.tuned);
      if (config && p.ObjectiveStatus() == "Succeeded") {
        history.push_back({*config, tuning::TrialStatus::kCompleted, p.objective});
      }
    }
    for (size_t i = 0; i < views.size(); ++i) {
      if (static_cast<size_t>(DefinitionIndex(trials[i])) != d) continue;
      auto config = ConfigurationFromHyperParameters(def.space, views[i].tuned);
      if (!config) continue;
      const std::string o = views[i].ObjectiveStatus();
      tuning::Trial t{*config, o == "Pending"     ? tuning::TrialStatus::kPending
                               : o == "Succeeded" ? tuning::TrialStatus::kCompleted
                                                  : tuning::TrialStatus::kFailed,
                      views[i].objective};
      if (t.status != tuning::TrialStatus::kCompleted) t.objective.reset();
      history.push_back(std::move(t));
    }
    auto suggested = strategies_[d]->Suggest(wanted[d], history);
    if (suggested.status().code() == StatusCode::kResourceExhausted) {
      exhausted.insert(static_cast<int>(d));
      continue;
    }
    RETURN_IF_ERROR(suggested.status());
    for (const auto& config : *suggested) {
      const int number = static_cast<int>(trials.size()) + 1;
      trials.push_back({{"number", number},
                        {"name", TrialJobName(name_, number, NewUuidHex().substr(0, 8))},
                        {"definition", static_cast<int>(d)},
                        {"definition_name", def.name},
                        {"tuned", def.space.ToHyperParameters(config)},
                        {"created", static_cast<double>(deps_.clock()) / 1000.0}});
    }
  }
  loam["exhausted_definitions"] = exhausted;
  if (exhausted.size() == defs) loam["exhausted"] = true;
  // The trials are on record before their training jobs exist (see the header).
  RETURN_IF_ERROR(Persist(record));
  for (size_t i = first_new; i < trials.size(); ++i) RETURN_IF_ERROR(CreateChild(trials[i], record));
  return Status::Ok();
}

Status TuningController::CreateChild(json& trial, const JobRecord& record) {
  const size_t d = static_cast<size_t>(DefinitionIndex(trial));
  if (d >= spec_.definitions.size()) return Internal("trial with an unknown definition");
  const std::string child = trial.value("name", "");
  ASSIGN_OR_RETURN(json request, TrialTrainingRequest(spec_.definitions[d], child,
                                                      trial.value("tuned", std::map<std::string, std::string>{})));
  const json& loam = record.doc["_loam"];
  TrainingJobParent parent{name_, record.arn, loam.value("experiment", name_), loam.value("run_id", "")};
  auto created = deps_.training->Create(request, &parent);
  if (created.ok() || created.status().code() == StatusCode::kAlreadyExists) return Status::Ok();
  if (created.status().code() == StatusCode::kResourceExhausted) return Status::Ok();  // next tick
  trial["failure"] = "ClientError: " + created.status().message();
  log::Warn("tuning.trial_not_created", {{"job", name_}, {"trial", child}, {"error", created.status().ToString()}});
  return Status::Ok();
}

std::vector<double> TuningController::Curve(const std::string& child_name) {
  if (auto it = curves_.find(child_name); it != curves_.end()) return it->second;
  auto child = deps_.store->GetJob("training", child_name);
  if (!child.ok()) return {};
  const std::string run_id = child->doc["_loam"].value("run_id", "");
  const std::string metric = child->doc["HyperParameters"].value(kTuningObjectiveHyperParameter, "");
  std::vector<tracking::Metric> points;
  std::string token;
  do {
    auto page = deps_.tracking->GetMetricHistory(run_id, metric, std::nullopt, token);
    if (!page.ok()) return {};
    points.insert(points.end(), page->items.begin(), page->items.end());
    token = page->next_page_token;
  } while (!token.empty());
  std::stable_sort(points.begin(), points.end(),
                   [](const tracking::Metric& a, const tracking::Metric& b) { return a.step < b.step; });
  std::vector<double> curve;
  for (const auto& p : points) curve.push_back(p.value);
  const std::string status = child->doc.value("TrainingJobStatus", "");
  if (status == "Completed" || status == "Stopped" || status == "Failed") curves_[child_name] = curve;
  return curve;
}

void TuningController::EarlyStop(JobRecord& record, const std::vector<TrialView>& views) {
  json& trials = record.doc["_loam"]["trials"];
  for (size_t d = 0; d < spec_.definitions.size(); ++d) {
    std::vector<std::vector<double>> others;
    for (size_t i = 0; i < views.size(); ++i) {
      if (static_cast<size_t>(DefinitionIndex(trials[i])) == d && views[i].status == "Completed") {
        others.push_back(Curve(views[i].name));
      }
    }
    for (size_t i = 0; i < views.size(); ++i) {
      if (static_cast<size_t>(DefinitionIndex(trials[i])) != d || views[i].status != "InProgress" ||
          views[i].arn.empty() || trials[i].value("early_stopped", false)) {
        continue;
      }
      std::vector<double> curve = Curve(views[i].name);
      if (curve.empty()) continue;
      auto decision = tuning::MedianStoppingRule(curve, others, spec_.objective);
      if (!decision.ok() || !decision->stop) continue;
      StopEarly(record, i,
                fmt::format("step {}: best so far {} is worse than the median {} of {} completed jobs",
                            curve.size() - 1, decision->best_so_far, decision->median, decision->compared));
    }
  }
}

void TuningController::HyperbandStop(JobRecord& record, const std::vector<TrialView>& views) {
  json& trials = record.doc["_loam"]["trials"];
  for (size_t i = 0; i < views.size(); ++i) {
    if (views[i].status != "InProgress" || views[i].arn.empty() || trials[i].value("early_stopped", false)) continue;
    const int bracket = hyperband_->BracketOf(views[i].number);
    std::vector<int> passed = trials[i].value("rungs_passed", std::vector<int>{});
    const std::vector<double> curve = Curve(views[i].name);
    for (int rung : hyperband_->Rungs(bracket)) {
      if (static_cast<int>(curve.size()) < rung) break;
      if (std::find(passed.begin(), passed.end(), rung) != passed.end()) continue;
      std::vector<double> at_rung;
      for (size_t j = 0; j < views.size(); ++j) {
        if (views[j].arn.empty() || hyperband_->BracketOf(views[j].number) != bracket) continue;
        const std::vector<double> other = j == i ? curve : Curve(views[j].name);
        if (static_cast<int>(other.size()) >= rung) at_rung.push_back(other[static_cast<size_t>(rung) - 1]);
      }
      const double value = curve[static_cast<size_t>(rung) - 1];
      if (!hyperband_->Continues(value, at_rung, spec_.objective)) {
        StopEarly(record, i,
                  fmt::format("Hyperband bracket {}, rung {}: {} is not among the best 1/{} of {} jobs", bracket,
                              rung, value, spec_.hyperband->eta, at_rung.size()));
        break;
      }
      passed.push_back(rung);
      trials[i]["rungs_passed"] = passed;
    }
  }
}

void TuningController::StopEarly(JobRecord& record, size_t trial, const std::string& reason) {
  json& t = record.doc["_loam"]["trials"][trial];
  t["early_stopped"] = true;
  if (!Persist(record).ok()) return;  // on record before the job is stopped
  const std::string child = t.value("name", "");
  (void)deps_.training->Stop(child);
  log::Info("tuning.early_stopped", {{"job", name_}, {"trial", child}, {"reason", reason}});
}

void TuningController::LogProgress(JobRecord& record, const std::vector<TrialView>& views) {
  json& loam = record.doc["_loam"];
  std::set<int> logged = loam.value("logged_trials", std::set<int>{});
  std::vector<const TrialView*> fresh;
  for (const auto& v : views) {
    if (v.ObjectiveStatus() == "Succeeded" && !logged.count(v.number)) fresh.push_back(&v);
  }
  if (fresh.empty()) return;
  std::sort(fresh.begin(), fresh.end(), [](const TrialView* a, const TrialView* b) { return a->number < b->number; });
  const bool minimize = spec_.objective == tuning::ObjectiveType::kMinimize;
  std::optional<double> best;
  if (loam.contains("best_logged")) best = loam["best_logged"].get<double>();
  std::vector<tracking::Metric> metrics;
  for (const TrialView* v : fresh) {
    if (!best || (minimize ? *v->objective < *best : *v->objective > *best)) best = v->objective;
    metrics.push_back({"best_" + spec_.definitions[0].metric, *best, deps_.clock(), v->number});
    logged.insert(v->number);
  }
  (void)deps_.tracking->LogBatch(loam.value("run_id", ""), metrics, {}, {});
  loam["best_logged"] = *best;
  loam["logged_trials"] = logged;
}

}  // namespace loam::jobs
