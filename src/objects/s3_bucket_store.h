// BucketStore over an external S3-compatible object store (AWS S3, MinIO, Ceph RGW, ...).
//
// Loam's buckets and keys map 1:1 to the remote's; every operation is one or a few calls of
// S3's REST API through S3Client. What the port asks and S3 also does is passed through
// (the remote's ETags, metadata, errors); what Loam adds is done here:
//   - PutObject verifies the writer's digests (Content-MD5, flexible checksums, the signed
//     payload's SHA-256) locally before anything is sent, so a BadDigest or
//     XAmzContentSHA256Mismatch leaves nothing on the remote, and uploads files above
//     `multipart_threshold` as a multipart upload of `part_size` parts (each with its
//     Content-MD5, so the remote checks what it received). The source file is deleted once
//     sent, whatever the outcome, as the port says.
//   - GetObject downloads the object to a new file under `temp_dir` and returns it with
//     ObjectData::temporary set: the caller deletes it.
//   - ListObjects reads whole ListObjectsV2 pages, sorts and cuts them to `max_keys` here,
//     and skips whatever the `marker` already covered (a common prefix included), whether or
//     not the remote does.
//   - Errors keep S3's code as the BucketError reason (NoSuchKey, BucketNotEmpty, InvalidPart,
//     ...); a remote that cannot be reached, or keeps failing with 5xx after the client's
//     retries, is Unavailable with the endpoint in the message.
//
// Unlike LocalBucketStore it keeps nothing of its own: objects written here are not files
// under DATA_DIR/objects, and the remote alone decides which checksums it keeps (a store
// that ignores x-amz-checksum-* headers returns none later).
//
// Thread-safe (S3Client is; the store has no other state).
#pragma once

#include <cstdint>
#include <filesystem>

#include "objects/bucket_store.h"
#include "objects/s3_client.h"
#include "objects/s3_wire.h"

namespace loam::objects {

struct S3BucketStoreOptions {
  S3ClientOptions client;
  std::filesystem::path temp_dir;                      // GetObject's downloads
  uint64_t multipart_threshold = 64ull * 1024 * 1024;  // PutObject of a larger file goes up in parts
  uint64_t part_size = 16ull * 1024 * 1024;            // at least S3's 5 MiB minimum
};

class S3BucketStore final : public BucketStore {
 public:
  explicit S3BucketStore(S3BucketStoreOptions options);

  // Whether the endpoint answers Loam with its credentials (ListBuckets): for a clear
  // failure at startup rather than at the first request.
  Status CheckReachable();

  Status CreateBucket(std::string_view name, std::string_view region) override;
  Status DeleteBucket(std::string_view name) override;
  StatusOr<BucketInfo> GetBucket(std::string_view name) override;
  StatusOr<std::vector<BucketInfo>> ListBuckets() override;

  StatusOr<ObjectInfo> PutObject(std::string_view bucket, std::string_view key, const std::filesystem::path& source,
                                 const ObjectAttributes& attributes, const ExpectedDigests& expected) override;
  StatusOr<ObjectInfo> HeadObject(std::string_view bucket, std::string_view key) override;
  StatusOr<ObjectData> GetObject(std::string_view bucket, std::string_view key) override;
  Status DeleteObject(std::string_view bucket, std::string_view key) override;
  StatusOr<ObjectInfo> CopyObject(std::string_view source_bucket, std::string_view source_key,
                                  std::string_view bucket, std::string_view key, bool replace,
                                  const ObjectAttributes& attributes) override;
  StatusOr<ListObjectsResult> ListObjects(std::string_view bucket, const ListObjectsOptions& options) override;

  StatusOr<MultipartUpload> CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                  const ObjectAttributes& attributes,
                                                  std::string_view checksum_algorithm) override;
  StatusOr<PartInfo> UploadPart(std::string_view bucket, std::string_view key, std::string_view upload_id,
                                int part_number, const std::filesystem::path& source,
                                const ExpectedDigests& expected) override;
  StatusOr<PartInfo> UploadPartCopy(std::string_view bucket, std::string_view key, std::string_view upload_id,
                                    int part_number, std::string_view source_bucket, std::string_view source_key,
                                    std::optional<ByteRange> range) override;
  StatusOr<ObjectInfo> CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                               std::string_view upload_id,
                                               const std::vector<CompletedPart>& parts) override;
  Status AbortMultipartUpload(std::string_view bucket, std::string_view key, std::string_view upload_id) override;
  StatusOr<ListPartsResult> ListParts(std::string_view bucket, std::string_view key, std::string_view upload_id,
                                      int part_number_marker, int max_parts) override;
  StatusOr<ListUploadsResult> ListMultipartUploads(std::string_view bucket, const ListUploadsOptions& options) override;

  const S3BucketStoreOptions& options() const { return options_; }

 private:
  struct Scan;
  // Reads the file once for its size, whole-file digests and (part_size > 0) part MD5s.
  static StatusOr<Scan> ScanFile(const std::filesystem::path& path, uint64_t part_size,
                                 const std::vector<std::string>& algorithms);
  // S3 may answer a copy or a completion 200 and still fail, with an <Error> document.
  Status FailureInBody(const S3Call& call, const S3Reply& reply) const;
  // A copy's or a completion's answer has no size or metadata: the new object is asked for
  // them, and keeps the answer's ETag and checksums.
  StatusOr<ObjectInfo> Describe(std::string_view bucket, std::string_view key, s3wire::CopyResult written);

  StatusOr<ObjectInfo> PutInParts(std::string_view bucket, std::string_view key, const std::filesystem::path& source,
                                  const ObjectAttributes& attributes, const Scan& scan);

  S3BucketStoreOptions options_;
  S3Client client_;
};

}  // namespace loam::objects
