// The bucket-store port's values on S3's wire, for S3BucketStore: object metadata to and from
// HTTP headers, and the XML documents of S3's REST API (listings, multipart uploads, copies).
// Parsers are lenient where S3-compatible stores differ (missing optional elements, another
// namespace) and fail with Internal on a document that is not the expected one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"
#include "objects/bucket_store.h"
#include "objects/s3_client.h"

namespace loam::objects::s3wire {

// "2009-10-12T17:50:30.000Z" (S3's XML times) to epoch milliseconds; 0 when unreadable.
int64_t ParseIsoTime(std::string_view text);
// "Mon, 12 Oct 2009 17:50:30 GMT" (Last-Modified) to epoch milliseconds; 0 when unreadable.
int64_t ParseHttpDate(std::string_view text);

// Content-Type, the stored standard headers and x-amz-meta-* for a write.
std::vector<std::pair<std::string, std::string>> AttributeHeaders(const ObjectAttributes& attributes);
// An object's metadata from the headers of a HEAD or GET answer.
ObjectInfo ObjectInfoFromHeaders(std::string_view key, const S3Reply& reply);
// x-amz-checksum-<alg> headers of an answer, by algorithm name ("CRC32", ...).
std::map<std::string, std::string> ChecksumsFromHeaders(const S3Reply& reply);
std::string ChecksumHeaderName(std::string_view algorithm);

// Request bodies.
std::string CreateBucketConfiguration(std::string_view region);
std::string CompleteMultipartUploadBody(const std::vector<CompletedPart>& parts);

// Answers.
StatusOr<std::vector<BucketInfo>> ParseListBuckets(std::string_view xml);
StatusOr<std::string> ParseLocation(std::string_view xml);  // "" for us-east-1

struct ListPage {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
};
StatusOr<ListPage> ParseListObjects(std::string_view xml);

StatusOr<std::string> ParseUploadId(std::string_view xml);  // InitiateMultipartUploadResult
struct CopyResult {
  std::string etag;
  int64_t last_modified_ms = 0;
  std::map<std::string, std::string> checksums;
};
StatusOr<CopyResult> ParseCopyResult(std::string_view xml);  // CopyObjectResult, CopyPartResult
StatusOr<CopyResult> ParseCompleteResult(std::string_view xml);
StatusOr<ListPartsResult> ParseListParts(std::string_view xml);
StatusOr<ListUploadsResult> ParseListUploads(std::string_view xml);

}  // namespace loam::objects::s3wire
