// The object-store port: artifacts, model files and job data live here. Local files are the
// default (objects/local_object_store); an S3-compatible implementation plugs in behind the
// same interface. Keys are '/'-separated relative paths; an implementation refuses any key
// that would escape its root. Implementations are thread-safe.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loam::objects {

struct ObjectEntry {
  std::string name;   // last path segment
  bool is_dir = false;
  uint64_t size = 0;  // files only
};

struct ReadableObject {
  uint64_t size = 0;
  std::filesystem::path local_file;  // a file the caller may stream from
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Stores the contents of `source` under key, replacing any object atomically: readers see
  // the old bytes or the new, never a mix. The source file is consumed (moved or deleted).
  virtual Status PutFile(std::string_view key, const std::filesystem::path& source) = 0;
  virtual Status PutBytes(std::string_view key, std::string_view data) = 0;
  virtual StatusOr<ReadableObject> Get(std::string_view key) = 0;
  // Immediate children of a directory-like prefix ("" is the root), sorted by name.
  // NotFound when nothing lies under the prefix.
  virtual StatusOr<std::vector<ObjectEntry>> List(std::string_view prefix) = 0;
  // Deletes an object or everything under a prefix. NotFound when neither exists.
  virtual Status Delete(std::string_view key) = 0;
  // Whether the key names a directory-like prefix (has objects under it).
  virtual bool IsPrefix(std::string_view key) = 0;
};

}  // namespace loam::objects
