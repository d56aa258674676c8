#include "api/s3/aws_chunked.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "api/s3/s3_errors.h"
#include "common/strings.h"

namespace loam::api::s3 {

namespace {

constexpr size_t kBufferSize = 1 << 20;
constexpr size_t kMaxLine = 8 * 1024;
constexpr int kMaxTrailers = 16;

struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

Status Malformed(std::string_view why) {
  return S3Error(StatusCode::kInvalidArgument, kIncompleteBody, fmt::format("Malformed aws-chunked body: {}.", why));
}

class Reader {
 public:
  explicit Reader(int fd) : fd_(fd), buf_(new char[kBufferSize]) {}

  // Refills the buffer; false at end of file. Errors are reported through `error`.
  bool Fill() {
    if (begin_ < end_) return true;
    for (;;) {
      ssize_t n = ::read(fd_, buf_.get(), kBufferSize);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) error = Internal(std::string("cannot read upload: ") + std::strerror(errno));
      if (n <= 0) return false;
      begin_ = 0;
      end_ = static_cast<size_t>(n);
      return true;
    }
  }

  // A line ending in CRLF, without it. nullopt at a clean end of file before any byte.
  StatusOr<std::optional<std::string>> Line() {
    std::string line;
    for (;;) {
      if (!Fill()) {
        RETURN_IF_ERROR(error);
        if (line.empty()) return std::optional<std::string>();
        return Malformed("a line is not terminated by CRLF");
      }
      char c = buf_[begin_++];
      if (c == '\n') {
        if (line.empty() || line.back() != '\r') return Malformed("a line ends in a bare LF");
        line.pop_back();
        return std::optional<std::string>(std::move(line));
      }
      line += c;
      if (line.size() > kMaxLine) return Malformed("a line is too long");
    }
  }

  // Copies exactly n bytes to `out`.
  Status Copy(uint64_t n, int out) {
    while (n > 0) {
      if (!Fill()) {
        RETURN_IF_ERROR(error);
        return Malformed("a chunk is shorter than its declared size");
      }
      size_t take = static_cast<size_t>(std::min<uint64_t>(n, end_ - begin_));
      for (size_t done = 0; done < take;) {
        ssize_t w = ::write(out, buf_.get() + begin_ + done, take - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return Internal(std::string("cannot write decoded upload: ") + std::strerror(errno));
        done += static_cast<size_t>(w);
      }
      begin_ += take;
      n -= take;
    }
    return Status::Ok();
  }

  Status error;

 private:
  int fd_;
  std::unique_ptr<char[]> buf_;
  size_t begin_ = 0, end_ = 0;
};

std::optional<uint64_t> ParseHexSize(std::string_view s) {
  if (s.empty() || s.size() > 15) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d;
    if (c >= '0' && c <= '9') {
      d = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      d = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      d = c - 'A' + 10;
    } else {
      return std::nullopt;
    }
    v = v * 16 + static_cast<uint64_t>(d);
  }
  return v;
}

}  // namespace

StatusOr<AwsChunkedBody> DecodeAwsChunked(const std::filesystem::path& in, const std::filesystem::path& out) {
  Fd src{::open(in.c_str(), O_RDONLY | O_CLOEXEC)};
  if (src.fd < 0) return Internal(std::string("cannot open upload: ") + std::strerror(errno));
  Fd dst{::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (dst.fd < 0) return Internal(std::string("cannot create decoded upload: ") + std::strerror(errno));
  Reader reader(src.fd);
  AwsChunkedBody body;
  for (;;) {
    ASSIGN_OR_RETURN(auto header, reader.Line());
    if (!header) return Malformed("the final zero-size chunk is missing");
    std::string_view h = *header;
    std::string_view size_text = h.substr(0, h.find(';'));
    auto size = ParseHexSize(Trim(size_text));
    if (!size) return Malformed("a chunk size is not hexadecimal");
    if (*size == 0) break;
    RETURN_IF_ERROR(reader.Copy(*size, dst.fd));
    body.decoded_size += *size;
    ASSIGN_OR_RETURN(auto end, reader.Line());
    if (!end || !end->empty()) return Malformed("a chunk is longer than its declared size");
  }
  // Trailers, up to an empty line (or the end of the body).
  for (int i = 0;; ++i) {
    ASSIGN_OR_RETURN(auto line, reader.Line());
    if (!line || line->empty()) break;
    if (i >= kMaxTrailers) return Malformed("too many trailers");
    auto colon = line->find(':');
    if (colon == std::string::npos) return Malformed("a trailer has no ':'");
    body.trailers.emplace_back(ToLower(Trim(std::string_view(*line).substr(0, colon))),
                               std::string(Trim(std::string_view(*line).substr(colon + 1))));
  }
  if (reader.Fill()) return Malformed("bytes follow the final chunk");
  RETURN_IF_ERROR(reader.error);
  if (::close(dst.fd) != 0) {
    dst.fd = -1;
    return Internal(std::string("cannot write decoded upload: ") + std::strerror(errno));
  }
  dst.fd = -1;
  return body;
}

}  // namespace loam::api::s3
