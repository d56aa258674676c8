// Helpers shared by unit tests: a scratch directory removed at the end of the test, and a
// file's whole content.
#pragma once

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "common/ids.h"

namespace loam::testing {

class ScratchDir {
 public:
  ScratchDir() : path_(std::filesystem::temp_directory_path() / ("loam-test-" + NewUuidHex())) {
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline std::string FileContent(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace loam::testing
