// `loam train -f job.yaml` (submit a training job, follow it like the SageMaker SDK's fit())
// and `loam logs [-f] JOB` (print or follow a job's captured output), as clients of a server.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "common/status.h"

namespace loam::cli {

void AddJobCommands(CLI::App& app);

// A job file (SageMaker's CreateTrainingJob fields in YAML, plus the shorthands entry_point
// and source_dir) as the CreateTrainingJob request; relative paths resolve against the file's
// directory. Exposed for tests.
StatusOr<nlohmann::json> TrainingRequestFromYaml(const std::filesystem::path& file, const std::string& name_override);

}  // namespace loam::cli
