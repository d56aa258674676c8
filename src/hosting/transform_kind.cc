#include "hosting/transform_kind.h"

#include <fmt/format.h>

#include <fstream>

#include "hosting/model_staging.h"

namespace loam::hosting {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kMaxPayloadLimitMb = 100;  // SageMaker's bound on MaxPayloadInMB (and × concurrency)

json OrNull(const json& object, const char* key) { return object.contains(key) ? object[key] : json(nullptr); }

bool UsesDataProcessing(const json& request) {
  const json dp = request.value("DataProcessing", json::object());
  return !dp.value("InputFilter", "").empty() || !dp.value("OutputFilter", "").empty() ||
         dp.value("JoinSource", "None") == "Input";
}

// The files a ManifestFile names: a JSON array whose first entry is {"prefix": URI} and the
// rest are names relative to it. Each must exist.
StatusOr<std::vector<jobs::DataLocations::InputFile>> ManifestInputs(const jobs::DataLocations& locations,
                                                                     const std::string& manifest_uri,
                                                                     const fs::path& scratch) {
  const fs::path file = scratch / "manifest.json";
  if (Status s = locations.FetchFile(manifest_uri, file); !s.ok()) {
    return InvalidArgument(fmt::format("Could not read the manifest {}: {}", manifest_uri, s.message()));
  }
  json manifest = json::parse(std::ifstream(file), nullptr, /*allow_exceptions=*/false);
  std::error_code ec;
  fs::remove(file, ec);
  if (!manifest.is_array() || manifest.empty() || !manifest[0].is_object() || !manifest[0].contains("prefix") ||
      !manifest[0]["prefix"].is_string()) {
    return InvalidArgument(fmt::format(
        "The manifest {} is not a JSON array starting with {{\"prefix\": \"s3://...\"}} followed by object names.",
        manifest_uri));
  }
  const std::string prefix = manifest[0]["prefix"].get<std::string>();
  std::vector<jobs::DataLocations::InputFile> files;
  for (size_t i = 1; i < manifest.size(); ++i) {
    if (!manifest[i].is_string() || manifest[i].get<std::string>().empty()) {
      return InvalidArgument(fmt::format("The manifest {}: entry {} is not an object name.", manifest_uri, i));
    }
    const std::string name = manifest[i].get<std::string>();
    const std::string uri = prefix + name;
    ASSIGN_OR_RETURN(jobs::DataLocation where, locations.Parse(uri));
    ASSIGN_OR_RETURN(auto candidates, locations.ListPrefix(uri));
    bool found = false;
    for (auto& c : candidates) {
      if ((where.s3 && c.key == where.key) || (!where.s3 && c.source == where.path)) {
        c.relative = name;
        files.push_back(std::move(c));
        found = true;
        break;
      }
    }
    if (!found) return InvalidArgument(fmt::format("The manifest {} names {}, which does not exist.", manifest_uri, uri));
  }
  if (files.empty()) return InvalidArgument(fmt::format("The manifest {} names no objects.", manifest_uri));
  return files;
}

}  // namespace

Status CheckTransformRequest(const json& request, const jobs::DataLocations& locations) {
  const json& input = request["TransformInput"];
  const json& source = input["DataSource"]["S3DataSource"];
  const std::string data_type = source.value("S3DataType", "");
  if (data_type != "S3Prefix" && data_type != "ManifestFile") {
    return InvalidArgument(fmt::format(
        "TransformInput S3DataType {} is not supported by Loam yet; use S3Prefix or ManifestFile.", data_type));
  }
  RETURN_IF_ERROR(locations.Parse(source.value("S3Uri", "")).status());
  RETURN_IF_ERROR(locations.Parse(request["TransformOutput"].value("S3OutputPath", "")).status());
  const std::string split = input.value("SplitType", "None");
  if (split != "None" && split != "Line") {
    return InvalidArgument(fmt::format("SplitType {} is not supported by Loam yet; use Line or None.", split));
  }
  const int payload = request.value("MaxPayloadInMB", 6);
  if (payload > kMaxPayloadLimitMb) {
    return InvalidArgument(fmt::format("MaxPayloadInMB must be at most {}; it is {}.", kMaxPayloadLimitMb, payload));
  }
  const int concurrency = request.value("MaxConcurrentTransforms", 0);
  if (concurrency > 0 && request.contains("MaxPayloadInMB") && concurrency * payload > kMaxPayloadLimitMb) {
    return InvalidArgument(fmt::format(
        "MaxConcurrentTransforms * MaxPayloadInMB must not exceed {} MB; it is {} * {} = {}.", kMaxPayloadLimitMb,
        concurrency, payload, concurrency * payload));
  }
  if (UsesDataProcessing(request) && split != "Line") {
    return InvalidArgument("DataProcessing (InputFilter, OutputFilter, JoinSource) needs SplitType Line: filters and "
                           "joins apply to records.");
  }
  if (request.contains("DataCaptureConfig")) {
    return InvalidArgument("DataCaptureConfig for transform jobs is not supported by Loam yet.");
  }
  return Status::Ok();
}

int TransformKind::instance_count(const json& doc) const {
  return doc["TransformResources"].value("InstanceCount", 1);
}

std::string TransformKind::instance_type(const json& doc) const {
  return doc["TransformResources"].value("InstanceType", "local");
}

std::vector<tracking::Param> TransformKind::RunParams(const json& doc) const {
  std::vector<tracking::Param> params = {{"model_name", doc.value("ModelName", "")}};
  const json& input = doc["TransformInput"];
  params.push_back({"split_type", input.value("SplitType", "None")});
  if (input.contains("ContentType")) params.push_back({"content_type", input["ContentType"].get<std::string>()});
  if (doc.contains("BatchStrategy")) params.push_back({"batch_strategy", doc["BatchStrategy"].get<std::string>()});
  for (const char* field : {"MaxConcurrentTransforms", "MaxPayloadInMB"}) {
    if (doc.contains(field)) params.push_back({field, std::to_string(doc[field].get<int>())});
  }
  return params;
}

StatusOr<jobs::PreparedJob> TransformKind::Prepare(const json& doc, const fs::path& job_dir, const std::string& run_id,
                                                   const jobs::WorkspaceContext& ctx) const {
  const jobs::DataLocations& locations = *ctx.locations;
  jobs::PreparedJob job;
  job.hosts = jobs::HostNames(instance_count(doc));
  std::error_code ec;
  fs::create_directories(job_dir / "logs", ec);

  const json& input = doc["TransformInput"];
  const json& source = input["DataSource"]["S3DataSource"];
  std::vector<jobs::DataLocations::InputFile> files;
  if (source.value("S3DataType", "") == "ManifestFile") {
    ASSIGN_OR_RETURN(files, ManifestInputs(locations, source["S3Uri"].get<std::string>(), job_dir));
  } else {
    ASSIGN_OR_RETURN(files, locations.ListInputs(source["S3Uri"].get<std::string>()));
  }
  ASSIGN_OR_RETURN(StagedModel staged, StageModel(doc["_loam"]["model_container"], job_dir / "container",
                                                  {.locations = &locations,
                                                   .runtimes = ctx.runtimes,
                                                   .toolkit_dir = toolkit_dir_,
                                                   .tracking_uri = ctx.tracking_uri}));
  const json environment = doc.value("Environment", json::object());
  for (const auto& [k, v] : environment.items()) jobs::SetEnv(staged.env, k, v.get<std::string>());

  const json output = doc["TransformOutput"];
  const json dp = doc.value("DataProcessing", json::object());
  const json client = doc.value("ModelClientConfig", json::object());
  for (size_t i = 0; i < job.hosts.size(); ++i) {
    const std::string& host = job.hosts[i];
    const fs::path root = jobs::InstanceRoot(job_dir, host);
    for (const char* sub : {"config", "input", "output", "transform-output"}) fs::create_directories(root / sub, ec);
    // SageMaker deals whole objects across instances; each instance keeps its objects' order.
    std::vector<jobs::DataLocations::InputFile> mine;
    json names = json::array();
    for (size_t f = i; f < files.size(); f += job.hosts.size()) {
      mine.push_back(files[f]);
      names.push_back(files[f].relative.string());
    }
    RETURN_IF_ERROR(locations.PlaceFiles(mine, root / "input", /*link=*/true));
    json config = {{"job_name", doc["TransformJobName"]},
                   {"input_dir", (root / "input").string()},
                   {"inputs", names},
                   {"output_dir", (root / "transform-output").string()},
                   {"failure_file", (root / failure_file()).string()},
                   {"content_type", OrNull(input, "ContentType")},
                   {"accept", OrNull(output, "Accept")},
                   {"split_type", input.value("SplitType", "None")},
                   {"compression", input.value("CompressionType", "None")},
                   {"batch_strategy", OrNull(doc, "BatchStrategy")},
                   {"max_payload_mb", OrNull(doc, "MaxPayloadInMB")},
                   {"max_concurrent_transforms", OrNull(doc, "MaxConcurrentTransforms")},
                   {"assemble_with", output.value("AssembleWith", "None")},
                   {"invocations_timeout_s", client.value("InvocationsTimeoutInSeconds", 600)},
                   {"invocations_max_retries", client.value("InvocationsMaxRetries", 3)},
                   {"input_filter", OrNull(dp, "InputFilter")},
                   {"output_filter", OrNull(dp, "OutputFilter")},
                   {"join_source", dp.value("JoinSource", "None")},
                   {"startup_timeout_s", 600}};
    RETURN_IF_ERROR(jobs::WriteJsonFile(root / "config" / "transform.json", config));

    executors::ProcessSpec spec;
    spec.argv = {staged.runtime->python, "-m", "loam_inference.batch"};
    spec.env = staged.env;
    jobs::SetEnv(spec.env, "LOAM_TRANSFORM_CONFIG", (root / "config" / "transform.json").string());
    jobs::SetEnv(spec.env, "SM_CURRENT_HOST", host);
    jobs::SetEnv(spec.env, "TRANSFORM_JOB_NAME", doc["TransformJobName"].get<std::string>());
    jobs::SetEnv(spec.env, "MLFLOW_RUN_ID", run_id);
    spec.cwd = root;
    spec.log_file = jobs::InstanceLog(job_dir, host);
    spec.exit_file = jobs::InstanceExitFile(job_dir, host);
    job.processes.push_back(std::move(spec));
  }
  return job;
}

std::string TransformKind::Upload(const json& doc, json&, const fs::path& job_dir, const std::vector<std::string>& hosts,
                                  const jobs::JobOutcome& outcome, const jobs::DataLocations& locations,
                                  tracking::TrackingService& tracking, const std::string& run_id) const {
  if (outcome.kind != jobs::JobOutcome::Kind::kCompleted) return {};
  const std::string uri = doc["TransformOutput"]["S3OutputPath"].get<std::string>();
  for (const auto& host : hosts) {
    if (Status s = locations.UploadTree(jobs::InstanceRoot(job_dir, host) / "transform-output", uri); !s.ok()) {
      return fmt::format("InternalServerError: uploading the output of {} to {} failed: {}", host, uri, s.message());
    }
  }
  (void)tracking.SetTag(run_id, {"sagemaker.output", uri});
  return {};
}

void TransformKind::Finish(json& doc, const jobs::JobOutcome& outcome, double now) const {
  switch (outcome.kind) {
    case jobs::JobOutcome::Kind::kCompleted: doc["TransformJobStatus"] = "Completed"; break;
    case jobs::JobOutcome::Kind::kFailed: doc["TransformJobStatus"] = "Failed"; break;
    case jobs::JobOutcome::Kind::kStopped: doc["TransformJobStatus"] = "Stopped"; break;
  }
  doc["TransformEndTime"] = now;
  if (!outcome.failure.empty()) doc["FailureReason"] = outcome.failure.substr(0, 1024);
}

}  // namespace loam::hosting
