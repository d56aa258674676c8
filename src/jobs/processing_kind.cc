#include "jobs/processing_kind.h"

#include <fmt/format.h>

#include <algorithm>

#include "jobs/resources.h"

namespace loam::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kMlRoot = "/opt/ml";
const std::string kProcessingRoot = "/opt/ml/processing/";

// Where a container path (/opt/ml/processing/...) lives in an instance's directory.
fs::path HostPathOf(const fs::path& instance_root, const std::string& container_path) {
  return instance_root / fs::path(container_path).lexically_relative(kMlRoot);
}

Status CheckLocalPath(const std::string& what, const std::string& local_path) {
  fs::path p = fs::path(local_path).lexically_normal();
  if (local_path.rfind(kProcessingRoot, 0) != 0 || p.string().rfind(kProcessingRoot, 0) != 0 ||
      local_path.find("/../") != std::string::npos) {
    return InvalidArgument(fmt::format("{}: LocalPath {} must be a path under /opt/ml/processing/.", what, local_path));
  }
  return Status::Ok();
}

}  // namespace

Status CheckProcessingRequest(const json& request, const DataLocations& locations) {
  const json& app = request["AppSpecification"];
  if (!app.contains("ContainerEntrypoint")) {
    return InvalidArgument(
        "AppSpecification.ContainerEntrypoint is required: Loam runs the entry point a processing job names "
        "(the SageMaker SDK's processors always send one).");
  }
  std::vector<std::string> names, paths;
  for (const auto& in : request.value("ProcessingInputs", json::array())) {
    std::string name = in.value("InputName", "");
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return InvalidArgument(fmt::format("Input names must be unique: {} appears twice.", name));
    }
    names.push_back(name);
    if (in.value("AppManaged", false)) continue;
    if (!in.contains("S3Input")) {
      return InvalidArgument(fmt::format("Input {}: only S3Input inputs are supported.", name));
    }
    const json& s3 = in["S3Input"];
    if (s3.value("S3DataType", "S3Prefix") != "S3Prefix") {
      return InvalidArgument(fmt::format("Input {}: S3DataType {} is not supported; use S3Prefix.", name,
                                         s3.value("S3DataType", "")));
    }
    if (s3.value("S3InputMode", "File") != "File") {
      return InvalidArgument(fmt::format("Input {}: S3InputMode Pipe is not supported; use File.", name));
    }
    if (s3.value("S3CompressionType", "None") != "None") {
      return InvalidArgument(fmt::format("Input {}: S3CompressionType Gzip is not supported.", name));
    }
    RETURN_IF_ERROR(CheckLocalPath("Input " + name, s3.value("LocalPath", "")));
    RETURN_IF_ERROR(locations.Parse(s3.value("S3Uri", "")).status());
    paths.push_back(s3.value("LocalPath", ""));
  }
  names.clear();
  if (request.contains("ProcessingOutputConfig")) {
    for (const auto& out : request["ProcessingOutputConfig"].value("Outputs", json::array())) {
      std::string name = out.value("OutputName", "");
      if (std::find(names.begin(), names.end(), name) != names.end()) {
        return InvalidArgument(fmt::format("Output names must be unique: {} appears twice.", name));
      }
      names.push_back(name);
      if (out.value("AppManaged", false)) continue;
      if (!out.contains("S3Output")) {
        return InvalidArgument(fmt::format("Output {}: only S3Output outputs are supported.", name));
      }
      RETURN_IF_ERROR(CheckLocalPath("Output " + name, out["S3Output"].value("LocalPath", "")));
      RETURN_IF_ERROR(locations.Parse(out["S3Output"].value("S3Uri", "")).status());
    }
  }
  return Status::Ok();
}

int ProcessingKind::instance_count(const json& doc) const {
  return doc["ProcessingResources"]["ClusterConfig"].value("InstanceCount", 1);
}

std::string ProcessingKind::instance_type(const json& doc) const {
  return doc["ProcessingResources"]["ClusterConfig"].value("InstanceType", "local");
}

double ProcessingKind::max_runtime_seconds(const json& doc) const {
  return doc.value("StoppingCondition", json::object()).value("MaxRuntimeInSeconds", 86400);
}

std::vector<tracking::Param> ProcessingKind::RunParams(const json& doc) const {
  // `--name value` pairs of the container's arguments, as the processor script reads them.
  std::vector<tracking::Param> params;
  auto args = doc["AppSpecification"].value("ContainerArguments", std::vector<std::string>{});
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind("--", 0) != 0 || args[i].size() <= 2) continue;
    std::string key = args[i].substr(2);
    std::string value = i + 1 < args.size() && args[i + 1].rfind("--", 0) != 0 ? args[++i] : "true";
    if (std::none_of(params.begin(), params.end(), [&](const tracking::Param& p) { return p.key == key; })) {
      params.push_back({key.substr(0, 250), value.substr(0, 6000)});
    }
  }
  return params;
}

StatusOr<PreparedJob> ProcessingKind::Prepare(const json& doc, const fs::path& job_dir, const std::string& run_id,
                                              const WorkspaceContext& ctx) const {
  const DataLocations& locations = *ctx.locations;
  const json& app = doc["AppSpecification"];
  const std::string type = instance_type(doc);
  PreparedJob job;
  job.hosts = HostNames(instance_count(doc));
  const Runtime& runtime = ctx.runtimes->Resolve(app.value("ImageUri", ""));

  struct Input {
    std::string local_path;
    bool sharded;
    std::vector<DataLocations::InputFile> files;
  };
  std::vector<Input> inputs;
  for (const auto& in : doc.value("ProcessingInputs", json::array())) {
    if (!in.contains("S3Input")) continue;
    const json& s3 = in["S3Input"];
    Input input{s3["LocalPath"].get<std::string>(), s3.value("S3DataDistributionType", "FullyReplicated") == "ShardedByS3Key", {}};
    ASSIGN_OR_RETURN(input.files, locations.ListInputs(s3["S3Uri"].get<std::string>()));
    inputs.push_back(std::move(input));
  }
  std::vector<std::string> output_paths;
  if (doc.contains("ProcessingOutputConfig")) {
    for (const auto& out : doc["ProcessingOutputConfig"].value("Outputs", json::array())) {
      if (out.contains("S3Output")) output_paths.push_back(out["S3Output"]["LocalPath"].get<std::string>());
    }
  }

  json config = doc;
  config.erase("_loam");
  for (size_t i = 0; i < job.hosts.size(); ++i) {
    const std::string& host = job.hosts[i];
    const fs::path root = InstanceRoot(job_dir, host);
    std::error_code ec;
    for (const char* sub : {"config", "processing", "output"}) fs::create_directories(root / sub, ec);
    fs::create_directories(job_dir / "logs", ec);
    json resource_config = {{"current_host", host},
                            {"current_instance_type", type},
                            {"current_group_name", "homogeneousCluster"},
                            {"hosts", job.hosts},
                            {"network_interface_name", "eth0"}};
    RETURN_IF_ERROR(WriteJsonFile(root / "config" / "processingjobconfig.json", config));
    RETURN_IF_ERROR(WriteJsonFile(root / "config" / "resourceconfig.json", resource_config));
    for (const auto& input : inputs) {
      std::vector<DataLocations::InputFile> mine;
      for (size_t f = 0; f < input.files.size(); ++f) {
        if (!input.sharded || f % job.hosts.size() == i) mine.push_back(input.files[f]);
      }
      fs::create_directories(HostPathOf(root, input.local_path), ec);
      RETURN_IF_ERROR(locations.PlaceFiles(mine, HostPathOf(root, input.local_path), /*link=*/false));
    }
    for (const auto& path : output_paths) fs::create_directories(HostPathOf(root, path), ec);

    // Without the sandbox there is no /opt/ml: container paths in the command line point
    // into the instance's directory instead.
    auto place = [&](const std::string& arg) {
      if (ctx.sandbox || arg.rfind("/opt/ml/", 0) != 0) return arg;
      return HostPathOf(root, arg).string();
    };
    executors::ProcessSpec spec;
    for (const auto& a : app["ContainerEntrypoint"]) spec.argv.push_back(place(a.get<std::string>()));
    if (!spec.argv.empty() && (spec.argv[0] == "python3" || spec.argv[0] == "python")) spec.argv[0] = runtime.python;
    for (const auto& a : app.value("ContainerArguments", json::array())) spec.argv.push_back(place(a.get<std::string>()));
    Environment env = BaseEnvironment();
    SetEnv(env, "MLFLOW_TRACKING_URI", ctx.tracking_uri);
    SetEnv(env, "MLFLOW_RUN_ID", run_id);
    SetEnv(env, "PROCESSING_JOB_NAME", doc["ProcessingJobName"].get<std::string>());
    const json user_env = doc.value("Environment", json::object());
    for (const auto& [k, v] : user_env.items()) SetEnv(env, k, v.get<std::string>());
    spec.env = std::move(env);
    spec.cwd = ctx.sandbox ? fs::path("/opt/ml/processing") : root / "processing";
    spec.log_file = InstanceLog(job_dir, host);
    spec.exit_file = InstanceExitFile(job_dir, host);
    spec.sandbox.enabled = ctx.sandbox;
    spec.sandbox.ml_root = root;
    spec.sandbox.hidden = {ctx.data_dir};
    spec.sandbox.isolate_network = doc.value("NetworkConfig", json::object()).value("EnableNetworkIsolation", false);
    job.processes.push_back(std::move(spec));
  }
  return job;
}

std::string ProcessingKind::Upload(const json& doc, json&, const fs::path& job_dir,
                                   const std::vector<std::string>& hosts, const JobOutcome& outcome,
                                   const DataLocations& locations, tracking::TrackingService& tracking,
                                   const std::string& run_id) const {
  if (outcome.kind != JobOutcome::Kind::kCompleted || !doc.contains("ProcessingOutputConfig")) return {};
  // Every instance's files land under the output's URI, as each container uploads its own.
  for (const auto& out : doc["ProcessingOutputConfig"].value("Outputs", json::array())) {
    if (!out.contains("S3Output")) continue;
    const std::string uri = out["S3Output"]["S3Uri"].get<std::string>();
    for (const auto& host : hosts) {
      fs::path source = HostPathOf(InstanceRoot(job_dir, host), out["S3Output"]["LocalPath"].get<std::string>());
      std::error_code ec;
      if (!fs::is_directory(source, ec)) continue;
      if (Status s = locations.UploadTree(source, uri); !s.ok()) {
        return fmt::format("InternalServerError: uploading output {} failed: {}", out.value("OutputName", ""),
                           s.message());
      }
    }
    (void)tracking.SetTag(run_id, {"sagemaker.output." + out.value("OutputName", ""), uri});
  }
  return {};
}

void ProcessingKind::Finish(json& doc, const JobOutcome& outcome, double now) const {
  switch (outcome.kind) {
    case JobOutcome::Kind::kCompleted: doc["ProcessingJobStatus"] = "Completed"; break;
    case JobOutcome::Kind::kFailed: doc["ProcessingJobStatus"] = "Failed"; break;
    case JobOutcome::Kind::kStopped: doc["ProcessingJobStatus"] = "Stopped"; break;
  }
  doc["ProcessingEndTime"] = now;
  if (outcome.kind == JobOutcome::Kind::kStopped && outcome.stop_reason == "max_runtime") {
    doc["ExitMessage"] = "Stopped: MaxRuntimeInSeconds reached";
  }
  if (!outcome.failure.empty()) doc["FailureReason"] = outcome.failure.substr(0, 1024);
}

}  // namespace loam::jobs
