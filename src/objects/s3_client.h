// A small client of the S3 REST API on libcurl, for S3BucketStore.
//
// One S3Call is one HTTP request to an S3-compatible endpoint (AWS S3, MinIO, Ceph, s3rver),
// addressed path-style (http://host/bucket/key) or virtual-hosted (http://bucket.host/key),
// signed with AWS Signature Version 4 by libcurl itself (CURLOPT_AWS_SIGV4). Bodies stream
// from a file region and responses stream to a file, so memory stays bounded whatever the
// object's size; only small XML bodies travel in memory.
//
// Send retries, with exponential backoff and jitter, what is worth retrying unchanged: 5xx
// answers, 429 and S3's throttling codes (SlowDown, ...), and connection failures; a file
// body is replayed from its start. Attempts are bounded (S3ClientOptions::max_attempts).
//
// Thread-safe: calls may run concurrently; each takes a curl handle from a small pool so
// connections are reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loam::objects {

struct S3ClientOptions {
  // scheme://host[:port][/base path], e.g. "http://127.0.0.1:9000" or "https://s3.eu-west-1.amazonaws.com".
  std::string endpoint;
  std::string region = "us-east-1";
  bool virtual_hosted = false;  // bucket.host rather than host/bucket
  // No access key: requests go unsigned (anonymous access).
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;  // temporary credentials: sent as x-amz-security-token
  int max_attempts = 4;       // per call, the first included
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::milliseconds connect_timeout{10000};
  // A transfer that moves no byte for this long is abandoned (and retried).
  std::chrono::seconds stall_timeout{60};
};

// A region of a file sent as a request body.
struct BodyFile {
  std::filesystem::path path;
  uint64_t offset = 0;
  uint64_t length = 0;
};

struct S3Call {
  std::string method = "GET";
  std::string bucket;  // "" for the service (ListBuckets)
  std::string key;     // "" for a bucket
  // Unencoded names and values; a sub-resource without value ("uploads") has value "".
  std::vector<std::pair<std::string, std::string>> query;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;                   // a small body (XML), when body_file is unset
  std::optional<BodyFile> body_file;  // streamed, not signed (UNSIGNED-PAYLOAD)
  // When set, a successful answer's body is written to this file (created or truncated);
  // an error answer's body is kept in S3Reply::body either way.
  std::filesystem::path response_file;
};

struct S3Reply {
  long status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;  // empty when written to the call's response_file

  bool ok() const { return status >= 200 && status < 300; }
  // First header with this lower-case name.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
};

// What an S3 error answer says: its XML <Error>, else the x-amz-error-code header (s3rver),
// else nothing but the status (answers to HEAD have no body).
struct S3ErrorBody {
  std::string code;
  std::string message;
};
S3ErrorBody ParseS3Error(const S3Reply& reply);

class S3Client {
 public:
  explicit S3Client(S3ClientOptions options);
  ~S3Client();
  S3Client(const S3Client&) = delete;
  S3Client& operator=(const S3Client&) = delete;

  // Sends the call (retrying as above) and returns the answer, whatever its status. Fails
  // only when no answer came: Unavailable when the endpoint could not be reached (the
  // message names it and what failed), Internal for a local failure (a file that cannot be
  // read or written).
  StatusOr<S3Reply> Send(const S3Call& call) const;

  // Send, with any answer but 2xx turned into the Status RemoteError gives it.
  StatusOr<S3Reply> Call(const S3Call& call) const;

  // The Status of the call's error answer: S3's error code is the BucketError reason, so the
  // S3 adapter answers Loam's clients with the same code (NoSuchKey, BucketNotEmpty, ...);
  // 5xx answers are Unavailable, and a refusal of Loam's own credentials is AccessDenied.
  Status RemoteError(const S3Call& call, const S3Reply& reply) const;

  // The URL a call goes to: the endpoint, the bucket and the key URI-encoded as SigV4's
  // canonical request spells them, and the query sorted and encoded the same way (so the
  // canonical request libcurl signs is the request sent).
  std::string Url(const S3Call& call) const;

  const S3ClientOptions& options() const { return options_; }

 private:
  struct Pool;
  struct Attempt;

  Attempt SendOnce(const S3Call& call, const std::string& url) const;

  S3ClientOptions options_;
  std::string scheme_;     // "http" or "https"
  std::string authority_;  // host[:port]
  std::string base_path_;  // "" or "/base", no trailing '/'
  std::unique_ptr<Pool> pool_;
};

}  // namespace loam::objects
