// LocalBucketStore's multipart uploads: each upload a directory under <state>/uploads with
// its parts as files, completed by concatenating them into the object.
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/base64.h"
#include "common/ids.h"
#include "objects/digests.h"
#include "objects/local_bucket_store.h"
#include "objects/local_store_files.h"

namespace loam::objects {

namespace fs = std::filesystem;
using nlohmann::json;
using FileStat = LocalBucketStore::FileStat;
using namespace local_store;  // NOLINT: the store's own helpers

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
  auto raw = DigestFile(source, DigestAlgorithmsFor(expected, upload->checksum_algorithm));
  if (!raw.ok()) return fail(raw.status());
  auto checksums = VerifyDigests(expected, *raw, upload->checksum_algorithm);
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
    if (it == by_number.end() || UnquoteEtag(it->second->etag) != UnquoteEtag(want.etag)) {
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
    auto md5 = HexDecode(UnquoteEtag(p->etag));
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
