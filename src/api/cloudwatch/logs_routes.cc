#include "api/cloudwatch/logs_routes.h"

#include "api/aws/aws_json.h"

namespace loam::api::cloudwatch {

using nlohmann::json;

namespace {

// CloudWatch Logs names a missing group or stream ResourceNotFoundException.
StatusOr<json> WithLogsErrors(StatusOr<json> result) {
  if (!result.ok() && result.status().code() == StatusCode::kNotFound) {
    return aws::AwsError(StatusCode::kNotFound, "ResourceNotFoundException", result.status().message());
  }
  return result;
}

}  // namespace

void AddLogsRoutes(http::Router& router, std::shared_ptr<jobs::JobLogStreams> streams) {
  aws::AwsJsonService service;
  service.target_prefix = "Logs_20140328.";
  service.model = aws::ServiceModel::Logs();
  service.operations["DescribeLogStreams"] = [streams](const json& in) {
    return WithLogsErrors(streams->DescribeLogStreams(in));
  };
  service.operations["GetLogEvents"] = [streams](const json& in) { return WithLogsErrors(streams->GetLogEvents(in)); };
  aws::AddAwsJsonService(router, std::move(service), "logs");
}

}  // namespace loam::api::cloudwatch
