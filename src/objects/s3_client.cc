#include "objects/s3_client.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <random>
#include <thread>

#include "common/log.h"
#include "common/strings.h"
#include "objects/bucket_store.h"
#include "objects/digests.h"
#include "objects/xml.h"

namespace loam::objects {

namespace {

// Bodies kept in memory: XML answers (a 1000-key listing of long keys stays far below) and
// error documents.
constexpr size_t kMaxMemoryBodyBytes = 32 * 1024 * 1024;
constexpr size_t kMaxIdleHandles = 16;
constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Fd {
  int fd = -1;
  Fd() = default;
  explicit Fd(int f) : fd(f) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

struct HeaderList {
  curl_slist* list = nullptr;
  HeaderList() = default;
  HeaderList(const HeaderList&) = delete;
  HeaderList& operator=(const HeaderList&) = delete;
  ~HeaderList() { curl_slist_free_all(list); }
  bool Add(const std::string& line) {
    curl_slist* next = curl_slist_append(list, line.c_str());
    if (next == nullptr) return false;
    list = next;
    return true;
  }
};

// Where a request body comes from: memory or a region of a file, rewound for each attempt.
// The callbacks below run inside libcurl: they never throw, and report failures by value.
struct BodySource {
  const std::string* memory = nullptr;
  int fd = -1;
  uint64_t offset = 0;  // of the region, in the file
  uint64_t length = 0;
  uint64_t sent = 0;
  int read_errno = 0;
};

size_t ReadBody(char* buffer, size_t size, size_t nitems, void* userdata) noexcept {
  auto* body = static_cast<BodySource*>(userdata);
  size_t want = static_cast<size_t>(std::min<uint64_t>(uint64_t{size} * nitems, body->length - body->sent));
  if (want == 0) return 0;
  if (body->memory != nullptr) {
    std::memcpy(buffer, body->memory->data() + body->sent, want);
    body->sent += want;
    return want;
  }
  for (;;) {
    ssize_t n = ::pread(body->fd, buffer, want, static_cast<off_t>(body->offset + body->sent));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {  // an error, or the file shrank under us
      body->read_errno = n < 0 ? errno : EIO;
      return CURL_READFUNC_ABORT;
    }
    body->sent += static_cast<uint64_t>(n);
    return static_cast<size_t>(n);
  }
}

int SeekBody(void* userdata, curl_off_t offset, int origin) noexcept {
  auto* body = static_cast<BodySource*>(userdata);
  if (origin != SEEK_SET || offset < 0 || static_cast<uint64_t>(offset) > body->length) return CURL_SEEKFUNC_CANTSEEK;
  body->sent = static_cast<uint64_t>(offset);
  return CURL_SEEKFUNC_OK;
}

// What one attempt received.
struct Received {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  int file_fd = -1;  // the call's response file: where a 2xx body goes
  int write_errno = 0;
  bool body_too_large = false;

  bool ToFile() const { return file_fd >= 0 && status >= 200 && status < 300; }
};

size_t OnHeader(char* data, size_t size, size_t nitems, void* userdata) noexcept {
  auto* rx = static_cast<Received*>(userdata);
  size_t n = size * nitems;
  try {
    std::string_view line = Trim(std::string_view(data, n));
    if (line.starts_with("HTTP/")) {  // a new response: after "100 Continue", or the first
      rx->headers.clear();
      auto space = line.find(' ');
      rx->status = space == std::string_view::npos ? 0 : ParseInt64(line.substr(space + 1, 3)).value_or(0);
    } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
      rx->headers.emplace_back(ToLower(Trim(line.substr(0, colon))), std::string(Trim(line.substr(colon + 1))));
    }
  } catch (...) {
    return 0;  // out of memory: curl ends the transfer with CURLE_WRITE_ERROR
  }
  return n;
}

size_t OnBody(char* data, size_t size, size_t nmemb, void* userdata) noexcept {
  auto* rx = static_cast<Received*>(userdata);
  size_t n = size * nmemb;
  if (rx->ToFile()) {
    for (size_t done = 0; done < n;) {
      ssize_t w = ::write(rx->file_fd, data + done, n - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        rx->write_errno = errno;
        return 0;
      }
      done += static_cast<size_t>(w);
    }
    return n;
  }
  if (rx->body.size() + n > kMaxMemoryBodyBytes) {
    rx->body_too_large = true;
    return 0;
  }
  try {
    rx->body.append(data, n);
  } catch (...) {
    return 0;
  }
  return n;
}

bool RetryableTransport(CURLcode code) {
  switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
      return true;
    default:
      return false;
  }
}

// Answers worth sending the same request again for: the server's trouble, not the request's.
bool RetryableAnswer(const S3Reply& reply, std::string_view code) {
  if (reply.status == 500 || reply.status == 502 || reply.status == 503 || reply.status == 504) return true;
  if (reply.status == 429) return true;
  for (std::string_view c : {"SlowDown", "Throttling", "ThrottlingException", "RequestTimeout",
                             "RequestLimitExceeded", "InternalError", "ServiceUnavailable"}) {
    if (code == c) return true;
  }
  return false;
}

std::chrono::milliseconds Backoff(const S3ClientOptions& options, int attempt) {
  // Exponential, capped, with "equal jitter": half the step fixed, half random, so callers
  // that failed together do not retry together.
  int64_t step = options.first_backoff.count() << std::min(attempt - 1, 20);
  step = std::min<int64_t>(step, options.max_backoff.count());
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int64_t> jitter(0, std::max<int64_t>(step / 2, 0));
  return std::chrono::milliseconds(step - step / 2 + jitter(rng));
}

// S3's error codes and what they mean to Loam's callers; the code itself stays the reason.
struct KnownCode {
  std::string_view code;
  StatusCode status;
};
constexpr KnownCode kKnownCodes[] = {
    {reason::kNoSuchBucket, StatusCode::kNotFound},
    {reason::kNoSuchKey, StatusCode::kNotFound},
    {reason::kNoSuchUpload, StatusCode::kNotFound},
    {reason::kBucketAlreadyOwnedByYou, StatusCode::kAlreadyExists},
    {"BucketAlreadyExists", StatusCode::kAlreadyExists},
    {reason::kBucketNotEmpty, StatusCode::kFailedPrecondition},
    {"PreconditionFailed", StatusCode::kFailedPrecondition},
    {"AccessDenied", StatusCode::kFailedPrecondition},
    {"NotImplemented", StatusCode::kUnimplemented},
    {"EntityTooLarge", StatusCode::kResourceExhausted},
};

// Codes that say the store refused Loam's own credentials: a configuration problem that
// Loam's clients see as AccessDenied, never as a fault of their own signature.
constexpr std::string_view kCredentialCodes[] = {"InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken",
                                                 "InvalidToken", "TokenRefreshRequired"};

StatusCode StatusForHttp(long status) {
  switch (status) {
    case 404: return StatusCode::kNotFound;
    case 403:
    case 409:
    case 412: return StatusCode::kFailedPrecondition;
    case 501: return StatusCode::kUnimplemented;
    default: return status >= 500 ? StatusCode::kUnavailable : StatusCode::kInvalidArgument;
  }
}

// "[::1]:9000" / "host:9000" / "host" after the scheme; the rest is a base path.
bool SplitEndpoint(std::string_view endpoint, std::string& scheme, std::string& authority, std::string& base) {
  auto sep = endpoint.find("://");
  if (sep == std::string_view::npos) return false;
  scheme = ToLower(endpoint.substr(0, sep));
  if (scheme != "http" && scheme != "https") return false;
  std::string_view rest = endpoint.substr(sep + 3);
  auto slash = rest.find('/');
  authority = std::string(rest.substr(0, slash));
  base = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
  while (base.ends_with('/')) base.pop_back();
  return !authority.empty() && authority.find_first_of("?#@ ") == std::string::npos;
}

// <Code> or <Message> of an error document the strict parser refuses (s3rver writes HTML
// entities such as &uuml; into its messages).
std::string ElementText(std::string_view document, std::string_view name) {
  std::string open = "<" + std::string(name) + ">", close = "</" + std::string(name) + ">";
  auto start = document.find(open);
  if (start == std::string_view::npos) return "";
  start += open.size();
  auto end = document.find(close, start);
  return end == std::string_view::npos ? "" : std::string(document.substr(start, end - start));
}

}  // namespace

std::optional<std::string_view> S3Reply::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return value;
  }
  return std::nullopt;
}

S3ErrorBody ParseS3Error(const S3Reply& reply) {
  S3ErrorBody error;
  if (!reply.body.empty()) {
    auto doc = ParseXml(reply.body);
    if (doc.ok() && doc->name == "Error") {
      if (const auto* code = doc->Child("Code")) error.code = code->text;
      if (const auto* message = doc->Child("Message")) error.message = message->text;
    } else if (!doc.ok() && reply.body.find("<Error>") != std::string::npos) {
      error.code = ElementText(reply.body, "Code");
      error.message = ElementText(reply.body, "Message");
    }
  }
  if (error.code.empty()) error.code = std::string(reply.Header("x-amz-error-code").value_or(""));
  if (error.message.empty()) error.message = std::string(reply.Header("x-amz-error-message").value_or(""));
  return error;
}

struct S3Client::Pool {
  std::mutex mu;
  std::vector<CURL*> idle;  // guarded by mu

  ~Pool() {
    for (CURL* handle : idle) curl_easy_cleanup(handle);
  }
  CURL* Take() {
    {
      std::lock_guard lock(mu);
      if (!idle.empty()) {
        CURL* handle = idle.back();
        idle.pop_back();
        return handle;
      }
    }
    return curl_easy_init();
  }
  void Give(CURL* handle) {
    {
      std::lock_guard lock(mu);
      if (idle.size() < kMaxIdleHandles) {
        idle.push_back(handle);
        return;
      }
    }
    curl_easy_cleanup(handle);
  }
};

struct S3Client::Attempt {
  CURLcode transport = CURLE_OK;
  std::string transport_error;
  Status local;  // a failure on this machine (a file): not worth retrying
  S3Reply reply;
};

S3Client::S3Client(S3ClientOptions options) : options_(std::move(options)), pool_(std::make_unique<Pool>()) {
  InitCurlOnce();
  if (!SplitEndpoint(options_.endpoint, scheme_, authority_, base_path_)) {
    scheme_.clear();  // Send reports the endpoint as unusable
  }
}

S3Client::~S3Client() = default;

std::string S3Client::Url(const S3Call& call) const {
  std::string url = scheme_ + "://";
  std::string path = base_path_;
  if (!call.bucket.empty() && options_.virtual_hosted) {
    url += call.bucket + "." + authority_;
  } else {
    url += authority_;
    if (!call.bucket.empty()) path += "/" + PercentEncode(call.bucket, /*keep_slash=*/false);
  }
  if (!call.key.empty()) path += "/" + PercentEncode(call.key, /*keep_slash=*/true);
  url += path.empty() ? "/" : path;
  std::vector<std::string> params;
  for (const auto& [name, value] : call.query) {
    params.push_back(PercentEncode(name, false) + "=" + PercentEncode(value, false));
  }
  std::sort(params.begin(), params.end());
  for (size_t i = 0; i < params.size(); ++i) url += (i == 0 ? "?" : "&") + params[i];
  return url;
}

S3Client::Attempt S3Client::SendOnce(const S3Call& call, const std::string& url) const {
  Attempt attempt;
  BodySource body;
  Fd body_file;
  if (call.body_file) {
    body_file.fd = ::open(call.body_file->path.c_str(), O_RDONLY | O_CLOEXEC);
    if (body_file.fd < 0) {
      attempt.local = Internal(fmt::format("cannot open {}: {}", call.body_file->path.string(), std::strerror(errno)));
      return attempt;
    }
    body.fd = body_file.fd;
    body.offset = call.body_file->offset;
    body.length = call.body_file->length;
  } else {
    body.memory = &call.body;
    body.length = call.body.size();
  }
  Received rx;
  Fd response_file;
  if (!call.response_file.empty()) {
    response_file.fd = ::open(call.response_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (response_file.fd < 0) {
      attempt.local = Internal(fmt::format("cannot create {}: {}", call.response_file.string(), std::strerror(errno)));
      return attempt;
    }
    rx.file_fd = response_file.fd;
  }

  HeaderList headers;
  bool listed = true;
  for (const auto& [name, value] : call.headers) listed = listed && headers.Add(name + ": " + value);
  std::string payload_hash = call.body_file ? std::string(kUnsignedPayload) : Sha256Hex(call.body);
  listed = listed && headers.Add("x-amz-content-sha256: " + payload_hash);
  if (!options_.session_token.empty()) listed = listed && headers.Add("x-amz-security-token: " + options_.session_token);
  // No "Expect:" to turn off libcurl's 100-continue: libcurl would sign that header without
  // sending it, and the store would compute another signature.
  CURL* handle = pool_->Take();
  if (!listed || handle == nullptr) {
    if (handle != nullptr) pool_->Give(handle);
    attempt.local = Internal("out of memory preparing a request to the external object store");
    return attempt;
  }
  curl_easy_reset(handle);
  char error_buffer[CURL_ERROR_SIZE] = {};
  std::string sigv4 = "aws:amz:" + options_.region + ":s3";
  curl_easy_setopt(handle, CURLOPT_URL, url.c_str());
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, headers.list);
  curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(handle, CURLOPT_PATH_AS_IS, 1L);  // keys may hold "." and ".." segments
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, error_buffer);
  curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(handle, CURLOPT_LOW_SPEED_TIME, static_cast<long>(options_.stall_timeout.count()));
  curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(handle, CURLOPT_HEADERDATA, &rx);
  curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(handle, CURLOPT_WRITEDATA, &rx);
  if (!options_.access_key_id.empty()) {
    curl_easy_setopt(handle, CURLOPT_USERNAME, options_.access_key_id.c_str());
    curl_easy_setopt(handle, CURLOPT_PASSWORD, options_.secret_access_key.c_str());
    curl_easy_setopt(handle, CURLOPT_AWS_SIGV4, sigv4.c_str());
  }
  if (call.method == "HEAD") {
    curl_easy_setopt(handle, CURLOPT_NOBODY, 1L);
  } else if (call.method == "GET") {
    curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
  } else if (call.method == "DELETE" && body.length == 0) {
    curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, "DELETE");
  } else {
    curl_easy_setopt(handle, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(handle, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(body.length));
    curl_easy_setopt(handle, CURLOPT_READFUNCTION, ReadBody);
    curl_easy_setopt(handle, CURLOPT_READDATA, &body);
    curl_easy_setopt(handle, CURLOPT_SEEKFUNCTION, SeekBody);
    curl_easy_setopt(handle, CURLOPT_SEEKDATA, &body);
    if (call.method != "PUT") curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, call.method.c_str());
  }
  CURLcode code = curl_easy_perform(handle);
  // The handle must not keep pointers into this frame once it is back in the pool.
  curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, nullptr);
  curl_easy_setopt(handle, CURLOPT_HTTPHEADER, nullptr);
  pool_->Give(handle);

  if (body.read_errno != 0) {
    attempt.local = Internal(fmt::format("cannot read {}: {}", call.body_file->path.string(), std::strerror(body.read_errno)));
  } else if (rx.write_errno != 0) {
    attempt.local = Internal(fmt::format("cannot write {}: {}", call.response_file.string(), std::strerror(rx.write_errno)));
  } else if (rx.body_too_large) {
    attempt.local = Internal(fmt::format("the external object store's answer to {} {} is larger than {} bytes",
                                         call.method, url, kMaxMemoryBodyBytes));
  } else if (code != CURLE_OK) {
    attempt.transport = code;
    attempt.transport_error = error_buffer[0] != '\0' ? error_buffer : curl_easy_strerror(code);
  } else {
    attempt.reply.status = rx.status;
    attempt.reply.headers = std::move(rx.headers);
    attempt.reply.body = std::move(rx.body);
  }
  return attempt;
}

StatusOr<S3Reply> S3Client::Send(const S3Call& call) const {
  if (scheme_.empty()) {
    return Unavailable(fmt::format("the external object store endpoint '{}' is not an http:// or https:// URL",
                                   options_.endpoint));
  }
  std::string url = Url(call);
  for (int attempt = 1;; ++attempt) {
    Attempt result = SendOnce(call, url);
    if (!result.local.ok()) return result.local;
    std::string failure;
    bool retryable = true;
    if (result.transport != CURLE_OK) {
      failure = result.transport_error;
      retryable = RetryableTransport(result.transport);
    } else {
      if (result.reply.ok()) return std::move(result.reply);
      S3ErrorBody error = ParseS3Error(result.reply);
      if (!RetryableAnswer(result.reply, error.code) || attempt >= options_.max_attempts) return std::move(result.reply);
      failure = fmt::format("HTTP {} {}", result.reply.status, error.code);
    }
    if (!retryable || attempt >= options_.max_attempts) {
      return Unavailable(fmt::format("the external object store at {} could not be reached: {} {} failed after {} "
                                     "attempt{}: {}",
                                     options_.endpoint, call.method, url, attempt, attempt == 1 ? "" : "s", failure));
    }
    auto pause = Backoff(options_, attempt);
    log::Warn("s3_client.retry", {{"method", call.method},
                                  {"url", url},
                                  {"attempt", attempt},
                                  {"error", failure},
                                  {"backoff_ms", pause.count()}});
    std::this_thread::sleep_for(pause);
  }
}

StatusOr<S3Reply> S3Client::Call(const S3Call& call) const {
  ASSIGN_OR_RETURN(S3Reply reply, Send(call));
  if (!reply.ok()) return RemoteError(call, reply);
  return reply;
}

Status S3Client::RemoteError(const S3Call& call, const S3Reply& reply) const {
  std::string what = fmt::format("{} {}", call.method, Url(call));
  S3ErrorBody error = ParseS3Error(reply);
  std::string message = error.message.empty() ? fmt::format("{} answered HTTP {}", what, reply.status) : error.message;
  for (std::string_view code : kCredentialCodes) {
    if (error.code == code) {
      return BucketError(StatusCode::kFailedPrecondition, "AccessDenied",
                         fmt::format("the external object store at {} refused Loam's credentials ({}: {})",
                                     options_.endpoint, error.code, message));
    }
  }
  if (reply.status >= 500 && reply.status != 501) {
    return BucketError(StatusCode::kUnavailable, error.code.empty() ? "ServiceUnavailable" : error.code,
                       fmt::format("the external object store at {} failed: {} ({})", options_.endpoint, message,
                                   what));
  }
  StatusCode status = StatusForHttp(reply.status);
  for (const auto& known : kKnownCodes) {
    if (error.code == known.code) status = known.status;
  }
  if (error.code.empty()) return Status(status, message);
  return BucketError(status, error.code, message);
}

}  // namespace loam::objects
