// Object operations: PutObject, GetObject / HeadObject (ranges, conditions), DeleteObject,
// DeleteObjects, CopyObject.
#include <fmt/format.h>

#include "api/s3/s3_common.h"
#include "api/s3/s3_errors.h"
#include "common/strings.h"
#include "objects/xml.h"

namespace loam::api::s3 {

using objects::ParseXml;
using objects::XmlWriter;

namespace {

constexpr size_t kMaxDeleteBodyBytes = 8 * 1024 * 1024;
constexpr size_t kMaxDeleteObjects = 1000;

Status Malformed(std::string_view detail) {
  return S3Error(StatusCode::kInvalidArgument, kMalformedXML,
                 fmt::format("The XML you provided was not well-formed or did not validate against our published "
                             "schema ({})",
                             detail));
}

struct RangeSpec {
  enum Kind { kWhole, kPart, kUnsatisfiable } kind = kWhole;
  uint64_t offset = 0;
  uint64_t length = 0;
};

std::optional<uint64_t> ParseUint(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// Range: bytes=a-b | a- | -n. What S3 cannot serve as one range (several ranges, another
// unit, bad syntax) is ignored and the whole object is sent, as RFC 9110 allows.
RangeSpec ParseRange(std::optional<std::string_view> header, uint64_t size) {
  RangeSpec spec;
  if (!header) return spec;
  std::string_view h = Trim(*header);
  if (!h.starts_with("bytes=")) return spec;
  h.remove_prefix(6);
  if (h.find(',') != std::string_view::npos) return spec;
  auto dash = h.find('-');
  if (dash == std::string_view::npos) return spec;
  std::string_view first = Trim(h.substr(0, dash)), last = Trim(h.substr(dash + 1));
  if (first.empty()) {  // suffix: the last n bytes
    auto n = ParseUint(last);
    if (!n) return spec;
    if (*n == 0 || size == 0) return {RangeSpec::kUnsatisfiable};
    uint64_t len = std::min(*n, size);
    return {RangeSpec::kPart, size - len, len};
  }
  auto a = ParseUint(first);
  if (!a) return spec;
  std::optional<uint64_t> b;
  if (!last.empty()) {
    b = ParseUint(last);
    if (!b || *b < *a) return spec;
  }
  if (*a >= size) return {RangeSpec::kUnsatisfiable};
  uint64_t end = b ? std::min(*b, size - 1) : size - 1;
  return {RangeSpec::kPart, *a, end - *a + 1};
}

// If-Match, If-Unmodified-Since (412) and If-None-Match, If-Modified-Since (304), in the
// precedence RFC 9110 and S3 give them.
std::optional<Status> CheckConditions(const S3Request& r, const objects::ObjectInfo& info, std::string_view prefix) {
  auto header = [&](std::string_view name) { return r.Header(std::string(prefix) + std::string(name)); };
  int64_t modified_s = info.last_modified_ms / 1000;
  auto failed = S3Error(StatusCode::kFailedPrecondition, kPreconditionFailed,
                        "At least one of the pre-conditions you specified did not hold");
  auto if_match = header("if-match");
  if (if_match && !EtagMatches(*if_match, info.etag)) return failed;
  if (!if_match) {
    if (auto since = header("if-unmodified-since")) {
      auto t = ParseHttpDate(*since);
      if (t && modified_s > *t) return failed;
    }
  }
  // For a copy, a failed "none match" / "modified since" is a 412 too.
  auto not_modified = prefix.empty() ? S3Error(StatusCode::kFailedPrecondition, kNotModified, "Not Modified") : failed;
  auto if_none_match = header("if-none-match");
  if (if_none_match && EtagMatches(*if_none_match, info.etag)) return not_modified;
  if (!if_none_match) {
    if (auto since = header("if-modified-since")) {
      auto t = ParseHttpDate(*since);
      if (t && modified_s <= *t) return not_modified;
    }
  }
  return std::nullopt;
}

// A remote store's download (ObjectData::temporary) belongs to the request that asked for it:
// removed here unless the response takes it over (and the server removes it once sent).
class DownloadGuard {
 public:
  explicit DownloadGuard(const objects::ObjectData& data) {
    if (data.temporary) file_ = data.file;
  }
  ~DownloadGuard() {
    std::error_code ec;
    if (!file_.empty()) std::filesystem::remove(file_, ec);
  }
  DownloadGuard(const DownloadGuard&) = delete;
  DownloadGuard& operator=(const DownloadGuard&) = delete;
  void HandTo(http::Response& res) {
    res.file_is_temporary = !file_.empty();
    file_.clear();
  }

 private:
  std::filesystem::path file_;
};

struct CopySource {
  std::string bucket;
  std::string key;
};

StatusOr<CopySource> ParseCopySource(std::string_view raw) {
  auto bad = S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                     "Copy Source must mention the source bucket and key: sourcebucket/sourcekey");
  raw = Trim(raw);
  if (auto q = raw.find('?'); q != std::string_view::npos) {
    std::string_view query = raw.substr(q + 1);
    if (query.starts_with("versionId=") && query != "versionId=null") {
      return S3Error(StatusCode::kUnimplemented, kNotImplemented, "Loam does not keep object versions.");
    }
    raw = raw.substr(0, q);
  }
  auto decoded = PercentDecode(raw, false);
  if (!decoded) return bad;
  std::string_view s = *decoded;
  if (s.starts_with('/')) s.remove_prefix(1);
  auto slash = s.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) return bad;
  return CopySource{std::string(s.substr(0, slash)), std::string(s.substr(slash + 1))};
}

}  // namespace

http::Response PutObject(S3Request& r) {
  auto attributes = AttributesFromHeaders(r);
  if (!attributes.ok()) return Error(r, attributes.status());
  auto payload = ReadPayload(r);
  if (!payload.ok()) return Error(r, payload.status());
  auto info = r.store.PutObject(r.bucket, r.key, payload->file, *attributes, payload->expected);
  if (!info.ok()) return Error(r, info.status());
  http::Response res = EmptyResponse(200);
  res.headers.emplace_back("ETag", info->etag);
  AddChecksumHeaders(res, info->checksums);
  return res;
}

http::Response GetObject(S3Request& r) {
  if (r.HasQuery("partNumber")) {
    return Error(r, S3Error(StatusCode::kUnimplemented, kNotImplemented,
                            "GetObject and HeadObject by partNumber are not implemented by Loam yet."));
  }
  // HEAD needs no bytes: a remote store is asked for the metadata alone.
  objects::ObjectData data;
  if (r.head) {
    auto info = r.store.HeadObject(r.bucket, r.key);
    if (!info.ok()) return Error(r, info.status());
    data.info = std::move(*info);
  } else {
    auto got = r.store.GetObject(r.bucket, r.key);
    if (!got.ok()) return Error(r, got.status());
    data = std::move(*got);
  }
  DownloadGuard download(data);
  const objects::ObjectInfo& info = data.info;
  if (auto failed = CheckConditions(r, info, "")) {
    if (objects::SplitBucketError(*failed).reason == kNotModified) {
      http::Response res = EmptyResponse(304);
      res.headers.emplace_back("ETag", info.etag);
      res.headers.emplace_back("Last-Modified", HttpDate(info.last_modified_ms));
      return res;
    }
    return Error(r, *failed);
  }
  RangeSpec range = ParseRange(r.Header("range"), info.size);
  if (range.kind == RangeSpec::kUnsatisfiable) {
    http::Response res = Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidRange,
                                          fmt::format("The requested range is not satisfiable: the object has {} "
                                                      "bytes",
                                                      info.size)));
    res.headers.emplace_back("Content-Range", fmt::format("bytes */{}", info.size));
    return res;
  }
  http::Response res;
  res.status = range.kind == RangeSpec::kPart ? 206 : 200;
  if (r.head) {
    res.head_content_length = range.kind == RangeSpec::kPart ? range.length : info.size;
  } else {
    res.file = data.file;
    download.HandTo(res);
  }
  AddObjectHeaders(res, info);
  res.headers.emplace_back("Accept-Ranges", "bytes");
  if (range.kind == RangeSpec::kPart) {
    res.file_offset = range.offset;
    res.file_length = range.length;
    res.headers.emplace_back("Content-Range",
                             fmt::format("bytes {}-{}/{}", range.offset, range.offset + range.length - 1, info.size));
  } else {
    res.file_length = info.size;
    auto mode = r.Header("x-amz-checksum-mode");
    if (mode && EqualsIgnoreCase(Trim(*mode), "ENABLED")) AddChecksumHeaders(res, info.checksums);
  }
  if (info.parts_count > 0) res.headers.emplace_back("x-amz-mp-parts-count", std::to_string(info.parts_count));
  // response-* query parameters override what the object says (e.g. for presigned links).
  for (std::string_view name : {"content-type", "content-language", "expires", "cache-control",
                                "content-disposition", "content-encoding"}) {
    auto v = r.http.QueryValue("response-" + std::string(name));
    if (!v) continue;
    if (name == "content-type") {
      res.content_type = std::string(*v);
      continue;
    }
    std::erase_if(res.headers, [&](const auto& h) { return EqualsIgnoreCase(h.first, name); });
    res.headers.emplace_back(std::string(name), std::string(*v));
  }
  return res;
}

http::Response DeleteObject(S3Request& r) {
  if (Status s = r.store.DeleteObject(r.bucket, r.key); !s.ok()) return Error(r, s);
  return EmptyResponse(204);
}

http::Response DeleteObjects(S3Request& r) {
  auto body = ReadSmallBody(r, kMaxDeleteBodyBytes);
  if (!body.ok()) return Error(r, body.status());
  auto doc = ParseXml(*body);
  if (!doc.ok()) return Error(r, Malformed(doc.status().message()));
  if (doc->name != "Delete") return Error(r, Malformed("expected a Delete element"));
  bool quiet = false;
  if (const auto* q = doc->Child("Quiet")) quiet = EqualsIgnoreCase(Trim(q->text), "true");
  std::vector<std::pair<std::string, std::string>> keys;  // key, version id
  for (const auto& child : doc->children) {
    if (child.name != "Object") continue;
    const auto* key = child.Child("Key");
    if (!key) return Error(r, Malformed("an Object without a Key"));
    const auto* version = child.Child("VersionId");
    keys.emplace_back(key->text, version ? version->text : "");
  }
  if (keys.empty() || keys.size() > kMaxDeleteObjects) {
    return Error(r, Malformed(fmt::format("between 1 and {} objects per request", kMaxDeleteObjects)));
  }
  XmlWriter xml("DeleteResult");
  for (const auto& [key, version] : keys) {
    Status s = r.store.DeleteObject(r.bucket, key);
    if (s.ok()) {
      if (quiet) continue;
      xml.Open("Deleted").Element("Key", key);
      if (!version.empty()) xml.Element("VersionId", version);
      xml.Close();
    } else {
      S3ErrorReply e = ToS3Error(s);
      xml.Open("Error").Element("Key", key);
      if (!version.empty()) xml.Element("VersionId", version);
      xml.Element("Code", e.code).Element("Message", e.message).Close();
    }
  }
  return XmlResponse(xml.Finish());
}

http::Response CopyObject(S3Request& r) {
  auto source = ParseCopySource(*r.Header("x-amz-copy-source"));
  if (!source.ok()) return Error(r, source.status());
  std::string directive(Trim(r.Header("x-amz-metadata-directive").value_or("COPY")));
  if (directive != "COPY" && directive != "REPLACE") {
    return Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                            "Unknown metadata directive."));
  }
  auto source_info = r.store.HeadObject(source->bucket, source->key);
  if (!source_info.ok()) return Error(r, source_info.status());
  if (auto failed = CheckConditions(r, *source_info, "x-amz-copy-source-")) return Error(r, *failed);
  objects::ObjectAttributes attributes;
  if (directive == "REPLACE") {
    auto a = AttributesFromHeaders(r);
    if (!a.ok()) return Error(r, a.status());
    attributes = std::move(*a);
  }
  auto info = r.store.CopyObject(source->bucket, source->key, r.bucket, r.key, directive == "REPLACE", attributes);
  if (!info.ok()) return Error(r, info.status());
  XmlWriter xml("CopyObjectResult");
  xml.Element("LastModified", IsoTime(info->last_modified_ms)).Element("ETag", info->etag);
  for (const auto& [alg, value] : info->checksums) xml.Element("Checksum" + alg, value);
  return XmlResponse(xml.Finish());
}

}  // namespace loam::api::s3
