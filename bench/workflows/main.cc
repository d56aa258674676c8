// loam_bench_workflows: runs a definition with Loam's States Language interpreter in process,
// as bench/workflows/local_sfn.mjs runs it with aws-local-stepfunctions:
//   loam_bench_workflows DEFINITION.json INPUT.json REPS
// prints one JSON line: the seconds of each run (validation once, outside the timing), the
// states entered per run, and the execution's output of the last run.
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "workflows/state_machine.h"

int main(int argc, char** argv) {
  using nlohmann::json;
  if (argc != 4) {
    std::cerr << "usage: loam_bench_workflows DEFINITION.json INPUT.json REPS\n";
    return 2;
  }
  std::ifstream definition_file(argv[1]), input_file(argv[2]);
  const json definition = json::parse(definition_file);
  const json input = json::parse(input_file);
  if (auto valid = loam::workflows::ValidateDefinition(definition); !valid.ok()) {
    std::cerr << valid.message() << "\n";
    return 1;
  }
  loam::workflows::ExecutionEnvironment env;
  env.max_events = 10'000'000;  // the history limit is the server's; the interpreter is measured here
  env.now_ms = [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  };
  // As the server runs an execution: the history goes to `record` in batches (here it is only
  // counted), not kept in memory.
  size_t entered = 0;
  env.keep_history = false;
  env.record = [&entered](const std::vector<loam::workflows::HistoryEvent>& events) {
    for (const auto& e : events) entered += loam::EndsWith(e.type, "StateEntered") ? 1 : 0;
    return true;
  };
  json seconds = json::array();
  json output;
  const int reps = std::stoi(argv[3]);
  for (int r = 0; r < reps; ++r) {
    const auto started = std::chrono::steady_clock::now();
    loam::workflows::ExecutionResult result = loam::workflows::Execute(definition, input, env);
    seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    if (result.status != loam::workflows::ExecutionResult::Status::kSucceeded) {
      std::cerr << "execution failed: " << result.error << ": " << result.cause << "\n";
      return 1;
    }
    output = std::move(result.output);
  }
  std::cout << json{{"seconds", seconds}, {"states_entered", entered / static_cast<size_t>(reps)}, {"output", output}}.dump() << "\n";
  return 0;
}
