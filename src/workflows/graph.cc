#include "workflows/graph.h"

#include <fmt/format.h>

#include <algorithm>
#include <deque>
#include <set>

#include "common/strings.h"
#include "workflows/task_integration.h"

namespace loam::workflows {

using nlohmann::json;

namespace {

std::string Short(const std::string& text, size_t max = 28) {
  return text.size() <= max ? text : text.substr(0, max - 1) + "…";
}

// A Choice rule in a few words: "$.x >= 0.8", "And(2)".
std::string RuleLabel(const json& rule) {
  for (const char* combinator : {"And", "Or"}) {
    if (rule.contains(combinator)) return fmt::format("{}({})", combinator, rule[combinator].size());
  }
  if (rule.contains("Not")) return "Not(" + RuleLabel(rule["Not"]) + ")";
  // Longest suffixes first: "LessThanEquals" also ends in "Equals".
  static const std::vector<std::pair<std::string, std::string>> kOps = {
      {"LessThanEquals", "<="}, {"GreaterThanEquals", ">="}, {"LessThan", "<"}, {"GreaterThan", ">"},
      {"Equals", "=="}, {"Matches", "~"}};
  const std::string variable = rule.value("Variable", "");
  for (const auto& [key, value] : rule.items()) {
    if (key == "Variable" || key == "Next") continue;
    std::string op = key;
    for (const auto& [suffix, symbol] : kOps) {
      const bool path = EndsWith(key, suffix + "Path");
      if (EndsWith(key, suffix) || path) {
        op = symbol;
        break;
      }
    }
    if (StartsWith(key, "Is")) return Short(fmt::format("{} {}", variable, key), 40);
    return Short(fmt::format("{} {} {}", variable, op, value.is_string() ? value.get<std::string>() : value.dump()), 40);
  }
  return variable;
}

std::string Detail(const json& state) {
  const std::string type = state.value("Type", "");
  if (type == "Task") {
    auto r = ParseTaskResource(state.value("Resource", ""));
    return r ? r->resource_type() + ":" + r->resource() : state.value("Resource", "");
  }
  if (type == "Wait") {
    for (const char* f : {"Seconds", "Timestamp", "SecondsPath", "TimestampPath"}) {
      if (state.contains(f)) return fmt::format("{} {}", f, state[f].is_string() ? state[f].get<std::string>() : state[f].dump());
    }
  }
  if (type == "Fail") return state.value("Error", "");
  if (type == "Parallel") return fmt::format("{} branches", state.contains("Branches") ? state["Branches"].size() : 0);
  return "";
}

void AddMachine(const json& machine, int depth, const std::string& parent, int branch, StateGraph& g) {
  if (!machine.is_object() || !machine.contains("States") || !machine["States"].is_object()) return;
  const json& states = machine["States"];
  // Breadth first from StartAt: a state's layer is the length of the shortest path to it.
  std::map<std::string, int> layer;
  std::vector<std::string> order;
  std::deque<std::string> todo;
  const std::string start = machine.value("StartAt", "");
  if (states.contains(start)) {
    layer[start] = 0;
    todo.push_back(start);
  }
  auto transitions = [&](const json& state) {
    std::vector<std::pair<std::string, std::string>> out;  // (target, label)
    if (state.contains("Next") && state["Next"].is_string()) out.emplace_back(state["Next"].get<std::string>(), "");
    if (state.contains("Choices") && state["Choices"].is_array()) {
      for (const auto& rule : state["Choices"]) {
        if (rule.is_object() && rule.contains("Next") && rule["Next"].is_string()) {
          out.emplace_back(rule["Next"].get<std::string>(), RuleLabel(rule));
        }
      }
    }
    if (state.contains("Default") && state["Default"].is_string()) out.emplace_back(state["Default"].get<std::string>(), "Default");
    if (state.contains("Catch") && state["Catch"].is_array()) {
      for (const auto& c : state["Catch"]) {
        if (!c.is_object() || !c.contains("Next") || !c["Next"].is_string()) continue;
        std::string names;
        for (const auto& e : c.value("ErrorEquals", json::array())) {
          names += (names.empty() ? "" : ", ") + (e.is_string() ? e.get<std::string>() : e.dump());
        }
        out.emplace_back(c["Next"].get<std::string>(), "Catch: " + Short(names, 40));
      }
    }
    return out;
  };
  while (!todo.empty()) {
    const std::string name = todo.front();
    todo.pop_front();
    order.push_back(name);
    for (const auto& [target, label] : transitions(states[name])) {
      if (states.contains(target) && !layer.count(target)) {
        layer[target] = layer[name] + 1;
        todo.push_back(target);
      }
    }
  }
  for (const auto& [name, state] : states.items()) {  // unreachable ones still show
    if (!layer.count(name)) {
      layer[name] = static_cast<int>(order.size());
      order.push_back(name);
    }
  }
  for (const std::string& name : order) {
    const json& state = states[name];
    g.nodes.push_back({name, state.value("Type", "?"), Detail(state), depth, layer[name], parent, branch});
    for (const auto& [target, label] : transitions(state)) {
      g.edges.push_back({name, target, label, layer.count(target) && layer[target] <= layer[name]});
    }
    if (state.value("Type", "") == "Parallel" && state.contains("Branches")) {
      int b = 0;
      for (const auto& branch_machine : state["Branches"]) AddMachine(branch_machine, depth + 1, name, b++, g);
    }
    if (state.value("Type", "") == "Map") {
      AddMachine(state.contains("ItemProcessor") ? state["ItemProcessor"] : state.value("Iterator", json()), depth + 1, name, 0, g);
    }
  }
}

std::string Escape(const std::string& text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string DotEscape(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

std::string DotId(const std::string& text) { return "\"" + DotEscape(text) + "\""; }

std::string DotShape(const std::string& type) {
  if (type == "Choice") return "diamond";
  if (type == "Succeed" || type == "Fail") return "doublecircle";
  if (type == "Pass") return "ellipse";
  if (type == "Wait") return "hexagon";
  return "box";
}

}  // namespace

StateGraph BuildGraph(const json& definition) {
  StateGraph g;
  AddMachine(definition, 0, "", 0, g);
  return g;
}

std::string ToDot(const StateGraph& g, const std::string& title) {
  std::string out = fmt::format("digraph {} {{\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=11];\n"
                                "  edge [fontname=\"Helvetica\", fontsize=9];\n  \"__start\" [shape=point];\n",
                                DotId(title));
  // Nested machines as clusters inside their Parallel or Map state.
  std::map<std::string, std::vector<const GraphNode*>> clusters;
  for (const auto& n : g.nodes) {
    // "\n" is DOT's line break inside a label.
    const std::string label = n.detail.empty() ? fmt::format("{}\\n({})", DotEscape(n.name), n.type)
                                               : fmt::format("{}\\n({}: {})", DotEscape(n.name), n.type, DotEscape(n.detail));
    std::string line = fmt::format("{} [shape={}, label=\"{}\"];", DotId(n.name), DotShape(n.type), label);
    if (n.depth == 0) {
      out += "  " + line + "\n";
    } else {
      clusters[fmt::format("{}#{}", n.parent, n.branch)].push_back(&n);
    }
  }
  int k = 0;
  for (const auto& [key, nodes] : clusters) {
    out += fmt::format("  subgraph cluster_{} {{\n    label={}; style=dashed;\n", k++, DotId(key.substr(0, key.rfind('#'))));
    for (const GraphNode* n : nodes) out += fmt::format("    {} [shape={}];\n", DotId(n->name), DotShape(n->type));
    out += "  }\n";
  }
  if (!g.nodes.empty()) out += fmt::format("  \"__start\" -> {};\n", DotId(g.nodes.front().name));
  for (const auto& e : g.edges) {
    out += fmt::format("  {} -> {}{};\n", DotId(e.from), DotId(e.to),
                       e.label.empty() ? "" : fmt::format(" [label={}{}]", DotId(e.label),
                                                          StartsWith(e.label, "Catch") ? ", style=dashed" : ""));
  }
  return out + "}\n";
}

std::string ToSvg(const StateGraph& g, const std::string& title) {
  // Layered layout of the definition's own states; a Parallel or Map box lists its nested states.
  constexpr int kBoxW = 220, kGapX = 40, kGapY = 56, kLine = 16, kTop = 48;
  std::map<int, std::vector<const GraphNode*>> layers;
  std::map<std::string, std::vector<const GraphNode*>> nested;
  for (const auto& n : g.nodes) {
    if (n.depth == 0) {
      layers[n.layer].push_back(&n);
    } else {
      nested[n.parent].push_back(&n);
    }
  }
  auto height = [&](const GraphNode& n) {
    auto it = nested.find(n.name);
    return 2 * kLine + 12 + (it == nested.end() ? 0 : static_cast<int>(it->second.size()) * kLine + 6);
  };
  struct Box {
    int x, y, w, h;
  };
  std::map<std::string, Box> boxes;
  size_t widest = 1;
  for (const auto& [layer, nodes] : layers) widest = std::max(widest, nodes.size());
  const int width = static_cast<int>(widest) * (kBoxW + kGapX) + kGapX + 160;
  int y = kTop;
  for (const auto& [layer, nodes] : layers) {
    int row_h = 0;
    const int row_w = static_cast<int>(nodes.size()) * (kBoxW + kGapX) - kGapX;
    int x = (width - 160 - row_w) / 2;
    for (const GraphNode* n : nodes) {
      const int h = height(*n);
      boxes[n->name] = {x, y, kBoxW, h};
      row_h = std::max(row_h, h);
      x += kBoxW + kGapX;
    }
    y += row_h + kGapY;
  }
  std::string out = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"Helvetica, Arial, sans-serif\">\n"
      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" "
      "orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#555\"/></marker></defs>\n"
      "<text x=\"16\" y=\"26\" font-size=\"15\" font-weight=\"bold\">{}</text>\n",
      width, y, Escape(title));
  const std::map<std::string, std::string> fills = {{"Task", "#dbeafe"}, {"Choice", "#fef3c7"}, {"Succeed", "#dcfce7"},
                                                    {"Fail", "#fee2e2"}, {"Parallel", "#ede9fe"}, {"Map", "#ede9fe"}};
  int loop_x = width - 140;
  for (const auto& e : g.edges) {
    auto from = boxes.find(e.from), to = boxes.find(e.to);
    if (from == boxes.end() || to == boxes.end()) continue;
    const Box& a = from->second;
    const Box& b = to->second;
    const std::string dash = StartsWith(e.label, "Catch") ? " stroke-dasharray=\"4 3\"" : "";
    if (!e.back) {
      const int x1 = a.x + a.w / 2, y1 = a.y + a.h, x2 = b.x + b.w / 2, y2 = b.y;
      out += fmt::format("<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"#555\"{} marker-end=\"url(#arrow)\"/>\n",
                         x1, y1, x2, y2, dash);
      if (!e.label.empty()) {
        out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#444\">{}</text>\n", (x1 + x2) / 2 + 4,
                           (y1 + y2) / 2, Escape(e.label));
      }
    } else {  // a loop: out of the right side, up the margin, into the target's right side
      loop_x += 8;
      const int y1 = a.y + a.h / 2, y2 = b.y + b.h / 2;
      out += fmt::format("<polyline points=\"{},{} {},{} {},{} {},{}\" fill=\"none\" stroke=\"#555\"{} "
                         "marker-end=\"url(#arrow)\"/>\n",
                         a.x + a.w, y1, loop_x, y1, loop_x, y2, b.x + b.w, y2, dash);
      if (!e.label.empty()) {
        out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#444\">{}</text>\n", a.x + a.w + 4, y1 - 4,
                           Escape(e.label));
      }
    }
  }
  for (const auto& [layer, nodes] : layers) {
    for (const GraphNode* n : nodes) {
      const Box& b = boxes[n->name];
      auto fill = fills.find(n->type);
      out += fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{}\" fill=\"{}\" stroke=\"#333\"/>\n", b.x,
                         b.y, b.w, b.h, n->type == "Choice" ? 14 : 4, fill == fills.end() ? "#f3f4f6" : fill->second);
      out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"13\" font-weight=\"bold\">{}</text>\n", b.x + 8,
                         b.y + kLine + 2, Escape(Short(n->name)));
      out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\" fill=\"#555\">{}</text>\n", b.x + 8, b.y + 2 * kLine + 2,
                         Escape(Short(n->detail.empty() ? n->type : n->type + " · " + n->detail, 36)));
      if (auto it = nested.find(n->name); it != nested.end()) {
        int ny = b.y + 2 * kLine + 8;
        for (const GraphNode* c : it->second) {
          ny += kLine;
          out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\">{}{} ({})</text>\n", b.x + 14, ny,
                             std::string(static_cast<size_t>(c->depth - 1) * 2, ' '), Escape(Short(c->name, 24)), c->type);
        }
      }
    }
  }
  return out + "</svg>\n";
}

const json& EventDetails(const json& event) {
  static const json kNone = json::object();
  for (const auto& [key, value] : event.items()) {
    if (EndsWith(key, "EventDetails")) return value;
  }
  return kNone;
}

std::map<std::string, StateProgress> ProgressFromHistory(const json& events) {
  std::map<std::string, StateProgress> progress;
  std::vector<std::string> open;  // states entered and not yet left, innermost last
  for (const auto& e : events) {
    const std::string type = e.value("type", "");
    const json& d = EventDetails(e);
    if (EndsWith(type, "StateEntered")) {
      const std::string name = d.value("name", "");
      StateProgress& p = progress[name];
      ++p.entered;
      p.status = StateProgress::Status::kRunning;
      p.note.clear();
      open.push_back(name);
    } else if (EndsWith(type, "StateExited")) {
      const std::string name = d.value("name", "");
      StateProgress& p = progress[name];
      ++p.exited;
      p.status = p.status == StateProgress::Status::kFailed ? StateProgress::Status::kCaught : StateProgress::Status::kSucceeded;
      if (auto it = std::find(open.rbegin(), open.rend(), name); it != open.rend()) open.erase(std::next(it).base());
    } else if ((type == "TaskFailed" || type == "TaskTimedOut") && !open.empty()) {
      progress[open.back()].status = StateProgress::Status::kFailed;
      progress[open.back()].note = d.value("error", "");
    } else if (type == "TaskSubmitted" && !open.empty()) {
      progress[open.back()].note = "submitted";
    } else if (type == "MapStateStarted" && !open.empty()) {
      StateProgress& p = progress[open.back()];
      p.iterations = d.value("length", 0);
      p.iterations_done = 0;
      p.note = fmt::format("0/{} iterations", p.iterations);
    } else if (type == "MapIterationSucceeded" || type == "MapIterationFailed") {
      StateProgress& p = progress[d.value("name", "")];
      p.note = fmt::format("{}/{} iterations", ++p.iterations_done, p.iterations);
    } else if (type == "ExecutionFailed" || type == "ExecutionTimedOut" || type == "ExecutionAborted") {
      for (const auto& name : open) {
        StateProgress& p = progress[name];
        p.status = StateProgress::Status::kFailed;
        if (p.note.empty() || p.note == "submitted") p.note = type == "ExecutionAborted" ? "aborted" : d.value("error", "");
      }
      open.clear();
    }
  }
  return progress;
}

std::vector<std::string> RenderTerminal(const StateGraph& g, const std::map<std::string, StateProgress>& progress,
                                        bool color) {
  auto paint = [&](const char* code, const std::string& text) {
    return color ? fmt::format("\033[{}m{}\033[0m", code, text) : text;
  };
  std::vector<std::string> lines;
  for (const auto& n : g.nodes) {
    StateProgress p;
    if (auto it = progress.find(n.name); it != progress.end()) p = it->second;
    std::string glyph;
    switch (p.status) {
      case StateProgress::Status::kNotStarted: glyph = paint("2", "○"); break;
      case StateProgress::Status::kRunning: glyph = paint("1;34", "▶"); break;
      case StateProgress::Status::kSucceeded: glyph = paint("32", "✔"); break;
      case StateProgress::Status::kFailed: glyph = paint("1;31", "✘"); break;
      case StateProgress::Status::kCaught: glyph = paint("33", "↷"); break;
    }
    std::string targets;
    for (const auto& e : g.edges) {
      if (e.from != n.name) continue;
      targets += (targets.empty() ? "→ " : ", ") + e.to + (e.label.empty() || e.label == "Default" ? "" : " [" + e.label + "]");
    }
    std::string line = fmt::format("{}{} {:<24} {:<9} {:<36} ", std::string(static_cast<size_t>(n.depth) * 4, ' '), glyph,
                                   Short(n.name, 24), n.type, Short(n.detail, 36));
    std::string status;
    if (p.entered > 1) status += fmt::format("×{} ", p.entered);
    status += p.note;
    if (!status.empty()) line += " " + paint("1", status) + " ";
    lines.push_back(line + paint("2", targets));
  }
  return lines;
}

}  // namespace loam::workflows
