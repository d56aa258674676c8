// The bucket-store port: S3's data model with no HTTP inside — buckets of objects named by
// keys, each with its metadata (ETag, content type, user metadata, checksums), listing with
// prefixes and delimiters, copies and multipart uploads. objects/local_bucket_store keeps
// every object as a plain file at <root>/<bucket>/<key>, where jobs read `s3://` URIs.
// Implementations are thread-safe.
//
// Errors are Status values whose message may carry a reason in S3's vocabulary
// ("NoSuchBucket", "BucketNotEmpty", ...; see BucketError), so the S3 adapter maps each
// failure to S3's error code once, the way api/aws/aws_errors carries AWS error types.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loam::objects {

// ---------------------------------------------------------------------------
// Failure reasons
// ---------------------------------------------------------------------------

namespace reason {
inline constexpr std::string_view kNoSuchBucket = "NoSuchBucket";
inline constexpr std::string_view kNoSuchKey = "NoSuchKey";
inline constexpr std::string_view kNoSuchUpload = "NoSuchUpload";
inline constexpr std::string_view kBucketAlreadyOwnedByYou = "BucketAlreadyOwnedByYou";
inline constexpr std::string_view kBucketNotEmpty = "BucketNotEmpty";
inline constexpr std::string_view kInvalidBucketName = "InvalidBucketName";
inline constexpr std::string_view kKeyTooLongError = "KeyTooLongError";
inline constexpr std::string_view kInvalidArgument = "InvalidArgument";
inline constexpr std::string_view kInvalidRequest = "InvalidRequest";
inline constexpr std::string_view kInvalidPart = "InvalidPart";
inline constexpr std::string_view kInvalidPartOrder = "InvalidPartOrder";
inline constexpr std::string_view kEntityTooSmall = "EntityTooSmall";
inline constexpr std::string_view kBadDigest = "BadDigest";
inline constexpr std::string_view kInvalidRange = "InvalidRange";
inline constexpr std::string_view kContentSha256Mismatch = "XAmzContentSHA256Mismatch";
// A key that would need a file where a directory is, or the reverse (a file tree cannot hold
// both "a/b" and "a/b/c"). Named as MinIO's file-system mode named the same limitation.
inline constexpr std::string_view kParentIsObject = "XLoamParentIsObject";
inline constexpr std::string_view kObjectExistsAsDirectory = "XLoamObjectExistsAsDirectory";
}  // namespace reason

// A Status with a reason: the reason rides in a "[s3:<Reason>] " message prefix that
// SplitBucketError removes again before anything reaches a client.
Status BucketError(StatusCode code, std::string_view reason, std::string_view message);
struct BucketErrorParts {
  std::string_view reason;  // empty when the status carries none
  std::string_view message;
};
BucketErrorParts SplitBucketError(const Status& status);

// ---------------------------------------------------------------------------
// Names
// ---------------------------------------------------------------------------

// S3's rules for general purpose buckets: 3-63 characters of lower-case letters, digits,
// dots and hyphens; starts and ends with a letter or digit; no "..", not an IPv4 address,
// none of S3's reserved prefixes and suffixes. InvalidBucketName otherwise.
Status ValidateBucketName(std::string_view name);

inline constexpr size_t kMaxKeyBytes = 1024;
// A key is 1-1024 bytes of UTF-8 (KeyTooLongError beyond) that must also be a relative
// path of the file tree: '/'-separated segments, none empty, "." or "..", none longer than
// 255 bytes, no NUL. So no leading or trailing '/', and no "a//b". InvalidArgument otherwise.
Status ValidateKey(std::string_view key);

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

struct BucketInfo {
  std::string name;
  int64_t created_ms = 0;
  std::string region;  // the CreateBucketConfiguration's LocationConstraint; "" = us-east-1
};

// What a writer sets on an object and readers get back.
struct ObjectAttributes {
  std::string content_type;  // "" = binary/octet-stream
  // Stored standard headers, lower-case names: content-encoding, content-disposition,
  // content-language, cache-control, expires.
  std::vector<std::pair<std::string, std::string>> headers;
  std::map<std::string, std::string> user_metadata;  // x-amz-meta-<name>: name lower-cased, no prefix
};

// Digests a writer states: the content is refused (BadDigest) when one does not match.
struct ExpectedDigests {
  std::optional<std::string> md5;  // raw 16 bytes (Content-MD5)
  // Flexible checksums by algorithm ("CRC32", ...): base64 of the raw digest, or "" to have
  // the store compute and keep it without checking.
  std::map<std::string, std::string> checksums;
  // SHA-256 of a signed payload (x-amz-content-sha256), raw 32 bytes: checked, not kept
  // (XAmzContentSHA256Mismatch).
  std::optional<std::string> payload_sha256;
};

struct ObjectInfo {
  std::string key;
  uint64_t size = 0;
  int64_t last_modified_ms = 0;
  std::string etag;  // quoted, as S3 writes it: "\"<hex md5>\"" or "\"<hex>-<parts>\""
  ObjectAttributes attributes;
  std::map<std::string, std::string> checksums;  // algorithm -> base64 ("<b64>-<n>" composite)
  int parts_count = 0;                            // > 0 for objects completed from parts
};

struct ObjectData {
  ObjectInfo info;
  std::filesystem::path file;  // the object's bytes, for the caller to stream
  // The file is a copy made for this caller (a remote store's download), which the caller
  // deletes once done; false for a store's own file, which the caller must never change.
  bool temporary = false;
};

struct ListObjectsOptions {
  std::string prefix;
  std::string delimiter;  // "" = no grouping
  // Keys and common prefixes up to and including this one are skipped (start-after, marker,
  // or the position a continuation token encodes).
  std::string marker;
  int max_keys = 1000;
};

struct ListObjectsResult {
  std::vector<ObjectInfo> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string last;  // the last key or common prefix returned: where the next page starts
};

struct ByteRange {
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct MultipartUpload {
  std::string upload_id;
  std::string bucket;
  std::string key;
  int64_t initiated_ms = 0;
  ObjectAttributes attributes;
  std::string checksum_algorithm;  // "" or one of SupportedChecksums()
};

struct PartInfo {
  int number = 0;
  uint64_t size = 0;
  std::string etag;  // quoted
  int64_t last_modified_ms = 0;
  std::map<std::string, std::string> checksums;  // algorithm -> base64
};

struct CompletedPart {
  int number = 0;
  std::string etag;  // quoted or not
};

struct ListPartsResult {
  MultipartUpload upload;
  std::vector<PartInfo> parts;
  bool truncated = false;
  int next_marker = 0;
};

struct ListUploadsOptions {
  std::string prefix;
  std::string key_marker;
  std::string upload_id_marker;
  int max_uploads = 1000;
};

struct ListUploadsResult {
  std::vector<MultipartUpload> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};

inline constexpr int kMaxPartNumber = 10000;

// ---------------------------------------------------------------------------
// The port
// ---------------------------------------------------------------------------

class BucketStore {
 public:
  virtual ~BucketStore() = default;

  // Buckets.
  virtual Status CreateBucket(std::string_view name, std::string_view region) = 0;
  // BucketNotEmpty while any object is left; abandons the bucket's multipart uploads.
  virtual Status DeleteBucket(std::string_view name) = 0;
  virtual StatusOr<BucketInfo> GetBucket(std::string_view name) = 0;
  virtual StatusOr<std::vector<BucketInfo>> ListBuckets() = 0;  // sorted by name

  // Objects. `source` is a file the store takes over (moves, or deletes on failure):
  // readers see the old object or the new one, never a mix.
  virtual StatusOr<ObjectInfo> PutObject(std::string_view bucket, std::string_view key,
                                         const std::filesystem::path& source, const ObjectAttributes& attributes,
                                         const ExpectedDigests& expected) = 0;
  virtual StatusOr<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key) = 0;
  virtual StatusOr<ObjectData> GetObject(std::string_view bucket, std::string_view key) = 0;
  // Deleting a key that does not exist succeeds, as in S3.
  virtual Status DeleteObject(std::string_view bucket, std::string_view key) = 0;
  // With `replace` the copy gets `attributes`, else the source's. Copying an object onto
  // itself without replacing its attributes is an InvalidRequest, as in S3.
  virtual StatusOr<ObjectInfo> CopyObject(std::string_view source_bucket, std::string_view source_key,
                                          std::string_view bucket, std::string_view key, bool replace,
                                          const ObjectAttributes& attributes) = 0;
  // Keys in UTF-8 binary order, as S3 lists them.
  virtual StatusOr<ListObjectsResult> ListObjects(std::string_view bucket, const ListObjectsOptions& options) = 0;

  // Multipart uploads.
  virtual StatusOr<MultipartUpload> CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                          const ObjectAttributes& attributes,
                                                          std::string_view checksum_algorithm) = 0;
  virtual StatusOr<PartInfo> UploadPart(std::string_view bucket, std::string_view key, std::string_view upload_id,
                                        int part_number, const std::filesystem::path& source,
                                        const ExpectedDigests& expected) = 0;
  // A part copied from (a byte range of) an existing object.
  virtual StatusOr<PartInfo> UploadPartCopy(std::string_view bucket, std::string_view key,
                                            std::string_view upload_id, int part_number,
                                            std::string_view source_bucket, std::string_view source_key,
                                            std::optional<ByteRange> range) = 0;
  // Parts must be listed in ascending order (InvalidPartOrder), each uploaded with that ETag
  // (InvalidPart), all but the last at least the minimum part size (EntityTooSmall).
  virtual StatusOr<ObjectInfo> CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                                       std::string_view upload_id,
                                                       const std::vector<CompletedPart>& parts) = 0;
  virtual Status AbortMultipartUpload(std::string_view bucket, std::string_view key, std::string_view upload_id) = 0;
  virtual StatusOr<ListPartsResult> ListParts(std::string_view bucket, std::string_view key, std::string_view upload_id,
                                              int part_number_marker, int max_parts) = 0;
  virtual StatusOr<ListUploadsResult> ListMultipartUploads(std::string_view bucket,
                                                           const ListUploadsOptions& options) = 0;
};

// The algorithms to compute over content a writer stated `expected` digests for: MD5 (the
// ETag) always, the stated checksums, `extra` (an upload's checksum algorithm) and SHA256 for
// a signed payload.
std::vector<std::string> DigestAlgorithmsFor(const ExpectedDigests& expected, std::string_view extra = "");
// BadDigest (or XAmzContentSHA256Mismatch) when a stated digest differs from the content's
// raw digests; otherwise the checksums to keep (base64): the stated ones and `keep`.
StatusOr<std::map<std::string, std::string>> VerifyDigests(const ExpectedDigests& expected,
                                                           const std::map<std::string, std::string>& raw,
                                                           std::string_view keep = "");

// The ETag of a multipart object: MD5 of the concatenated raw part MD5s, "-<count>", quoted.
std::string MultipartEtag(const std::vector<std::string>& raw_part_md5s);

}  // namespace loam::objects
