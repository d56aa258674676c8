// The one mapping from a Status to S3's XML error response.
//
// Wire shape (what botocore's REST-XML parser reads):
//   <?xml version="1.0" encoding="UTF-8"?>
//   <Error><Code>NoSuchKey</Code><Message>...</Message><Resource>/bucket/key</Resource>
//   <RequestId>...</RequestId></Error>
// with S3's HTTP status for the code, x-amz-request-id / x-amz-id-2 headers, and no body for
// HEAD requests (clients then see the bare status, e.g. "404").
//
// The S3 error code rides in the Status as objects::BucketError's reason; a Status without
// one gets its StatusCode's default.
#pragma once

#include <string>
#include <string_view>

#include "common/status.h"
#include "http/request.h"
#include "objects/bucket_store.h"

namespace loam::api::s3 {

// Codes only the protocol adapter produces (the store's are objects::reason::*).
inline constexpr std::string_view kMalformedXML = "MalformedXML";
inline constexpr std::string_view kMethodNotAllowed = "MethodNotAllowed";
inline constexpr std::string_view kNotImplemented = "NotImplemented";
inline constexpr std::string_view kInvalidDigest = "InvalidDigest";
inline constexpr std::string_view kIncompleteBody = "IncompleteBody";
inline constexpr std::string_view kPreconditionFailed = "PreconditionFailed";
inline constexpr std::string_view kNotModified = "NotModified";
inline constexpr std::string_view kMaxMessageLengthExceeded = "MaxMessageLengthExceeded";
inline constexpr std::string_view kMetadataTooLarge = "MetadataTooLarge";
inline constexpr std::string_view kEntityTooLarge = "EntityTooLarge";
inline constexpr std::string_view kInternalError = "InternalError";
inline constexpr std::string_view kServiceUnavailable = "ServiceUnavailable";

// A Status carrying an S3 error code.
inline Status S3Error(StatusCode code, std::string_view s3_code, std::string_view message) {
  return objects::BucketError(code, s3_code, message);
}

struct S3ErrorReply {
  unsigned http_status = 500;
  std::string code;
  std::string message;  // without the carried code
};

// The explicit code, else the StatusCode's default: InvalidArgument 400, NotFound ->
// NoSuchKey 404, AlreadyExists -> BucketAlreadyOwnedByYou 409, FailedPrecondition ->
// PreconditionFailed 412, ResourceExhausted -> EntityTooLarge 400, Unimplemented ->
// NotImplemented 501, Internal -> InternalError 500, Unavailable -> ServiceUnavailable 503.
S3ErrorReply ToS3Error(const Status& status);

// The full response. `resource` is the request's path; `head` drops the body.
http::Response S3ErrorResponse(const Status& status, std::string_view resource, bool head);

// S3's response identifiers: x-amz-request-id (16 upper-case hex) and x-amz-id-2.
void AddRequestIds(http::Response& response);

}  // namespace loam::api::s3
