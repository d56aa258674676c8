// The machine as a graph (loam workflow graph / --follow): reading order, transitions and loops,
// and each state's status folded from an execution's history.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "workflows/graph.h"

namespace loam::workflows {
namespace {

using nlohmann::json;

const json kMachine = json::parse(R"({
  "StartAt": "Train",
  "States": {
    "Train": {"Type": "Task", "Resource": "arn:aws:states:::sagemaker:createTrainingJob.sync",
              "Catch": [{"ErrorEquals": ["States.TaskFailed"], "Next": "Report"}], "Next": "Gate"},
    "Gate": {"Type": "Choice", "Choices": [{"Variable": "$.r2", "NumericGreaterThanEqualsPath": "$.min", "Next": "Each"}],
             "Default": "Train"},
    "Each": {"Type": "Map", "ItemProcessor": {"StartAt": "Look", "States": {"Look": {"Type": "Pass", "End": true}}}, "End": true},
    "Report": {"Type": "Fail", "Error": "TrainingFailed"}
  }
})");

json Event(const std::string& type, json details = json::object()) {
  json e = {{"type", type}};
  std::string member;
  if (type.size() > 12 && type.substr(type.size() - 12) == "StateEntered") member = "stateEnteredEventDetails";
  if (type.size() > 11 && type.substr(type.size() - 11) == "StateExited") member = "stateExitedEventDetails";
  if (type == "TaskFailed") member = "taskFailedEventDetails";
  if (type == "MapStateStarted") member = "mapStateStartedEventDetails";
  if (type == "MapIterationSucceeded") member = "mapIterationSucceededEventDetails";
  if (type == "ExecutionFailed") member = "executionFailedEventDetails";
  if (!member.empty()) e[member] = std::move(details);
  return e;
}

TEST(StateGraph, StatesInReadingOrderWithTheirTransitionsAndLoops) {
  const StateGraph g = BuildGraph(kMachine);
  std::vector<std::string> names;
  for (const auto& n : g.nodes) names.push_back(n.name + "@" + std::to_string(n.depth) + "/" + std::to_string(n.layer));
  // Breadth first; a nested machine's states follow their Map.
  EXPECT_EQ(names, (std::vector<std::string>{"Train@0/0", "Gate@0/1", "Report@0/1", "Each@0/2", "Look@1/0"}));
  ASSERT_EQ(g.nodes[0].detail, "sagemaker:createTrainingJob.sync");
  std::vector<std::string> edges;
  for (const auto& e : g.edges) edges.push_back(e.from + ">" + e.to + "[" + e.label + "]" + (e.back ? " back" : ""));
  EXPECT_EQ(edges, (std::vector<std::string>{"Train>Gate[]", "Train>Report[Catch: States.TaskFailed]",
                                              "Gate>Each[$.r2 >= $.min]", "Gate>Train[Default] back"}));
  const std::string dot = ToDot(g, "m");
  EXPECT_NE(dot.find("\"Gate\" -> \"Train\" [label=\"Default\"];"), std::string::npos) << dot;
  EXPECT_NE(dot.find("\"Train\" -> \"Report\" [label=\"Catch: States.TaskFailed\", style=dashed];"), std::string::npos) << dot;
  const std::string svg = ToSvg(g, "m <&>");
  EXPECT_NE(svg.find("m &lt;&amp;&gt;"), std::string::npos);
}

TEST(StateGraph, ProgressFoldsTheHistory) {
  const json events = json::array({
      Event("ExecutionStarted"),
      Event("TaskStateEntered", {{"name", "Train"}}),
      Event("TaskFailed", {{"error", "States.TaskFailed"}}),
      Event("TaskStateExited", {{"name", "Train"}}),  // caught
      Event("FailStateEntered", {{"name", "Report"}}),
      Event("ExecutionFailed", {{"error", "TrainingFailed"}}),
  });
  auto p = ProgressFromHistory(events);
  EXPECT_EQ(p["Train"].status, StateProgress::Status::kCaught);
  EXPECT_EQ(p["Train"].note, "States.TaskFailed");
  EXPECT_EQ(p["Report"].status, StateProgress::Status::kFailed);
  EXPECT_EQ(p["Report"].note, "TrainingFailed");
  EXPECT_EQ(p.count("Gate"), 0u);

  const json map_events = json::array({
      Event("MapStateEntered", {{"name", "Each"}}),
      Event("MapStateStarted", {{"length", 2}}),
      Event("PassStateEntered", {{"name", "Look"}}),
      Event("PassStateExited", {{"name", "Look"}}),
      Event("MapIterationSucceeded", {{"name", "Each"}, {"index", 0}}),
      Event("PassStateEntered", {{"name", "Look"}}),
  });
  p = ProgressFromHistory(map_events);
  EXPECT_EQ(p["Each"].status, StateProgress::Status::kRunning);
  EXPECT_EQ(p["Each"].note, "1/2 iterations");
  EXPECT_EQ(p["Look"].entered, 2);
  EXPECT_EQ(p["Look"].status, StateProgress::Status::kRunning);
  const auto lines = RenderTerminal(BuildGraph(kMachine), p, /*color=*/false);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(lines[3].rfind("▶ Each", 0), 0u) << lines[3];
  EXPECT_NE(lines[3].find("1/2 iterations"), std::string::npos);
  EXPECT_EQ(lines[4].rfind("    ▶ Look", 0), 0u) << lines[4];
  EXPECT_NE(lines[4].find("×2"), std::string::npos);
}

}  // namespace
}  // namespace loam::workflows
