// BucketStore on the local file system.
//
// Objects are plain files at <root>/<bucket>/<key>, exactly where jobs resolve
// `s3://bucket/key`, so training and processing jobs read them (and write outputs) directly.
// Everything else lives under a separate state directory, outside every bucket's key space:
//
//   <state>/buckets/<bucket>.json            creation time and region
//   <state>/objects/<bucket>/<hh>/<sha256(key)>.json
//                                            an object's metadata: ETag, content type, stored
//                                            headers, user metadata, checksums, and the size,
//                                            mtime and inode of the file it describes
//   <state>/uploads/<upload id>/             a multipart upload: upload.json, part-NNNNN + .json
//   <state>/tmp/                             files being assembled (copies, completions)
//
// A metadata file counts only while the object's file still has the size, mtime and inode it
// records; a file written straight into the tree (a job's output) or changed since is
// described from the file itself, its ETag computed (MD5) on first use and remembered.
//
// Only regular files and real directories are objects and prefixes: symbolic links and
// other special files in the tree are never listed, read or followed. The tree cannot hold a
// file and a directory at one path, so "a/b" and "a/b/c" cannot both exist (the second is
// refused with XLoamParentIsObject / XLoamObjectExistsAsDirectory).
#pragma once

#include <filesystem>
#include <mutex>

#include "common/ids.h"
#include "objects/bucket_store.h"

namespace loam::objects {

struct LocalBucketStoreOptions {
  std::filesystem::path root;        // <root>/<bucket>/<key>
  std::filesystem::path state_root;  // metadata, uploads, temporary files
  uint64_t min_part_size = 5 * 1024 * 1024;  // every part but the last, at completion
};

class LocalBucketStore final : public BucketStore {
 public:
  explicit LocalBucketStore(LocalBucketStoreOptions options);

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

  const std::filesystem::path& root() const { return options_.root; }

  struct FileStat {
    uint64_t size = 0;
    int64_t mtime_ns = 0;
    uint64_t inode = 0;
  };

 private:
  std::filesystem::path BucketDir(std::string_view bucket) const;
  std::filesystem::path MetaFile(std::string_view bucket, std::string_view key) const;
  std::filesystem::path UploadDir(std::string_view upload_id) const;
  std::filesystem::path NewTempPath() const;

  Status RequireBucket(std::string_view bucket) const;
  // The object's file: a regular file reached through real directories only. NoSuchKey else.
  StatusOr<std::pair<std::filesystem::path, FileStat>> FindObjectFile(std::string_view bucket,
                                                                      std::string_view key) const;
  // The object's metadata, from its metadata file when that still describes the file.
  StatusOr<ObjectInfo> Describe(std::string_view bucket, std::string_view key, const std::filesystem::path& file,
                                const FileStat& st);
  // Moves a finished file (with its metadata) to the key, under the namespace lock.
  StatusOr<ObjectInfo> Place(std::string_view bucket, std::string_view key, const std::filesystem::path& source,
                             ObjectInfo info);
  StatusOr<MultipartUpload> LoadUpload(std::string_view bucket, std::string_view key, std::string_view upload_id) const;
  StatusOr<std::vector<PartInfo>> LoadParts(std::string_view upload_id) const;
  StatusOr<PartInfo> StorePart(std::string_view upload_id, int part_number, const std::filesystem::path& source,
                               const std::string& raw_md5, const std::map<std::string, std::string>& checksums);

  LocalBucketStoreOptions options_;
  // Serializes changes to the shape of the tree (directories created and pruned, files
  // renamed into place or removed) and to metadata files; never held while hashing.
  std::mutex namespace_mu_;
};

}  // namespace loam::objects
