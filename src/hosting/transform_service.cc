#include "hosting/transform_service.h"

#include <fmt/format.h>

#include "hosting/transform_kind.h"
#include "jobs/training_state.h"

namespace loam::hosting {

using nlohmann::json;

namespace {

Status MissingJob(const Status& st, const std::string& name) {
  if (st.code() != StatusCode::kNotFound) return st;
  return NotFound(fmt::format("Could not find requested job with name {}", name));
}

}  // namespace

TransformService::TransformService(std::shared_ptr<HostingDefinitions> definitions, std::shared_ptr<jobs::JobRunner> runner)
    : definitions_(std::move(definitions)), runner_(std::move(runner)) {}

std::string TransformService::ArnOf(const std::string& name) const {
  return HostingArn(definitions_->options(), "transform-job", name);
}

StatusOr<json> TransformService::Create(const json& request) {
  const std::string name = request["TransformJobName"].get<std::string>();
  const std::string arn = ArnOf(name);
  const jobs::JobRunnerDeps& deps = runner_->deps();
  RETURN_IF_ERROR(CheckTransformRequest(request, *deps.locations));
  ASSIGN_OR_RETURN(json model, definitions_->DescribeModel(request["ModelName"].get<std::string>()));
  const std::string duplicate = fmt::format("Job name must be unique within an AWS account and region, and a job "
                                            "with this name already exists ({})", arn);
  if (runner_->Load(name).ok()) return AlreadyExists(duplicate);
  RETURN_IF_ERROR(runner_->CheckActiveJobLimit("Number of concurrent transform jobs"));

  const int64_t now_ms = deps.clock();
  const double now = static_cast<double>(now_ms) / 1000.0;
  json doc = jobs::NewJobDocument(request, "TransformJobArn", arn, "TransformJobStatus", now);

  const std::string input_uri = request["TransformInput"]["DataSource"]["S3DataSource"]["S3Uri"].get<std::string>();
  const json& resources = request["TransformResources"];
  const json container = HostingDefinitions::ContainerOf(model);
  ASSIGN_OR_RETURN(auto run, runner_->OpenRun(jobs::ExperimentNameFor(request, name), name,
                                              {{"sagemaker.transform_job_name", name},
                                               {"sagemaker.transform_job_arn", arn},
                                               {"sagemaker.model_name", model.value("ModelName", "")},
                                               {"sagemaker.image", container.value("Image", "")},
                                               {"sagemaker.instance_type", resources.value("InstanceType", "")},
                                               {"sagemaker.instance_count", std::to_string(resources.value("InstanceCount", 1))}},
                                              {jobs::InputDataset("input", input_uri)}));
  doc["_loam"] = {{"run_id", run.run_id},
                  {"experiment_id", run.experiment_id},
                  {"processes", json::array()},
                  {"model_container", container}};

  const std::vector<jobs::Tag> tags = jobs::TagsOf(request.value("Tags", json::array()));
  Status submitted = runner_->Submit({"transform", name, arn, "InProgress", now_ms, now_ms, "", doc}, tags, run.run_id);
  if (submitted.code() == StatusCode::kAlreadyExists) return AlreadyExists(duplicate);
  RETURN_IF_ERROR(submitted);
  return json{{"TransformJobArn", arn}};
}

StatusOr<json> TransformService::Describe(const std::string& name) {
  auto job = runner_->Load(name);
  if (!job.ok()) return MissingJob(job.status(), name);
  return jobs::PublicView(job->doc);
}

Status TransformService::Stop(const std::string& name) { return MissingJob(runner_->Stop(name), name); }

StatusOr<json> TransformService::List(const json& request) {
  return runner_->List(request, jobs::JobListQuery{}, "TransformJobSummaries", [](const jobs::JobRecord& job) {
    json s = {{"TransformJobName", job.name},
              {"TransformJobArn", job.arn},
              {"CreationTime", job.doc["CreationTime"]},
              {"LastModifiedTime", job.doc["LastModifiedTime"]},
              {"TransformJobStatus", job.doc["TransformJobStatus"]}};
    for (const char* field : {"TransformEndTime", "FailureReason"}) {
      if (job.doc.contains(field)) s[field] = job.doc[field];
    }
    return s;
  });
}

}  // namespace loam::hosting
