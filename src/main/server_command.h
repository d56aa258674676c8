// `loam server`: the composition root. Maps flags to options and wires store, object
// store, services, adapters and the HTTP server.
#pragma once

#include <CLI/CLI.hpp>

namespace loam {

void AddServerCommand(CLI::App& app);

}  // namespace loam
