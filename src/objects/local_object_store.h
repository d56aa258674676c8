// ObjectStore on the local file system, rooted at one directory.
#pragma once

#include <filesystem>

#include "objects/object_store.h"

namespace loam::objects {

class LocalObjectStore final : public ObjectStore {
 public:
  explicit LocalObjectStore(std::filesystem::path root);

  Status PutFile(std::string_view key, const std::filesystem::path& source) override;
  Status PutBytes(std::string_view key, std::string_view data) override;
  StatusOr<ReadableObject> Get(std::string_view key) override;
  StatusOr<std::vector<ObjectEntry>> List(std::string_view prefix) override;
  Status Delete(std::string_view key) override;
  bool IsPrefix(std::string_view key) override;

  const std::filesystem::path& root() const { return root_; }

 private:
  StatusOr<std::filesystem::path> Resolve(std::string_view key) const;
  std::filesystem::path root_;
};

}  // namespace loam::objects
