#include "objects/bucket_store.h"

#include "common/strings.h"

#include <fmt/format.h>

#include "common/base64.h"
#include "objects/digests.h"

namespace loam::objects {

namespace {

constexpr std::string_view kReasonOpen = "[s3:";
constexpr std::string_view kReasonClose = "] ";

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

bool LooksLikeIpv4(std::string_view s) {
  int groups = 1;
  bool digit_seen = false;
  for (char c : s) {
    if (c == '.') {
      if (!digit_seen) return false;
      ++groups;
      digit_seen = false;
    } else if (c >= '0' && c <= '9') {
      digit_seen = true;
    } else {
      return false;
    }
  }
  return groups == 4 && digit_seen;
}

}  // namespace

Status BucketError(StatusCode code, std::string_view reason, std::string_view message) {
  std::string text;
  text.reserve(kReasonOpen.size() + reason.size() + kReasonClose.size() + message.size());
  text.append(kReasonOpen).append(reason).append(kReasonClose).append(message);
  return Status(code, std::move(text));
}

BucketErrorParts SplitBucketError(const Status& status) {
  std::string_view m = status.message();
  if (m.starts_with(kReasonOpen)) {
    auto close = m.find(kReasonClose, kReasonOpen.size());
    if (close != std::string_view::npos) {
      return {m.substr(kReasonOpen.size(), close - kReasonOpen.size()), m.substr(close + kReasonClose.size())};
    }
  }
  return {{}, m};
}

Status ValidateBucketName(std::string_view name) {
  auto bad = [&](std::string_view why) {
    return BucketError(StatusCode::kInvalidArgument, reason::kInvalidBucketName,
                       fmt::format("The specified bucket is not valid: '{}' {}.", name, why));
  };
  if (name.size() < 3 || name.size() > 63) return bad("must be between 3 and 63 characters long");
  for (char c : name) {
    if (!IsLowerAlnum(c) && c != '.' && c != '-')
      return bad("may contain only lower-case letters, digits, dots and hyphens");
  }
  if (!IsLowerAlnum(name.front()) || !IsLowerAlnum(name.back()))
    return bad("must begin and end with a letter or a digit");
  if (name.find("..") != std::string_view::npos) return bad("must not contain two adjacent periods");
  if (LooksLikeIpv4(name)) return bad("must not be formatted as an IP address");
  for (std::string_view p : {"xn--", "sthree-", "amzn-s3-demo-"}) {
    if (name.starts_with(p)) return bad(fmt::format("must not start with '{}'", p));
  }
  for (std::string_view s : {"-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"}) {
    if (name.ends_with(s)) return bad(fmt::format("must not end with '{}'", s));
  }
  return Status::Ok();
}

Status ValidateKey(std::string_view key) {
  auto bad = [&](std::string_view why) {
    return BucketError(StatusCode::kInvalidArgument, reason::kInvalidArgument,
                       fmt::format("Invalid object key: {}.", why));
  };
  if (key.empty()) return bad("a key must not be empty");
  if (key.size() > kMaxKeyBytes) {
    return BucketError(StatusCode::kInvalidArgument, reason::kKeyTooLongError,
                       fmt::format("Your key is too long: {} bytes, the limit is {}.", key.size(), kMaxKeyBytes));
  }
  if (key.find('\0') != std::string_view::npos) return bad("a key must not contain NUL");
  if (!IsValidUtf8(key)) return bad("a key must be UTF-8");
  if (key.front() == '/') return bad("Loam stores objects as files, so a key must not start with '/'");
  size_t start = 0;
  while (start <= key.size()) {
    size_t end = key.find('/', start);
    if (end == std::string_view::npos) end = key.size();
    std::string_view seg = key.substr(start, end - start);
    if (seg.empty()) {
      return bad("Loam stores objects as files, so a key must not end with '/' or contain '//'");
    }
    if (seg == "." || seg == "..") return bad("Loam stores objects as files, so '.' and '..' segments are refused");
    if (seg.size() > 255) return bad("Loam stores objects as files, so a '/'-separated segment is at most 255 bytes");
    start = end + 1;
  }
  return Status::Ok();
}

std::string MultipartEtag(const std::vector<std::string>& raw_part_md5s) {
  std::string joined;
  joined.reserve(raw_part_md5s.size() * 16);
  for (const auto& m : raw_part_md5s) joined += m;
  return fmt::format("\"{}-{}\"", HexEncode(Md5(joined)), raw_part_md5s.size());
}

std::vector<std::string> DigestAlgorithmsFor(const ExpectedDigests& expected, std::string_view extra) {
  std::vector<std::string> algorithms = {"MD5"};
  for (const auto& [alg, value] : expected.checksums) {
    if (IsSupportedChecksum(alg)) algorithms.push_back(alg);
  }
  if (!extra.empty() && IsSupportedChecksum(extra)) algorithms.emplace_back(extra);
  if (expected.payload_sha256) algorithms.emplace_back("SHA256");
  return algorithms;
}

StatusOr<std::map<std::string, std::string>> VerifyDigests(const ExpectedDigests& expected,
                                                           const std::map<std::string, std::string>& raw,
                                                    std::string_view keep) {
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

}  // namespace loam::objects
