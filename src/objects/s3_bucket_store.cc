#include "objects/s3_bucket_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

#include "common/base64.h"
#include "common/ids.h"
#include "common/strings.h"
#include "objects/digests.h"
#include "objects/s3_wire.h"

namespace loam::objects {

namespace fs = std::filesystem;

namespace {

constexpr size_t kScanBufferBytes = 1 << 20;
// The greatest code point: appended to a common prefix, it makes a start-after past every
// key under that prefix (all of which the prefix stands for).
constexpr std::string_view kMaxCodePoint = "\xF4\x8F\xBF\xBF";

// The file a writer hands over: deleted once the call is done with it, whatever the outcome.
class HandedOverFile {
 public:
  explicit HandedOverFile(fs::path path) : path_(std::move(path)) {}
  ~HandedOverFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  HandedOverFile(const HandedOverFile&) = delete;
  HandedOverFile& operator=(const HandedOverFile&) = delete;

 private:
  fs::path path_;
};

// S3's one rule for keys (the file-tree rules of LocalBucketStore do not apply here).
Status CheckKeyLength(std::string_view key) {
  if (key.size() <= kMaxKeyBytes) return Status::Ok();
  return BucketError(StatusCode::kInvalidArgument, reason::kKeyTooLongError,
                     fmt::format("Your key is too long: {} bytes, the limit is {}.", key.size(), kMaxKeyBytes));
}

S3Call Request(std::string method, std::string_view bucket, std::string_view key = {}) {
  S3Call call;
  call.method = std::move(method);
  call.bucket = std::string(bucket);
  call.key = std::string(key);
  return call;
}

std::string QuotedHex(const std::string& raw_md5) { return "\"" + HexEncode(raw_md5) + "\""; }

std::string CopySource(std::string_view bucket, std::string_view key) {
  return "/" + PercentEncode(bucket, /*keep_slash=*/false) + "/" + PercentEncode(key, /*keep_slash=*/true);
}

std::string Etag(const S3Reply& reply, const std::string& raw_md5) {
  auto etag = reply.Header("etag");
  return etag && !etag->empty() ? std::string(*etag) : QuotedHex(raw_md5);
}

// The digests a writer's expectations need, MD5 (the ETag, and Content-MD5 on the wire) always.
std::vector<std::string> DigestAlgorithms(const ExpectedDigests& expected) {
  std::vector<std::string> algorithms = {"MD5"};
  for (const auto& [algorithm, value] : expected.checksums) algorithms.push_back(algorithm);
  if (expected.payload_sha256) algorithms.push_back("SHA256");
  return algorithms;
}

// The same refusals LocalBucketStore gives, before a byte leaves this machine.
Status CheckDigests(const ExpectedDigests& expected, std::map<std::string, std::string>& digests) {
  if (expected.md5 && *expected.md5 != digests["MD5"]) {
    return BucketError(StatusCode::kInvalidArgument, reason::kBadDigest,
                       "The Content-MD5 you specified did not match what we received.");
  }
  for (const auto& [algorithm, value] : expected.checksums) {
    if (!value.empty() && value != Base64Encode(digests[algorithm])) {
      return BucketError(StatusCode::kInvalidArgument, reason::kBadDigest,
                         fmt::format("The {} you specified did not match the calculated checksum.", algorithm));
    }
  }
  if (expected.payload_sha256 && *expected.payload_sha256 != digests["SHA256"]) {
    return BucketError(StatusCode::kInvalidArgument, reason::kContentSha256Mismatch,
                       "The provided 'x-amz-content-sha256' header does not match what was computed.");
  }
  return Status::Ok();
}

// The flexible checksums the writer asked for, base64 as S3 writes them.
std::map<std::string, std::string> RequestedChecksums(const ExpectedDigests& expected,
                                                      std::map<std::string, std::string>& digests) {
  std::map<std::string, std::string> checksums;
  for (const auto& [algorithm, value] : expected.checksums) checksums[algorithm] = Base64Encode(digests[algorithm]);
  return checksums;
}

void AddChecksumHeaders(S3Call& call, const std::map<std::string, std::string>& checksums) {
  for (const auto& [algorithm, value] : checksums) call.headers.emplace_back(s3wire::ChecksumHeaderName(algorithm), value);
}

// Where a listing page starts: after `last`, and past everything under it when `last` is a
// common prefix.
std::string StartAfter(const std::string& last, const ListObjectsOptions& options) {
  const std::string& d = options.delimiter;
  bool common_prefix = !d.empty() && last.size() > options.prefix.size() && last.starts_with(options.prefix) &&
                       last.ends_with(d) && last.find(d, options.prefix.size()) == last.size() - d.size();
  return common_prefix ? last + std::string(kMaxCodePoint) : last;
}

}  // namespace

// One read of a file: its size, whole-file digests and, for a multipart upload, each part's MD5.
struct S3BucketStore::Scan {
  uint64_t size = 0;
  uint64_t part_size = 0;  // 0: one part
  std::map<std::string, std::string> digests;  // raw, by algorithm
  std::vector<std::string> part_md5s;          // raw
};

StatusOr<S3BucketStore::Scan> S3BucketStore::ScanFile(const fs::path& path, uint64_t part_size,
                                                      const std::vector<std::string>& algorithms) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Internal(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  Scan scan;
  scan.part_size = part_size;
  Digests whole(algorithms);
  std::unique_ptr<Digests> part;
  uint64_t in_part = 0;
  std::unique_ptr<char[]> buffer(new char[kScanBufferBytes]);
  for (;;) {
    ssize_t n = ::read(fd, buffer.get(), kScanBufferBytes);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Internal(fmt::format("cannot read {}: {}", path.string(), std::strerror(errno)));
    if (n == 0) break;
    whole.Update(buffer.get(), static_cast<size_t>(n));
    scan.size += static_cast<uint64_t>(n);
    for (size_t at = 0; part_size > 0 && at < static_cast<size_t>(n);) {
      if (!part) part = std::make_unique<Digests>(std::vector<std::string>{"MD5"});
      size_t take = static_cast<size_t>(std::min<uint64_t>(part_size - in_part, static_cast<uint64_t>(n) - at));
      part->Update(buffer.get() + at, take);
      at += take;
      in_part += take;
      if (in_part == part_size) {
        scan.part_md5s.push_back(part->Finish()["MD5"]);
        part.reset();
        in_part = 0;
      }
    }
  }
  if (part) scan.part_md5s.push_back(part->Finish()["MD5"]);
  scan.digests = whole.Finish();
  return scan;
}

StatusOr<ObjectInfo> S3BucketStore::Describe(std::string_view bucket, std::string_view key,
                                             s3wire::CopyResult written) {
  ASSIGN_OR_RETURN(ObjectInfo info, HeadObject(bucket, key));
  if (!written.etag.empty()) info.etag = std::move(written.etag);
  if (!written.checksums.empty()) info.checksums = std::move(written.checksums);
  return info;
}

Status S3BucketStore::FailureInBody(const S3Call& call, const S3Reply& reply) const {
  if (ParseS3Error(reply).code.empty()) return Status::Ok();
  S3Reply failed = reply;
  failed.status = 500;  // the store's trouble, not the request's
  return client_.RemoteError(call, failed);
}

S3BucketStore::S3BucketStore(S3BucketStoreOptions options)
    : options_(std::move(options)), client_(options_.client) {}

Status S3BucketStore::CheckReachable() {
  auto buckets = ListBuckets();
  if (buckets.ok()) return Status::Ok();
  return Status(buckets.status().code(), fmt::format("the external object store at {} does not answer ListBuckets: {}",
                                                     options_.client.endpoint,
                                                     SplitBucketError(buckets.status()).message));
}

// ---------------------------------------------------------------------------
// Buckets
// ---------------------------------------------------------------------------

Status S3BucketStore::CreateBucket(std::string_view name, std::string_view region) {
  RETURN_IF_ERROR(ValidateBucketName(name));
  // A bucket without a constraint goes where the store's region says, as S3 requires
  // outside us-east-1; us-east-1 itself is never named in a constraint.
  std::string location(region.empty() ? std::string_view(options_.client.region) : region);
  S3Call call = Request("PUT", name);
  if (!location.empty() && location != "us-east-1") {
    call.body = s3wire::CreateBucketConfiguration(location);
    call.headers.emplace_back("Content-Type", "application/xml");
  }
  return client_.Call(call).status();
}

Status S3BucketStore::DeleteBucket(std::string_view name) { return client_.Call(Request("DELETE", name)).status(); }

StatusOr<BucketInfo> S3BucketStore::GetBucket(std::string_view name) {
  // GetBucketLocation answers NoSuchBucket, or the region; S3 tells no creation time but in
  // ListBuckets, so created_ms stays 0 here.
  S3Call call = Request("GET", name);
  call.query = {{"location", ""}};
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
  ASSIGN_OR_RETURN(std::string region, s3wire::ParseLocation(reply.body));
  return BucketInfo{std::string(name), 0, region};
}

StatusOr<std::vector<BucketInfo>> S3BucketStore::ListBuckets() {
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(Request("GET", "")));
  return s3wire::ParseListBuckets(reply.body);
}

// ---------------------------------------------------------------------------
// Objects
// ---------------------------------------------------------------------------

StatusOr<ObjectInfo> S3BucketStore::PutObject(std::string_view bucket, std::string_view key, const fs::path& source,
                                              const ObjectAttributes& attributes, const ExpectedDigests& expected) {
  HandedOverFile handed_over(source);
  RETURN_IF_ERROR(CheckKeyLength(key));
  std::error_code ec;
  uint64_t size = fs::file_size(source, ec);
  if (ec) return Internal(fmt::format("cannot read {}: {}", source.string(), ec.message()));
  // Parts grow past part_size when S3's 10,000 parts would not hold the file otherwise.
  uint64_t part_size = std::max<uint64_t>(options_.part_size, (size + kMaxPartNumber - 1) / kMaxPartNumber);
  bool in_parts = size > options_.multipart_threshold;
  ASSIGN_OR_RETURN(Scan scan, ScanFile(source, in_parts ? part_size : 0, DigestAlgorithms(expected)));
  RETURN_IF_ERROR(CheckDigests(expected, scan.digests));
  std::map<std::string, std::string> checksums = RequestedChecksums(expected, scan.digests);
  if (in_parts) {
    ASSIGN_OR_RETURN(ObjectInfo info, PutInParts(bucket, key, source, attributes, scan));
    info.checksums = std::move(checksums);  // of the whole content, checked above
    return info;
  }
  S3Call call = Request("PUT", bucket, key);
  call.headers = s3wire::AttributeHeaders(attributes);
  call.headers.emplace_back("Content-MD5", Base64Encode(scan.digests["MD5"]));
  AddChecksumHeaders(call, checksums);
  call.body_file = BodyFile{source, 0, scan.size};
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
  ObjectInfo info;
  info.key = std::string(key);
  info.size = scan.size;
  info.last_modified_ms = SystemNowMillis();
  info.etag = Etag(reply, scan.digests["MD5"]);
  info.attributes = attributes;
  info.checksums = std::move(checksums);
  return info;
}

StatusOr<ObjectInfo> S3BucketStore::PutInParts(std::string_view bucket, std::string_view key, const fs::path& source,
                                               const ObjectAttributes& attributes, const Scan& scan) {
  ASSIGN_OR_RETURN(MultipartUpload upload, CreateMultipartUpload(bucket, key, attributes, ""));
  // Nothing is left behind on failure: the parts sent so far are given up with the upload.
  auto fail = [&](Status status) {
    (void)AbortMultipartUpload(bucket, key, upload.upload_id);
    return status;
  };
  std::vector<CompletedPart> parts;
  for (size_t i = 0; i < scan.part_md5s.size(); ++i) {
    uint64_t offset = i * scan.part_size;
    S3Call call = Request("PUT", bucket, key);
    call.query = {{"partNumber", std::to_string(i + 1)}, {"uploadId", upload.upload_id}};
    call.headers.emplace_back("Content-MD5", Base64Encode(scan.part_md5s[i]));
    call.body_file = BodyFile{source, offset, std::min(scan.part_size, scan.size - offset)};
    auto reply = client_.Call(call);
    if (!reply.ok()) return fail(reply.status());
    parts.push_back({static_cast<int>(i + 1), Etag(*reply, scan.part_md5s[i])});
  }
  auto info = CompleteMultipartUpload(bucket, key, upload.upload_id, parts);
  if (!info.ok()) return fail(info.status());
  info->attributes = attributes;
  return info;
}

StatusOr<ObjectInfo> S3BucketStore::HeadObject(std::string_view bucket, std::string_view key) {
  S3Call call = Request("HEAD", bucket, key);
  ASSIGN_OR_RETURN(S3Reply reply, client_.Send(call));
  if (reply.status == 404 && ParseS3Error(reply).code.empty()) {  // HEAD answers carry no error document
    return BucketError(StatusCode::kNotFound, reason::kNoSuchKey, "The specified key does not exist.");
  }
  if (!reply.ok()) return client_.RemoteError(call, reply);
  return s3wire::ObjectInfoFromHeaders(key, reply);
}

StatusOr<ObjectData> S3BucketStore::GetObject(std::string_view bucket, std::string_view key) {
  std::error_code ec;
  fs::create_directories(options_.temp_dir, ec);
  S3Call call = Request("GET", bucket, key);
  call.response_file = options_.temp_dir / ("get-" + NewUuidHex());
  auto reply = client_.Call(call);
  if (!reply.ok()) {
    fs::remove(call.response_file, ec);
    return reply.status();
  }
  ObjectData data{s3wire::ObjectInfoFromHeaders(key, *reply), call.response_file, /*temporary=*/true};
  uint64_t received = fs::file_size(data.file, ec);
  if (ec || received != data.info.size) {
    fs::remove(data.file, ec);
    return Unavailable(fmt::format("the external object store at {} sent {} bytes of {}/{}, {} announced",
                                   options_.client.endpoint, received, bucket, key, data.info.size));
  }
  return data;
}

Status S3BucketStore::DeleteObject(std::string_view bucket, std::string_view key) {
  return client_.Call(Request("DELETE", bucket, key)).status();
}

StatusOr<ObjectInfo> S3BucketStore::CopyObject(std::string_view source_bucket, std::string_view source_key,
                                               std::string_view bucket, std::string_view key, bool replace,
                                               const ObjectAttributes& attributes) {
  // A copy onto itself without REPLACE is the store's to refuse (InvalidRequest), as in S3.
  RETURN_IF_ERROR(CheckKeyLength(key));
  S3Call call = Request("PUT", bucket, key);
  if (replace) call.headers = s3wire::AttributeHeaders(attributes);
  call.headers.emplace_back("x-amz-copy-source", CopySource(source_bucket, source_key));
  call.headers.emplace_back("x-amz-metadata-directive", replace ? "REPLACE" : "COPY");
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
  RETURN_IF_ERROR(FailureInBody(call, reply));
  ASSIGN_OR_RETURN(s3wire::CopyResult copied, s3wire::ParseCopyResult(reply.body));
  return Describe(bucket, key, std::move(copied));
}

StatusOr<ListObjectsResult> S3BucketStore::ListObjects(std::string_view bucket, const ListObjectsOptions& options) {
  ListObjectsResult result;
  std::string last = options.marker;  // everything up to here is skipped
  int left = std::max(options.max_keys, 0);
  for (;;) {
    // Whole pages, cut here: a store that orders or counts a page otherwise than S3 (s3rver
    // walks its directories, and counts no common prefix) still lists every key once, in order.
    S3Call call = Request("GET", bucket);
    call.query = {{"list-type", "2"}, {"encoding-type", "url"}, {"max-keys", options.max_keys <= 0 ? "0" : "1000"}};
    if (!options.prefix.empty()) call.query.emplace_back("prefix", options.prefix);
    if (!options.delimiter.empty()) call.query.emplace_back("delimiter", options.delimiter);
    if (!last.empty()) call.query.emplace_back("start-after", StartAfter(last, options));
    ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
    ASSIGN_OR_RETURN(s3wire::ListPage page, s3wire::ParseListObjects(reply.body));
    if (options.max_keys <= 0) {
      result.truncated = page.truncated;
      return result;
    }
    // Keys and common prefixes in one order, as S3 counts them against max-keys.
    std::sort(page.objects.begin(), page.objects.end(), [](const auto& a, const auto& b) { return a.key < b.key; });
    std::sort(page.common_prefixes.begin(), page.common_prefixes.end());
    auto object = page.objects.begin();
    auto prefix = page.common_prefixes.begin();
    std::string before = last;
    while (object != page.objects.end() || prefix != page.common_prefixes.end()) {
      bool take_object = prefix == page.common_prefixes.end() ||
                         (object != page.objects.end() && object->key < *prefix);
      std::string name = take_object ? object->key : *prefix;
      if (name > last) {
        if (left == 0) {
          result.truncated = true;
          return result;
        }
        if (take_object) {
          result.objects.push_back(std::move(*object));
        } else {
          result.common_prefixes.push_back(*prefix);
        }
        last = name;
        result.last = last;
        --left;
      }
      if (take_object) {
        ++object;
      } else {
        ++prefix;
      }
    }
    if (!page.truncated) return result;
    if (left == 0) {
      result.truncated = true;
      return result;
    }
    if (last == before) {
      return Internal(fmt::format("the external object store at {} keeps listing {} from '{}' without progress",
                                  options_.client.endpoint, bucket, last));
    }
  }
}

// ---------------------------------------------------------------------------
// Multipart uploads
// ---------------------------------------------------------------------------

StatusOr<MultipartUpload> S3BucketStore::CreateMultipartUpload(std::string_view bucket, std::string_view key,
                                                               const ObjectAttributes& attributes,
                                                               std::string_view checksum_algorithm) {
  RETURN_IF_ERROR(CheckKeyLength(key));
  S3Call call = Request("POST", bucket, key);
  call.query = {{"uploads", ""}};
  call.headers = s3wire::AttributeHeaders(attributes);
  if (!checksum_algorithm.empty()) call.headers.emplace_back("x-amz-checksum-algorithm", std::string(checksum_algorithm));
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
  ASSIGN_OR_RETURN(std::string upload_id, s3wire::ParseUploadId(reply.body));
  return MultipartUpload{upload_id,          std::string(bucket), std::string(key), SystemNowMillis(),
                         attributes, std::string(checksum_algorithm)};
}

StatusOr<PartInfo> S3BucketStore::UploadPart(std::string_view bucket, std::string_view key,
                                             std::string_view upload_id, int part_number, const fs::path& source,
                                             const ExpectedDigests& expected) {
  HandedOverFile handed_over(source);
  ASSIGN_OR_RETURN(Scan scan, ScanFile(source, 0, DigestAlgorithms(expected)));
  RETURN_IF_ERROR(CheckDigests(expected, scan.digests));
  std::map<std::string, std::string> checksums = RequestedChecksums(expected, scan.digests);
  S3Call call = Request("PUT", bucket, key);
  call.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}};
  call.headers.emplace_back("Content-MD5", Base64Encode(scan.digests["MD5"]));
  AddChecksumHeaders(call, checksums);
  call.body_file = BodyFile{source, 0, scan.size};
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
  return PartInfo{part_number, scan.size, Etag(reply, scan.digests["MD5"]), SystemNowMillis(), std::move(checksums)};
}

StatusOr<PartInfo> S3BucketStore::UploadPartCopy(std::string_view bucket, std::string_view key,
                                                 std::string_view upload_id, int part_number,
                                                 std::string_view source_bucket, std::string_view source_key,
                                                 std::optional<ByteRange> range) {
  S3Call call = Request("PUT", bucket, key);
  call.query = {{"partNumber", std::to_string(part_number)}, {"uploadId", std::string(upload_id)}};
  call.headers.emplace_back("x-amz-copy-source", CopySource(source_bucket, source_key));
  if (range) {
    call.headers.emplace_back("x-amz-copy-source-range",
                              fmt::format("bytes={}-{}", range->offset, range->offset + range->length - 1));
  }
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
  RETURN_IF_ERROR(FailureInBody(call, reply));
  ASSIGN_OR_RETURN(s3wire::CopyResult copied, s3wire::ParseCopyResult(reply.body));
  uint64_t size = range ? range->length : 0;
  if (!range) {  // the whole source: its size is asked for
    ASSIGN_OR_RETURN(ObjectInfo source, HeadObject(source_bucket, source_key));
    size = source.size;
  }
  int64_t modified = copied.last_modified_ms > 0 ? copied.last_modified_ms : SystemNowMillis();
  return PartInfo{part_number, size, copied.etag, modified, std::move(copied.checksums)};
}

StatusOr<ObjectInfo> S3BucketStore::CompleteMultipartUpload(std::string_view bucket, std::string_view key,
                                                            std::string_view upload_id,
                                                            const std::vector<CompletedPart>& parts) {
  S3Call call = Request("POST", bucket, key);
  call.query = {{"uploadId", std::string(upload_id)}};
  call.headers.emplace_back("Content-Type", "application/xml");
  call.body = s3wire::CompleteMultipartUploadBody(parts);
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
  RETURN_IF_ERROR(FailureInBody(call, reply));
  ASSIGN_OR_RETURN(s3wire::CopyResult completed, s3wire::ParseCompleteResult(reply.body));
  ASSIGN_OR_RETURN(ObjectInfo info, Describe(bucket, key, std::move(completed)));
  if (info.parts_count == 0) info.parts_count = static_cast<int>(parts.size());
  return info;
}

Status S3BucketStore::AbortMultipartUpload(std::string_view bucket, std::string_view key,
                                           std::string_view upload_id) {
  S3Call call = Request("DELETE", bucket, key);
  call.query = {{"uploadId", std::string(upload_id)}};
  return client_.Call(call).status();
}

StatusOr<ListPartsResult> S3BucketStore::ListParts(std::string_view bucket, std::string_view key,
                                                   std::string_view upload_id, int part_number_marker,
                                                   int max_parts) {
  S3Call call = Request("GET", bucket, key);
  call.query = {{"uploadId", std::string(upload_id)}, {"max-parts", std::to_string(max_parts)}};
  if (part_number_marker > 0) call.query.emplace_back("part-number-marker", std::to_string(part_number_marker));
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
  ASSIGN_OR_RETURN(ListPartsResult result, s3wire::ParseListParts(reply.body));
  result.upload.bucket = std::string(bucket);
  result.upload.key = std::string(key);
  if (result.upload.upload_id.empty()) result.upload.upload_id = std::string(upload_id);
  return result;
}

StatusOr<ListUploadsResult> S3BucketStore::ListMultipartUploads(std::string_view bucket,
                                                                const ListUploadsOptions& options) {
  S3Call call = Request("GET", bucket);
  call.query = {{"uploads", ""}, {"encoding-type", "url"}, {"max-uploads", std::to_string(options.max_uploads)}};
  if (!options.prefix.empty()) call.query.emplace_back("prefix", options.prefix);
  if (!options.key_marker.empty()) call.query.emplace_back("key-marker", options.key_marker);
  if (!options.upload_id_marker.empty()) call.query.emplace_back("upload-id-marker", options.upload_id_marker);
  ASSIGN_OR_RETURN(S3Reply reply, client_.Call(call));
  ASSIGN_OR_RETURN(ListUploadsResult result, s3wire::ParseListUploads(reply.body));
  for (auto& upload : result.uploads) upload.bucket = std::string(bucket);
  return result;
}

}  // namespace loam::objects
