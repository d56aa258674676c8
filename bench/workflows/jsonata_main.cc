// loam_bench_jsonata: evaluates JSONata expressions with Loam's evaluator, as
// bench/workflows/jsonata_ref.mjs evaluates them with jsonata-js 2.0.6:
//   loam_bench_jsonata CASES.json REPS
// CASES.json is [{"name", "expr", "bindings"}]; each expression is compiled once and its
// bindings converted once (outside the timing), then evaluated REPS times. Prints one JSON line:
// per case, the seconds of each evaluation batch and the result of the last one.
#include <chrono>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "workflows/jsonata/jsonata.h"

int main(int argc, char** argv) {
  using nlohmann::json;
  using namespace loam::jsonata;
  if (argc != 3) {
    std::cerr << "usage: loam_bench_jsonata CASES.json REPS\n";
    return 2;
  }
  std::ifstream cases_file(argv[1]);
  const auto cases = nlohmann::ordered_json::parse(cases_file);
  const int reps = std::stoi(argv[2]);
  json out = json::array();
  for (const auto& c : cases) {
    auto expression = Expression::Compile(c["expr"].get<std::string>());
    if (!expression.ok()) {
      std::cerr << c["name"] << ": " << expression.status().message() << "\n";
      return 1;
    }
    Bindings bindings;
    for (const auto& [name, value] : c["bindings"].items()) bindings.emplace(name, FromJson(value));
    const int batch = c.value("batch", 100);  // evaluations per timed batch
    json seconds = json::array();
    Value result;
    for (int r = 0; r < reps; ++r) {
      const auto started = std::chrono::steady_clock::now();
      for (int i = 0; i < batch; ++i) {
        auto value = expression->Evaluate(Value(), bindings);
        if (!value.ok()) {
          std::cerr << c["name"] << ": " << value.status().message() << "\n";
          return 1;
        }
        result = std::move(*value);
      }
      seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count() / batch);
    }
    auto result_json = ToJson(result);
    out.push_back({{"name", c["name"]}, {"seconds", seconds}, {"result", result_json.ok() ? *result_json : json()}});
  }
  std::cout << json{{"cases", out}}.dump() << "\n";
  return 0;
}
