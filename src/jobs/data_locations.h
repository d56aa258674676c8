// Where job data lives: `file://` URIs and absolute paths are the local filesystem; `s3://`
// URIs are objects of the built-in object store, files under its root directory.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace loam::jobs {

class DataLocations {
 public:
  explicit DataLocations(std::filesystem::path object_root) : object_root_(std::move(object_root)) {}

  // The local path a URI names. InvalidArgument for other schemes, relative paths, or keys
  // that would escape the object store.
  StatusOr<std::filesystem::path> Resolve(const std::string& uri) const;

  // Joins a prefix URI and a relative name the way S3 keys join ("a/b" + "c" -> "a/b/c").
  static std::string Join(const std::string& uri, const std::string& name);

  // Files an S3Prefix input names: every file whose path starts with the prefix, each with
  // the name it gets in the channel (relative to the prefix's last '/', as SageMaker does).
  struct InputFile {
    std::filesystem::path source;
    std::filesystem::path relative;
  };
  StatusOr<std::vector<InputFile>> ListPrefix(const std::string& uri) const;

  const std::filesystem::path& object_root() const { return object_root_; }

 private:
  std::filesystem::path object_root_;
};

// Copies (or, with `link`, symlinks) files into `dest`, creating directories.
Status PlaceFiles(const std::vector<DataLocations::InputFile>& files, const std::filesystem::path& dest, bool link);

// Copies a directory tree's contents into `dest`.
Status CopyTree(const std::filesystem::path& source, const std::filesystem::path& dest);

}  // namespace loam::jobs
