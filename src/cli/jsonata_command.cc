// `loam workflow jsonata EXPR [--input FILE | --input-json JSON] [--bind name=JSON ...]`: evaluates
// a JSONata expression as a JSONata state would, without a server, to try one out. With
// `--batch` it reads one case per line ({"expr", "input"?, "bindings"?}) and writes one outcome
// per line ({"result"} | {"undefined": true} | {"error", "message"}), which is how Loam's
// evaluator is checked against the reference implementation.
#include <fmt/format.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/workflow_commands.h"
#include "workflows/jsonata/jsonata.h"

namespace loam::cli {
namespace {

using nlohmann::json;

using ordered_json = nlohmann::ordered_json;

json ErrorOutcome(const Status& status) {
  const std::string& m = status.message();
  return {{"error", m.substr(0, m.find(':'))}, {"message", m}};
}

// JSON text is read with its keys in order, as JSONata keeps them ($keys, `*`, $string).
json Outcome(const std::string& expr, const ordered_json* input, const ordered_json& bindings) {
  auto compiled = jsonata::Expression::Compile(expr);
  if (!compiled.ok()) return ErrorOutcome(compiled.status());
  jsonata::Bindings bound;
  if (bindings.is_object()) {
    for (const auto& [name, value] : bindings.items()) bound.emplace(name, jsonata::FromJson(value));
  }
  jsonata::EvaluateOptions options;
  options.random_seed = 1;
  auto result = compiled->Evaluate(input ? jsonata::FromJson(*input) : jsonata::Value(), bound, options);
  if (!result.ok()) return ErrorOutcome(result.status());
  if (result->undefined()) return {{"undefined", true}};
  auto out = jsonata::ToJson(*result);
  if (!out.ok()) return ErrorOutcome(out.status());
  if (out->is_discarded()) return {{"undefined", true}};
  return {{"result", std::move(*out)}};
}

}  // namespace

void AddJsonataCommand(CLI::App& workflow) {
  struct Flags {
    std::string expression, input_file, input_json;
    std::vector<std::string> bindings;
    bool batch = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = workflow.add_subcommand("jsonata", "Evaluate a JSONata expression as a JSONata state would (no server needed)");
  cmd->add_option("expression", f->expression, "The expression, without {% %}");
  cmd->add_option("--input", f->input_file, "A JSON file to evaluate it against")->check(CLI::ExistingFile);
  cmd->add_option("--input-json", f->input_json, "JSON text to evaluate it against");
  cmd->add_option("--bind", f->bindings, "A variable, as name=JSON (e.g. states={\"input\":{...}})");
  cmd->add_flag("--batch", f->batch, "Read cases as JSON lines on standard input; write one outcome per line");
  cmd->callback([f] {
    if (f->batch) {
      std::string line;
      while (std::getline(std::cin, line)) {
        if (line.empty()) continue;
        const ordered_json c = ordered_json::parse(line, nullptr, false);
        if (c.is_discarded() || !c.is_object() || !c.contains("expr") || !c["expr"].is_string()) {
          std::cout << json{{"error", "BATCH"}, {"message", "a case must be a JSON object with an \"expr\" string"}}.dump() << "\n";
          continue;
        }
        const ordered_json* input = c.contains("input") ? &c["input"] : nullptr;
        const ordered_json bindings = c.contains("bindings") ? c["bindings"] : ordered_json::object();
        std::cout << Outcome(c["expr"].get<std::string>(), input, bindings).dump(-1, ' ', false, json::error_handler_t::replace)
                  << "\n";
      }
      std::exit(0);
    }
    if (f->expression.empty()) {
      std::cerr << "error: give an expression, or --batch\n";
      std::exit(2);
    }
    ordered_json input(ordered_json::value_t::discarded);
    if (!f->input_file.empty()) {
      std::ifstream in(f->input_file, std::ios::binary);
      std::stringstream text;
      text << in.rdbuf();
      input = ordered_json::parse(text.str(), nullptr, false);
      if (input.is_discarded()) {
        std::cerr << "error: " << f->input_file << " is not JSON\n";
        std::exit(2);
      }
    } else if (!f->input_json.empty()) {
      input = ordered_json::parse(f->input_json, nullptr, false);
      if (input.is_discarded()) {
        std::cerr << "error: --input-json is not JSON\n";
        std::exit(2);
      }
    }
    ordered_json bindings = ordered_json::object();
    for (const std::string& b : f->bindings) {
      const size_t eq = b.find('=');
      const ordered_json value =
          eq == std::string::npos ? ordered_json(ordered_json::value_t::discarded) : ordered_json::parse(b.substr(eq + 1), nullptr, false);
      if (value.is_discarded()) {
        std::cerr << "error: --bind takes name=JSON, not " << b << "\n";
        std::exit(2);
      }
      bindings[b.substr(0, eq)] = value;
    }
    const json outcome = Outcome(f->expression, input.is_discarded() ? nullptr : &input, bindings);
    if (outcome.contains("error")) {
      std::cerr << "error: " << outcome["message"].get<std::string>() << "\n";
      std::exit(1);
    }
    if (outcome.contains("undefined")) {
      std::cerr << "(undefined: the expression matched nothing)\n";
      std::exit(0);
    }
    std::cout << outcome["result"].dump(2, ' ', false, json::error_handler_t::replace) << "\n";
    std::exit(0);
  });
}

}  // namespace loam::cli
