#include "api/s3/s3_common.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <sstream>

#include "api/s3/aws_chunked.h"
#include "api/s3/s3_errors.h"
#include "common/base64.h"
#include "common/strings.h"
#include "objects/digests.h"

namespace loam::api::s3 {

namespace fs = std::filesystem;

namespace {

constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
constexpr size_t kMaxUserMetadataBytes = 2048;
constexpr uint64_t kMaxObjectBytes = uint64_t{5} * 1024 * 1024 * 1024;

std::tm Utc(int64_t epoch_ms) {
  std::time_t secs = static_cast<std::time_t>(epoch_ms >= 0 ? epoch_ms / 1000 : (epoch_ms - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

// The stored standard headers (x-amz-meta-* aside).
constexpr std::string_view kStoredHeaders[] = {"content-encoding", "content-disposition", "content-language",
                                               "cache-control", "expires"};

std::string ChecksumHeaderName(std::string_view algorithm) { return "x-amz-checksum-" + ToLower(algorithm); }

// Content-MD5 and x-amz-checksum-* headers; x-amz-sdk-checksum-algorithm asks for one to be
// computed and kept.
StatusOr<objects::ExpectedDigests> DigestsFromHeaders(const S3Request& r) {
  objects::ExpectedDigests expected;
  if (auto md5 = r.Header("content-md5")) {
    auto raw = Base64Decode(Trim(*md5));
    if (!raw || raw->size() != 16) {
      return S3Error(StatusCode::kInvalidArgument, kInvalidDigest, "The Content-MD5 you specified was invalid.");
    }
    expected.md5 = *raw;
  }
  for (const auto& alg : objects::SupportedChecksums()) {
    std::string name = ChecksumHeaderName(alg);
    if (auto v = r.Header(name)) {
      if (!Base64Decode(Trim(*v))) {
        return S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidRequest,
                       fmt::format("Value for {} header is invalid.", name));
      }
      expected.checksums[alg] = std::string(Trim(*v));
    }
  }
  for (const char* name : {"x-amz-sdk-checksum-algorithm", "x-amz-checksum-algorithm"}) {
    if (auto alg = r.Header(name)) {
      std::string upper;
      for (char c : Trim(*alg)) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (objects::IsSupportedChecksum(upper) && !expected.checksums.contains(upper)) expected.checksums[upper] = "";
    }
  }
  return expected;
}

}  // namespace

std::string_view OwnerId() {
  static const std::string id = objects::Sha256Hex("loam");
  return id;
}

std::string HttpDate(int64_t epoch_ms) {
  std::tm tm = Utc(epoch_ms);
  return fmt::format("{}, {:02d} {} {:04d} {:02d}:{:02d}:{:02d} GMT", kDays[tm.tm_wday], tm.tm_mday,
                     kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::optional<int64_t> ParseHttpDate(std::string_view text) {
  std::string s(Trim(text));
  char day[4] = {}, month[4] = {}, zone[4] = {};
  int mday = 0, year = 0, hour = 0, minute = 0, second = 0;
  std::tm tm{};
  // IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
  if (std::sscanf(s.c_str(), "%3s, %d %3s %d %d:%d:%d %3s", day, &mday, month, &year, &hour, &minute, &second, zone) ==
          8 &&
      std::string_view(zone) == "GMT") {
    int mon = -1;
    for (int i = 0; i < 12; ++i) {
      if (std::string_view(month) == kMonths[i]) mon = i;
    }
    if (mon < 0) return std::nullopt;
    tm.tm_year = year - 1900;
    tm.tm_mon = mon;
    tm.tm_mday = mday;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return static_cast<int64_t>(timegm(&tm));
  }
  return std::nullopt;
}

std::string UrlEncode(std::string_view text) { return PercentEncode(text, /*keep_slash=*/true); }

std::string EncodeToken(std::string_view position) {
  std::string b64 = Base64Encode(position);
  for (char& c : b64) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

std::optional<std::string> DecodeToken(std::string_view token) {
  std::string b64(token);
  for (char& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (b64.size() % 4) b64 += '=';
  return Base64Decode(b64);
}

StatusOr<int64_t> IntQuery(const S3Request& r, std::string_view name, int64_t fallback, int64_t min,
                           std::optional<int64_t> clamp) {
  auto raw = r.http.QueryValue(name);
  if (!raw) return fallback;
  auto v = ParseInt64(*raw);
  if (!v || *v < min) {
    return S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                   fmt::format("Provided {} not an integer or within integer range: {}", name, *raw));
  }
  if (clamp && *v > *clamp) return *clamp;
  return *v;
}

StatusOr<std::string> ReadSmallBody(const S3Request& r, size_t limit) {
  std::string body;
  if (!r.http.body_file.empty()) {
    if (r.http.body_size > limit) {
      return S3Error(StatusCode::kInvalidArgument, kMaxMessageLengthExceeded,
                     fmt::format("Your request was too big: at most {} bytes.", limit));
    }
    std::ifstream in(r.http.body_file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    body = ss.str();
  } else {
    body = r.http.body;
  }
  if (body.size() > limit) {
    return S3Error(StatusCode::kInvalidArgument, kMaxMessageLengthExceeded,
                   fmt::format("Your request was too big: at most {} bytes.", limit));
  }
  ASSIGN_OR_RETURN(objects::ExpectedDigests expected, DigestsFromHeaders(r));
  std::vector<std::string> algorithms = {"MD5"};
  for (const auto& [alg, value] : expected.checksums) algorithms.push_back(alg);
  auto raw = objects::DigestBytes(body, algorithms);
  if (expected.md5 && *expected.md5 != raw["MD5"]) {
    return S3Error(StatusCode::kInvalidArgument, objects::reason::kBadDigest,
                   "The Content-MD5 you specified did not match what we received.");
  }
  for (const auto& [alg, value] : expected.checksums) {
    if (!value.empty() && value != Base64Encode(raw[alg])) {
      return S3Error(StatusCode::kInvalidArgument, objects::reason::kBadDigest,
                     fmt::format("The {} you specified did not match the calculated checksum.", alg));
    }
  }
  return body;
}

StatusOr<objects::ObjectAttributes> AttributesFromHeaders(const S3Request& r) {
  objects::ObjectAttributes a;
  if (auto ct = r.Header("content-type")) a.content_type = std::string(Trim(*ct));
  for (std::string_view name : kStoredHeaders) {
    auto v = r.Header(name);
    if (!v) continue;
    std::string value(Trim(*v));
    if (name == "content-encoding") {  // aws-chunked is the transfer's framing, not the object's
      std::string kept;
      for (const auto& part : Split(value, ',')) {
        std::string_view t = Trim(part);
        if (t.empty() || EqualsIgnoreCase(t, "aws-chunked")) continue;
        kept += (kept.empty() ? "" : ",") + std::string(t);
      }
      value = kept;
      if (value.empty()) continue;
    }
    a.headers.emplace_back(std::string(name), value);
  }
  size_t meta_bytes = 0;
  for (const auto& [k, v] : r.http.headers) {
    if (!k.starts_with("x-amz-meta-")) continue;
    std::string name = k.substr(11);
    meta_bytes += name.size() + v.size();
    a.user_metadata[name] = v;
  }
  if (meta_bytes > kMaxUserMetadataBytes) {
    return S3Error(StatusCode::kInvalidArgument, kMetadataTooLarge,
                   fmt::format("Your metadata headers exceed the maximum allowed metadata size: {} bytes, at most {}.",
                               meta_bytes, kMaxUserMetadataBytes));
  }
  return a;
}

StatusOr<Payload> ReadPayload(const S3Request& r) {
  Payload p;
  ASSIGN_OR_RETURN(p.expected, DigestsFromHeaders(r));
  std::string_view content_sha = Trim(r.Header("x-amz-content-sha256").value_or(""));
  if (content_sha.size() == 64) {  // a signed payload's SHA-256, in hex
    auto nibble = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      if (c >= 'a' && c <= 'f') return c - 'a' + 10;
      if (c >= 'A' && c <= 'F') return c - 'A' + 10;
      return -1;
    };
    std::string raw;
    for (size_t i = 0; i < 64; i += 2) {
      int hi = nibble(content_sha[i]), lo = nibble(content_sha[i + 1]);
      if (hi < 0 || lo < 0) break;
      raw += static_cast<char>(hi * 16 + lo);
    }
    if (raw.size() == 32) p.expected.payload_sha256 = raw;
  }
  bool chunked = content_sha.starts_with("STREAMING-");
  if (auto enc = r.Header("content-encoding")) {
    for (const auto& part : Split(*enc, ',')) chunked = chunked || EqualsIgnoreCase(Trim(part), "aws-chunked");
  }
  const fs::path& spooled = r.http.body_file;
  if (!chunked) {
    p.file = spooled;
  } else {
    fs::path decoded = spooled;
    decoded += ".decoded";
    auto body = DecodeAwsChunked(spooled, decoded);
    std::error_code ec;
    fs::remove(spooled, ec);  // the framed copy is no longer needed
    if (!body.ok()) {
      fs::remove(decoded, ec);
      return body.status();
    }
    if (auto declared = r.Header("x-amz-decoded-content-length")) {
      auto n = ParseInt64(Trim(*declared));
      if (!n || static_cast<uint64_t>(*n) != body->decoded_size) {
        fs::remove(decoded, ec);
        return S3Error(StatusCode::kInvalidArgument, kIncompleteBody,
                       fmt::format("The request body has {} bytes, x-amz-decoded-content-length says {}.",
                                   body->decoded_size, *declared));
      }
    }
    for (const auto& [name, value] : body->trailers) {
      if (!name.starts_with("x-amz-checksum-")) continue;
      std::string alg;
      for (char c : name.substr(15)) alg += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (objects::IsSupportedChecksum(alg)) p.expected.checksums[alg] = value;
    }
    p.expected.payload_sha256.reset();
    p.file = decoded;
  }
  std::error_code ec;
  if (fs::file_size(p.file, ec) > kMaxObjectBytes && !ec) {
    if (chunked) fs::remove(p.file, ec);
    return S3Error(StatusCode::kInvalidArgument, kEntityTooLarge,
                   "Your proposed upload exceeds the maximum allowed size of 5 GiB.");
  }
  return p;
}

void AddObjectHeaders(http::Response& res, const objects::ObjectInfo& info) {
  res.content_type = info.attributes.content_type.empty() ? std::string(kDefaultContentType)
                                                          : info.attributes.content_type;
  res.headers.emplace_back("ETag", info.etag);
  res.headers.emplace_back("Last-Modified", HttpDate(info.last_modified_ms));
  for (const auto& [k, v] : info.attributes.headers) res.headers.emplace_back(k, v);
  for (const auto& [k, v] : info.attributes.user_metadata) res.headers.emplace_back("x-amz-meta-" + k, v);
}

void AddChecksumHeaders(http::Response& res, const std::map<std::string, std::string>& checksums) {
  for (const auto& [alg, value] : checksums) {
    res.headers.emplace_back(ChecksumHeaderName(alg), value);
    res.headers.emplace_back("x-amz-checksum-type",
                             value.find('-') == std::string::npos ? "FULL_OBJECT" : "COMPOSITE");
  }
}

http::Response XmlResponse(std::string body, unsigned status) {
  http::Response res;
  res.status = status;
  res.content_type = "application/xml";
  res.body = std::move(body);
  return res;
}

http::Response EmptyResponse(unsigned status) {
  http::Response res;
  res.status = status;
  res.content_type = "application/xml";
  return res;
}

bool EtagMatches(std::string_view list, std::string_view etag) {
  auto bare = [](std::string_view e) {
    e = Trim(e);
    if (e.starts_with("W/")) e.remove_prefix(2);
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
    return e;
  };
  if (Trim(list) == "*") return true;
  for (const auto& part : Split(list, ',')) {
    if (bare(part) == bare(etag)) return true;
  }
  return false;
}

http::Response Error(const S3Request& r, const Status& status) { return S3ErrorResponse(status, r.resource, r.head); }

}  // namespace loam::api::s3
