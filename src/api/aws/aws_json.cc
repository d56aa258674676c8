#include "api/aws/aws_json.h"

#include <algorithm>
#include <exception>
#include <vector>

#include "common/log.h"

namespace loam::api::aws {
namespace {

using Json = nlohmann::json;

http::Response Reply(const AwsJsonService& service, const Json& body) {
  // An operation without output may return null; AWS answers "{}" then.
  std::string text = body.is_null() ? "{}" : body.dump(-1, ' ', false, Json::error_handler_t::replace);
  http::Response res = http::Response::Json(200, std::move(text));
  res.content_type = service.content_type;
  res.headers.emplace_back("x-amzn-RequestId", NewAwsRequestId());
  return res;
}

std::string_view OperationName(const AwsJsonService& service, const http::Request& req) {
  std::string_view target = req.Header("x-amz-target").value_or("");
  return target.starts_with(service.target_prefix) ? target.substr(service.target_prefix.size()) : std::string_view();
}

// The request body as the operation's validated input.
StatusOr<Json> ParseInput(const AwsJsonService& service, std::string_view operation, const http::Request& req) {
  // Empty bodies are valid for operations whose members are all optional.
  Json input = req.body.empty() ? Json::object() : Json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (input.is_discarded() || !input.is_object()) {
    return AwsError(StatusCode::kInvalidArgument, kSerializationException,
                    input.is_discarded() ? "The request body is not valid JSON" : "The request body must be a JSON object");
  }
  RETURN_IF_ERROR(service.model->ValidateInput(operation, input));
  return input;
}

void HandleAsync(std::shared_ptr<const AwsJsonService> service, const http::Request& req, http::Responder done) {
  const std::string operation(OperationName(*service, req));
  auto fail = [service](const Status& s) { return AwsErrorResponse(s, service->content_type); };
  auto op = service->async_operations.find(operation);
  auto input = ParseInput(*service, operation, req);
  if (!input.ok()) {
    done(fail(input.status()));
    return;
  }
  try {
    op->second(*input, [service, done, fail](StatusOr<Json> result) {
      done(result.ok() ? Reply(*service, *result) : fail(result.status()));
    });
  } catch (const std::exception& e) {
    log::Error("aws.operation_exception", {{"operation", operation}, {"error", e.what()}});
    done(fail(Internal("internal error in " + operation + ": " + e.what())));
  }
}

http::Response Handle(const AwsJsonService& service, const http::Request& req) {
  auto fail = [&](const Status& s) { return AwsErrorResponse(s, service.content_type); };
  std::string_view target = req.Header("x-amz-target").value_or("");
  std::string_view operation_name = OperationName(service, req);
  auto op = service.operations.find(operation_name);
  if (op == service.operations.end()) {
    return fail(AwsError(StatusCode::kInvalidArgument, kUnknownOperationException,
                         "Unknown operation " + std::string(target)));
  }
  auto parsed = ParseInput(service, op->first, req);
  if (!parsed.ok()) return fail(parsed.status());
  const Json& input = *parsed;

  // Operations may throw (nlohmann's at(), bad_alloc): answer InternalFailure here, with the
  // operation named in the log, rather than let an exception leave the adapter.
  try {
    StatusOr<Json> result = op->second(input);
    if (!result.ok()) return fail(result.status());
    return Reply(service, *result);
  } catch (const std::exception& e) {
    log::Error("aws.operation_exception", {{"target", target}, {"error", e.what()}});
    return fail(Internal(std::string("internal error in ") + op->first + ": " + e.what()));
  }
}

}  // namespace

void AddAwsJsonService(http::Router& router, AwsJsonService service, const std::string& metrics_name_prefix) {
  auto shared = std::make_shared<const AwsJsonService>(std::move(service));
  http::ErrorFormatter errors = [shared](const Status& s) { return AwsErrorResponse(s, shared->content_type); };
  http::Handler handler = [shared](http::Request& req) { return Handle(*shared, req); };

  // The router matches X-Amz-Target by prefix, first route first: registering longer names
  // first keeps "DescribeModel" from capturing "DescribeModelPackage".
  std::vector<std::string> names;
  for (const auto& [name, op] : shared->operations) names.push_back(name);
  for (const auto& [name, op] : shared->async_operations) names.push_back(name);
  for (const auto& name : names) {
    // Such an operation would answer UnknownOperationException: a wiring mistake, made loud.
    if (!shared->model->HasOperation(name)) log::Error("aws.operation_not_in_model", {{"operation", name}});
  }
  http::AsyncHandler async_handler = [shared](http::Request& req, http::Responder done) {
    HandleAsync(shared, req, std::move(done));
  };
  std::stable_sort(names.begin(), names.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  for (const auto& name : names) {
    const bool async = shared->async_operations.count(name) > 0;
    router.Add({.name = metrics_name_prefix + "." + name,
                .methods = {"POST"},
                .amz_target_prefix = shared->target_prefix + name,
                .handler = async ? http::Handler() : handler,
                .async_handler = async ? async_handler : http::AsyncHandler(),
                .errors = errors});
  }
  router.Add({.name = metrics_name_prefix + ".unknown",
              .methods = {"POST"},
              .amz_target_prefix = shared->target_prefix,
              .handler = handler,
              .errors = errors});
}

}  // namespace loam::api::aws
