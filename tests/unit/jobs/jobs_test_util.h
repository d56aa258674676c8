// Small file helpers shared by the jobs unit tests.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <memory>
#include <string>

#include "jobs/data_locations.h"
#include "objects/local_bucket_store.h"

namespace loam::testing {

// DataLocations over a LocalBucketStore whose objects are files under `object_root`, laid
// out as the server lays out its data directory.
class LocalDataLocations : public jobs::DataLocations {
 public:
  explicit LocalDataLocations(const std::filesystem::path& object_root)
      : jobs::DataLocations(std::make_shared<objects::LocalBucketStore>(objects::LocalBucketStoreOptions{
                                .root = object_root, .state_root = object_root.parent_path() / "objects-meta"}),
                            object_root.parent_path() / "tmp" / "job-uploads"),
        root_(object_root) {}
  const std::filesystem::path& object_root() const { return root_; }

 private:
  std::filesystem::path root_;
};

inline void WriteFile(const std::filesystem::path& file, const std::string& content) {
  std::filesystem::create_directories(file.parent_path());
  std::ofstream out(file, std::ios::binary | std::ios::trunc);
  out << content;
}

inline std::string ReadFile(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Every regular file and symlink under `dir`, relative to it ("a/b.txt").
inline std::set<std::string> FilesUnder(const std::filesystem::path& dir) {
  std::set<std::string> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_symlink() || it->is_regular_file()) out.insert(std::filesystem::relative(it->path(), dir).string());
  }
  return out;
}

}  // namespace loam::testing
