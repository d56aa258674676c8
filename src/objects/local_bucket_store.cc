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
#include "objects/local_store_files.h"

namespace loam::objects {

namespace fs = std::filesystem;
using nlohmann::json;
using FileStat = LocalBucketStore::FileStat;
using namespace local_store;  // NOLINT: the store's own helpers

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
  auto raw = DigestFile(source, DigestAlgorithmsFor(expected));
  if (!raw.ok()) return fail(raw.status());
  auto checksums = VerifyDigests(expected, *raw);
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

}  // namespace loam::objects
