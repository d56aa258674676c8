// What the workflow service's state machine and execution halves share: record kinds, Step
// Functions' error types, ARNs, names, tags and pages.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "jobs/job_store.h"
#include "workflows/workflow_service.h"

namespace loam::workflows {

inline constexpr const char* kStateMachineKind = "state-machine";
inline constexpr const char* kExecutionKind = "execution";

// Step Functions' error types.
inline constexpr std::string_view kInvalidArn = "InvalidArn";
inline constexpr std::string_view kInvalidName = "InvalidName";
inline constexpr std::string_view kInvalidDefinition = "InvalidDefinition";
inline constexpr std::string_view kInvalidExecutionInput = "InvalidExecutionInput";
inline constexpr std::string_view kInvalidOutput = "InvalidOutput";
inline constexpr std::string_view kInvalidToken = "InvalidToken";
inline constexpr std::string_view kStateMachineDoesNotExist = "StateMachineDoesNotExist";
inline constexpr std::string_view kStateMachineAlreadyExists = "StateMachineAlreadyExists";
inline constexpr std::string_view kStateMachineTypeNotSupported = "StateMachineTypeNotSupported";
inline constexpr std::string_view kExecutionDoesNotExist = "ExecutionDoesNotExist";
inline constexpr std::string_view kExecutionAlreadyExists = "ExecutionAlreadyExists";
inline constexpr std::string_view kTaskDoesNotExist = "TaskDoesNotExist";
inline constexpr std::string_view kTaskTimedOut = "TaskTimedOut";
inline constexpr std::string_view kResourceNotFound = "ResourceNotFound";
inline constexpr std::string_view kMissingRequiredParameter = "MissingRequiredParameter";
inline constexpr std::string_view kTooManyTags = "TooManyTags";

// arn:aws:states:<region>:<account>:<type>:<name>[:<name>]: the names after the type.
struct ArnParts {
  std::string type;  // "stateMachine", "execution", "express"
  std::vector<std::string> names;
};
// InvalidArn unless `arn` is a Step Functions ARN of `type` ("execution" also accepts "express")
// in this region and account.
StatusOr<ArnParts> ParseArn(const std::string& arn, std::string_view type, const WorkflowOptions& options);

inline constexpr size_t kMaxTags = 50;
// How deeply definitions, inputs and task answers may nest (see JsonNestingWithin).
inline constexpr size_t kMaxJsonDepth = 512;

// InvalidArn "Invalid Role Arn" unless `arn` is an IAM role ARN (arn:aws:iam::<account>:role/<name>).
Status CheckRoleArn(const std::string& arn);

// InvalidName for what Step Functions refuses in state machine and execution names: blanks,
// brackets, wildcards, control characters and "#%\^|~`$&,;:/.
Status CheckName(const std::string& name);

// [{"key", "value"}] as the store's tags.
std::vector<jobs::Tag> AwsTags(const nlohmann::json& tags);

// DescribeStateMachine's variableReferences: each state (nested ones too) that reads workflow
// variables, with the names it reads, sorted.
nlohmann::json VariableReferences(const nlohmann::json& definition);

// Step Functions' timestamps: epoch seconds with milliseconds.
inline double EpochSeconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// maxResults (0 or absent: 100, at most 1000) and nextToken (common EncodeOffsetToken: an offset
// into a list, or the event id a history page continues from) as offset and limit.
StatusOr<std::pair<size_t, size_t>> PageOf(const nlohmann::json& request);

}  // namespace loam::workflows
