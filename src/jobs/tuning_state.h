// The derived state of a tuning job, computed from its trials (the training jobs it started):
// status and objective counters, the best training job, the completion criteria, and the
// ListTrainingJobsForHyperParameterTuningJob order. Pure functions, no I/O.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "jobs/tuning_request.h"
#include "tuning/strategy.h"

namespace loam::jobs {

// One training job of a tuning job, as the tuning job sees it.
struct TrialView {
  int number = 0;
  std::string name;
  std::string arn;
  std::string definition;   // DefinitionName; empty with a single definition
  std::string tuning_job;   // the tuning job that started it
  std::string status;       // TrainingJobStatus
  double creation_time = 0;
  std::optional<double> start_time, end_time;
  std::map<std::string, std::string> tuned;
  std::string metric;
  std::optional<double> objective;  // final value of the objective metric
  std::string failure_reason;

  // Succeeded (ended with an objective value: completed, or stopped early with its last
  // value), Pending (still running), or Failed.
  std::string ObjectiveStatus() const;
  bool Running() const { return status == "InProgress" || status == "Stopping"; }
};

// A trial from its training job's document (Describe state) and the tuning job's record of it.
TrialView ViewTrial(const nlohmann::json& trial, const nlohmann::json& child_doc, const std::string& metric,
                    const std::string& tuning_job);

// {"TrainingJobStatusCounters": {...}, "ObjectiveStatusCounters": {...}}, every counter present.
nlohmann::json Counters(const std::vector<TrialView>& trials);

// Index of the trial with the best objective (ties: the earlier trial); nullopt when none succeeded.
std::optional<size_t> BestTrial(const std::vector<TrialView>& trials, tuning::ObjectiveType objective);

// A HyperParameterTrainingJobSummary.
nlohmann::json TrainingJobSummary(const TrialView& trial, tuning::ObjectiveType objective);

// Objective values of succeeded trials, in the order they ended (then by trial number).
std::vector<double> ValuesInCompletionOrder(const std::vector<TrialView>& trials);

// Whether the completion criteria are met, given the objective values in the order they ended.
//  * target: a value at least as good as TargetObjectiveMetricValue.
//  * not improving: the last MaxNumberOfTrainingJobsNotImproving values did not improve on the
//    best value before them.
//  * convergence: at least kConvergenceMinTrials values, and the best of the last
//    kConvergenceWindow values improved the best before them by less than
//    kConvergenceTolerance, relatively (|improvement| <= tol * max(|best|, 1e-12)).
inline constexpr int kConvergenceMinTrials = 10;
inline constexpr int kConvergenceWindow = 5;
inline constexpr double kConvergenceTolerance = 1e-3;

struct CompletionState {
  std::string reason;         // empty when the job should go on
  int not_improving = 0;      // values since the last improvement of the best
  bool converged = false;
};
CompletionState EvaluateCompletion(const std::vector<double>& values, tuning::ObjectiveType objective,
                                   const CompletionCriteria& criteria);

// Sorts for ListTrainingJobsForHyperParameterTuningJob: SortBy Name | CreationTime | Status |
// FinalObjectiveMetricValue (trials without a value last, whatever the order).
void SortTrials(std::vector<TrialView>& trials, const std::string& sort_by, bool ascending);

}  // namespace loam::jobs
