#include "objects/local_bucket_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <tuple>

#include "common/base64.h"
#include "objects/digests.h"

namespace loam::objects {

namespace fs = std::filesystem;
using nlohmann::json;
using FileStat = LocalBucketStore::FileStat;

namespace {

constexpr std::string_view kDefaultContentType = "binary/octet-stream";

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

// Writes next to the destination, then renames: readers see the old file or the new one.
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

std::vector<std::string> AlgorithmsFor(const ExpectedDigests& expected, std::string_view extra = "") {
  std::vector<std::string> algorithms = {"MD5"};
  for (const auto& [alg, value] : expected.checksums) {
    if (IsSupportedChecksum(alg)) algorithms.push_back(alg);
  }
  if (!extra.empty() && IsSupportedChecksum(extra)) algorithms.emplace_back(extra);
  if (expected.payload_sha256) algorithms.emplace_back("SHA256");
  return algorithms;
}

// BadDigest when a stated digest differs from the content's; the computed checksums (base64)
// otherwise.
StatusOr<std::map<std::string, std::string>> Verify(const ExpectedDigests& expected,
                                                    const std::map<std::string, std::string>& raw,
                                                    std::string_view keep = "") {
  if (expected.md5 && raw.at("MD5") != *expected.md5) {
    return BucketError(StatusCode::kInvalidArgument, reason::kBadDigest,
                       "The Content-MD5 you specified did not match what we received.");
  }
  if (expected.payload_sha256 && raw.at("SHA256") != *expected.payload_sha256) {
    return BucketError(StatusCode::kInvalidArgument, reason::kContentSha256Mismatch,
                       "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  std::map<std::string, std::string> checksums;
  for (const auto& [alg, value] : raw) {
    if (alg == "MD5" || (!expected.checksums.contains(alg) && alg != keep)) continue;
    std::string b64 = Base64Encode(value);
    auto want = expected.checksums.find(alg);
    if (want != expected.checksums.end() && !want->second.empty() && want->second != b64) {
      return BucketError(StatusCode::kInvalidArgument, reason::kBadDigest,
                         fmt::format("The {} you specified did not match the calculated checksum.", alg));
    }
    checksums[alg] = b64;
  }
  return checksums;
}

std::string QuotedEtag(const std::string& raw_md5) { return "\"" + HexEncode(raw_md5) + "\""; }

std::string Unquote(std::string_view etag) {
  while (!etag.empty() && (etag.front() == '"' || etag.front() == ' ')) etag.remove_prefix(1);
  while (!etag.empty() && (etag.back() == '"' || etag.back() == ' ')) etag.remove_suffix(1);
  return std::string(etag);
}

std::optional<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2) return std::nullopt;
  std::string out;
  auto val = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = val(hex[i]), lo = val(hex[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
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

// Whether a regular file lies under a directory (through real directories, not links).
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

// Moves a file into place; across file systems, copies it (not atomically) instead.
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

}  // namespace

LocalBucketStore::LocalBucketStore(LocalBucketStoreOptions options) : options_(std::move(options)) {
  std::error_code ec;
  fs::create_directories(options_.root, ec);
  for (const char* sub : {"buckets", "objects", "uploads", "tmp"}) fs::create_directories(options_.state_root / sub, ec);
  // Files an earlier process was assembling when it stopped.
  for (fs::directory_iterator it(options_.state_root / "tmp", ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code rm;
    fs::remove_all(it->path(), rm);
  }
}

fs::path LocalBucketStore::BucketDir(std::string_view bucket) const { return options_.root / std::string(bucket); }

fs::path LocalBucketStore::MetaFile(std::string_view bucket, std::string_view key) const {
  std::string h = Sha256Hex(key);
  return options_.state_root / "objects" / std::string(bucket) / h.substr(0, 2) / (h + ".json");
}

fs::path LocalBucketStore::UploadDir(std::string_view upload_id) const {
  return options_.state_root / "uploads" / std::string(upload_id);
}

fs::path LocalBucketStore::NewTempPath() const { return options_.state_root / "tmp" / ("tmp-" + NewUuidHex()); }

Status LocalBucketStore::RequireBucket(std::string_view bucket) const {
  if (!ValidateBucketName(bucket).ok() || !IsRealDir(BucketDir(bucket))) return NoSuchBucket(bucket);
  return Status::Ok();
}

// ---------------------------------------------------------------------------
// Buckets
// ---------------------------------------------------------------------------

Status LocalBucketStore::CreateBucket(std::string_view name, std::string_view region) {
  RETURN_IF_ERROR(ValidateBucketName(name));
  std::lock_guard lock(namespace_mu_);
  fs::path dir = BucketDir(name);
  if (LStat(dir)) {
    return BucketError(StatusCode::kAlreadyExists, reason::kBucketAlreadyOwnedByYou,
                       fmt::format("Your previous request to create the named bucket succeeded and you already own "
                                   "it: {}",
                                   name));
  }
  std::error_code ec;
  fs::create_directories(options_.root, ec);
  if (!fs::create_directory(dir, ec) || ec) return Internal(fmt::format("cannot create bucket {}: {}", name, ec.message()));
  return WriteJsonAtomically(options_.state_root / "buckets" / (std::string(name) + ".json"),
                             {{"created_ms", NowMillis()}, {"region", region}});
}

Status LocalBucketStore::DeleteBucket(std::string_view name) {
  std::lock_guard lock(namespace_mu_);
  RETURN_IF_ERROR(RequireBucket(name));
  fs::path dir = BucketDir(name);
  // Empty as S3 sees it: nothing it would list (folders, and links a job left, go with it).
  if (HasRegularFile(dir)) {
    return BucketError(StatusCode::kFailedPrecondition, reason::kBucketNotEmpty,
                       fmt::format("The bucket you tried to delete is not empty: {}", name));
  }
  std::error_code ec;
  fs::remove_all(dir, ec);
  if (ec) return Internal(fmt::format("cannot delete bucket {}: {}", name, ec.message()));
  RemoveIfPresent(options_.state_root / "buckets" / (std::string(name) + ".json"));
  fs::remove_all(options_.state_root / "objects" / std::string(name), ec);
  for (fs::directory_iterator it(options_.state_root / "uploads", ec), end; !ec && it != end; it.increment(ec)) {
    auto upload = ReadJson(it->path() / "upload.json");
    if (upload && upload->value("bucket", "") == name) {
      std::error_code rm;
      fs::remove_all(it->path(), rm);
    }
  }
  return Status::Ok();
}

StatusOr<BucketInfo> LocalBucketStore::GetBucket(std::string_view name) {
  RETURN_IF_ERROR(RequireBucket(name));
  BucketInfo info{std::string(name), 0, ""};
  if (auto j = ReadJson(options_.state_root / "buckets" / (std::string(name) + ".json"))) {
    info.created_ms = j->value("created_ms", int64_t{0});
    info.region = j->value("region", "");
  } else if (auto st = LStat(BucketDir(name))) {  // made by a job writing to s3://<name>/...
    info.created_ms = ToFileStat(*st).mtime_ns / 1'000'000;
  }
  return info;
}

StatusOr<std::vector<BucketInfo>> LocalBucketStore::ListBuckets() {
  std::vector<BucketInfo> out;
  std::error_code ec;
  for (fs::directory_iterator it(options_.root, ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (it->symlink_status(ec).type() != fs::file_type::directory || !ValidateBucketName(name).ok()) continue;
    auto info = GetBucket(name);
    if (info.ok()) out.push_back(std::move(*info));
  }
  std::sort(out.begin(), out.end(), [](const BucketInfo& a, const BucketInfo& b) { return a.name < b.name; });
  return out;
}

// ---------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------

StatusOr<std::pair<fs::path, FileStat>> LocalBucketStore::FindObjectFile(std::string_view bucket,
                                                                         std::string_view key) const {
  RETURN_IF_ERROR(RequireBucket(bucket));
  RETURN_IF_ERROR(ValidateKey(key));
  fs::path p = BucketDir(bucket);
  auto segments = SplitKey(key);
  for (size_t i = 0; i < segments.size(); ++i) {
    p /= segments[i];
    auto st = LStat(p);
    bool last = i + 1 == segments.size();
    if (!st || (last ? !S_ISREG(st->st_mode) : !S_ISDIR(st->st_mode))) return NoSuchKey(key);
    if (last) return std::make_pair(p, ToFileStat(*st));
  }
  return NoSuchKey(key);
}

StatusOr<ObjectInfo> LocalBucketStore::Describe(std::string_view bucket, std::string_view key, const fs::path& file,
                                                const FileStat& st) {
  auto from_meta = [&](const json& j) -> std::optional<ObjectInfo> {
    if (j.value("key", "") != key || j.value("size", uint64_t{0}) != st.size ||
        j.value("mtime_ns", int64_t{0}) != st.mtime_ns || j.value("inode", uint64_t{0}) != st.inode) {
      return std::nullopt;
    }
    ObjectInfo info;
    info.key = std::string(key);
    info.size = st.size;
    info.last_modified_ms = st.mtime_ns / 1'000'000;
    info.etag = j.value("etag", "");
    info.attributes = AttributesFrom(j);
    info.checksums = StringMap(j, "checksums");
    info.parts_count = j.value("parts", 0);
    if (info.etag.empty()) return std::nullopt;
    return info;
  };
  fs::path meta_path = MetaFile(bucket, key);
  if (auto j = ReadJson(meta_path)) {
    if (auto info = from_meta(*j)) return *info;
  }
  // Written straight into the tree (or changed since): describe the file itself.
  ASSIGN_OR_RETURN(auto raw, DigestFile(file, {"MD5"}));
  ObjectInfo info;
  info.key = std::string(key);
  info.size = st.size;
  info.last_modified_ms = st.mtime_ns / 1'000'000;
  info.etag = QuotedEtag(raw["MD5"]);
  std::lock_guard lock(namespace_mu_);
  auto now = LStat(file);
  if (!now || !SameStat(ToFileStat(*now), st)) return info;  // changed while hashing: do not remember
  if (auto j = ReadJson(meta_path)) {
    if (auto written = from_meta(*j)) return *written;  // a writer got there first
  }
  json j = {{"key", key},       {"size", st.size},  {"mtime_ns", st.mtime_ns}, {"inode", st.inode},
            {"etag", info.etag}, {"checksums", json::object()}, {"parts", 0}};
  j.update(AttributesJson(info.attributes));
  (void)WriteJsonAtomically(meta_path, j);  // only a cache: a failure costs a rehash later
  return info;
}

StatusOr<ObjectInfo> LocalBucketStore::Place(std::string_view bucket, std::string_view key, const fs::path& source,
                                             ObjectInfo info) {
  auto fail = [&](Status s) {
    RemoveIfPresent(source);
    return s;
  };
  std::lock_guard lock(namespace_mu_);
  if (Status s = RequireBucket(bucket); !s.ok()) return fail(s);
  fs::path p = BucketDir(bucket);
  auto segments = SplitKey(key);
  std::string walked;
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    p /= segments[i];
    walked += (walked.empty() ? "" : "/") + segments[i];
    auto st = LStat(p);
    if (!st) {
      std::error_code ec;
      if (!fs::create_directory(p, ec) && ec) return fail(Internal(fmt::format("cannot create {}: {}", p.string(), ec.message())));
    } else if (!S_ISDIR(st->st_mode)) {
      return fail(BucketError(StatusCode::kFailedPrecondition, reason::kParentIsObject,
                              fmt::format("Cannot store '{}': '{}' is an object, and Loam keeps objects as files, so "
                                          "a key cannot extend another object's key as if it were a folder.",
                                          key, walked)));
    }
  }
  p /= segments.back();
  if (auto st = LStat(p); st && S_ISDIR(st->st_mode)) {
    return fail(BucketError(StatusCode::kFailedPrecondition, reason::kObjectExistsAsDirectory,
                            fmt::format("Cannot store '{}': objects exist under '{}/', and Loam keeps objects as "
                                        "files, so a key cannot also be the folder of other keys.",
                                        key, key)));
  }
  auto src = LStat(source);
  if (!src) return fail(ErrnoInternal("cannot stat", source));
  FileStat st = ToFileStat(*src);
  auto write_meta = [&](const FileStat& s) {
    json j = {{"key", key},       {"size", s.size},          {"mtime_ns", s.mtime_ns}, {"inode", s.inode},
              {"etag", info.etag}, {"checksums", info.checksums}, {"parts", info.parts_count}};
    j.update(AttributesJson(info.attributes));
    return WriteJsonAtomically(MetaFile(bucket, key), j);
  };
  // The metadata goes first: a rename keeps size, mtime and inode, so it describes the file
  // from the moment the file is visible.
  if (Status s = write_meta(st); !s.ok()) return fail(s);
  std::error_code ec;
  fs::rename(source, p, ec);
  if (ec) {
    if (ec != std::errc::cross_device_link) return fail(Internal(fmt::format("cannot store {}: {}", key, ec.message())));
    if (Status s = MoveFile(source, p); !s.ok()) return fail(s);
    auto placed = LStat(p);
    if (!placed) return Internal(fmt::format("cannot store {}", key));
    st = ToFileStat(*placed);
    RETURN_IF_ERROR(write_meta(st));
  }
  info.key = std::string(key);
  info.size = st.size;
  info.last_modified_ms = st.mtime_ns / 1'000'000;
  return info;
}

StatusOr<ObjectInfo> LocalBucketStore::PutObject(std::string_view bucket, std::string_view key, const fs::path& source,
                                                 const ObjectAttributes& attributes, const ExpectedDigests& expected) {
  auto fail = [&](Status s) {
    RemoveIfPresent(source);
    return s;
  };
  if (Status s = RequireBucket(bucket); !s.ok()) return fail(s);
  if (Status s = ValidateKey(key); !s.ok()) return fail(s);
  auto raw = DigestFile(source, AlgorithmsFor(expected));
  if (!raw.ok()) return fail(raw.status());
  auto checksums = Verify(expected, *raw);
  if (!checksums.ok()) return fail(checksums.status());
  ObjectInfo info;
  info.etag = QuotedEtag(raw->at("MD5"));
  info.attributes = attributes;
  info.checksums = std::move(*checksums);
  return Place(bucket, key, source, std::move(info));
}

StatusOr<ObjectInfo> LocalBucketStore::HeadObject(std::string_view bucket, std::string_view key) {
  ASSIGN_OR_RETURN(auto found, FindObjectFile(bucket, key));
  return Describe(bucket, key, found.first, found.second);
}

StatusOr<ObjectData> LocalBucketStore::GetObject(std::string_view bucket, std::string_view key) {
  ASSIGN_OR_RETURN(auto found, FindObjectFile(bucket, key));
  ASSIGN_OR_RETURN(ObjectInfo info, Describe(bucket, key, found.first, found.second));
  return ObjectData{std::move(info), found.first};
}

Status LocalBucketStore::DeleteObject(std::string_view bucket, std::string_view key) {
  RETURN_IF_ERROR(RequireBucket(bucket));
  RETURN_IF_ERROR(ValidateKey(key));
  std::lock_guard lock(namespace_mu_);
  fs::path dir = BucketDir(bucket);
  fs::path p = dir;
  auto segments = SplitKey(key);
  for (size_t i = 0; i + 1 < segments.size(); ++i) {
    p /= segments[i];
    if (!IsRealDir(p)) return Status::Ok();
  }
  p /= segments.back();
  auto st = LStat(p);
  if (!st || !S_ISREG(st->st_mode)) return Status::Ok();  // nothing there: deleting is idempotent
  if (::unlink(p.c_str()) != 0 && errno != ENOENT) return ErrnoInternal("cannot delete", p);
  RemoveIfPresent(MetaFile(bucket, key));
  // Folders exist only to hold keys: remove the ones this delete emptied.
  for (fs::path parent = p.parent_path(); parent != dir && parent.string().size() > dir.string().size();
       parent = parent.parent_path()) {
    if (::rmdir(parent.c_str()) != 0) break;
  }
  return Status::Ok();
}

StatusOr<ObjectInfo> LocalBucketStore::CopyObject(std::string_view source_bucket, std::string_view source_key,
                                                  std::string_view bucket, std::string_view key, bool replace,
                                                  const ObjectAttributes& attributes) {
  ASSIGN_OR_RETURN(auto found, FindObjectFile(source_bucket, source_key));
  ASSIGN_OR_RETURN(ObjectInfo source, Describe(source_bucket, source_key, found.first, found.second));
  if (source_bucket == bucket && source_key == key && !replace) {
    return BucketError(StatusCode::kInvalidArgument, reason::kInvalidRequest,
                       "This copy request is illegal because it is trying to copy an object to itself without "
                       "changing the object's metadata, storage class, website redirect location or encryption "
                       "attributes.");
  }
  RETURN_IF_ERROR(RequireBucket(bucket));
  RETURN_IF_ERROR(ValidateKey(key));
  std::vector<std::string> algorithms = {"MD5"};
  for (const auto& [alg, value] : source.checksums) {
    if (IsSupportedChecksum(alg)) algorithms.push_back(alg);
  }
  fs::path tmp = NewTempPath();
  auto raw = CopyAndDigest(found.first, 0, std::nullopt, tmp, algorithms);
  if (!raw.ok()) {
    RemoveIfPresent(tmp);
    return raw.status();
  }
  ObjectInfo info;
  info.etag = QuotedEtag(raw->at("MD5"));
  info.attributes = replace ? attributes : source.attributes;
  for (const auto& [alg, value] : *raw) {
    if (alg != "MD5") info.checksums[alg] = Base64Encode(value);
  }
  return Place(bucket, key, tmp, std::move(info));
}

// ---------------------------------------------------------------------------
// Listing
// ---------------------------------------------------------------------------

namespace {

struct Entry {
  std::string sort_name;  // a directory's name with '/' appended: keys sort as S3 sorts them
  std::string name;
  bool dir = false;
};

std::vector<Entry> SortedEntries(const fs::path& dir) {
  std::vector<Entry> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    auto type = it->symlink_status(ec).type();
    if (type != fs::file_type::directory && type != fs::file_type::regular) continue;
    std::string name = it->path().filename().string();
    bool d = type == fs::file_type::directory;
    out.push_back({d ? name + "/" : name, name, d});
  }
  std::sort(out.begin(), out.end(), [](const Entry& a, const Entry& b) { return a.sort_name < b.sort_name; });
  return out;
}

}  // namespace

StatusOr<ListObjectsResult> LocalBucketStore::ListObjects(std::string_view bucket, const ListObjectsOptions& options) {
  RETURN_IF_ERROR(RequireBucket(bucket));
  ListObjectsResult result;
  if (options.max_keys <= 0) return result;
  const std::string& prefix = options.prefix;
  const std::string& delim = options.delimiter;
  const std::string& marker = options.marker;

  // Start in the deepest folder the prefix names whole.
  size_t slash = prefix.rfind('/');
  std::string base = slash == std::string::npos ? "" : prefix.substr(0, slash + 1);
  fs::path start = BucketDir(bucket);
  if (!base.empty()) {
    auto segments = SplitKey(base.substr(0, base.size() - 1));
    for (const auto& seg : segments) {
      if (seg.empty() || seg == "." || seg == "..") return result;  // no key has such a segment
      start /= seg;
      if (!IsRealDir(start)) return result;
    }
  }

  std::string last_prefix;
  bool stop = false;
  int count = 0;
  // Adds a key or a common prefix; false once the page is full (and there is more).
  auto room = [&]() {
    if (count < options.max_keys) return true;
    result.truncated = true;
    stop = true;
    return false;
  };
  auto add_prefix = [&](const std::string& cp) {
    if (cp <= marker || cp == last_prefix) return;
    if (!room()) return;
    result.common_prefixes.push_back(cp);
    last_prefix = cp;
    result.last = cp;
    ++count;
  };

  std::function<void(const fs::path&, const std::string&)> walk = [&](const fs::path& dir, const std::string& key_base) {
    for (const auto& e : SortedEntries(dir)) {
      if (stop) return;
      fs::path p = dir / e.name;
      if (!e.dir) {
        std::string key = key_base + e.name;
        if (!key.starts_with(prefix) || key <= marker) continue;
        if (!ValidateKey(key).ok()) continue;  // not reachable through S3 (e.g. not UTF-8)
        if (!delim.empty()) {
          size_t pos = key.find(delim, prefix.size());
          if (pos != std::string::npos) {
            add_prefix(key.substr(0, pos + delim.size()));
            continue;
          }
        }
        auto st = LStat(p);
        if (!st || !S_ISREG(st->st_mode)) continue;
        if (!room()) return;
        auto info = Describe(bucket, key, p, ToFileStat(*st));
        if (!info.ok()) continue;  // vanished meanwhile
        result.objects.push_back(std::move(*info));
        result.last = key;
        ++count;
        continue;
      }
      std::string kdir = key_base + e.name + "/";
      if (!kdir.starts_with(prefix) && !prefix.starts_with(kdir)) continue;
      if (marker > kdir && !marker.starts_with(kdir)) continue;  // every key below sorts before the marker
      if (!delim.empty() && kdir.starts_with(prefix)) {
        size_t pos = kdir.find(delim, prefix.size());
        if (pos != std::string::npos) {
          // Every key below rolls up into the same common prefix: no need to walk them all.
          std::string cp = kdir.substr(0, pos + delim.size());
          if (cp > marker && cp != last_prefix && HasRegularFile(p)) add_prefix(cp);
          continue;
        }
      }
      walk(p, kdir);
    }
  };
  walk(start, base);
  return result;
}

// ---------------------------------------------------------------------------
// Multipart uploads
// ---------------------------------------------------------------------------

namespace {

json UploadJson(const MultipartUpload& u) {
  json j = {{"upload_id", u.upload_id},
            {"bucket", u.bucket},
            {"key", u.key},
            {"initiated_ms", u.initiated_ms},
            {"checksum_algorithm", u.checksum_algorithm}};
  j.update(AttributesJson(u.attributes));
  return j;
}

MultipartUpload UploadFrom(const json& j) {
  MultipartUpload u;
  u.upload_id = j.value("upload_id", "");
  u.bucket = j.value("bucket", "");
  u.key = j.value("key", "");
  u.initiated_ms = j.value("initiated_ms", int64_t{0});
  u.checksum_algorithm = j.value("checksum_algorithm", "");
  u.attributes = AttributesFrom(j);
  return u;
}

std::string PartName(int number) { return fmt::format("part-{:05d}", number); }

Status CheckPartNumber(int part_number) {
  if (part_number < 1 || part_number > kMaxPartNumber) {
    return BucketError(StatusCode::kInvalidArgument, reason::kInvalidArgument,
                       fmt::format("Part number must be an integer between 1 and {}, inclusive", kMaxPartNumber));
  }
  return Status::Ok();
}

}  // namespace

StatusOr<MultipartUpload> LocalBucketStore::CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                                  const ObjectAttributes& attributes,
                                                                  std::string_view checksum_algorithm) {
  RETURN_IF_ERROR(RequireBucket(bucket));
  RETURN_IF_ERROR(ValidateKey(key));
  if (!checksum_algorithm.empty() && !IsSupportedChecksum(checksum_algorithm)) {
    return BucketError(StatusCode::kInvalidArgument, reason::kInvalidRequest,
                       fmt::format("Checksum algorithm {} is not supported.", checksum_algorithm));
  }
  MultipartUpload u{NewUuidHex(), std::string(bucket), std::string(key), NowMillis(), attributes,
                    std::string(checksum_algorithm)};
  std::error_code ec;
  fs::create_directories(UploadDir(u.upload_id), ec);
  if (ec) return Internal("cannot create upload: " + ec.message());
  RETURN_IF_ERROR(WriteJsonAtomically(UploadDir(u.upload_id) / "upload.json", UploadJson(u)));
  return u;
}

StatusOr<MultipartUpload> LocalBucketStore::LoadUpload(std::string_view bucket, std::string_view key,
                                                       std::string_view upload_id) const {
  if (!ValidUploadId(upload_id)) return NoSuchUpload(upload_id);
  auto j = ReadJson(UploadDir(upload_id) / "upload.json");
  if (!j) return NoSuchUpload(upload_id);
  MultipartUpload u = UploadFrom(*j);
  if (u.bucket != bucket || u.key != key) return NoSuchUpload(upload_id);
  return u;
}

StatusOr<std::vector<PartInfo>> LocalBucketStore::LoadParts(std::string_view upload_id) const {
  std::vector<PartInfo> parts;
  std::error_code ec;
  for (fs::directory_iterator it(UploadDir(upload_id), ec), end; !ec && it != end; it.increment(ec)) {
    std::string name = it->path().filename().string();
    if (!name.starts_with("part-") || !name.ends_with(".json")) continue;
    auto j = ReadJson(it->path());
    if (!j) continue;
    PartInfo p;
    p.number = j->value("number", 0);
    p.size = j->value("size", uint64_t{0});
    p.etag = j->value("etag", "");
    p.last_modified_ms = j->value("last_modified_ms", int64_t{0});
    p.checksums = StringMap(*j, "checksums");
    if (p.number >= 1 && IsRealDir(UploadDir(upload_id))) parts.push_back(std::move(p));
  }
  std::sort(parts.begin(), parts.end(), [](const PartInfo& a, const PartInfo& b) { return a.number < b.number; });
  return parts;
}

StatusOr<PartInfo> LocalBucketStore::StorePart(std::string_view upload_id, int part_number, const fs::path& source,
                                               const std::string& raw_md5,
                                               const std::map<std::string, std::string>& checksums) {
  auto fail = [&](Status s) {
    RemoveIfPresent(source);
    return s;
  };
  auto st = LStat(source);
  if (!st) return fail(ErrnoInternal("cannot stat", source));
  PartInfo part{part_number, static_cast<uint64_t>(st->st_size), QuotedEtag(raw_md5), NowMillis(), checksums};
  std::lock_guard lock(namespace_mu_);
  fs::path dir = UploadDir(upload_id);
  if (!IsRealDir(dir)) return fail(NoSuchUpload(upload_id));  // aborted meanwhile
  if (Status s = MoveFile(source, dir / PartName(part_number)); !s.ok()) return fail(s);
  RETURN_IF_ERROR(WriteJsonAtomically(dir / (PartName(part_number) + ".json"),
                                      {{"number", part.number},
                                       {"size", part.size},
                                       {"etag", part.etag},
                                       {"last_modified_ms", part.last_modified_ms},
                                       {"checksums", part.checksums}}));
  return part;
}

StatusOr<PartInfo> LocalBucketStore::UploadPart(std::string_view bucket, std::string_view key,
                                                std::string_view upload_id, int part_number, const fs::path& source,
                                                const ExpectedDigests& expected) {
  auto fail = [&](Status s) {
    RemoveIfPresent(source);
    return s;
  };
  if (Status s = RequireBucket(bucket); !s.ok()) return fail(s);
  auto upload = LoadUpload(bucket, key, upload_id);
  if (!upload.ok()) return fail(upload.status());
  if (Status s = CheckPartNumber(part_number); !s.ok()) return fail(s);
  auto raw = DigestFile(source, AlgorithmsFor(expected, upload->checksum_algorithm));
  if (!raw.ok()) return fail(raw.status());
  auto checksums = Verify(expected, *raw, upload->checksum_algorithm);
  if (!checksums.ok()) return fail(checksums.status());
  return StorePart(upload_id, part_number, source, raw->at("MD5"), *checksums);
}

StatusOr<PartInfo> LocalBucketStore::UploadPartCopy(std::string_view bucket, std::string_view key,
                                                    std::string_view upload_id, int part_number,
                                                    std::string_view source_bucket, std::string_view source_key,
                                                    std::optional<ByteRange> range) {
  RETURN_IF_ERROR(RequireBucket(bucket));
  ASSIGN_OR_RETURN(MultipartUpload upload, LoadUpload(bucket, key, upload_id));
  RETURN_IF_ERROR(CheckPartNumber(part_number));
  ASSIGN_OR_RETURN(auto found, FindObjectFile(source_bucket, source_key));
  uint64_t offset = 0;
  std::optional<uint64_t> length;
  if (range) {
    if (range->length == 0 || range->offset + range->length > found.second.size) {
      return BucketError(StatusCode::kInvalidArgument, reason::kInvalidArgument,
                         fmt::format("Range specified is not valid for source object of size: {}", found.second.size));
    }
    offset = range->offset;
    length = range->length;
  }
  std::vector<std::string> algorithms = {"MD5"};
  if (!upload.checksum_algorithm.empty()) algorithms.push_back(upload.checksum_algorithm);
  fs::path tmp = NewTempPath();
  auto raw = CopyAndDigest(found.first, offset, length, tmp, algorithms);
  if (!raw.ok()) {
    RemoveIfPresent(tmp);
    return raw.status();
  }
  std::map<std::string, std::string> checksums;
  for (const auto& [alg, value] : *raw) {
    if (alg != "MD5") checksums[alg] = Base64Encode(value);
  }
  return StorePart(upload_id, part_number, tmp, raw->at("MD5"), checksums);
}

StatusOr<ObjectInfo> LocalBucketStore::CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                                               std::string_view upload_id,
                                                               const std::vector<CompletedPart>& parts) {
  RETURN_IF_ERROR(RequireBucket(bucket));
  ASSIGN_OR_RETURN(MultipartUpload upload, LoadUpload(bucket, key, upload_id));
  if (parts.empty()) {
    return BucketError(StatusCode::kInvalidArgument, reason::kInvalidRequest, "You must specify at least one part");
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].number <= parts[i - 1].number) {
      return BucketError(StatusCode::kInvalidArgument, reason::kInvalidPartOrder,
                         "The list of parts was not in ascending order. The parts list must be specified in order "
                         "by part number.");
    }
  }
  ASSIGN_OR_RETURN(std::vector<PartInfo> uploaded, LoadParts(upload_id));
  std::map<int, const PartInfo*> by_number;
  for (const auto& p : uploaded) by_number[p.number] = &p;
  std::vector<const PartInfo*> chosen;
  for (const auto& want : parts) {
    auto it = by_number.find(want.number);
    if (it == by_number.end() || Unquote(it->second->etag) != Unquote(want.etag)) {
      return BucketError(StatusCode::kInvalidArgument, reason::kInvalidPart,
                         fmt::format("One or more of the specified parts could not be found. The part may not have "
                                     "been uploaded, or the specified entity tag may not match the part's entity "
                                     "tag: part {}",
                                     want.number));
    }
    chosen.push_back(it->second);
  }
  for (size_t i = 0; i + 1 < chosen.size(); ++i) {
    if (chosen[i]->size < options_.min_part_size) {
      return BucketError(StatusCode::kInvalidArgument, reason::kEntityTooSmall,
                         fmt::format("Your proposed upload is smaller than the minimum allowed object size: part {} "
                                     "is {} bytes, every part but the last must be at least {} bytes.",
                                     chosen[i]->number, chosen[i]->size, options_.min_part_size));
    }
  }
  // Assemble the object, then compute what S3 reports for it.
  fs::path tmp = NewTempPath();
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoInternal("cannot create", tmp);
  std::vector<std::string> md5s;
  std::string composite;
  bool all_have_checksum = !upload.checksum_algorithm.empty();
  for (const PartInfo* p : chosen) {
    Status s = AppendFile(fd, UploadDir(upload_id) / PartName(p->number));
    if (!s.ok()) {
      ::close(fd);
      RemoveIfPresent(tmp);
      return s.code() == StatusCode::kInternal && !IsRealDir(UploadDir(upload_id)) ? NoSuchUpload(upload_id) : s;
    }
    auto md5 = HexDecode(Unquote(p->etag));
    md5s.push_back(md5.value_or(""));
    auto c = p->checksums.find(upload.checksum_algorithm);
    auto decoded = c == p->checksums.end() ? std::nullopt : Base64Decode(c->second);
    if (decoded) {
      composite += *decoded;
    } else {
      all_have_checksum = false;
    }
  }
  if (::close(fd) != 0) {
    RemoveIfPresent(tmp);
    return ErrnoInternal("cannot write", tmp);
  }
  ObjectInfo info;
  info.etag = MultipartEtag(md5s);
  info.attributes = upload.attributes;
  info.parts_count = static_cast<int>(chosen.size());
  if (all_have_checksum) {
    auto digest = DigestBytes(composite, {upload.checksum_algorithm});
    info.checksums[upload.checksum_algorithm] =
        Base64Encode(digest[upload.checksum_algorithm]) + "-" + std::to_string(chosen.size());
  }
  ASSIGN_OR_RETURN(ObjectInfo placed, Place(bucket, key, tmp, std::move(info)));
  std::lock_guard lock(namespace_mu_);
  std::error_code ec;
  fs::remove_all(UploadDir(upload_id), ec);
  return placed;
}

Status LocalBucketStore::AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                              std::string_view upload_id) {
  RETURN_IF_ERROR(RequireBucket(bucket));
  ASSIGN_OR_RETURN(MultipartUpload upload, LoadUpload(bucket, key, upload_id));
  std::lock_guard lock(namespace_mu_);
  std::error_code ec;
  fs::remove_all(UploadDir(upload.upload_id), ec);
  if (ec) return Internal("cannot abort upload: " + ec.message());
  return Status::Ok();
}

StatusOr<ListPartsResult> LocalBucketStore::ListParts(std::string_view bucket, std::string_view key,
                                                      std::string_view upload_id, int part_number_marker,
                                                      int max_parts) {
  RETURN_IF_ERROR(RequireBucket(bucket));
  ListPartsResult result;
  ASSIGN_OR_RETURN(result.upload, LoadUpload(bucket, key, upload_id));
  ASSIGN_OR_RETURN(std::vector<PartInfo> parts, LoadParts(upload_id));
  for (auto& p : parts) {
    if (p.number <= part_number_marker) continue;
    if (static_cast<int>(result.parts.size()) >= max_parts) {
      result.truncated = true;
      break;
    }
    result.next_marker = p.number;
    result.parts.push_back(std::move(p));
  }
  return result;
}

StatusOr<ListUploadsResult> LocalBucketStore::ListMultipartUploads(std::string_view bucket,
                                                                   const ListUploadsOptions& options) {
  RETURN_IF_ERROR(RequireBucket(bucket));
  std::vector<MultipartUpload> all;
  std::error_code ec;
  for (fs::directory_iterator it(options_.state_root / "uploads", ec), end; !ec && it != end; it.increment(ec)) {
    auto j = ReadJson(it->path() / "upload.json");
    if (!j) continue;
    MultipartUpload u = UploadFrom(*j);
    if (u.bucket == bucket && u.key.starts_with(options.prefix)) all.push_back(std::move(u));
  }
  std::sort(all.begin(), all.end(), [](const MultipartUpload& a, const MultipartUpload& b) {
    return std::tie(a.key, a.initiated_ms, a.upload_id) < std::tie(b.key, b.initiated_ms, b.upload_id);
  });
  ListUploadsResult result;
  bool past_marker = options.key_marker.empty();
  for (auto& u : all) {
    if (!past_marker) {
      if (u.key < options.key_marker) continue;
      if (u.key == options.key_marker) {
        if (options.upload_id_marker.empty()) continue;
        if (u.upload_id == options.upload_id_marker) past_marker = true;
        continue;
      }
      past_marker = true;
    }
    if (static_cast<int>(result.uploads.size()) >= options.max_uploads) {
      result.truncated = true;
      break;
    }
    result.next_key_marker = u.key;
    result.next_upload_id_marker = u.upload_id;
    result.uploads.push_back(std::move(u));
  }
  return result;
}

}  // namespace loam::objects
