// Image URIs name runtimes: a configured mapping from image patterns to an interpreter
// (a virtualenv's python) that runs script-mode entry points for that image.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "common/status.h"

namespace loam::jobs {

struct Runtime {
  std::string name;
  std::vector<std::string> image_patterns;  // shell globs matched against the whole image URI
  std::string python;                        // interpreter for .py entry points
};

class RuntimeRegistry {
 public:
  // Every image maps to `default_python` unless a configured runtime claims it first.
  explicit RuntimeRegistry(std::string default_python);

  // Reads `runtimes:` entries (name, images, python) from a YAML file, ahead of the default.
  Status LoadFile(const std::filesystem::path& file);
  void Add(Runtime runtime) { runtimes_.push_back(std::move(runtime)); }

  const Runtime& Resolve(const std::string& image) const;
  const std::vector<Runtime>& runtimes() const { return runtimes_; }

 private:
  std::vector<Runtime> runtimes_;
  Runtime default_;
};

}  // namespace loam::jobs
