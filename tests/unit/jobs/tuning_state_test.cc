#include "jobs/tuning_state.h"

#include <gtest/gtest.h>

namespace loam::jobs {
namespace {

using nlohmann::json;
using tuning::ObjectiveType;

TrialView Trial(int number, const std::string& status, std::optional<double> objective, double end = 0) {
  TrialView t;
  t.number = number;
  t.name = "tune-" + std::to_string(number);
  t.arn = "arn:" + t.name;
  t.tuning_job = "tune";
  t.status = status;
  t.creation_time = 100 + number;
  if (end > 0) t.end_time = end;
  t.metric = "val_loss";
  t.objective = objective;
  return t;
}

TEST(TuningState, ObjectiveStatusOfTrials) {
  EXPECT_EQ(Trial(1, "InProgress", 0.5).ObjectiveStatus(), "Pending");
  EXPECT_EQ(Trial(1, "Stopping", 0.5).ObjectiveStatus(), "Pending");
  EXPECT_EQ(Trial(1, "Completed", 0.5).ObjectiveStatus(), "Succeeded");
  EXPECT_EQ(Trial(1, "Stopped", 0.5).ObjectiveStatus(), "Succeeded");  // early stopped: its last value counts
  EXPECT_EQ(Trial(1, "Completed", std::nullopt).ObjectiveStatus(), "Failed");
  EXPECT_EQ(Trial(1, "Failed", 0.5).ObjectiveStatus(), "Failed");
}

TEST(TuningState, ViewTrialReadsTheChildDocument) {
  json trial = {{"number", 3}, {"name", "tune-003-abcdef01"}, {"tuned", {{"lr", "0.1"}}}};
  json child = {{"TrainingJobArn", "arn:x"},
                {"TrainingJobStatus", "Completed"},
                {"CreationTime", 10.0},
                {"TrainingStartTime", 11.0},
                {"TrainingEndTime", 12.0},
                {"FinalMetricDataList",
                 json::array({{{"MetricName", "train_loss"}, {"Value", 9.0}}, {{"MetricName", "val_loss"}, {"Value", 0.25}}})}};
  TrialView v = ViewTrial(trial, child, "val_loss", "tune");
  EXPECT_EQ(v.number, 3);
  EXPECT_EQ(v.status, "Completed");
  EXPECT_DOUBLE_EQ(*v.objective, 0.25);
  EXPECT_DOUBLE_EQ(*v.end_time, 12.0);
  EXPECT_EQ(v.tuned.at("lr"), "0.1");
  TrialView missing = ViewTrial(trial, json(), "val_loss", "tune");
  EXPECT_EQ(missing.status, "InProgress");
  trial["failure"] = "ClientError: bad";
  EXPECT_EQ(ViewTrial(trial, json(), "val_loss", "tune").status, "Failed");
}

TEST(TuningState, Counters) {
  std::vector<TrialView> trials = {Trial(1, "Completed", 0.5), Trial(2, "Completed", std::nullopt),
                                   Trial(3, "Failed", std::nullopt), Trial(4, "Stopped", 0.7),
                                   Trial(5, "InProgress", std::nullopt), Trial(6, "Stopping", 0.9)};
  json c = Counters(trials);
  EXPECT_EQ(c["TrainingJobStatusCounters"],
            json({{"Completed", 2}, {"InProgress", 2}, {"RetryableError", 0}, {"NonRetryableError", 1}, {"Stopped", 1}}));
  EXPECT_EQ(c["ObjectiveStatusCounters"], json({{"Succeeded", 2}, {"Pending", 2}, {"Failed", 2}}));
  EXPECT_EQ(Counters({})["TrainingJobStatusCounters"]["Completed"], 0);
}

TEST(TuningState, BestTrialMinimizeMaximizeAndTies) {
  std::vector<TrialView> trials = {Trial(1, "Completed", 0.5), Trial(2, "Stopped", 0.2), Trial(3, "Failed", 0.1),
                                   Trial(4, "InProgress", 0.05), Trial(5, "Completed", 0.2), Trial(6, "Completed", 0.9)};
  EXPECT_EQ(*BestTrial(trials, ObjectiveType::kMinimize), 1u);  // trial 2; 3 failed, 4 pending, 5 ties later
  EXPECT_EQ(*BestTrial(trials, ObjectiveType::kMaximize), 5u);
  EXPECT_FALSE(BestTrial({Trial(1, "Failed", std::nullopt)}, ObjectiveType::kMinimize).has_value());
}

TEST(TuningState, SummaryHasTheObjectiveOnlyWhenFinished) {
  TrialView t = Trial(1, "Completed", 0.5);
  t.tuned = {{"lr", "0.1"}};
  json s = TrainingJobSummary(t, ObjectiveType::kMinimize);
  EXPECT_EQ(s["FinalHyperParameterTuningJobObjectiveMetric"],
            json({{"Type", "Minimize"}, {"MetricName", "val_loss"}, {"Value", 0.5}}));
  EXPECT_EQ(s["TunedHyperParameters"], json({{"lr", "0.1"}}));
  EXPECT_EQ(s["ObjectiveStatus"], "Succeeded");
  EXPECT_FALSE(s.contains("TrainingJobDefinitionName"));
  EXPECT_FALSE(TrainingJobSummary(Trial(2, "InProgress", 0.5), ObjectiveType::kMinimize)
                   .contains("FinalHyperParameterTuningJobObjectiveMetric"));
}

TEST(TuningState, ValuesInCompletionOrder) {
  std::vector<TrialView> trials = {Trial(1, "Completed", 3.0, 30), Trial(2, "Completed", 1.0, 10),
                                   Trial(3, "Failed", std::nullopt, 5), Trial(4, "Stopped", 2.0, 20)};
  EXPECT_EQ(ValuesInCompletionOrder(trials), (std::vector<double>{1.0, 2.0, 3.0}));
}

TEST(TuningState, TargetObjectiveMetricValue) {
  CompletionCriteria c;
  c.target = 0.5;
  EXPECT_EQ(EvaluateCompletion({0.9, 0.6}, ObjectiveType::kMinimize, c).reason, "");
  EXPECT_EQ(EvaluateCompletion({0.9, 0.5}, ObjectiveType::kMinimize, c).reason, "TargetObjectiveMetricValue reached");
  EXPECT_EQ(EvaluateCompletion({0.4}, ObjectiveType::kMaximize, c).reason, "");
  EXPECT_EQ(EvaluateCompletion({0.4, 0.7}, ObjectiveType::kMaximize, c).reason, "TargetObjectiveMetricValue reached");
  EXPECT_EQ(EvaluateCompletion({}, ObjectiveType::kMinimize, c).reason, "");
}

TEST(TuningState, BestObjectiveNotImproving) {
  CompletionCriteria c;
  c.max_not_improving = 3;
  auto s = EvaluateCompletion({1.0, 0.5, 0.6, 0.7}, ObjectiveType::kMinimize, c);
  EXPECT_EQ(s.not_improving, 2);
  EXPECT_EQ(s.reason, "");
  s = EvaluateCompletion({1.0, 0.5, 0.6, 0.7, 0.5}, ObjectiveType::kMinimize, c);  // equal is no improvement
  EXPECT_EQ(s.not_improving, 3);
  EXPECT_NE(s.reason.find("BestObjectiveNotImproving"), std::string::npos);
  EXPECT_EQ(EvaluateCompletion({1.0, 0.5, 0.6, 0.7, 0.4}, ObjectiveType::kMinimize, c).not_improving, 0);
}

TEST(TuningState, ConvergenceDetected) {
  CompletionCriteria c;
  c.complete_on_convergence = true;
  std::vector<double> values = {5, 4, 3, 2, 1.0, 1.5, 1.2, 1.1, 1.3, 1.0005};  // 10 values, last 5 barely improve
  auto s = EvaluateCompletion(values, ObjectiveType::kMinimize, c);
  EXPECT_TRUE(s.converged);
  EXPECT_EQ(s.reason, "ConvergenceDetected");
  values.back() = 0.9;  // a real improvement in the window
  EXPECT_FALSE(EvaluateCompletion(values, ObjectiveType::kMinimize, c).converged);
  values.pop_back();  // fewer than kConvergenceMinTrials values
  EXPECT_FALSE(EvaluateCompletion(values, ObjectiveType::kMinimize, c).converged);
  c.complete_on_convergence = false;
  values.push_back(1.0);
  auto off = EvaluateCompletion(values, ObjectiveType::kMinimize, c);
  EXPECT_TRUE(off.converged);
  EXPECT_EQ(off.reason, "");
}

TEST(TuningState, SortTrials) {
  std::vector<TrialView> trials = {Trial(1, "Completed", 0.5), Trial(2, "Failed", std::nullopt),
                                   Trial(3, "Completed", 0.2), Trial(4, "InProgress", std::nullopt)};
  trials[0].name = "c";
  trials[1].name = "a";
  trials[2].name = "d";
  trials[3].name = "b";
  auto names = [](const std::vector<TrialView>& ts) {
    std::string out;
    for (const auto& t : ts) out += t.name;
    return out;
  };
  SortTrials(trials, "Name", true);
  EXPECT_EQ(names(trials), "abcd");
  SortTrials(trials, "Name", false);
  EXPECT_EQ(names(trials), "dcba");
  SortTrials(trials, "CreationTime", true);
  EXPECT_EQ(names(trials), "cadb");
  SortTrials(trials, "Status", true);
  EXPECT_EQ(names(trials), "cdab");  // Completed (by number), Failed, InProgress
  SortTrials(trials, "FinalObjectiveMetricValue", true);
  EXPECT_EQ(names(trials), "dcab");
  SortTrials(trials, "FinalObjectiveMetricValue", false);
  EXPECT_EQ(names(trials).substr(0, 2), "cd");  // values first, trials without one last
}

}  // namespace
}  // namespace loam::jobs
