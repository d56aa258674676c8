#include "jobs/data_locations.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include "common/ids.h"

namespace loam::jobs {

namespace fs = std::filesystem;

namespace {

// Files under a local path as an S3Prefix names them: a directory's tree, a file itself, or
// every entry of the parent whose name starts with the last segment.
std::vector<DataLocations::InputFile> ListLocal(const fs::path& p) {
  std::vector<DataLocations::InputFile> out;
  std::error_code ec;
  auto add = [&](const fs::path& file, fs::path relative) {
    std::error_code size_ec;
    uint64_t size = fs::file_size(file, size_ec);
    out.push_back({std::move(relative), size_ec ? 0 : size, "", "", file});
  };
  auto add_tree = [&](const fs::path& dir, const fs::path& name_prefix) {
    for (auto it = fs::recursive_directory_iterator(dir, fs::directory_options::follow_directory_symlink, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      // lexically: a symlinked file keeps its own name, inside the channel.
      if (it->is_regular_file(ec)) add(it->path(), name_prefix / it->path().lexically_relative(dir));
    }
  };
  if (fs::is_directory(p, ec)) {
    add_tree(p, "");
  } else if (fs::is_regular_file(p, ec)) {
    add(p, p.filename());
  } else {
    fs::path parent = p.parent_path();
    std::string stem = p.filename().string();
    if (fs::is_directory(parent, ec)) {
      for (const auto& e : fs::directory_iterator(parent, ec)) {
        std::string entry = e.path().filename().string();
        if (entry.rfind(stem, 0) != 0) continue;
        std::string rest = entry.substr(stem.size());
        if (e.is_directory(ec)) {
          add_tree(e.path(), rest);
        } else if (e.is_regular_file(ec)) {
          add(e.path(), rest.empty() ? fs::path(entry) : fs::path(rest));
        }
      }
    }
  }
  return out;
}

// The name an object gets under a prefix: its key with the prefix removed.
fs::path RelativeName(const std::string& key, const std::string& prefix) {
  std::string rest = key.substr(prefix.size());
  while (!rest.empty() && rest.front() == '/') rest.erase(0, 1);
  if (rest.empty()) return fs::path(key).filename();
  return fs::path(rest);
}

Status MakeParent(const fs::path& target) {
  std::error_code ec;
  fs::create_directories(target.parent_path(), ec);
  if (ec) return Internal(fmt::format("cannot create {}: {}", target.parent_path().string(), ec.message()));
  return Status::Ok();
}

// Moves `from` to `to`, copying across file systems.
Status MoveFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (!ec) return Status::Ok();
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  std::error_code rm;
  fs::remove(from, rm);
  if (ec) return Internal(fmt::format("cannot move {} to {}: {}", from.string(), to.string(), ec.message()));
  return Status::Ok();
}

Status CopyFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::remove(to, ec);
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return Internal(fmt::format("cannot copy {}: {}", from.string(), ec.message()));
  return Status::Ok();
}

}  // namespace

DataLocations::DataLocations(std::shared_ptr<objects::BucketStore> store, fs::path staging_dir)
    : store_(std::move(store)), staging_dir_(std::move(staging_dir)) {}

StatusOr<DataLocation> DataLocations::Parse(const std::string& uri) const {
  DataLocation loc;
  if (uri.rfind("s3://", 0) == 0) {
    std::string rest = uri.substr(5);
    auto slash = rest.find('/');
    loc.s3 = true;
    loc.bucket = rest.substr(0, slash);
    loc.key = slash == std::string::npos ? "" : rest.substr(slash + 1);
    if (!objects::ValidateBucketName(loc.bucket).ok()) {
      return InvalidArgument(fmt::format("{} does not name a valid bucket", uri));
    }
    if (loc.key.size() > objects::kMaxKeyBytes || loc.key.find('\0') != std::string::npos) {
      return InvalidArgument(fmt::format("{} is not a valid S3 URI", uri));
    }
    for (const auto& part : fs::path(loc.key)) {
      if (part == ".." || part == ".") return InvalidArgument(fmt::format("{} is not a valid S3 URI", uri));
    }
    return loc;
  }
  std::string path = uri.rfind("file://", 0) == 0 ? uri.substr(7) : uri;
  if (path.empty() || path[0] != '/') {
    return InvalidArgument(fmt::format("{} is neither an s3:// URI, a file:// URI nor an absolute path", uri));
  }
  loc.path = fs::path(path).lexically_normal();
  return loc;
}

std::string DataLocations::Join(const std::string& uri, const std::string& name) {
  if (uri.empty() || uri.back() == '/') return uri + name;
  return uri + "/" + name;
}

StatusOr<std::vector<DataLocations::InputFile>> DataLocations::ListPrefix(const std::string& uri) const {
  ASSIGN_OR_RETURN(DataLocation loc, Parse(uri));
  std::vector<InputFile> out;
  if (!loc.s3) {
    out = ListLocal(loc.path);
  } else {
    objects::ListObjectsOptions options;
    options.prefix = loc.key;
    for (;;) {
      auto page = store_->ListObjects(loc.bucket, options);
      if (!page.ok()) {
        if (objects::SplitBucketError(page.status()).reason == objects::reason::kNoSuchBucket) return out;
        return page.status();
      }
      for (auto& object : page->objects) {
        out.push_back({RelativeName(object.key, loc.key), object.size, loc.bucket, object.key, {}});
      }
      if (!page->truncated) break;
      options.marker = page->last;
    }
  }
  // In S3's listing order (bytes of the names), which is how ShardedByS3Key deals them.
  std::sort(out.begin(), out.end(), [](const InputFile& a, const InputFile& b) {
    return a.relative.generic_string() < b.relative.generic_string();
  });
  return out;
}

StatusOr<std::vector<DataLocations::InputFile>> DataLocations::ListInputs(const std::string& uri) const {
  ASSIGN_OR_RETURN(auto files, ListPrefix(uri));
  if (files.empty()) return InvalidArgument(fmt::format("No data found at {}", uri));
  return files;
}

Status DataLocations::PlaceFiles(const std::vector<InputFile>& files, const fs::path& dest, bool link,
                                 std::vector<fs::path>* linked) const {
  std::error_code ec;
  fs::create_directories(dest, ec);
  for (const auto& f : files) {
    // A name that would leave the channel (a key with "../" after the prefix) is refused.
    fs::path target = (dest / f.relative).lexically_normal();
    if (f.relative.empty() || f.relative.is_absolute() || target.lexically_relative(dest).begin()->string() == "..") {
      return InvalidArgument(fmt::format("cannot stage {}: the name leaves the input directory", f.relative.string()));
    }
    RETURN_IF_ERROR(MakeParent(target));
    fs::remove(target, ec);
    fs::path source = f.source;
    if (!f.key.empty()) {
      auto data = store_->GetObject(f.bucket, f.key);
      if (!data.ok()) {
        return Internal(fmt::format("cannot stage s3://{}/{}: {}", f.bucket, f.key,
                                    objects::SplitBucketError(data.status()).message));
      }
      if (data->temporary) {
        RETURN_IF_ERROR(MoveFile(data->file, target));
        continue;
      }
      source = data->file;
    }
    if (link) {
      fs::create_symlink(fs::absolute(source), target, ec);
      if (ec) return Internal(fmt::format("cannot stage {}: {}", source.string(), ec.message()));
      if (linked) linked->push_back(fs::absolute(source));
    } else {
      RETURN_IF_ERROR(CopyFile(source, target));
    }
  }
  return Status::Ok();
}

Status DataLocations::FetchFile(const std::string& uri, const fs::path& dest) const {
  ASSIGN_OR_RETURN(DataLocation loc, Parse(uri));
  RETURN_IF_ERROR(MakeParent(dest));
  if (!loc.s3) {
    std::error_code ec;
    if (!fs::is_regular_file(loc.path, ec)) return NotFound(fmt::format("{} is not a file", uri));
    return CopyFile(loc.path, dest);
  }
  auto data = store_->GetObject(loc.bucket, loc.key);
  if (!data.ok()) {
    auto parts = objects::SplitBucketError(data.status());
    if (parts.reason == objects::reason::kNoSuchKey || parts.reason == objects::reason::kNoSuchBucket ||
        parts.reason == objects::reason::kInvalidArgument) {
      return NotFound(fmt::format("{}: {}", uri, parts.message));
    }
    return Internal(fmt::format("cannot read {}: {}", uri, parts.message));
  }
  if (data->temporary) return MoveFile(data->file, dest);
  return CopyFile(data->file, dest);
}

fs::path DataLocations::StagingPath() const {
  static std::atomic<uint64_t> counter{0};
  return staging_dir_ / fmt::format("{}-{}-{}", getpid(), counter.fetch_add(1), NewUuidHex().substr(0, 8));
}

Status DataLocations::UploadFile(const fs::path& file, const std::string& uri, bool consume) const {
  ASSIGN_OR_RETURN(DataLocation loc, Parse(uri));
  std::error_code ec;
  if (!loc.s3) {
    RETURN_IF_ERROR(MakeParent(loc.path));
    return consume ? MoveFile(file, loc.path) : CopyFile(file, loc.path);
  }
  // The store takes the file over: hand it a link (or a copy) so the job keeps its own.
  fs::path staged = file;
  if (!consume) {
    fs::create_directories(staging_dir_, ec);
    staged = StagingPath();
    fs::create_hard_link(file, staged, ec);
    if (ec) RETURN_IF_ERROR(CopyFile(file, staged));
  }
  auto put = store_->PutObject(loc.bucket, loc.key, staged, {}, {});
  if (!put.ok()) {
    fs::remove(staged, ec);  // the store removes it on most failures; never leave one behind
    return Internal(fmt::format("cannot upload to {}: {}", uri, objects::SplitBucketError(put.status()).message));
  }
  return Status::Ok();
}

Status DataLocations::UploadTree(const fs::path& dir, const std::string& uri) const {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return Status::Ok();
  std::vector<fs::path> files;
  // Links are not followed: a job must not get files it cannot see copied out for it.
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->symlink_status(ec).type() == fs::file_type::regular) files.push_back(it->path());
  }
  if (ec) return Internal(fmt::format("cannot read {}: {}", dir.string(), ec.message()));
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    RETURN_IF_ERROR(UploadFile(file, Join(uri, file.lexically_relative(dir).generic_string())));
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
