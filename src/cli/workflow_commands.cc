#include "cli/workflow_commands.h"

#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "cli/http_client.h"
#include "common/ids.h"
#include "workflows/graph.h"

namespace loam::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kRole = "arn:aws:iam::000000000000:role/loam-workflows";
constexpr std::chrono::milliseconds kPoll{500};

StatusOr<json> CallSfn(const HttpClient& client, const std::string& operation, const json& input) {
  return CallAwsJson(client, "AWSStepFunctions.", "application/x-amz-json-1.0", operation, input);
}

[[noreturn]] void Die(const std::string& message, int code = 1) {
  std::cerr << "error: " << message << "\n";
  std::exit(code);
}

HttpClient ClientOrDie(const std::string& endpoint) {
  auto client = HttpClient::Create(endpoint);
  if (!client.ok()) Die(client.status().message(), 2);
  return std::move(client).value();
}

StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot read {}", path));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

StatusOr<json> ReadJsonFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  json parsed = json::parse(text, nullptr, false);
  if (parsed.is_discarded()) return InvalidArgument(fmt::format("{} is not valid JSON", path));
  return parsed;
}

// Every event of an execution, oldest first.
StatusOr<json> History(const HttpClient& client, const std::string& execution) {
  json events = json::array();
  std::string token;
  while (true) {
    json request = {{"executionArn", execution}, {"maxResults", 1000}};
    if (!token.empty()) request["nextToken"] = token;
    ASSIGN_OR_RETURN(json page, CallSfn(client, "GetExecutionHistory", request));
    for (auto& e : page["events"]) events.push_back(std::move(e));
    token = page.value("nextToken", "");
    if (token.empty()) return events;
  }
}

// Follows an execution to its end, drawing the machine with each state's status: redrawn in
// place on a terminal, one line per change otherwise. Returns the final DescribeExecution.
StatusOr<json> Follow(const HttpClient& client, const std::string& execution, const json& definition) {
  const workflows::StateGraph graph = workflows::BuildGraph(definition);
  const bool tty = ::isatty(STDOUT_FILENO) != 0;
  size_t drawn = 0;
  std::vector<std::string> last;
  while (true) {
    ASSIGN_OR_RETURN(json described, CallSfn(client, "DescribeExecution", {{"executionArn", execution}}));
    ASSIGN_OR_RETURN(json events, History(client, execution));
    const auto lines = workflows::RenderTerminal(graph, workflows::ProgressFromHistory(events), tty);
    const std::string status = described.value("status", "");
    if (tty) {
      if (drawn > 0) std::cout << fmt::format("\033[{}F", drawn);  // back to the first line drawn
      for (const auto& line : lines) std::cout << "\033[2K" << line << "\n";
      std::cout << "\033[2K" << fmt::format("{} · {} events", status, events.size()) << "\n" << std::flush;
      drawn = lines.size() + 1;
    } else {
      for (size_t i = 0; i < lines.size(); ++i) {
        if (i >= last.size() || last[i] != lines[i]) std::cout << lines[i] << "\n";
      }
      std::cout << std::flush;
      last = lines;
    }
    if (status != "RUNNING") return described;
    std::this_thread::sleep_for(kPoll);
  }
}

int Report(const json& described) {
  const std::string status = described.value("status", "");
  std::cout << fmt::format("{} {}\n", described.value("executionArn", ""), status);
  if (described.contains("output")) std::cout << described["output"].get<std::string>() << "\n";
  if (described.contains("error")) {
    std::cout << fmt::format("error: {}\ncause: {}\n", described.value("error", ""), described.value("cause", ""));
  }
  return status == "SUCCEEDED" ? 0 : 1;
}

void PrintHistory(const json& events) {
  std::cout << fmt::format("{:>5}  {:<24}  {:<30}  {:<24}  {}\n", "id", "time", "type", "state / resource", "detail");
  for (const auto& e : events) {
    const json& details = workflows::EventDetails(e);
    const std::string where = details.value("name", details.value("resource", ""));
    std::string detail = details.value("error", "");
    for (const char* field : {"output", "input"}) {
      if (detail.empty() && details.contains(field)) detail = details[field].get<std::string>();
    }
    if (detail.size() > 60) detail = detail.substr(0, 59) + "…";
    const double ts = e.value("timestamp", 0.0);
    std::cout << fmt::format("{:>5}  {:<24}  {:<30}  {:<24}  {}\n", e.value("id", 0),
                             IsoTime(static_cast<int64_t>(ts * 1000.0 + 0.5)), e.value("type", ""), where, detail);
  }
}

}  // namespace

void AddWorkflowCommands(CLI::App& app) {
  CLI::App* workflow = app.add_subcommand("workflow", "Run, follow and draw Step Functions state machines");
  AddJsonataCommand(*workflow);
  workflow->require_subcommand(1);

  struct RunFlags {
    std::string file, input_file, input_json, name, execution, role = kRole, endpoint = DefaultEndpoint();
    bool follow = false;
  };
  auto rf = std::make_shared<RunFlags>();
  CLI::App* run = workflow->add_subcommand("run", "Create (or update) a state machine from a definition file and start an execution");
  run->add_option("definition", rf->file, "Amazon States Language definition (JSON)")->required()->check(CLI::ExistingFile);
  run->add_option("--input", rf->input_file, "Execution input file (JSON)")->check(CLI::ExistingFile);
  run->add_option("--input-json", rf->input_json, "Execution input as JSON text");
  run->add_option("--name", rf->name, "State machine name (default: the file's name)");
  run->add_option("--execution", rf->execution, "Execution name (default: a UUID)");
  run->add_option("--role", rf->role, "roleArn of the state machine");
  run->add_flag("-f,--follow", rf->follow, "Draw the machine with each state's live status until the execution ends");
  run->add_option("--endpoint", rf->endpoint, "Loam server (default $LOAM_ENDPOINT or http://127.0.0.1:7070)");
  run->callback([rf] {
    const HttpClient client = ClientOrDie(rf->endpoint);
    auto text = ReadFile(rf->file);
    if (!text.ok()) Die(text.status().message(), 2);
    json definition = json::parse(*text, nullptr, false);
    if (definition.is_discarded()) Die(rf->file + " is not valid JSON", 2);
    std::string input = "{}";
    if (!rf->input_file.empty()) {
      auto in = ReadJsonFile(rf->input_file);
      if (!in.ok()) Die(in.status().message(), 2);
      input = in->dump();
    } else if (!rf->input_json.empty()) {
      json in = json::parse(rf->input_json, nullptr, false);
      if (in.is_discarded()) Die("--input-json is not valid JSON", 2);
      input = in.dump();
    }
    const std::string name = rf->name.empty() ? fs::path(rf->file).stem().string() : rf->name;
    auto created = CallSfn(client, "CreateStateMachine", {{"name", name}, {"definition", *text}, {"roleArn", rf->role}});
    std::string machine;
    if (created.ok()) {
      machine = (*created)["stateMachineArn"].get<std::string>();
    } else if (created.status().message().rfind("StateMachineAlreadyExists", 0) == 0) {
      // The file changed since the machine was made from it: the machine follows the file.
      const std::string message = created.status().message();
      const size_t open = message.find('\''), close = message.rfind('\'');
      machine = message.substr(open + 1, close - open - 1);
      auto updated = CallSfn(client, "UpdateStateMachine", {{"stateMachineArn", machine}, {"definition", *text}, {"roleArn", rf->role}});
      if (!updated.ok()) Die(updated.status().message());
      std::cerr << fmt::format("[loam] updated {}\n", machine);
    } else {
      Die(created.status().message());
    }
    json start = {{"stateMachineArn", machine}, {"input", input}};
    if (!rf->execution.empty()) start["name"] = rf->execution;
    auto started = CallSfn(client, "StartExecution", start);
    if (!started.ok()) Die(started.status().message());
    const std::string execution = (*started)["executionArn"].get<std::string>();
    std::cerr << fmt::format("[loam] started {}\n", execution);
    if (!rf->follow) {
      std::cout << execution << "\n";
      std::exit(0);
    }
    auto described = Follow(client, execution, definition);
    if (!described.ok()) Die(described.status().message());
    std::exit(Report(*described));
  });

  struct FollowFlags {
    std::string execution, endpoint = DefaultEndpoint();
  };
  auto ff = std::make_shared<FollowFlags>();
  CLI::App* follow = workflow->add_subcommand("follow", "Draw a running execution's machine with each state's live status");
  follow->add_option("execution", ff->execution, "Execution ARN")->required();
  follow->add_option("--endpoint", ff->endpoint, "Loam server (default $LOAM_ENDPOINT or http://127.0.0.1:7070)");
  follow->callback([ff] {
    const HttpClient client = ClientOrDie(ff->endpoint);
    auto machine = CallSfn(client, "DescribeStateMachineForExecution", {{"executionArn", ff->execution}});
    if (!machine.ok()) Die(machine.status().message());
    auto described = Follow(client, ff->execution, json::parse((*machine)["definition"].get<std::string>()));
    if (!described.ok()) Die(described.status().message());
    std::exit(Report(*described));
  });

  auto hf = std::make_shared<FollowFlags>();
  CLI::App* history = workflow->add_subcommand("history", "Print an execution's history as a table");
  history->add_option("execution", hf->execution, "Execution ARN")->required();
  history->add_option("--endpoint", hf->endpoint, "Loam server (default $LOAM_ENDPOINT or http://127.0.0.1:7070)");
  history->callback([hf] {
    const HttpClient client = ClientOrDie(hf->endpoint);
    auto events = History(client, hf->execution);
    if (!events.ok()) Die(events.status().message());
    PrintHistory(*events);
    std::exit(0);
  });

  struct GraphFlags {
    std::string file, format = "text", out;
  };
  auto gf = std::make_shared<GraphFlags>();
  CLI::App* graph = workflow->add_subcommand("graph", "Draw a definition as text, Graphviz DOT or SVG (no server needed)");
  graph->add_option("definition", gf->file, "Amazon States Language definition (JSON)")->required()->check(CLI::ExistingFile);
  graph->add_option("--format", gf->format, "text, dot or svg (default text)")->check(CLI::IsMember({"text", "dot", "svg"}));
  graph->add_option("-o,--output", gf->out, "Write to this file instead of standard output");
  graph->callback([gf] {
    auto definition = ReadJsonFile(gf->file);
    if (!definition.ok()) Die(definition.status().message(), 2);
    const workflows::StateGraph g = workflows::BuildGraph(*definition);
    const std::string title = fs::path(gf->file).stem().string();
    std::string text;
    if (gf->format == "dot") {
      text = workflows::ToDot(g, title);
    } else if (gf->format == "svg") {
      text = workflows::ToSvg(g, title);
    } else {
      for (const auto& line : workflows::RenderTerminal(g, {}, gf->out.empty() && ::isatty(STDOUT_FILENO))) text += line + "\n";
    }
    if (gf->out.empty()) {
      std::cout << text;
    } else {
      std::ofstream(gf->out, std::ios::binary) << text;
    }
    std::exit(0);
  });
}

}  // namespace loam::cli
