#include "jobs/tuning_state.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace loam::jobs {

using nlohmann::json;

namespace {

bool Better(double a, double b, tuning::ObjectiveType objective) {
  return objective == tuning::ObjectiveType::kMinimize ? a < b : a > b;
}

}  // namespace

std::string TrialView::ObjectiveStatus() const {
  if (Running()) return "Pending";
  if ((status == "Completed" || status == "Stopped") && objective) return "Succeeded";
  return "Failed";
}

TrialView ViewTrial(const json& trial, const json& child_doc, const std::string& metric,
                    const std::string& tuning_job) {
  TrialView v;
  v.number = trial.value("number", 0);
  v.name = trial.value("name", "");
  v.definition = trial.value("definition_name", "");
  v.tuning_job = tuning_job;
  v.metric = metric;
  v.tuned = trial.value("tuned", std::map<std::string, std::string>{});
  if (!child_doc.is_object()) {  // the training job could not be created
    v.status = trial.contains("failure") ? "Failed" : "InProgress";
    v.creation_time = trial.value("created", 0.0);
    v.failure_reason = trial.value("failure", "");
    return v;
  }
  v.arn = child_doc.value("TrainingJobArn", "");
  v.status = child_doc.value("TrainingJobStatus", "InProgress");
  v.creation_time = child_doc.value("CreationTime", 0.0);
  if (child_doc.contains("TrainingStartTime")) v.start_time = child_doc["TrainingStartTime"].get<double>();
  if (child_doc.contains("TrainingEndTime")) v.end_time = child_doc["TrainingEndTime"].get<double>();
  v.failure_reason = child_doc.value("FailureReason", "");
  for (const auto& m : child_doc.value("FinalMetricDataList", json::array())) {
    if (m.value("MetricName", "") == metric && m.contains("Value") && m["Value"].is_number()) {
      double value = m["Value"].get<double>();
      if (std::isfinite(value)) v.objective = value;
    }
  }
  return v;
}

json Counters(const std::vector<TrialView>& trials) {
  json status = {{"Completed", 0}, {"InProgress", 0}, {"RetryableError", 0}, {"NonRetryableError", 0}, {"Stopped", 0}};
  json objective = {{"Succeeded", 0}, {"Pending", 0}, {"Failed", 0}};
  for (const auto& t : trials) {
    const char* key = t.Running() ? "InProgress" : t.status == "Completed" ? "Completed"
                                                : t.status == "Stopped"   ? "Stopped"
                                                                          : "NonRetryableError";
    status[key] = status[key].get<int>() + 1;
    const std::string o = t.ObjectiveStatus();
    objective[o] = objective[o].get<int>() + 1;
  }
  return {{"TrainingJobStatusCounters", status}, {"ObjectiveStatusCounters", objective}};
}

std::optional<size_t> BestTrial(const std::vector<TrialView>& trials, tuning::ObjectiveType objective) {
  std::optional<size_t> best;
  for (size_t i = 0; i < trials.size(); ++i) {
    if (trials[i].ObjectiveStatus() != "Succeeded") continue;
    if (!best || Better(*trials[i].objective, *trials[*best].objective, objective) ||
        (*trials[i].objective == *trials[*best].objective && trials[i].number < trials[*best].number &&
         trials[i].tuning_job == trials[*best].tuning_job)) {
      best = i;
    }
  }
  return best;
}

json TrainingJobSummary(const TrialView& t, tuning::ObjectiveType objective) {
  json s = {{"TrainingJobName", t.name},
            {"TrainingJobArn", t.arn},
            {"TuningJobName", t.tuning_job},
            {"CreationTime", t.creation_time},
            {"TrainingJobStatus", t.status},
            {"TunedHyperParameters", t.tuned},
            {"ObjectiveStatus", t.ObjectiveStatus()}};
  if (!t.definition.empty()) s["TrainingJobDefinitionName"] = t.definition;
  if (t.start_time) s["TrainingStartTime"] = *t.start_time;
  if (t.end_time) s["TrainingEndTime"] = *t.end_time;
  if (!t.failure_reason.empty()) s["FailureReason"] = t.failure_reason;
  if (t.objective && !t.Running()) {
    s["FinalHyperParameterTuningJobObjectiveMetric"] = {
        {"Type", objective == tuning::ObjectiveType::kMinimize ? "Minimize" : "Maximize"},
        {"MetricName", t.metric},
        {"Value", *t.objective}};
  }
  return s;
}

std::vector<double> ValuesInCompletionOrder(const std::vector<TrialView>& trials) {
  std::vector<const TrialView*> done;
  for (const auto& t : trials) {
    if (t.ObjectiveStatus() == "Succeeded") done.push_back(&t);
  }
  std::sort(done.begin(), done.end(), [](const TrialView* a, const TrialView* b) {
    double ea = a->end_time.value_or(0), eb = b->end_time.value_or(0);
    return ea != eb ? ea < eb : a->number < b->number;
  });
  std::vector<double> out;
  for (const auto* t : done) out.push_back(*t->objective);
  return out;
}

CompletionState EvaluateCompletion(const std::vector<double>& values, tuning::ObjectiveType objective,
                                   const CompletionCriteria& criteria) {
  CompletionState state;
  std::vector<double> best_after;  // best value after each trial
  for (double v : values) {
    if (best_after.empty() || Better(v, best_after.back(), objective)) {
      state.not_improving = 0;
      best_after.push_back(v);
    } else {
      ++state.not_improving;
      best_after.push_back(best_after.back());
    }
  }
  if (values.empty()) return state;
  const double best = best_after.back();
  const int n = static_cast<int>(values.size());
  if (n >= kConvergenceMinTrials) {
    const double before = best_after[n - kConvergenceWindow - 1];
    state.converged = std::abs(before - best) <= kConvergenceTolerance * std::max(std::abs(best), 1e-12);
  }
  if (criteria.target && !Better(*criteria.target, best, objective)) {
    state.reason = "TargetObjectiveMetricValue reached";
  } else if (criteria.max_not_improving && state.not_improving >= *criteria.max_not_improving) {
    state.reason = "BestObjectiveNotImproving: the best objective did not improve for " +
                   std::to_string(state.not_improving) + " training jobs";
  } else if (criteria.complete_on_convergence && state.converged) {
    state.reason = "ConvergenceDetected";
  }
  return state;
}

void SortTrials(std::vector<TrialView>& trials, const std::string& sort_by, bool ascending) {
  auto key_less = [&](const TrialView& a, const TrialView& b) -> std::optional<bool> {
    if (sort_by == "Name") {
      if (a.name != b.name) return a.name < b.name;
    } else if (sort_by == "Status") {
      if (a.status != b.status) return a.status < b.status;
    } else if (sort_by == "FinalObjectiveMetricValue") {
      if (a.objective && b.objective && *a.objective != *b.objective) return *a.objective < *b.objective;
    } else if (a.creation_time != b.creation_time) {
      return a.creation_time < b.creation_time;
    }
    return std::nullopt;
  };
  std::stable_sort(trials.begin(), trials.end(), [&](const TrialView& a, const TrialView& b) {
    if (sort_by == "FinalObjectiveMetricValue" && a.objective.has_value() != b.objective.has_value()) {
      return a.objective.has_value();  // trials without a value go last either way
    }
    if (auto less = key_less(a, b)) return ascending ? *less : !*less;
    return a.number < b.number;
  });
}

}  // namespace loam::jobs
