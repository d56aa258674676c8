#include "objects/local_object_store.h"

#include <algorithm>
#include <fstream>

#include "common/ids.h"
#include "common/strings.h"

namespace loam::objects {

namespace fs = std::filesystem;

LocalObjectStore::LocalObjectStore(fs::path root) : root_(std::move(root)) {
  std::error_code ec;
  fs::create_directories(root_, ec);
}

StatusOr<fs::path> LocalObjectStore::Resolve(std::string_view key) const {
  std::string_view k = key;
  while (!k.empty() && k.back() == '/') k.remove_suffix(1);
  if (!k.empty() && k.front() == '/') return InvalidArgument("object key must be relative: " + std::string(key));
  if (k.find('\0') != std::string_view::npos || k.find('\\') != std::string_view::npos)
    return InvalidArgument("object key contains a forbidden character");
  fs::path p = root_;
  if (k.empty()) return p;
  for (const auto& seg : Split(k, '/')) {
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") return InvalidArgument("object key must not contain '..': " + std::string(key));
    p /= seg;
  }
  return p;
}

Status LocalObjectStore::PutFile(std::string_view key, const fs::path& source) {
  ASSIGN_OR_RETURN(fs::path dest, Resolve(key));
  if (dest == root_) return InvalidArgument("object key must not be empty");
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return Internal("cannot create directory " + dest.parent_path().string() + ": " + ec.message());
  if (fs::is_directory(dest, ec)) return InvalidArgument("a directory exists at " + std::string(key));
  fs::rename(source, dest, ec);
  if (!ec) return Status::Ok();
  // Across file systems: copy to a sibling temporary file, then rename into place.
  fs::path tmp = dest.parent_path() / (".tmp-" + NewUuidHex());
  fs::copy_file(source, tmp, fs::copy_options::overwrite_existing, ec);
  if (ec) return Internal("cannot copy upload: " + ec.message());
  fs::rename(tmp, dest, ec);
  if (ec) return Internal("cannot place object: " + ec.message());
  fs::remove(source, ec);
  return Status::Ok();
}

Status LocalObjectStore::PutBytes(std::string_view key, std::string_view data) {
  ASSIGN_OR_RETURN(fs::path dest, Resolve(key));
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  fs::path tmp = dest.parent_path() / (".tmp-" + NewUuidHex());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out.write(data.data(), static_cast<std::streamsize>(data.size()));
    if (!out) return Internal("cannot write " + tmp.string());
  }
  fs::rename(tmp, dest, ec);
  if (ec) return Internal("cannot place object: " + ec.message());
  return Status::Ok();
}

StatusOr<ReadableObject> LocalObjectStore::Get(std::string_view key) {
  ASSIGN_OR_RETURN(fs::path p, Resolve(key));
  std::error_code ec;
  auto st = fs::status(p, ec);
  if (ec || !fs::is_regular_file(st)) return NotFound("no object at '" + std::string(key) + "'");
  return ReadableObject{fs::file_size(p, ec), p};
}

StatusOr<std::vector<ObjectEntry>> LocalObjectStore::List(std::string_view prefix) {
  ASSIGN_OR_RETURN(fs::path p, Resolve(prefix));
  std::error_code ec;
  if (!fs::is_directory(p, ec)) return NotFound("no objects under '" + std::string(prefix) + "'");
  std::vector<ObjectEntry> out;
  for (const auto& entry : fs::directory_iterator(p, ec)) {
    std::string name = entry.path().filename().string();
    if (StartsWith(name, ".tmp-")) continue;
    ObjectEntry e{name, entry.is_directory(ec), 0};
    if (!e.is_dir) e.size = entry.file_size(ec);
    out.push_back(std::move(e));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Status LocalObjectStore::Delete(std::string_view key) {
  ASSIGN_OR_RETURN(fs::path p, Resolve(key));
  if (p == root_) return InvalidArgument("refusing to delete the store root");
  std::error_code ec;
  if (!fs::exists(p, ec)) return NotFound("no object at '" + std::string(key) + "'");
  fs::remove_all(p, ec);
  if (ec) return Internal("cannot delete: " + ec.message());
  return Status::Ok();
}

bool LocalObjectStore::IsPrefix(std::string_view key) {
  auto p = Resolve(key);
  std::error_code ec;
  return p.ok() && fs::is_directory(*p, ec);
}

}  // namespace loam::objects
