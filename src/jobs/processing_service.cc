#include "jobs/processing_service.h"

#include <fmt/format.h>


#include "jobs/processing_kind.h"
#include "jobs/training_state.h"

namespace loam::jobs {

using nlohmann::json;

ProcessingService::ProcessingService(std::string region, std::string account, std::shared_ptr<JobRunner> runner)
    : region_(std::move(region)), account_(std::move(account)), runner_(std::move(runner)) {}

std::string ProcessingService::ArnOf(const std::string& name) const {
  return SageMakerArn(region_, account_, "processing-job", name);
}

namespace {

std::string DuplicateMessage(const std::string& arn) {
  return fmt::format(
      "Processing job names must be unique within an AWS account and region, and a processing job with this name "
      "already exists ({})",
      arn);
}

std::vector<tracking::DatasetInput> InputDatasets(const json& request) {
  std::vector<tracking::DatasetInput> inputs;
  for (const auto& in : request.value("ProcessingInputs", json::array())) {
    if (in.contains("S3Input")) inputs.push_back(InputDataset(in.value("InputName", ""), in["S3Input"].value("S3Uri", "")));
  }
  return inputs;
}

}  // namespace

StatusOr<json> ProcessingService::Create(const json& request) {
  const std::string name = request["ProcessingJobName"].get<std::string>();
  const std::string arn = ArnOf(name);
  const JobRunnerDeps& deps = runner_->deps();
  RETURN_IF_ERROR(CheckProcessingRequest(request, *deps.locations));
  if (runner_->Load(name).ok()) return AlreadyExists(DuplicateMessage(arn));
  RETURN_IF_ERROR(runner_->CheckActiveJobLimit("Number of concurrent processing jobs"));

  const int64_t now_ms = deps.clock();
  const double now = static_cast<double>(now_ms) / 1000.0;
  json doc = NewJobDocument(request, "ProcessingJobArn", arn, "ProcessingJobStatus", now);
  if (!doc.contains("StoppingCondition")) doc["StoppingCondition"] = {{"MaxRuntimeInSeconds", 86400}};

  const std::string experiment = ExperimentNameFor(request, name);
  const json& cluster = request["ProcessingResources"]["ClusterConfig"];
  ASSIGN_OR_RETURN(auto run, runner_->OpenRun(
      experiment, name,
      {{"sagemaker.processing_job_name", name},
       {"sagemaker.processing_job_arn", arn},
       {"sagemaker.image", request["AppSpecification"].value("ImageUri", "")},
       {"sagemaker.instance_type", cluster.value("InstanceType", "")},
       {"sagemaker.instance_count", std::to_string(cluster.value("InstanceCount", 1))}},
      InputDatasets(request)));
  doc["_loam"] = {{"run_id", run.run_id}, {"experiment_id", run.experiment_id}, {"processes", json::array()}};

  const std::vector<Tag> tags = TagsOf(request.value("Tags", json::array()));
  Status submitted = runner_->Submit({"processing", name, arn, "InProgress", now_ms, now_ms, "", doc}, tags, run.run_id);
  if (submitted.code() == StatusCode::kAlreadyExists) return AlreadyExists(DuplicateMessage(arn));
  RETURN_IF_ERROR(submitted);
  return json{{"ProcessingJobArn", arn}};
}

StatusOr<json> ProcessingService::Describe(const std::string& name) {
  ASSIGN_OR_RETURN(JobRecord job, runner_->Load(name));
  return PublicView(job.doc);
}

StatusOr<json> ProcessingService::List(const json& request) {
  return runner_->List(request, JobListQuery{}, "ProcessingJobSummaries", [](const JobRecord& job) {
    json s = {{"ProcessingJobName", job.name},
              {"ProcessingJobArn", job.arn},
              {"CreationTime", job.doc["CreationTime"]},
              {"LastModifiedTime", job.doc["LastModifiedTime"]},
              {"ProcessingJobStatus", job.doc["ProcessingJobStatus"]}};
    for (const char* field : {"ProcessingEndTime", "FailureReason", "ExitMessage"}) {
      if (job.doc.contains(field)) s[field] = job.doc[field];
    }
    return s;
  });
}

}  // namespace loam::jobs
