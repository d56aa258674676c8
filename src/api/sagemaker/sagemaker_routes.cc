#include "api/sagemaker/sagemaker_routes.h"

#include <charconv>

#include "api/aws/aws_json.h"

namespace loam::api::sagemaker {

using nlohmann::json;

namespace {

constexpr uint64_t kMaxLogChunk = 4 * 1024 * 1024;

// GET /loam/v1/training-jobs/<name>/logs?host=algo-1&offset=N: the captured output from byte N.
http::Response TrainingLogs(jobs::TrainingService& training, http::Request& req) {
  std::string tail = req.route_tail;
  const std::string suffix = "/logs";
  if (tail.size() <= suffix.size() || tail.compare(tail.size() - suffix.size(), suffix.size(), suffix) != 0) {
    return aws::AwsErrorResponse(NotFound("Unknown path."));
  }
  std::string name = tail.substr(0, tail.size() - suffix.size());
  std::string host(req.QueryValue("host").value_or("algo-1"));
  uint64_t offset = 0;
  if (auto o = req.QueryValue("offset")) {
    auto [p, ec] = std::from_chars(o->data(), o->data() + o->size(), offset);
    if (ec != std::errc() || p != o->data() + o->size()) return aws::AwsErrorResponse(InvalidArgument("offset must be a byte count"));
  }
  auto text = training.ReadLog(name, host, offset, kMaxLogChunk);
  if (!text.ok()) return aws::AwsErrorResponse(text.status());
  http::Response r = http::Response::Text(200, std::move(text).value());
  r.headers.emplace_back("X-Loam-Next-Offset", std::to_string(offset + r.body.size()));
  return r;
}

}  // namespace

void AddRoutes(http::Router& router, const SageMakerServices& s) {
  aws::AwsJsonService service;
  service.target_prefix = "SageMaker.";
  service.model = aws::ServiceModel::SageMaker();
  auto training = s.training;
  auto tags = s.tags;
  service.operations["CreateTrainingJob"] = [training](const json& in) { return training->Create(in); };
  service.operations["DescribeTrainingJob"] = [training](const json& in) {
    return training->Describe(in["TrainingJobName"].get<std::string>());
  };
  service.operations["ListTrainingJobs"] = [training](const json& in) { return training->List(in); };
  service.operations["StopTrainingJob"] = [training](const json& in) -> StatusOr<json> {
    RETURN_IF_ERROR(training->Stop(in["TrainingJobName"].get<std::string>()));
    return json::object();
  };
  service.operations["AddTags"] = [tags](const json& in) { return tags->Add(in); };
  service.operations["ListTags"] = [tags](const json& in) { return tags->List(in); };
  service.operations["DeleteTags"] = [tags](const json& in) { return tags->Delete(in); };
  aws::AddAwsJsonService(router, std::move(service), "sagemaker");

  router.Add({.name = "loam.training_logs",
              .methods = {"GET"},
              .path = "/loam/v1/training-jobs/",
              .prefix = true,
              .handler = [training](http::Request& req) { return TrainingLogs(*training, req); },
              .errors = [](const Status& st) { return aws::AwsErrorResponse(st); }});
}

}  // namespace loam::api::sagemaker
