// `loam workflow run DEF.json [--input IN.json] [--follow]`, `loam workflow follow ARN`,
// `loam workflow history ARN` and `loam workflow graph DEF.json [--format text|dot|svg]`:
// Step Functions state machines from a terminal, as clients of a server (graph needs none).
#pragma once

#include <CLI/CLI.hpp>

namespace loam::cli {

void AddWorkflowCommands(CLI::App& app);

}  // namespace loam::cli
