// A state machine as a graph, for people: the states in reading order with their transitions,
// rendered as Graphviz DOT, as a self-contained SVG, or as terminal lines with each state's status
// from an execution's history (what the Data Science SDK's render_progress shows, offline).
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

#include "workflows/state_machine.h"

namespace loam::workflows {

struct GraphNode {
  std::string name;
  std::string type;      // "Task", "Choice", ...
  std::string detail;    // a Task's resource ("sagemaker:createTrainingJob.sync"), a Wait's seconds, ...
  int depth = 0;         // 0: the definition's own states; 1: a Parallel branch's or Map's, ...
  int layer = 0;         // distance from its machine's StartAt, along forward transitions
  std::string parent;    // the Parallel or Map state a nested state belongs to ("" at depth 0)
  int branch = 0;        // which branch of a Parallel state
};

struct GraphEdge {
  std::string from, to;
  std::string label;  // "", "Default", "Catch: States.ALL", a Choice rule in short
  bool back = false;  // to a state at the same or an earlier layer (a loop)
};

struct StateGraph {
  std::vector<GraphNode> nodes;  // every machine's states breadth first from its StartAt; nested ones follow their parent
  std::vector<GraphEdge> edges;  // within one machine
};

StateGraph BuildGraph(const nlohmann::json& definition);
std::string ToDot(const StateGraph& graph, const std::string& title);
std::string ToSvg(const StateGraph& graph, const std::string& title);

// What an execution's history says about each state: how often it was entered and left, and
// how its last visit went.
struct StateProgress {
  enum class Status { kNotStarted, kRunning, kSucceeded, kFailed, kCaught };
  Status status = Status::kNotStarted;
  int entered = 0, exited = 0;
  int iterations = 0, iterations_done = 0;  // a Map's, in its latest run
  std::string note;  // e.g. the failure, or "12/1000 iterations"
};

// An event of GetExecutionHistory's answer: its one "...EventDetails" member ({} when none).
const nlohmann::json& EventDetails(const nlohmann::json& event);
std::map<std::string, StateProgress> ProgressFromHistory(const nlohmann::json& events);

// One line per state, indented by depth, each with its status glyph, type, transitions and
// progress. `color`: ANSI colours for a terminal.
std::vector<std::string> RenderTerminal(const StateGraph& graph, const std::map<std::string, StateProgress>& progress,
                                        bool color);

}  // namespace loam::workflows
