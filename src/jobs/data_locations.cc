#include "jobs/data_locations.h"

#include <fmt/format.h>

#include <algorithm>
#include <regex>

namespace loam::jobs {

namespace fs = std::filesystem;

StatusOr<fs::path> DataLocations::Resolve(const std::string& uri) const {
  if (uri.rfind("s3://", 0) == 0) {
    std::string rest = uri.substr(5);
    auto slash = rest.find('/');
    std::string bucket = rest.substr(0, slash);
    std::string key = slash == std::string::npos ? "" : rest.substr(slash + 1);
    static const std::regex kBucket(R"([a-z0-9][a-z0-9.\-_]{1,61}[a-z0-9])");
    if (!std::regex_match(bucket, kBucket) || bucket.find("..") != std::string::npos) {
      return InvalidArgument(fmt::format("{} does not name a valid bucket", uri));
    }
    fs::path p = object_root_ / bucket;
    for (const auto& part : fs::path(key)) {
      if (part == ".." || part == ".") return InvalidArgument(fmt::format("{} is not a valid S3 URI", uri));
      if (!part.empty() && part != "/") p /= part;
    }
    if (!key.empty() && key.back() == '/') p /= "";
    return p;
  }
  std::string path = uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri;
  if (path.empty() || path[0] != '/') {
    return InvalidArgument(fmt::format("{} is neither an s3:// URI, a file:// URI nor an absolute path", uri));
  }
  return fs::path(path).lexically_normal();
}

std::string DataLocations::Join(const std::string& uri, const std::string& name) {
  if (uri.empty() || uri.back() == '/') return uri + name;
  return uri + "/" + name;
}

StatusOr<std::vector<DataLocations::InputFile>> DataLocations::ListPrefix(const std::string& uri) const {
  ASSIGN_OR_RETURN(fs::path p, Resolve(uri));
  std::vector<InputFile> out;
  std::error_code ec;
  auto add_tree = [&](const fs::path& dir, const fs::path& base) {
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      // lexically: a symlinked file keeps its own name, inside the channel.
      if (it->is_regular_file(ec)) out.push_back({it->path(), it->path().lexically_relative(base)});
    }
  };
  // As SageMaker copies an S3 prefix: each object's key with the prefix removed.
  if (fs::is_directory(p, ec)) {
    add_tree(p, p);
  } else if (fs::is_regular_file(p, ec)) {
    out.push_back({p, p.filename()});
  } else {
    fs::path parent = p.parent_path();
    std::string stem = p.filename().string();
    if (fs::is_directory(parent, ec)) {
      for (const auto& e : fs::directory_iterator(parent, ec)) {
        std::string entry = e.path().filename().string();
        if (entry.rfind(stem, 0) != 0) continue;
        std::string rest = entry.substr(stem.size());
        if (e.is_directory(ec)) {
          size_t before = out.size();
          add_tree(e.path(), e.path());
          for (size_t i = before; i < out.size(); ++i) out[i].relative = fs::path(rest) / out[i].relative;
        } else if (e.is_regular_file(ec)) {
          out.push_back({e.path(), rest.empty() ? fs::path(entry) : fs::path(rest)});
        }
      }
    }
  }
  std::sort(out.begin(), out.end(), [](const InputFile& a, const InputFile& b) { return a.relative < b.relative; });
  if (out.empty()) return InvalidArgument(fmt::format("No data found at {}", uri));
  return out;
}

Status PlaceFiles(const std::vector<DataLocations::InputFile>& files, const fs::path& dest, bool link) {
  std::error_code ec;
  fs::create_directories(dest, ec);
  for (const auto& f : files) {
    fs::path target = dest / f.relative;
    fs::create_directories(target.parent_path(), ec);
    fs::remove(target, ec);
    if (link) {
      fs::create_symlink(fs::absolute(f.source), target, ec);
    } else {
      fs::copy_file(f.source, target, fs::copy_options::overwrite_existing, ec);
    }
    if (ec) return Internal(fmt::format("cannot stage {}: {}", f.source.string(), ec.message()));
  }
  return Status::Ok();
}

Status CopyTree(const fs::path& source, const fs::path& dest) {
  std::error_code ec;
  fs::create_directories(dest, ec);
  // Links are copied as links: a job must not get files it cannot see copied out for it.
  fs::copy(source, dest, fs::copy_options::recursive | fs::copy_options::overwrite_existing | fs::copy_options::copy_symlinks, ec);
  if (ec) return Internal(fmt::format("cannot copy {}: {}", source.string(), ec.message()));
  return Status::Ok();
}

}  // namespace loam::jobs
