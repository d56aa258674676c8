// `loam workflow run DEF.json [--input IN.json] [--follow]`, `loam workflow follow ARN`,
// `loam workflow history ARN`, `loam workflow graph DEF.json [--format text|dot|svg]` and
// `loam workflow jsonata EXPR`:
// Step Functions state machines from a terminal, as clients of a server (graph needs none).
#pragma once

#include <CLI/CLI.hpp>

namespace loam::cli {

void AddWorkflowCommands(CLI::App& app);
// `loam workflow jsonata` (jsonata_command.cc).
void AddJsonataCommand(CLI::App& workflow);

}  // namespace loam::cli
