// The `loam` binary.
#include <CLI/CLI.hpp>

#include <cstring>

#include "cli/job_commands.h"
#include "cli/workflow_commands.h"
#include "executors/supervisor.h"
#include "main/server_command.h"

int main(int argc, char** argv) {
  // The job supervisor starts with every job process: it skips the CLI parser.
  if (argc > 1 && std::strcmp(argv[1], loam::executors::kSuperviseCommand) == 0) {
    return loam::executors::SuperviseMain(argc, argv);
  }
  CLI::App app{"Loam: the machine-learning lifecycle on your own machines"};
  app.require_subcommand(1);
  loam::AddServerCommand(app);
  loam::cli::AddJobCommands(app);
  loam::cli::AddWorkflowCommands(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
