// The one mapping from a Status to the AWS JSON error response, and a way for an operation to
// name a specific AWS error type (e.g. "ResourceNotFound") when its code's default is wrong.
//
// Wire shape (what botocore's JSON parser reads): HTTP 400 for every deterministic error
// (botocore retries 5xx, which Loam answers for its own failures and unreachable dependencies), body {"__type": "<Type>", "message": "<text>", "Message": "<text>"},
// and an x-amzn-ErrorType header for the Smithy-based SDKs.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "http/request.h"

namespace loam::api::aws {

inline constexpr std::string_view kAwsJson11ContentType = "application/x-amz-json-1.1";

// AWS error types Loam answers with.
inline constexpr std::string_view kValidationException = "ValidationException";
inline constexpr std::string_view kSerializationException = "SerializationException";
inline constexpr std::string_view kUnknownOperationException = "UnknownOperationException";
inline constexpr std::string_view kResourceInUse = "ResourceInUse";
inline constexpr std::string_view kResourceNotFound = "ResourceNotFound";
inline constexpr std::string_view kResourceLimitExceeded = "ResourceLimitExceeded";
inline constexpr std::string_view kNotImplementedException = "NotImplementedException";
inline constexpr std::string_view kInternalFailure = "InternalFailure";
inline constexpr std::string_view kServiceUnavailable = "ServiceUnavailable";

// A Status carrying an explicit AWS error type (common TypedError); the type is removed from
// the message again before anything reaches the client.
Status AwsError(StatusCode code, std::string_view aws_type, std::string_view message);

struct AwsErrorReply {
  unsigned http_status = 400;
  std::string type;     // "__type"
  std::string message;  // without any AwsError prefix
};

// Explicit type from AwsError, else the default for the status code:
//   kInvalidArgument, kNotFound, kFailedPrecondition -> 400 ValidationException
//   kAlreadyExists -> 400 ResourceInUse;  kResourceExhausted -> 400 ResourceLimitExceeded
//   kUnimplemented -> 400 NotImplementedException;  kInternal (and kOk) -> 500 InternalFailure
//   kUnavailable -> 503 ServiceUnavailable
AwsErrorReply ToAwsError(const Status& status);

// The full error response, including a fresh x-amzn-RequestId.
http::Response AwsErrorResponse(const Status& status, std::string_view content_type = kAwsJson11ContentType);

// A request id in the UUID layout AWS uses (8-4-4-4-12 lowercase hex).
std::string NewAwsRequestId();

}  // namespace loam::api::aws
