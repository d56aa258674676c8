#include "api/sagemaker/sagemaker_routes.h"

#include <charconv>
#include <functional>

#include "api/aws/aws_errors.h"
#include "api/aws/aws_json.h"

namespace loam::api::sagemaker {

using nlohmann::json;

namespace {

constexpr uint64_t kMaxLogChunk = 4 * 1024 * 1024;

using LogReader = std::function<StatusOr<std::string>(const std::string& job, const std::string& host,
                                                      uint64_t offset, uint64_t max_bytes)>;

// GET /loam/v1/<kind>-jobs/<name>/logs?host=algo-1&offset=N: the captured output from byte N.
http::Response JobLogs(const LogReader& read, http::Request& req) {
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
  auto text = read(name, host, offset, kMaxLogChunk);
  if (!text.ok()) return aws::AwsErrorResponse(text.status());
  http::Response r = http::Response::Text(200, std::move(text).value());
  r.headers.emplace_back("X-Loam-Next-Offset", std::to_string(offset + r.body.size()));
  return r;
}

// Models, endpoint configs, endpoints and transform jobs. Delete* and Stop* answer an empty body.
void AddHostingOperations(aws::AwsJsonService& service, const SageMakerServices& s) {
  auto defs = s.hosting;
  auto endpoints = s.endpoints;
  auto empty = [](Status st) -> StatusOr<json> {
    if (!st.ok()) return st;
    return json::object();
  };
  auto& ops = service.operations;
  ops["CreateModel"] = [defs](const json& in) { return defs->CreateModel(in); };
  ops["DescribeModel"] = [defs](const json& in) { return defs->DescribeModel(in["ModelName"].get<std::string>()); };
  ops["ListModels"] = [defs](const json& in) { return defs->ListModels(in); };
  ops["DeleteModel"] = [defs, empty](const json& in) { return empty(defs->DeleteModel(in["ModelName"].get<std::string>())); };
  ops["CreateEndpointConfig"] = [defs](const json& in) { return defs->CreateEndpointConfig(in); };
  ops["DescribeEndpointConfig"] = [defs](const json& in) {
    return defs->DescribeEndpointConfig(in["EndpointConfigName"].get<std::string>());
  };
  ops["ListEndpointConfigs"] = [defs](const json& in) { return defs->ListEndpointConfigs(in); };
  ops["DeleteEndpointConfig"] = [defs, empty](const json& in) {
    return empty(defs->DeleteEndpointConfig(in["EndpointConfigName"].get<std::string>()));
  };
  ops["CreateEndpoint"] = [endpoints](const json& in) { return endpoints->Create(in); };
  ops["DescribeEndpoint"] = [endpoints](const json& in) { return endpoints->Describe(in["EndpointName"].get<std::string>()); };
  ops["ListEndpoints"] = [endpoints](const json& in) { return endpoints->List(in); };
  ops["UpdateEndpoint"] = [endpoints](const json& in) { return endpoints->Update(in); };
  ops["DeleteEndpoint"] = [endpoints, empty](const json& in) { return empty(endpoints->Delete(in["EndpointName"].get<std::string>())); };
  ops["UpdateEndpointWeightsAndCapacities"] = [endpoints](const json& in) { return endpoints->UpdateWeightsAndCapacities(in); };
  auto transforms = s.transforms;
  ops["CreateTransformJob"] = [transforms](const json& in) { return transforms->Create(in); };
  ops["DescribeTransformJob"] = [transforms](const json& in) {
    return transforms->Describe(in["TransformJobName"].get<std::string>());
  };
  ops["ListTransformJobs"] = [transforms](const json& in) { return transforms->List(in); };
  ops["StopTransformJob"] = [transforms, empty](const json& in) {
    return empty(transforms->Stop(in["TransformJobName"].get<std::string>()));
  };
}

aws::AwsJsonService MakeService(const SageMakerServices& s) {
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
  auto processing = s.processing;
  service.operations["CreateProcessingJob"] = [processing](const json& in) { return processing->Create(in); };
  service.operations["DescribeProcessingJob"] = [processing](const json& in) {
    return processing->Describe(in["ProcessingJobName"].get<std::string>());
  };
  service.operations["ListProcessingJobs"] = [processing](const json& in) { return processing->List(in); };
  service.operations["StopProcessingJob"] = [processing](const json& in) -> StatusOr<json> {
    RETURN_IF_ERROR(processing->Stop(in["ProcessingJobName"].get<std::string>()));
    return json::object();
  };
  auto tuning = s.tuning;
  // SageMaker names a missing tuning job ResourceNotFound (a missing training job is a
  // ValidationException).
  auto tuning_call = [](StatusOr<json> result) -> StatusOr<json> {
    if (result.status().code() == StatusCode::kNotFound) {
      return aws::AwsError(StatusCode::kNotFound, aws::kResourceNotFound, result.status().message());
    }
    return result;
  };
  service.operations["CreateHyperParameterTuningJob"] = [tuning](const json& in) { return tuning->Create(in); };
  service.operations["DescribeHyperParameterTuningJob"] = [tuning, tuning_call](const json& in) {
    return tuning_call(tuning->Describe(in["HyperParameterTuningJobName"].get<std::string>()));
  };
  service.operations["ListHyperParameterTuningJobs"] = [tuning](const json& in) { return tuning->List(in); };
  service.operations["StopHyperParameterTuningJob"] = [tuning, tuning_call](const json& in) -> StatusOr<json> {
    Status stopped = tuning->Stop(in["HyperParameterTuningJobName"].get<std::string>());
    return tuning_call(stopped.ok() ? StatusOr<json>(json::object()) : StatusOr<json>(stopped));
  };
  service.operations["ListTrainingJobsForHyperParameterTuningJob"] = [tuning, tuning_call](const json& in) {
    return tuning_call(tuning->ListTrainingJobs(in));
  };
  AddHostingOperations(service, s);
  service.operations["AddTags"] = [tags](const json& in) { return tags->Add(in); };
  service.operations["ListTags"] = [tags](const json& in) { return tags->List(in); };
  service.operations["DeleteTags"] = [tags](const json& in) { return tags->Delete(in); };
  return service;
}

}  // namespace

InProcessCall MakeInProcessCall(const SageMakerServices& s) {
  auto service = std::make_shared<aws::AwsJsonService>(MakeService(s));
  return [service](const std::string& operation, const json& request) -> StatusOr<json> {
    auto typed = [](const Status& st) {
      aws::AwsErrorReply reply = aws::ToAwsError(st);
      return TypedError(st.code(), reply.type, reply.message);
    };
    auto op = service->operations.find(operation);
    if (op == service->operations.end()) {
      return TypedError(StatusCode::kInvalidArgument, aws::kUnknownOperationException,
                        "Loam does not serve the SageMaker operation " + operation);
    }
    if (Status valid = service->model->ValidateInput(operation, request); !valid.ok()) return typed(valid);
    // As the HTTP adapter does: an operation that throws is an InternalFailure, not an exception
    // in the caller's (a workflow's) thread.
    try {
      auto result = op->second(request);
      if (!result.ok()) return typed(result.status());
      return result;
    } catch (const std::exception& e) {
      return typed(Internal("internal error in " + operation + ": " + e.what()));
    }
  };
}

bool ServesOperation(const std::string& operation) { return aws::ServiceModel::SageMaker()->HasOperation(operation); }

void AddRoutes(http::Router& router, const SageMakerServices& s) {
  auto training = s.training;
  auto processing = s.processing;
  aws::AddAwsJsonService(router, MakeService(s), "sagemaker");

  auto add_logs = [&](const std::string& kind, LogReader read) {
    router.Add({.name = "loam." + kind + "_logs",
                .methods = {"GET"},
                .path = "/loam/v1/" + kind + "-jobs/",
                .prefix = true,
                .handler = [read](http::Request& req) { return JobLogs(read, req); },
                .errors = [](const Status& st) { return aws::AwsErrorResponse(st); }});
  };
  add_logs("training", [training](const std::string& job, const std::string& host, uint64_t offset, uint64_t max) {
    return training->ReadLog(job, host, offset, max);
  });
  add_logs("processing", [processing](const std::string& job, const std::string& host, uint64_t offset, uint64_t max) {
    return processing->ReadLog(job, host, offset, max);
  });
  auto transforms = s.transforms;
  add_logs("transform", [transforms](const std::string& job, const std::string& host, uint64_t offset, uint64_t max) {
    return transforms->ReadLog(job, host, offset, max);
  });
}

}  // namespace loam::api::sagemaker
