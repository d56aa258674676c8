// The `loam` binary.
#include <CLI/CLI.hpp>

#include "main/server_command.h"

int main(int argc, char** argv) {
  CLI::App app{"Loam: the machine-learning lifecycle on your own machines"};
  app.require_subcommand(1);
  loam::AddServerCommand(app);
  CLI11_PARSE(app, argc, argv);
  return 0;
}
