// The conformance suites' case files: every `*.json` in a directory, by stem, sorted, so a new
// case is a new file and the runners never change for it.
#pragma once

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

namespace loam::testing {

inline std::vector<std::string> JsonCaseNames(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() == ".json") names.push_back(entry.path().stem().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace loam::testing
