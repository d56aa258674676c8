// Where job data lives, and how it gets in and out of a job's directory. `file://` URIs and
// absolute paths are the local filesystem; `s3://` URIs are objects of the configured object
// store, reached through the bucket-store port only (local files by default, an external S3
// when configured), so jobs see exactly what Loam's S3 API serves.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "objects/bucket_store.h"

namespace loam::jobs {

// A parsed URI: an object (or key prefix) of a bucket, or a local path.
struct DataLocation {
  bool s3 = false;
  std::string bucket;           // s3 only
  std::string key;              // s3 only: a key or key prefix, "" for the whole bucket
  std::filesystem::path path;   // local only: absolute and normalised
};

class DataLocations {
 public:
  // `staging_dir` holds files on their way into the store; it must be on the same file
  // system as the job directories, so handing a job's output over is a link, not a copy.
  DataLocations(std::shared_ptr<objects::BucketStore> store, std::filesystem::path staging_dir);

  // InvalidArgument for other schemes, relative paths, invalid bucket names, and keys with
  // "." or ".." segments (nothing may escape the store's root).
  StatusOr<DataLocation> Parse(const std::string& uri) const;

  // Joins a prefix URI and a relative name the way S3 keys join ("a/b" + "c" -> "a/b/c").
  static std::string Join(const std::string& uri, const std::string& name);

  // One file an S3Prefix input names, with the name it gets in the channel: the key with the
  // prefix removed (a key equal to the prefix keeps its last segment), as SageMaker does.
  struct InputFile {
    std::filesystem::path relative;
    uint64_t size = 0;
    std::string bucket, key;       // an object, or
    std::filesystem::path source;  // a local file (file:// inputs)
  };
  // Every object whose key starts with the prefix (every file under a local path), sorted by
  // name; empty when there is none.
  StatusOr<std::vector<InputFile>> ListPrefix(const std::string& uri) const;
  // ListPrefix, refusing an empty result ("No data found at <uri>").
  StatusOr<std::vector<InputFile>> ListInputs(const std::string& uri) const;

  // Puts the files under `dest`, creating directories. With `link`, files the store keeps as
  // local files are symlinked rather than copied (FastFile); their paths are added to
  // `linked` so a sandbox can make them readable.
  Status PlaceFiles(const std::vector<InputFile>& files, const std::filesystem::path& dest, bool link,
                    std::vector<std::filesystem::path>* linked = nullptr) const;

  // A copy of one object (or local file) at `dest`. NotFound when there is no such object.
  Status FetchFile(const std::string& uri, const std::filesystem::path& dest) const;

  // Stores a local file at the URI (an object key or a local path). With `consume` the file
  // is moved rather than copied.
  Status UploadFile(const std::filesystem::path& file, const std::string& uri, bool consume = false) const;
  // Stores every regular file under `dir` at the URI joined with its relative path.
  Status UploadTree(const std::filesystem::path& dir, const std::string& uri) const;

 private:
  std::filesystem::path StagingPath() const;

  std::shared_ptr<objects::BucketStore> store_;
  std::filesystem::path staging_dir_;
};

// Copies a directory tree's contents into `dest`.
Status CopyTree(const std::filesystem::path& source, const std::filesystem::path& dest);

}  // namespace loam::jobs
