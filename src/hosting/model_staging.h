// What a SageMaker model's container needs before its model server can start, shared by
// endpoint instances and transform jobs: the model data unpacked, the inference code in place
// (SAGEMAKER_SUBMIT_DIRECTORY or <model>/code), and the command and environment of the runtime
// its image maps to, with Loam's inference toolkit on the Python path.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"
#include "jobs/data_locations.h"
#include "jobs/job_kind.h"
#include "jobs/runtimes.h"

namespace loam::hosting {

struct StagedModel {
  std::filesystem::path model_dir;  // <dir>/model: the model data, unpacked
  std::filesystem::path code_dir;   // where the handlers (SAGEMAKER_PROGRAM) are
  const jobs::Runtime* runtime = nullptr;
  jobs::Environment env;            // the container's Environment plus what the toolkit reads
};

struct StagingContext {
  const jobs::DataLocations* locations = nullptr;
  const jobs::RuntimeRegistry* runtimes = nullptr;
  std::filesystem::path toolkit_dir;  // put on PYTHONPATH
  std::string tracking_uri;
};

// Stages `container` (Image, ModelDataUrl, Environment) under `dir`. InvalidArgument for model
// data or code that cannot be fetched or unpacked: the user's problem, said in SageMaker's words.
StatusOr<StagedModel> StageModel(const nlohmann::json& container, const std::filesystem::path& dir,
                                 const StagingContext& ctx);

}  // namespace loam::hosting
