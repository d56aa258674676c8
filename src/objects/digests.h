// Content digests of objects: MD5 (S3's ETag) and the flexible checksums S3 accepts
// (CRC32, CRC32C, SHA1, SHA256), computed in one pass over a file or while copying one.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loam::objects {

// Checksum algorithm names as S3 spells them in ChecksumAlgorithm ("CRC32", "CRC32C", "SHA1",
// "SHA256"). "MD5" is always available too (it is the ETag, not a flexible checksum).
bool IsSupportedChecksum(std::string_view algorithm);
const std::vector<std::string>& SupportedChecksums();

// Incremental digests over the same bytes. Results are raw (binary) digests.
class Digests {
 public:
  explicit Digests(const std::vector<std::string>& algorithms);  // unknown names are ignored
  ~Digests();
  Digests(const Digests&) = delete;
  Digests& operator=(const Digests&) = delete;

  void Update(const void* data, size_t size);
  // Raw digests by algorithm name; call once.
  std::map<std::string, std::string> Finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Raw digests of bytes or of a whole file.
std::string Md5(std::string_view data);
std::map<std::string, std::string> DigestBytes(std::string_view data, const std::vector<std::string>& algorithms);
StatusOr<std::map<std::string, std::string>> DigestFile(const std::filesystem::path& path,
                                                        const std::vector<std::string>& algorithms);

// Copies `length` bytes from `offset` of `source` (to its end when length is nullopt) into a
// new file `dest`, computing the digests on the way.
StatusOr<std::map<std::string, std::string>> CopyAndDigest(const std::filesystem::path& source, uint64_t offset,
                                                           std::optional<uint64_t> length,
                                                           const std::filesystem::path& dest,
                                                           const std::vector<std::string>& algorithms);

// Appends the whole of `source` to the open file descriptor `fd` (in-kernel where possible).
Status AppendFile(int fd, const std::filesystem::path& source);

std::string HexEncode(std::string_view raw);
std::optional<std::string> HexDecode(std::string_view hex);
// An ETag as S3 writes it ("\"<hex md5>\""), and one with its quotes (and spaces) removed.
std::string QuotedEtag(const std::string& raw_md5);
std::string UnquoteEtag(std::string_view etag);
// Lower-case hex SHA-256 of a string (names the metadata file of a key).
std::string Sha256Hex(std::string_view data);

}  // namespace loam::objects
