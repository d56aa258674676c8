// State machines, tags and the helpers executions share (executions.cc runs them).
#include "workflows/workflow_service.h"

#include <fmt/format.h>

#include "common/base64.h"
#include "common/strings.h"
#include "workflows/service_common.h"

namespace loam::workflows {

using jobs::JobRecord;
using nlohmann::json;

WorkflowService::WorkflowService(std::shared_ptr<jobs::JobStore> store, std::shared_ptr<HistoryStore> history,
                                 std::shared_ptr<TaskIntegration> tasks, WorkflowOptions options)
    : store_(std::move(store)), history_(std::move(history)), tasks_(std::move(tasks)), options_(std::move(options)) {}

WorkflowService::~WorkflowService() { Shutdown(); }

StatusOr<json> WorkflowService::ParseDefinition(const std::string& text, const std::string& type) const {
  if (!JsonNestingWithin(text, kMaxJsonDepth)) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidDefinition,
                      fmt::format("Invalid State Machine Definition: 'SCHEMA_VALIDATION_FAILED: The definition is nested more "
                                  "than {} levels deep at /'", kMaxJsonDepth));
  }
  json definition = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (definition.is_discarded()) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidDefinition,
                      "Invalid State Machine Definition: 'INVALID_JSON_DESCRIPTION: The definition is not valid JSON'");
  }
  ValidationOptions v;
  v.resource_problem = [this, &type](const std::string& arn) -> std::optional<std::string> {
    std::optional<TaskResource> r = ParseTaskResource(arn);
    if (!r) return "is not recognized. The value is not a valid resource ARN, or the resource is not available in this region";
    // Express workflows run to their end at once; they cannot wait for a job or a token.
    if (type == "EXPRESS" && r->pattern != IntegrationPattern::kRequestResponse) {
      return fmt::format("is not supported: Express state machines do not support the '{}' integration pattern",
                         r->pattern == IntegrationPattern::kSync ? ".sync" : ".waitForTaskToken");
    }
    return tasks_ ? tasks_->Problem(*r) : std::optional<std::string>("is not recognized");
  };
  Status valid = ValidateDefinition(definition, v);
  if (!valid.ok()) return TypedError(StatusCode::kInvalidArgument, kInvalidDefinition, valid.message());
  return definition;
}

StatusOr<JobRecord> WorkflowService::StateMachineByArn(const std::string& arn) {
  ASSIGN_OR_RETURN(ArnParts parts, ParseArn(arn, "stateMachine", options_));
  auto record = store_->GetJob(kStateMachineKind, parts.names[0]);
  if (record.status().code() == StatusCode::kNotFound) {
    return TypedError(StatusCode::kNotFound, kStateMachineDoesNotExist, fmt::format("State Machine Does Not Exist: '{}'", arn));
  }
  return record;
}

StatusOr<json> WorkflowService::CreateStateMachine(const json& request) {
  const std::string name = request["name"].get<std::string>();
  RETURN_IF_ERROR(CheckName(name));
  const std::string type = request.value("type", "STANDARD");
  RETURN_IF_ERROR(CheckRoleArn(request["roleArn"].get<std::string>()));
  ASSIGN_OR_RETURN(json definition, ParseDefinition(request["definition"].get<std::string>(), type));
  const int64_t now = options_.clock();
  JobRecord record;
  record.kind = kStateMachineKind;
  record.name = name;
  record.arn = fmt::format("arn:aws:states:{}:{}:stateMachine:{}", options_.region, options_.account, name);
  record.status = "ACTIVE";
  record.creation_time_ms = record.last_modified_time_ms = now;
  record.doc = {{"definition", request["definition"]},
                {"roleArn", request["roleArn"]},
                {"type", type},
                {"description", request.value("description", "")},
                {"loggingConfiguration", request.value("loggingConfiguration", json{{"level", "OFF"}, {"includeExecutionData", false}})},
                {"tracingConfiguration", request.value("tracingConfiguration", json{{"enabled", false}})},
                {"revisionId", NewUuidHex()}};
  if (request.contains("tags") && request["tags"].size() > kMaxTags) {
    return TypedError(StatusCode::kResourceExhausted, kTooManyTags, fmt::format("Too many tags on '{}'", record.arn));
  }
  Status created = store_->CreateJob(record);
  if (created.code() == StatusCode::kAlreadyExists) {
    // Creating the same machine again is idempotent (its role and tags are then left as they
    // are); a different machine by that name is refused.
    ASSIGN_OR_RETURN(JobRecord existing, store_->GetJob(kStateMachineKind, name));
    for (const char* field : {"definition", "type", "loggingConfiguration", "tracingConfiguration"}) {
      if (existing.doc[field] != record.doc[field]) {
        return TypedError(StatusCode::kAlreadyExists, kStateMachineAlreadyExists,
                          fmt::format("State Machine Already Exists: '{}'", existing.arn));
      }
    }
    return json{{"stateMachineArn", existing.arn}, {"creationDate", EpochSeconds(existing.creation_time_ms)}};
  }
  RETURN_IF_ERROR(created);
  if (request.contains("tags")) RETURN_IF_ERROR(AddTags(record.arn, request["tags"]));
  return json{{"stateMachineArn", record.arn}, {"creationDate", EpochSeconds(record.creation_time_ms)}};
}

StatusOr<json> WorkflowService::DescribeStateMachine(const json& request) {
  ASSIGN_OR_RETURN(JobRecord sm, StateMachineByArn(request["stateMachineArn"].get<std::string>()));
  json out = {{"stateMachineArn", sm.arn},
              {"name", sm.name},
              {"status", sm.status},
              {"definition", sm.doc["definition"]},
              {"roleArn", sm.doc["roleArn"]},
              {"type", sm.doc["type"]},
              {"creationDate", EpochSeconds(sm.creation_time_ms)},
              {"loggingConfiguration", sm.doc["loggingConfiguration"]},
              {"tracingConfiguration", sm.doc["tracingConfiguration"]},
              {"revisionId", sm.doc["revisionId"]}};
  if (!sm.doc.value("description", "").empty()) out["description"] = sm.doc["description"];
  json references = VariableReferences(json::parse(sm.doc["definition"].get<std::string>(), nullptr, false));
  if (!references.empty()) out["variableReferences"] = std::move(references);
  return out;
}

StatusOr<json> WorkflowService::UpdateStateMachine(const json& request) {
  ASSIGN_OR_RETURN(JobRecord sm, StateMachineByArn(request["stateMachineArn"].get<std::string>()));
  if (!request.contains("definition") && !request.contains("roleArn") && !request.contains("loggingConfiguration") &&
      !request.contains("tracingConfiguration")) {
    return TypedError(StatusCode::kInvalidArgument, kMissingRequiredParameter,
                      "Either the definition, the role ARN, the LoggingConfiguration, or the TracingConfiguration must be specified");
  }
  if (request.contains("definition")) {
    ASSIGN_OR_RETURN(json definition, ParseDefinition(request["definition"].get<std::string>(), sm.doc["type"].get<std::string>()));
    sm.doc["definition"] = request["definition"];
  }
  if (request.contains("roleArn")) RETURN_IF_ERROR(CheckRoleArn(request["roleArn"].get<std::string>()));
  for (const char* field : {"roleArn", "loggingConfiguration", "tracingConfiguration"}) {
    if (request.contains(field)) sm.doc[field] = request[field];
  }
  sm.doc["revisionId"] = NewUuidHex();
  sm.last_modified_time_ms = options_.clock();
  RETURN_IF_ERROR(store_->UpdateJob(sm));
  // Running executions keep the definition they started with.
  return json{{"updateDate", EpochSeconds(sm.last_modified_time_ms)}, {"revisionId", sm.doc["revisionId"]}};
}

StatusOr<json> WorkflowService::DeleteStateMachine(const json& request) {
  const std::string arn = request["stateMachineArn"].get<std::string>();
  ASSIGN_OR_RETURN(ArnParts parts, ParseArn(arn, "stateMachine", options_));
  // Deleting what does not exist succeeds, as in Step Functions; running executions go on.
  Status deleted = store_->DeleteJob(kStateMachineKind, parts.names[0]);
  if (!deleted.ok() && deleted.code() != StatusCode::kNotFound) return deleted;
  return json::object();
}

StatusOr<json> WorkflowService::ListStateMachines(const json& request) {
  jobs::JobListQuery q;
  q.kind = kStateMachineKind;
  q.sort_by = jobs::JobSortBy::kCreationTime;
  ASSIGN_OR_RETURN(std::tie(q.offset, q.limit), PageOf(request));
  ASSIGN_OR_RETURN(auto page, store_->ListJobs(q));
  json machines = json::array();
  for (const JobRecord& sm : page.first) {
    machines.push_back({{"stateMachineArn", sm.arn}, {"name", sm.name}, {"type", sm.doc["type"]},
                        {"creationDate", EpochSeconds(sm.creation_time_ms)}});
  }
  json out = {{"stateMachines", std::move(machines)}};
  if (page.second) out["nextToken"] = EncodeOffsetToken(q.offset + q.limit);
  return out;
}

StatusOr<json> WorkflowService::ValidateStateMachineDefinition(const json& request) {
  auto parsed = ParseDefinition(request["definition"].get<std::string>(), request.value("type", "STANDARD"));
  if (parsed.ok()) return json{{"result", "OK"}, {"diagnostics", json::array()}, {"truncated", false}};
  // "Invalid State Machine Definition: '<CODE>: <message> at <location>'"
  std::string text(ErrorTypeOf(parsed.status()).second);
  const std::string prefix = "Invalid State Machine Definition: '";
  if (StartsWith(text, prefix)) text = text.substr(prefix.size(), text.size() - prefix.size() - 1);
  const size_t colon = text.find(": ");
  const size_t at = text.rfind(" at ");
  json d = {{"severity", "ERROR"}, {"code", text.substr(0, colon)}};
  d["message"] = colon == std::string::npos ? text : text.substr(colon + 2, at == std::string::npos || at < colon ? std::string::npos : at - colon - 2);
  if (at != std::string::npos && at > colon) d["location"] = text.substr(at + 4);
  return json{{"result", "FAIL"}, {"diagnostics", json::array({d})}, {"truncated", false}};
}

// Step Functions names the tag limit TooManyTags (the store's own is SageMaker's wording).
Status WorkflowService::AddTags(const std::string& arn, const json& tags) {
  Status added = store_->AddTags(arn, AwsTags(tags));
  if (added.code() == StatusCode::kResourceExhausted) {
    return TypedError(StatusCode::kResourceExhausted, kTooManyTags, fmt::format("Too many tags on '{}'", arn));
  }
  return added;
}

// Tags belong to state machines and executions (SageMaker's resources have AddTags).
Status WorkflowService::CheckTaggable(const std::string& arn) {
  if (!StartsWith(arn, "arn:aws:states:")) {
    return TypedError(StatusCode::kInvalidArgument, kInvalidArn, fmt::format("Invalid Arn: 'Resource type not valid in this context: {}'", arn));
  }
  ASSIGN_OR_RETURN(bool exists, store_->JobArnExists(arn));
  if (!exists) return TypedError(StatusCode::kNotFound, kResourceNotFound, fmt::format("Resource not found: '{}'", arn));
  return Status::Ok();
}

StatusOr<json> WorkflowService::TagResource(const json& request) {
  const std::string arn = request["resourceArn"].get<std::string>();
  RETURN_IF_ERROR(CheckTaggable(arn));
  RETURN_IF_ERROR(AddTags(arn, request["tags"]));
  return json::object();
}

StatusOr<json> WorkflowService::UntagResource(const json& request) {
  const std::string arn = request["resourceArn"].get<std::string>();
  RETURN_IF_ERROR(CheckTaggable(arn));
  RETURN_IF_ERROR(store_->DeleteTags(arn, request["tagKeys"].get<std::vector<std::string>>()));
  return json::object();
}

StatusOr<json> WorkflowService::ListTagsForResource(const json& request) {
  const std::string arn = request["resourceArn"].get<std::string>();
  RETURN_IF_ERROR(CheckTaggable(arn));
  ASSIGN_OR_RETURN(auto tags, store_->ListTags(arn));
  json out = json::array();
  for (const auto& t : tags) out.push_back({{"key", t.key}, {"value", t.value}});
  return json{{"tags", std::move(out)}};
}

}  // namespace loam::workflows
