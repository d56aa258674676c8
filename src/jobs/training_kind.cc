#include "jobs/training_kind.h"

#include "jobs/archive.h"
#include "jobs/script_mode.h"
#include "jobs/training_state.h"
#include "jobs/training_workspace.h"

namespace loam::jobs {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {
constexpr size_t kMaxParamValue = 6000;  // MLflow's limit on a param value
}

int TrainingKind::instance_count(const json& doc) const { return doc["ResourceConfig"].value("InstanceCount", 1); }

std::string TrainingKind::instance_type(const json& doc) const {
  return doc["ResourceConfig"].value("InstanceType", "local");
}

double TrainingKind::max_runtime_seconds(const json& doc) const {
  return doc["StoppingCondition"].value("MaxRuntimeInSeconds", 86400);
}

std::vector<MetricDefinition> TrainingKind::metric_definitions(const json& doc) const {
  std::vector<MetricDefinition> out;
  for (const auto& d : doc["AlgorithmSpecification"].value("MetricDefinitions", json::array())) {
    out.push_back({d.value("Name", ""), d.value("Regex", "")});
  }
  return out;
}

void TrainingKind::EnterPhase(json& doc, JobPhase phase, double now) const {
  switch (phase) {
    case JobPhase::kDownloading: AddTransition(doc, "Downloading", "Downloading input data", now); break;
    case JobPhase::kRunning:
      AddTransition(doc, "Training", "Training image download completed. Training in progress.", now);
      break;
    case JobPhase::kStopping: AddTransition(doc, "Stopping", "Stopping the training job", now); break;
    case JobPhase::kUploading: AddTransition(doc, "Uploading", "Uploading generated training model", now); break;
  }
}

std::vector<tracking::Param> TrainingKind::RunParams(const json& doc) const {
  std::vector<tracking::Param> params;
  const Hyperparameters hps = SplitHyperparameters(doc.value("HyperParameters", json::object()));
  for (const auto& [k, v] : hps.user.items()) params.push_back({k.substr(0, 250), PythonStr(v).substr(0, kMaxParamValue)});
  return params;
}

StatusOr<PreparedJob> TrainingKind::Prepare(const json& doc, const fs::path& job_dir, const std::string& run_id,
                                            const WorkspaceContext& ctx) const {
  return PrepareTrainingWorkspace(doc, job_dir, run_id, ctx);
}

std::string TrainingKind::Upload(const json& doc, json& changes, const fs::path& job_dir,
                                 const std::vector<std::string>& hosts, const JobOutcome& outcome,
                                 const DataLocations& locations, tracking::TrackingService& tracking,
                                 const std::string& run_id) const {
  const std::string name = doc["TrainingJobName"].get<std::string>();
  const std::string output_prefix =
      DataLocations::Join(DataLocations::Join(doc["OutputDataConfig"].value("S3OutputPath", ""), name), "output");
  const fs::path master = InstanceRoot(job_dir, hosts[0]);
  // Archives are packed beside the instances, then handed to the store.
  auto pack_and_upload = [&](const fs::path& dir, const std::string& file_name) {
    fs::path archive = job_dir / file_name;
    Status s = PackDirectory(dir, archive);
    if (s.ok()) s = locations.UploadFile(archive, DataLocations::Join(output_prefix, file_name), /*consume=*/true);
    std::error_code ec;
    fs::remove(archive, ec);
    return s;
  };
  std::string failure;
  // A stopped job keeps its model, as SageMaker does; a failed one has none.
  if (outcome.kind != JobOutcome::Kind::kFailed) {
    Status packed = pack_and_upload(master / "model", "model.tar.gz");
    if (packed.ok()) {
      std::string model_uri = DataLocations::Join(output_prefix, "model.tar.gz");
      changes["ModelArtifacts"] = {{"S3ModelArtifacts", model_uri}};
      (void)tracking.SetTag(run_id, {"sagemaker.model_artifacts", model_uri});
    } else {
      failure = "InternalServerError: uploading the model failed: " + packed.message();
    }
  }
  (void)pack_and_upload(master / "output" / "data", "output.tar.gz");
  if (doc.contains("CheckpointConfig")) {
    (void)locations.UploadTree(master / "checkpoints", doc["CheckpointConfig"].value("S3Uri", ""));
  }
  return failure;
}

void TrainingKind::Finish(json& doc, const JobOutcome& outcome, double now) const {
  std::string status, secondary, message;
  switch (outcome.kind) {
    case JobOutcome::Kind::kStopped: {
      bool timeout = outcome.stop_reason == "max_runtime";
      status = "Stopped";
      secondary = timeout ? "MaxRuntimeExceeded" : "Stopped";
      message = timeout ? "Training job stopped: MaxRuntimeInSeconds reached" : "Training job stopped";
      break;
    }
    case JobOutcome::Kind::kCompleted: status = secondary = "Completed"; message = "Training job completed"; break;
    case JobOutcome::Kind::kFailed: status = secondary = "Failed"; message = "Training job failed"; break;
  }
  doc["TrainingJobStatus"] = status;
  AddTransition(doc, secondary, message, now);
  doc["SecondaryStatusTransitions"].back()["EndTime"] = now;
  doc["TrainingEndTime"] = now;
  if (doc.contains("TrainingStartTime")) {
    int64_t seconds = static_cast<int64_t>(now - doc["TrainingStartTime"].get<double>() + 0.999);
    doc["TrainingTimeInSeconds"] = seconds;
    doc["BillableTimeInSeconds"] = seconds;
  }
  if (!outcome.failure.empty()) doc["FailureReason"] = outcome.failure.substr(0, 1024);
}

}  // namespace loam::jobs
