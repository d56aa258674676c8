#include "hosting/model_staging.h"

#include <fmt/format.h>

#include <cstdlib>

#include "jobs/archive.h"

namespace loam::hosting {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// Where a container's code is: SAGEMAKER_SUBMIT_DIRECTORY names an archive (s3:// or a local
// file) or a local directory; unset, or SageMaker's in-model default, means <model>/code.
StatusOr<fs::path> PrepareCode(const jobs::DataLocations& locations, const std::string& submit_dir,
                               const fs::path& dir, const fs::path& model_dir) {
  if (submit_dir.empty() || submit_dir.rfind("/opt/ml/model", 0) == 0) {
    return model_dir / (submit_dir.size() > 13 ? submit_dir.substr(14) : std::string("code"));
  }
  std::error_code ec;
  ASSIGN_OR_RETURN(jobs::DataLocation where, locations.Parse(submit_dir));
  if (!where.s3 && fs::is_directory(where.path, ec)) return where.path;
  const fs::path archive = dir / "sourcedir.tar.gz";
  Status fetched = locations.FetchFile(submit_dir, archive);
  if (!fetched.ok()) {
    return InvalidArgument(fmt::format("Could not read SAGEMAKER_SUBMIT_DIRECTORY {}: {}", submit_dir, fetched.message()));
  }
  const fs::path code = dir / "code";
  fs::create_directories(code, ec);
  RETURN_IF_ERROR(jobs::ExtractArchive(archive, code));
  fs::remove(archive, ec);
  return code;
}

}  // namespace

StatusOr<StagedModel> StageModel(const json& container, const fs::path& dir, const StagingContext& ctx) {
  StagedModel staged;
  staged.model_dir = dir / "model";
  std::error_code ec;
  fs::create_directories(staged.model_dir, ec);
  if (ec) return Internal(fmt::format("cannot create {}: {}", staged.model_dir.string(), ec.message()));
  const std::string model_data = container.value("ModelDataUrl", "");
  if (!model_data.empty()) {
    const fs::path archive = dir / "model.tar.gz";
    Status fetched = ctx.locations->FetchFile(model_data, archive);
    if (!fetched.ok()) {
      return InvalidArgument(fmt::format("Could not download model data from {}: {}", model_data, fetched.message()));
    }
    Status unpacked = jobs::ExtractArchive(archive, staged.model_dir);
    if (!unpacked.ok()) {
      return InvalidArgument(fmt::format("Model data {} is not a tar.gz archive: {}", model_data, unpacked.message()));
    }
    fs::remove(archive, ec);
  }
  const json environment = container.value("Environment", json::object());
  ASSIGN_OR_RETURN(staged.code_dir, PrepareCode(*ctx.locations, environment.value("SAGEMAKER_SUBMIT_DIRECTORY", ""), dir,
                                                staged.model_dir));
  const std::string image = container.value("Image", "");
  staged.runtime = &ctx.runtimes->Resolve(image);
  staged.env = jobs::BaseEnvironment();
  for (const auto& [k, val] : environment.items()) jobs::SetEnv(staged.env, k, val.get<std::string>());
  std::string pythonpath = ctx.toolkit_dir.string();
  if (const char* existing = std::getenv("PYTHONPATH"); existing && *existing) pythonpath += std::string(":") + existing;
  jobs::SetEnv(staged.env, "PYTHONPATH", pythonpath);
  jobs::SetEnv(staged.env, "SM_MODEL_DIR", staged.model_dir.string());
  jobs::SetEnv(staged.env, "LOAM_CODE_DIR", staged.code_dir.string());
  if (!ctx.tracking_uri.empty()) jobs::SetEnv(staged.env, "MLFLOW_TRACKING_URI", ctx.tracking_uri);
  // TensorFlow Serving images answer {"predictions": ...} whatever the request's shape.
  if (image.find("tensorflow") != std::string::npos) jobs::SetEnv(staged.env, "LOAM_RESPONSE_STYLE", "tfserving");
  return staged;
}

}  // namespace loam::hosting
