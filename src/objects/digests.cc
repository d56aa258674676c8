#include "objects/digests.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace loam::objects {

namespace fs = std::filesystem;

namespace {

constexpr size_t kBufferSize = 1 << 20;

// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, slicing by 8.
struct Crc32cTables {
  std::array<std::array<uint32_t, 256>, 8> t{};
  Crc32cTables() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; ++i) {
      for (int s = 1; s < 8; ++s) t[s][i] = (t[s - 1][i] >> 8) ^ t[0][t[s - 1][i] & 0xFF];
    }
  }
};

uint32_t Crc32cUpdate(uint32_t crc, const unsigned char* p, size_t n) {
  static const Crc32cTables tables;
  const auto& t = tables.t;
  crc = ~crc;
  while (n >= 8) {
    uint32_t lo = crc ^ (uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24);
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^ t[3][p[4]] ^
          t[2][p[5]] ^ t[1][p[6]] ^ t[0][p[7]];
    p += 8;
    n -= 8;
  }
  while (n--) crc = (crc >> 8) ^ t[0][(crc ^ *p++) & 0xFF];
  return ~crc;
}

std::string BigEndian32(uint32_t v) {
  std::string out(4, '\0');
  for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((v >> (24 - 8 * i)) & 0xFF);
  return out;
}

const EVP_MD* EvpFor(const std::string& name) {
  if (name == "MD5") return EVP_md5();
  if (name == "SHA1") return EVP_sha1();
  if (name == "SHA256") return EVP_sha256();
  return nullptr;
}

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status ErrnoStatus(const std::string& what, const fs::path& path) {
  return Internal(what + " " + path.string() + ": " + std::strerror(errno));
}

}  // namespace

const std::vector<std::string>& SupportedChecksums() {
  static const std::vector<std::string> kAll = {"CRC32", "CRC32C", "SHA1", "SHA256"};
  return kAll;
}

bool IsSupportedChecksum(std::string_view algorithm) {
  for (const auto& a : SupportedChecksums()) {
    if (a == algorithm) return true;
  }
  return false;
}

struct Digests::Impl {
  std::vector<std::pair<std::string, EVP_MD_CTX*>> evp;
  bool crc32 = false, crc32c = false;
  uLong crc32_value = 0;
  uint32_t crc32c_value = 0;
  ~Impl() {
    for (auto& [name, ctx] : evp) EVP_MD_CTX_free(ctx);
  }
};

Digests::Digests(const std::vector<std::string>& algorithms) : impl_(std::make_unique<Impl>()) {
  for (const auto& a : algorithms) {
    if (a == "CRC32") {
      impl_->crc32 = true;
      impl_->crc32_value = ::crc32(0L, Z_NULL, 0);
    } else if (a == "CRC32C") {
      impl_->crc32c = true;
    } else if (const EVP_MD* md = EvpFor(a)) {
      bool seen = false;
      for (auto& [name, ctx] : impl_->evp) seen = seen || name == a;
      if (seen) continue;
      EVP_MD_CTX* ctx = EVP_MD_CTX_new();
      EVP_DigestInit_ex(ctx, md, nullptr);
      impl_->evp.emplace_back(a, ctx);
    }
  }
}

Digests::~Digests() = default;

void Digests::Update(const void* data, size_t size) {
  for (auto& [name, ctx] : impl_->evp) EVP_DigestUpdate(ctx, data, size);
  const auto* p = static_cast<const unsigned char*>(data);
  if (impl_->crc32) {
    size_t left = size;
    const unsigned char* q = p;
    while (left > 0) {  // zlib takes uInt lengths
      uInt n = static_cast<uInt>(std::min<size_t>(left, 1u << 30));
      impl_->crc32_value = ::crc32(impl_->crc32_value, q, n);
      q += n;
      left -= n;
    }
  }
  if (impl_->crc32c) impl_->crc32c_value = Crc32cUpdate(impl_->crc32c_value, p, size);
}

std::map<std::string, std::string> Digests::Finish() {
  std::map<std::string, std::string> out;
  for (auto& [name, ctx] : impl_->evp) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    out[name] = std::string(reinterpret_cast<char*>(md), len);
  }
  if (impl_->crc32) out["CRC32"] = BigEndian32(static_cast<uint32_t>(impl_->crc32_value));
  if (impl_->crc32c) out["CRC32C"] = BigEndian32(impl_->crc32c_value);
  return out;
}

std::string Md5(std::string_view data) { return DigestBytes(data, {"MD5"})["MD5"]; }

std::map<std::string, std::string> DigestBytes(std::string_view data, const std::vector<std::string>& algorithms) {
  Digests d(algorithms);
  d.Update(data.data(), data.size());
  return d.Finish();
}

StatusOr<std::map<std::string, std::string>> DigestFile(const fs::path& path, const std::vector<std::string>& algorithms) {
  Fd in{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (in.fd < 0) return ErrnoStatus("cannot open", path);
  Digests d(algorithms);
  std::unique_ptr<char[]> buf(new char[kBufferSize]);
  for (;;) {
    ssize_t n = ::read(in.fd, buf.get(), kBufferSize);
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", path);
    }
    if (n == 0) break;
    d.Update(buf.get(), static_cast<size_t>(n));
  }
  return d.Finish();
}

StatusOr<std::map<std::string, std::string>> CopyAndDigest(const fs::path& source, uint64_t offset,
                                                           std::optional<uint64_t> length, const fs::path& dest,
                                                           const std::vector<std::string>& algorithms) {
  Fd in{::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (in.fd < 0) return ErrnoStatus("cannot open", source);
  Fd out{::open(dest.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (out.fd < 0) return ErrnoStatus("cannot create", dest);
  if (offset > 0 && ::lseek(in.fd, static_cast<off_t>(offset), SEEK_SET) < 0) return ErrnoStatus("cannot seek", source);
  Digests d(algorithms);
  std::unique_ptr<char[]> buf(new char[kBufferSize]);
  uint64_t left = length.value_or(UINT64_MAX);
  while (left > 0) {
    ssize_t n = ::read(in.fd, buf.get(), static_cast<size_t>(std::min<uint64_t>(left, kBufferSize)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", source);
    }
    if (n == 0) break;
    d.Update(buf.get(), static_cast<size_t>(n));
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out.fd, buf.get() + done, static_cast<size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return ErrnoStatus("cannot write", dest);
      }
      done += w;
    }
    left -= static_cast<uint64_t>(n);
  }
  if (length && left > 0) return Internal("source " + source.string() + " is shorter than the range copied");
  return d.Finish();
}

Status AppendFile(int fd, const fs::path& source) {
  Fd in{::open(source.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW)};
  if (in.fd < 0) return ErrnoStatus("cannot open", source);
  struct stat st{};
  if (::fstat(in.fd, &st) != 0) return ErrnoStatus("cannot stat", source);
  uint64_t left = static_cast<uint64_t>(st.st_size);
  bool kernel_copy = true;
  std::unique_ptr<char[]> buf;
  while (left > 0) {
    if (kernel_copy) {
      ssize_t n = ::copy_file_range(in.fd, nullptr, fd, nullptr, static_cast<size_t>(std::min<uint64_t>(left, 1u << 30)), 0);
      if (n > 0) {
        left -= static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return Internal("source " + source.string() + " shrank while copying");
      kernel_copy = false;  // EXDEV, ENOSYS, EINVAL...: fall back to read/write
      buf.reset(new char[kBufferSize]);
    }
    ssize_t n = ::read(in.fd, buf.get(), static_cast<size_t>(std::min<uint64_t>(left, kBufferSize)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot read", source);
    }
    if (n == 0) return Internal("source " + source.string() + " shrank while copying");
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(fd, buf.get() + done, static_cast<size_t>(n - done));
      if (w < 0) {
        if (errno == EINTR) continue;
        return Internal(std::string("cannot write: ") + std::strerror(errno));
      }
      done += w;
    }
    left -= static_cast<uint64_t>(n);
  }
  return Status::Ok();
}

std::string HexEncode(std::string_view raw) {
  static const char* kHex = "0123456789abcdef";
  std::string out;
  out.reserve(raw.size() * 2);
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Sha256Hex(std::string_view data) { return HexEncode(DigestBytes(data, {"SHA256"})["SHA256"]); }

std::string QuotedEtag(const std::string& raw_md5) { return "\"" + HexEncode(raw_md5) + "\""; }

std::string UnquoteEtag(std::string_view etag) {
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

}  // namespace loam::objects
