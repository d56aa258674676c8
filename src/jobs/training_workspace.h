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
#include "jobs/runtimes.h"

namespace loam::jobs {

struct WorkspaceContext {
  const DataLocations* locations = nullptr;
  const RuntimeRegistry* runtimes = nullptr;
  bool sandbox = false;
  int machine_cpus = 1;
  int machine_gpus = 0;
  std::string tracking_uri;
  std::filesystem::path data_dir;  // hidden from sandboxed jobs
};

struct TrainingWorkspace {
  std::vector<std::string> hosts;                   // algo-1 ... algo-N
  std::vector<executors::ProcessSpec> processes;    // one per host, same order
};

// Paths of one job's files.
std::filesystem::path InstanceRoot(const std::filesystem::path& job_dir, const std::string& host);
std::filesystem::path InstanceLog(const std::filesystem::path& job_dir, const std::string& host);
std::filesystem::path InstanceExitFile(const std::filesystem::path& job_dir, const std::string& host);

std::vector<std::string> HostNames(int count);

// Checks what can be checked before a job is accepted (script mode entry point, input modes,
// data source kinds, URIs); InvalidArgument with SageMaker-style messages.
Status CheckTrainingRequest(const nlohmann::json& request, const DataLocations& locations);

// Stages everything and returns the processes to start. InvalidArgument describes a problem
// with the user's data or code (the job fails with it as a ClientError).
StatusOr<TrainingWorkspace> PrepareTrainingWorkspace(const nlohmann::json& doc, const std::filesystem::path& job_dir,
                                                     const std::string& run_id, const WorkspaceContext& ctx);

}  // namespace loam::jobs
