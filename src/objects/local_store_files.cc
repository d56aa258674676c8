#include "objects/local_store_files.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "common/ids.h"

namespace loam::objects::local_store {

namespace fs = std::filesystem;
using nlohmann::json;


std::optional<struct stat> LStat(const fs::path& p) {
  struct stat st{};
  if (::lstat(p.c_str(), &st) != 0) return std::nullopt;
  return st;
}

FileStat ToFileStat(const struct stat& st) {
  return {static_cast<uint64_t>(st.st_size), int64_t{st.st_mtim.tv_sec} * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<uint64_t>(st.st_ino)};
}

bool SameStat(const FileStat& a, const FileStat& b) {
  return a.size == b.size && a.mtime_ns == b.mtime_ns && a.inode == b.inode;
}

int64_t NowMillis() { return SystemNowMillis(); }

Status NoSuchBucket(std::string_view bucket) {
  return BucketError(StatusCode::kNotFound, reason::kNoSuchBucket,
                     fmt::format("The specified bucket does not exist: {}", bucket));
}

Status NoSuchKey(std::string_view key) {
  return BucketError(StatusCode::kNotFound, reason::kNoSuchKey, fmt::format("The specified key does not exist: {}", key));
}

Status NoSuchUpload(std::string_view upload_id) {
  return BucketError(StatusCode::kNotFound, reason::kNoSuchUpload,
                     fmt::format("The specified upload does not exist. The upload ID may be invalid, or the upload "
                                 "may have been aborted or completed: {}",
                                 upload_id));
}

Status ErrnoInternal(std::string_view what, const fs::path& p) {
  return Internal(fmt::format("{} {}: {}", what, p.string(), std::strerror(errno)));
}

std::optional<json> ReadJson(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

Status WriteJsonAtomically(const fs::path& p, const json& j) {
  std::error_code ec;
  fs::create_directories(p.parent_path(), ec);
  fs::path tmp = p;
  tmp += ".tmp-" + NewUuidHex();
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(-1, ' ', false, json::error_handler_t::replace);
    if (!out) return Internal("cannot write " + tmp.string());
  }
  fs::rename(tmp, p, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return Internal("cannot write " + p.string());
  }
  return Status::Ok();
}

json AttributesJson(const ObjectAttributes& a) {
  json headers = json::array();
  for (const auto& [k, v] : a.headers) headers.push_back({k, v});
  return {{"content_type", a.content_type}, {"headers", headers}, {"metadata", a.user_metadata}};
}

ObjectAttributes AttributesFrom(const json& j) {
  ObjectAttributes a;
  a.content_type = j.value("content_type", "");
  if (auto it = j.find("headers"); it != j.end() && it->is_array()) {
    for (const auto& h : *it) {
      if (h.is_array() && h.size() == 2 && h[0].is_string() && h[1].is_string())
        a.headers.emplace_back(h[0].get<std::string>(), h[1].get<std::string>());
    }
  }
  if (auto it = j.find("metadata"); it != j.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) a.user_metadata[k] = v.get<std::string>();
    }
  }
  return a;
}

std::map<std::string, std::string> StringMap(const json& j, const char* name) {
  std::map<std::string, std::string> out;
  if (auto it = j.find(name); it != j.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) out[k] = v.get<std::string>();
    }
  }
  return out;
}

bool ValidUploadId(std::string_view id) {
  if (id.size() != 32) return false;
  return std::all_of(id.begin(), id.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::vector<std::string> SplitKey(std::string_view key) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    out.emplace_back(key.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

bool IsRealDir(const fs::path& p) {
  auto st = LStat(p);
  return st && S_ISDIR(st->st_mode);
}

bool HasRegularFile(const fs::path& dir) {
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto type = it->symlink_status(ec).type();
    if (type == fs::file_type::regular) return true;
    if (type == fs::file_type::directory && HasRegularFile(it->path())) return true;
  }
  return false;
}

void RemoveIfPresent(const fs::path& p) {
  std::error_code ec;
  fs::remove(p, ec);
}

Status MoveFile(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::rename(from, to, ec);
  if (!ec) return Status::Ok();
  if (ec != std::errc::cross_device_link) return Internal(fmt::format("cannot move {}: {}", to.string(), ec.message()));
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return Internal(fmt::format("cannot copy {}: {}", to.string(), ec.message()));
  RemoveIfPresent(from);
  return Status::Ok();
}

}  // namespace loam::objects::local_store
