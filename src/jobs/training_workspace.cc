#include "jobs/training_workspace.h"

#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>

#include "jobs/archive.h"
#include "jobs/resources.h"
#include "jobs/script_mode.h"

namespace loam::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kInstanceGroup = "homogeneousCluster";

std::string InputModeOf(const json& doc, const json& channel) {
  if (channel.contains("InputMode")) return channel["InputMode"].get<std::string>();
  return doc["AlgorithmSpecification"].value("TrainingInputMode", "File");
}

// The toolkit's entry point command: python for .py, sh for .sh, else the file itself.
std::vector<std::string> EntryPointCommand(const std::string& program, const std::string& python) {
  auto ends_with = [&](const char* suffix) {
    std::string s(suffix);
    return program.size() >= s.size() && program.compare(program.size() - s.size(), s.size(), s) == 0;
  };
  if (ends_with(".py")) return {python, program};
  if (ends_with(".sh")) return {"/bin/sh", program};
  return {"./" + program};
}

std::string ModuleName(const std::string& program) {
  auto dot = program.rfind(".py");
  return dot != std::string::npos && dot + 3 == program.size() ? program.substr(0, dot) : program;
}

Status StageCode(const json& sagemaker_hps, const DataLocations& locations, const fs::path& code_dir) {
  if (!sagemaker_hps.contains("sagemaker_submit_directory")) return Status::Ok();
  std::string uri = PythonStr(sagemaker_hps["sagemaker_submit_directory"]);
  ASSIGN_OR_RETURN(DataLocation location, locations.Parse(uri));
  std::error_code ec;
  if (!location.s3 && fs::is_directory(location.path, ec)) return CopyTree(location.path, code_dir);
  if (!location.s3 && fs::is_regular_file(location.path, ec)) return ExtractArchive(location.path, code_dir);
  // An archive (sourcedir.tar.gz, as the SDK uploads it) or, failing that, a prefix of files.
  fs::path archive = code_dir.parent_path() / "sourcedir.tar.gz";
  Status fetched = locations.FetchFile(uri, archive);
  if (fetched.ok()) {
    Status extracted = ExtractArchive(archive, code_dir);
    fs::remove(archive, ec);
    return extracted;
  }
  if (fetched.code() != StatusCode::kNotFound) return fetched;
  ASSIGN_OR_RETURN(auto files, locations.ListPrefix(uri));
  if (files.empty()) return InvalidArgument(fmt::format("sagemaker_submit_directory {} does not exist", uri));
  return locations.PlaceFiles(files, code_dir, /*link=*/false);
}

}  // namespace

Status CheckTrainingRequest(const json& request, const DataLocations& locations) {
  const json& algo = request.value("AlgorithmSpecification", json::object());
  if (algo.contains("AlgorithmName")) {
    return InvalidArgument("AlgorithmName is not supported: Loam runs training images (TrainingImage) in script mode.");
  }
  if (!algo.contains("TrainingImage")) {
    return InvalidArgument("AlgorithmSpecification.TrainingImage is required.");
  }
  auto hps = SplitHyperparameters(request.value("HyperParameters", json::object()));
  if (!hps.sagemaker.contains("sagemaker_program") && !algo.contains("ContainerEntrypoint")) {
    return InvalidArgument(
        "Loam runs script-mode training: HyperParameters must name the entry point (sagemaker_program), "
        "or AlgorithmSpecification must give a ContainerEntrypoint.");
  }
  if (algo.value("TrainingInputMode", "File") == "Pipe") {
    return InvalidArgument("TrainingInputMode Pipe is not supported; use File or FastFile.");
  }
  std::vector<std::string> names;
  for (const auto& ch : request.value("InputDataConfig", json::array())) {
    std::string name = ch.value("ChannelName", "");
    if (std::find(names.begin(), names.end(), name) != names.end()) {
      return InvalidArgument(fmt::format("Channel names must be unique: {} appears twice.", name));
    }
    names.push_back(name);
    if (ch.value("InputMode", "File") == "Pipe") {
      return InvalidArgument(fmt::format("Channel {}: InputMode Pipe is not supported; use File or FastFile.", name));
    }
    const json& source = ch.value("DataSource", json::object());
    if (!source.contains("S3DataSource")) {
      return InvalidArgument(fmt::format("Channel {}: only S3DataSource data sources are supported.", name));
    }
    const json& s3 = source["S3DataSource"];
    if (s3.value("S3DataType", "S3Prefix") != "S3Prefix") {
      return InvalidArgument(fmt::format("Channel {}: S3DataType {} is not supported; use S3Prefix.", name,
                                         s3.value("S3DataType", "")));
    }
    RETURN_IF_ERROR(locations.Parse(s3.value("S3Uri", "")).status());
  }
  RETURN_IF_ERROR(locations.Parse(request["OutputDataConfig"].value("S3OutputPath", "")).status());
  if (request.contains("CheckpointConfig")) {
    RETURN_IF_ERROR(locations.Parse(request["CheckpointConfig"].value("S3Uri", "")).status());
  }
  return Status::Ok();
}

StatusOr<PreparedJob> PrepareTrainingWorkspace(const json& doc, const fs::path& job_dir, const std::string& run_id,
                                                     const WorkspaceContext& ctx) {
  const DataLocations& locations = *ctx.locations;
  const json& algo = doc["AlgorithmSpecification"];
  const json& resources = doc["ResourceConfig"];
  const std::string instance_type = resources.value("InstanceType", "local");
  const InstanceShape shape = ShapeOf(instance_type, ctx.machine_gpus);
  const int num_cpus = instance_type.rfind("local", 0) == 0 ? ctx.machine_cpus : std::min(shape.vcpus, ctx.machine_cpus);
  PreparedJob ws;
  ws.hosts = HostNames(resources.value("InstanceCount", 1));

  const json raw_hps = doc.value("HyperParameters", json::object());
  const Hyperparameters hps = SplitHyperparameters(raw_hps);
  const std::string program = hps.sagemaker.contains("sagemaker_program") ? PythonStr(hps.sagemaker["sagemaker_program"]) : "";
  const std::string submit_dir =
      hps.sagemaker.contains("sagemaker_submit_directory") ? PythonStr(hps.sagemaker["sagemaker_submit_directory"]) : "";
  const Runtime& runtime = ctx.runtimes->Resolve(algo.value("TrainingImage", ""));

  // Channels: every instance gets all files (FullyReplicated) or its deal of them (ShardedByS3Key).
  json input_data_config = json::object();
  std::vector<std::string> channel_names;
  struct ChannelFiles {
    std::string name;
    bool link;
    bool sharded;
    std::vector<DataLocations::InputFile> files;
  };
  std::vector<ChannelFiles> channels;
  for (const auto& ch : doc.value("InputDataConfig", json::array())) {
    const json& s3 = ch["DataSource"]["S3DataSource"];
    ChannelFiles c;
    c.name = ch["ChannelName"].get<std::string>();
    std::string mode = InputModeOf(doc, ch);
    c.link = mode == "FastFile";
    std::string distribution = s3.value("S3DataDistributionType", "FullyReplicated");
    c.sharded = distribution == "ShardedByS3Key";
    ASSIGN_OR_RETURN(c.files, locations.ListInputs(s3["S3Uri"].get<std::string>()));
    json cfg = {{"TrainingInputMode", mode}, {"S3DistributionType", distribution},
                {"RecordWrapperType", ch.value("RecordWrapperType", "None")}};
    if (ch.contains("ContentType")) cfg["ContentType"] = ch["ContentType"];
    if (ch.contains("CompressionType")) cfg["CompressionType"] = ch["CompressionType"];
    input_data_config[c.name] = cfg;
    channel_names.push_back(c.name);
    channels.push_back(std::move(c));
  }
  std::sort(channel_names.begin(), channel_names.end());

  std::vector<std::string> user_args = ToCommandLineArgs(hps.user);
  if (algo.contains("ContainerArguments")) user_args = algo["ContainerArguments"].get<std::vector<std::string>>();

  for (size_t i = 0; i < ws.hosts.size(); ++i) {
    const std::string& host = ws.hosts[i];
    const fs::path root = InstanceRoot(job_dir, host);
    const fs::path ml = ctx.sandbox ? fs::path("/opt/ml") : root;  // where the job sees its directory
    std::error_code ec;
    for (const char* sub : {"input/config", "input/data", "model", "output/data", "output/intermediate",
                            "checkpoints", "code"}) {
      fs::create_directories(root / sub, ec);
      if (ec) return Internal(fmt::format("cannot create {}: {}", (root / sub).string(), ec.message()));
    }
    fs::create_directories(job_dir / "logs", ec);

    json resource_config = {
        {"current_host", host},
        {"current_instance_type", instance_type},
        {"current_group_name", kInstanceGroup},
        {"hosts", ws.hosts},
        {"instance_groups",
         json::array({{{"instance_group_name", kInstanceGroup}, {"instance_type", instance_type}, {"hosts", ws.hosts}}})},
        {"network_interface_name", "eth0"}};
    RETURN_IF_ERROR(WriteJsonFile(root / "input/config/hyperparameters.json", raw_hps));
    RETURN_IF_ERROR(WriteJsonFile(root / "input/config/resourceconfig.json", resource_config));
    RETURN_IF_ERROR(WriteJsonFile(root / "input/config/inputdataconfig.json", input_data_config));

    std::vector<fs::path> readable;
    for (const auto& c : channels) {
      std::vector<DataLocations::InputFile> mine;
      for (size_t f = 0; f < c.files.size(); ++f) {
        if (!c.sharded || f % ws.hosts.size() == i) mine.push_back(c.files[f]);
      }
      RETURN_IF_ERROR(locations.PlaceFiles(mine, root / "input/data" / c.name, c.link, &readable));
    }
    RETURN_IF_ERROR(StageCode(hps.sagemaker, locations, root / "code"));
    // Checkpoints saved by an earlier run come back, so a script can resume from them.
    if (doc.contains("CheckpointConfig")) {
      ASSIGN_OR_RETURN(auto saved, locations.ListPrefix(doc["CheckpointConfig"].value("S3Uri", "")));
      RETURN_IF_ERROR(locations.PlaceFiles(saved, root / "checkpoints", /*link=*/false));
    }
    if (!program.empty() && !fs::exists(root / "code" / program, ec)) {
      return InvalidArgument(fmt::format("The entry point {} was not found in the submitted code ({}).", program,
                                         submit_dir.empty() ? "no sagemaker_submit_directory given" : submit_dir));
    }

    auto env = BaseEnvironment();
    json channel_dirs = json::object();
    for (const auto& name : channel_names) {
      std::string dir = (ml / "input/data" / name).string();
      channel_dirs[name] = dir;
      SetEnv(env, "SM_CHANNEL_" + EnvName(name), dir);
    }
    for (const auto& [k, v] : hps.user.items()) SetEnv(env, "SM_HP_" + EnvName(k), EnvValue(v));
    const std::string model_dir = (ml / "model").string(), output_data_dir = (ml / "output/data").string();
    json training_env = {
        {"additional_framework_parameters", json::object()},
        {"channel_input_dirs", channel_dirs},
        {"current_host", host},
        {"current_instance_group", kInstanceGroup},
        {"current_instance_type", instance_type},
        {"framework_module", nullptr},
        {"hosts", ws.hosts},
        {"hyperparameters", hps.user},
        {"input_config_dir", (ml / "input/config").string()},
        {"input_data_config", input_data_config},
        {"input_dir", (ml / "input").string()},
        {"is_master", i == 0},
        {"job_name", doc["TrainingJobName"]},
        {"log_level", 20},
        {"master_hostname", ws.hosts[0]},
        {"model_dir", model_dir},
        {"module_dir", submit_dir},
        {"module_name", ModuleName(program)},
        {"network_interface_name", "eth0"},
        {"num_cpus", num_cpus},
        {"num_gpus", shape.gpus},
        {"num_neurons", 0},
        {"output_data_dir", output_data_dir},
        {"output_dir", (ml / "output").string()},
        {"output_intermediate_dir", (ml / "output/intermediate").string()},
        {"resource_config", resource_config},
        {"user_entry_point", program}};
    std::vector<std::pair<std::string, std::string>> sm = {
        {"SM_HOSTS", json(ws.hosts).dump()},
        {"SM_NETWORK_INTERFACE_NAME", "eth0"},
        {"SM_HPS", hps.user.dump()},
        {"SM_USER_ENTRY_POINT", program},
        {"SM_FRAMEWORK_PARAMS", "{}"},
        {"SM_RESOURCE_CONFIG", resource_config.dump()},
        {"SM_INPUT_DATA_CONFIG", input_data_config.dump()},
        {"SM_OUTPUT_DATA_DIR", output_data_dir},
        {"SM_CHANNELS", json(channel_names).dump()},
        {"SM_CURRENT_HOST", host},
        {"SM_CURRENT_INSTANCE_TYPE", instance_type},
        {"SM_CURRENT_INSTANCE_GROUP", kInstanceGroup},
        {"SM_CURRENT_INSTANCE_GROUP_HOSTS", json(ws.hosts).dump()},
        {"SM_INSTANCE_GROUPS", json::array({kInstanceGroup}).dump()},
        {"SM_IS_HETERO", "false"},
        {"SM_MODULE_NAME", ModuleName(program)},
        {"SM_LOG_LEVEL", "20"},
        {"SM_FRAMEWORK_MODULE", ""},
        {"SM_INPUT_DIR", (ml / "input").string()},
        {"SM_INPUT_CONFIG_DIR", (ml / "input/config").string()},
        {"SM_OUTPUT_DIR", (ml / "output").string()},
        {"SM_OUTPUT_INTERMEDIATE_DIR", (ml / "output/intermediate").string()},
        {"SM_NUM_CPUS", std::to_string(num_cpus)},
        {"SM_NUM_GPUS", std::to_string(shape.gpus)},
        {"SM_NUM_NEURONS", "0"},
        {"SM_MODEL_DIR", model_dir},
        {"SM_MODULE_DIR", submit_dir},
        {"SM_TRAINING_ENV", training_env.dump()},
        {"SM_USER_ARGS", json(user_args).dump()},
        {"SM_CHECKPOINT_DIR", (ml / "checkpoints").string()},
        {"TRAINING_JOB_NAME", doc["TrainingJobName"].get<std::string>()},
        {"TRAINING_JOB_ARN", doc["TrainingJobArn"].get<std::string>()},
        {"MLFLOW_TRACKING_URI", ctx.tracking_uri},
        {"MLFLOW_RUN_ID", run_id},
        {"MLFLOW_EXPERIMENT_ID", doc["_loam"].value("experiment_id", "")}};
    for (auto& [k, v] : sm) SetEnv(env, k, v);
    const json user_env = doc.value("Environment", json::object());
    for (const auto& [k, v] : user_env.items()) SetEnv(env, k, v.get<std::string>());

    executors::ProcessSpec spec;
    if (algo.contains("ContainerEntrypoint")) {
      spec.argv = algo["ContainerEntrypoint"].get<std::vector<std::string>>();
    } else {
      spec.argv = EntryPointCommand(program, runtime.python);
    }
    spec.argv.insert(spec.argv.end(), user_args.begin(), user_args.end());
    spec.env = std::move(env);
    spec.cwd = ml / "code";
    spec.log_file = InstanceLog(job_dir, host);
    spec.exit_file = InstanceExitFile(job_dir, host);
    spec.sandbox.enabled = ctx.sandbox;
    spec.sandbox.ml_root = root;
    spec.sandbox.hidden = {ctx.data_dir};
    spec.sandbox.readable = std::move(readable);
    spec.sandbox.isolate_network = doc.value("EnableNetworkIsolation", false);
    ws.processes.push_back(std::move(spec));
  }
  return ws;
}

}  // namespace loam::jobs
