// Shared by the S3 operation handlers (internal to api/s3): the parsed request, header and
// query helpers, times as S3 writes them, and the owner Loam reports.
#pragma once

#include "common/ids.h"  // IsoTime

#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "http/request.h"
#include "objects/bucket_store.h"

namespace loam::api::s3 {

// One S3 request, path-style: /<bucket>/<key>.
struct S3Request {
  http::Request& http;
  objects::BucketStore& store;
  std::string bucket;    // "" for the service (ListBuckets)
  std::string key;       // "" for bucket operations
  std::string resource;  // the decoded path, for error responses
  bool head = false;

  bool HasQuery(std::string_view name) const { return http.QueryValue(name).has_value(); }
  std::string Query(std::string_view name) const { return std::string(http.QueryValue(name).value_or("")); }
  std::optional<std::string_view> Header(std::string_view lower_name) const { return http.Header(lower_name); }
};

inline constexpr std::string_view kDefaultContentType = "binary/octet-stream";
// Top-level paths Loam serves itself on the same port: no bucket can have these names
// (CreateBucket answers InvalidBucketName, ListBuckets leaves them out).
inline constexpr std::array<std::string_view, 6> kReservedBucketNames = {"api",     "ajax-api", "health",
                                                                         "metrics", "loam",     "static-files"};
inline constexpr std::string_view kOwnerDisplayName = "loam";
// The canonical user id Loam reports as every resource's owner.
std::string_view OwnerId();

// Mon, 12 Oct 2009 17:50:30 GMT
std::string HttpDate(int64_t epoch_ms);
// IMF-fixdate (and RFC 850 / asctime as RFC 9110 asks), to epoch seconds.
std::optional<int64_t> ParseHttpDate(std::string_view text);

// URL-encodes a key for encoding-type=url responses (everything but unreserved and '/').
std::string UrlEncode(std::string_view text);

// Opaque continuation tokens: URL-safe base64 of a position.
std::string EncodeToken(std::string_view position);
std::optional<std::string> DecodeToken(std::string_view token);

// An integer query parameter in [min, max] (larger values are clamped to `clamp` when set),
// `fallback` when absent. InvalidArgument when not an integer.
StatusOr<int64_t> IntQuery(const S3Request& r, std::string_view name, int64_t fallback, int64_t min,
                           std::optional<int64_t> clamp = std::nullopt);

// The request body of a small (XML) request: buffered or spooled. MaxMessageLengthExceeded
// beyond `limit`; BadDigest / InvalidDigest when a Content-MD5 or x-amz-checksum-* header
// does not match it.
StatusOr<std::string> ReadSmallBody(const S3Request& r, size_t limit);

// Metadata a writer sets through headers: Content-Type, the stored standard headers and
// x-amz-meta-*. MetadataTooLarge beyond S3's 2 KB of user metadata.
StatusOr<objects::ObjectAttributes> AttributesFromHeaders(const S3Request& r);

// The uploaded bytes of a PutObject or UploadPart: the spooled body, decoded when it is
// aws-chunked, and the digests the client stated in headers or trailers.
struct Payload {
  std::filesystem::path file;  // owned by the caller until handed to the store
  objects::ExpectedDigests expected;
};
StatusOr<Payload> ReadPayload(const S3Request& r);

// ETag, Last-Modified, Content-Type, stored headers and x-amz-meta-* of an object.
void AddObjectHeaders(http::Response& res, const objects::ObjectInfo& info);
// x-amz-checksum-<alg> (and x-amz-checksum-type) headers.
void AddChecksumHeaders(http::Response& res, const std::map<std::string, std::string>& checksums);

http::Response XmlResponse(std::string body, unsigned status = 200);
http::Response EmptyResponse(unsigned status);

// Whether an If-Match / If-None-Match list ("a", "b" or *) names this ETag.
bool EtagMatches(std::string_view list, std::string_view etag);

// Handlers (one file each: buckets, objects, multipart).
http::Response ListBuckets(S3Request& r);
http::Response CreateBucket(S3Request& r);
http::Response HeadBucket(S3Request& r);
http::Response DeleteBucket(S3Request& r);
http::Response GetBucketLocation(S3Request& r);
http::Response GetBucketVersioning(S3Request& r);
http::Response ListObjects(S3Request& r, bool v2);

http::Response PutObject(S3Request& r);
http::Response GetObject(S3Request& r);  // HEAD too
http::Response DeleteObject(S3Request& r);
http::Response DeleteObjects(S3Request& r);
http::Response CopyObject(S3Request& r);

http::Response CreateMultipartUpload(S3Request& r);
http::Response UploadPart(S3Request& r);  // UploadPartCopy too
http::Response CompleteMultipartUpload(S3Request& r);
http::Response AbortMultipartUpload(S3Request& r);
http::Response ListParts(S3Request& r);
http::Response ListMultipartUploads(S3Request& r);

// An error answered in S3's shape for this request.
http::Response Error(const S3Request& r, const Status& status);

}  // namespace loam::api::s3
