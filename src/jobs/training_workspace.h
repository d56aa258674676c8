// Lays out a training job on disk exactly as SageMaker's container sees it (one /opt/ml per
// instance: input/config, input/data/<channel>, model, output, checkpoints, code) and
// builds each instance's command line and sagemaker-training-toolkit environment.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "executors/executor.h"
#include "jobs/data_locations.h"
#include "jobs/job_kind.h"

namespace loam::jobs {

// Checks what can be checked before a job is accepted (script mode entry point, input modes,
// data source kinds, URIs); InvalidArgument with SageMaker-style messages.
Status CheckTrainingRequest(const nlohmann::json& request, const DataLocations& locations);

// Stages everything and returns the processes to start. InvalidArgument describes a problem
// with the user's data or code (the job fails with it as a ClientError).
StatusOr<PreparedJob> PrepareTrainingWorkspace(const nlohmann::json& doc, const std::filesystem::path& job_dir,
                                               const std::string& run_id, const WorkspaceContext& ctx);

}  // namespace loam::jobs
