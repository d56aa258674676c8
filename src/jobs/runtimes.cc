#include "jobs/runtimes.h"

#include <fnmatch.h>
#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

namespace loam::jobs {

RuntimeRegistry::RuntimeRegistry(std::string default_python) {
  default_.name = "default";
  default_.image_patterns = {"*"};
  default_.python = std::move(default_python);
}

Status RuntimeRegistry::LoadFile(const std::filesystem::path& file) {
  // yaml-cpp reports errors by exception; they stop here.
  try {
    YAML::Node root = YAML::LoadFile(file.string());
    for (const auto& node : root["runtimes"]) {
      Runtime r;
      r.name = node["name"].as<std::string>("");
      for (const auto& img : node["images"]) r.image_patterns.push_back(img.as<std::string>());
      r.python = node["python"].as<std::string>("");
      if (r.name.empty() || r.image_patterns.empty() || r.python.empty()) {
        return InvalidArgument(fmt::format("{}: every runtime needs name, images and python", file.string()));
      }
      runtimes_.push_back(std::move(r));
    }
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("{}: {}", file.string(), e.what()));
  }
  return Status::Ok();
}

const Runtime& RuntimeRegistry::Resolve(const std::string& image) const {
  for (const auto& r : runtimes_) {
    for (const auto& pattern : r.image_patterns) {
      if (::fnmatch(pattern.c_str(), image.c_str(), 0) == 0) return r;
    }
  }
  return default_;
}

}  // namespace loam::jobs
