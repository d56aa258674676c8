#include "jobs/training_service.h"

#include <fmt/format.h>


#include "jobs/training_state.h"
#include "jobs/training_workspace.h"

namespace loam::jobs {

using nlohmann::json;

TrainingService::TrainingService(TrainingServiceOptions options, std::shared_ptr<JobRunner> runner)
    : options_(std::move(options)), runner_(std::move(runner)) {}

std::string TrainingService::ArnOf(const std::string& name) const {
  return SageMakerArn(options_.region, options_.account, "training-job", name);
}

namespace {

std::vector<tracking::DatasetInput> ChannelDatasets(const json& request) {
  std::vector<tracking::DatasetInput> inputs;
  for (const auto& ch : request.value("InputDataConfig", json::array())) {
    inputs.push_back(InputDataset(ch.value("ChannelName", ""), ch["DataSource"]["S3DataSource"].value("S3Uri", "")));
  }
  return inputs;
}

}  // namespace

Status TrainingService::Check(const json& request) {
  RETURN_IF_ERROR(CheckTrainingRequest(request, *runner_->deps().locations));
  return MetricParser::Create(runner_->kind().metric_definitions(request)).status();
}

StatusOr<json> TrainingService::Create(const json& request, const TrainingJobParent* parent) {
  const std::string name = request["TrainingJobName"].get<std::string>();
  const std::string arn = ArnOf(name);
  const JobRunnerDeps& deps = runner_->deps();
  RETURN_IF_ERROR(Check(request));
  if (runner_->Load(name).ok()) return AlreadyExists(DuplicateJobMessage(arn));
  RETURN_IF_ERROR(runner_->CheckActiveJobLimit("Number of concurrent training jobs"));

  const int64_t now_ms = deps.clock();
  const double now = static_cast<double>(now_ms) / 1000.0;
  json doc = NewJobDocument(request, "TrainingJobArn", arn, "TrainingJobStatus", now);
  doc["SecondaryStatusTransitions"] = json::array();
  AddTransition(doc, "Starting", "Launching requested ML instances", now);
  doc["EnableNetworkIsolation"] = request.value("EnableNetworkIsolation", false);
  doc["EnableInterContainerTrafficEncryption"] = request.value("EnableInterContainerTrafficEncryption", false);
  doc["EnableManagedSpotTraining"] = request.value("EnableManagedSpotTraining", false);
  if (!doc.contains("StoppingCondition")) doc["StoppingCondition"] = json::object();
  if (!doc["StoppingCondition"].contains("MaxRuntimeInSeconds")) doc["StoppingCondition"]["MaxRuntimeInSeconds"] = 86400;
  doc["AlgorithmSpecification"]["TrainingInputMode"] = request["AlgorithmSpecification"].value("TrainingInputMode", "File");
  if (!doc["AlgorithmSpecification"].contains("EnableSageMakerMetricsTimeSeries")) {
    doc["AlgorithmSpecification"]["EnableSageMakerMetricsTimeSeries"] = false;
  }

  std::vector<tracking::Tag> run_tags = {
      {"sagemaker.training_job_name", name},
      {"sagemaker.training_job_arn", arn},
      {"sagemaker.training_image", request["AlgorithmSpecification"].value("TrainingImage", "")},
      {"sagemaker.instance_type", request["ResourceConfig"].value("InstanceType", "")},
      {"sagemaker.instance_count", std::to_string(request["ResourceConfig"].value("InstanceCount", 1))}};
  if (parent != nullptr) {
    doc["TuningJobArn"] = parent->tuning_job_arn;
    run_tags.push_back({"mlflow.parentRunId", parent->run_id});
    run_tags.push_back({"sagemaker.tuning_job_name", parent->tuning_job_name});
    run_tags.push_back({"sagemaker.tuning_job_arn", parent->tuning_job_arn});
  }
  const std::string experiment = parent != nullptr ? parent->experiment : ExperimentNameFor(request, name);
  ASSIGN_OR_RETURN(auto run, runner_->OpenRun(experiment, name, std::move(run_tags), ChannelDatasets(request)));
  doc["_loam"] = {{"run_id", run.run_id}, {"experiment_id", run.experiment_id}, {"processes", json::array()}};

  const std::vector<Tag> tags = TagsOf(request.value("Tags", json::array()));
  Status submitted = runner_->Submit(
      {"training", name, arn, "InProgress", now_ms, now_ms, parent != nullptr ? parent->tuning_job_name : "", doc},
      tags, run.run_id);
  if (submitted.code() == StatusCode::kAlreadyExists) return AlreadyExists(DuplicateJobMessage(arn));
  RETURN_IF_ERROR(submitted);
  return json{{"TrainingJobArn", arn}};
}

StatusOr<json> TrainingService::Describe(const std::string& name) {
  ASSIGN_OR_RETURN(JobRecord job, runner_->Load(name));
  return PublicView(job.doc);
}

StatusOr<json> TrainingService::List(const json& request) {
  return runner_->List(request, JobListQuery{}, "TrainingJobSummaries", [](const JobRecord& job) {
    json s = {{"TrainingJobName", job.name},
              {"TrainingJobArn", job.arn},
              {"CreationTime", job.doc["CreationTime"]},
              {"LastModifiedTime", job.doc["LastModifiedTime"]},
              {"TrainingJobStatus", job.doc["TrainingJobStatus"]},
              {"SecondaryStatus", job.doc["SecondaryStatus"]}};
    if (job.doc.contains("TrainingEndTime")) s["TrainingEndTime"] = job.doc["TrainingEndTime"];
    return s;
  });
}

}  // namespace loam::jobs
