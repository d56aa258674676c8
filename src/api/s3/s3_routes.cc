#include "api/s3/s3_routes.h"

#include <fmt/format.h>

#include <array>

#include "api/s3/s3_common.h"
#include "api/s3/s3_errors.h"
#include "common/account.h"
#include "common/strings.h"

namespace loam::api::s3 {

namespace {

constexpr size_t kMaxSmallBody = 1024 * 1024;
constexpr size_t kMaxPostBody = 16 * 1024 * 1024;
// 5 GiB, S3's limit for one PUT, plus room for aws-chunked framing.
constexpr size_t kMaxPutBody = size_t{5} * 1024 * 1024 * 1024 + 64 * 1024 * 1024;

// Sub-resources of S3 operations Loam does not implement yet: answered NotImplemented
// rather than mistaken for the plain operation on the same path.
constexpr std::array<std::string_view, 30> kUnsupportedSubresources = {
    "acl",        "policy",           "cors",         "lifecycle",        "tagging",          "website",
    "logging",    "notification",     "replication",  "accelerate",       "requestPayment",   "encryption",
    "object-lock", "ownershipControls", "publicAccessBlock", "analytics",  "inventory",        "metrics",
    "intelligent-tiering", "versions", "policyStatus", "legal-hold",      "retention",        "torrent",
    "restore",    "select",           "attributes",   "session",          "metadataTable",    "renameObject"};

Status NotAllowed(std::string_view method) {
  return S3Error(StatusCode::kInvalidArgument, kMethodNotAllowed,
                 fmt::format("The specified method is not allowed against this resource: {}", method));
}

// Every bucket is the account's: a request that expects another owner for its bucket (or, for a
// copy, its source's) is refused as S3 refuses it, with no hint whether the bucket exists.
bool ExpectsAnotherOwner(const S3Request& r) {
  for (std::string_view name : {"x-amz-expected-bucket-owner", "x-amz-source-expected-bucket-owner"}) {
    if (auto owner = r.Header(name); owner && Trim(*owner) != kAccountId) return true;
  }
  return false;
}

http::Response ServiceOperation(S3Request& r) {
  const std::string& m = r.http.method;
  if (auto target = r.Header("x-amz-target")) {
    return Error(r, S3Error(StatusCode::kUnimplemented, kNotImplemented,
                            fmt::format("No service of Loam handles X-Amz-Target '{}'.", *target)));
  }
  if (m == "GET" || m == "HEAD") return ListBuckets(r);
  return Error(r, NotAllowed(m));
}

http::Response BucketOperation(S3Request& r) {
  const std::string& m = r.http.method;
  if (m == "GET") {
    if (r.HasQuery("uploads")) return ListMultipartUploads(r);
    if (r.HasQuery("location")) return GetBucketLocation(r);
    if (r.HasQuery("versioning")) return GetBucketVersioning(r);
    if (r.HasQuery("list-type")) {
      if (r.Query("list-type") != "2") {
        return Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                                "Invalid list type specified in Request"));
      }
      return ListObjects(r, /*v2=*/true);
    }
    return ListObjects(r, /*v2=*/false);
  }
  if (m == "HEAD") return HeadBucket(r);
  if (m == "PUT") {
    if (r.HasQuery("versioning")) {
      return Error(r, S3Error(StatusCode::kUnimplemented, kNotImplemented, "Loam does not keep object versions."));
    }
    return CreateBucket(r);
  }
  if (m == "DELETE") return DeleteBucket(r);
  if (m == "POST" && r.HasQuery("delete")) return DeleteObjects(r);
  return Error(r, NotAllowed(m));
}

http::Response ObjectOperation(S3Request& r) {
  const std::string& m = r.http.method;
  bool upload = r.HasQuery("uploadId");
  if (m == "PUT") {
    if (upload || r.HasQuery("partNumber")) return UploadPart(r);
    if (r.Header("x-amz-copy-source")) return CopyObject(r);
    return PutObject(r);
  }
  if (m == "GET" && upload) return ListParts(r);
  if (m == "GET" || m == "HEAD") return GetObject(r);
  if (m == "DELETE") return upload ? AbortMultipartUpload(r) : DeleteObject(r);
  if (m == "POST") {
    if (r.HasQuery("uploads")) return CreateMultipartUpload(r);
    if (upload) return CompleteMultipartUpload(r);
  }
  return Error(r, NotAllowed(m));
}

}  // namespace

http::Response HandleS3Request(objects::BucketStore& store, http::Request& request) {
  S3Request r{request, store};
  r.head = request.method == "HEAD";
  std::string_view tail = request.raw_path;
  if (tail.starts_with('/')) tail.remove_prefix(1);
  auto slash = tail.find('/');
  auto bucket = PercentDecode(tail.substr(0, slash), false);
  auto key = slash == std::string_view::npos ? std::optional<std::string>("")
                                             : PercentDecode(tail.substr(slash + 1), false);
  http::Response res;
  if (!bucket || !key) {
    r.resource = request.raw_path;
    res = Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                           "Couldn't parse the specified URI: bad percent-encoding."));
  } else {
    r.bucket = std::move(*bucket);
    r.key = std::move(*key);
    r.resource = "/" + r.bucket + (r.key.empty() ? "" : "/" + r.key);
    std::string_view unsupported;
    for (std::string_view sub : kUnsupportedSubresources) {
      if (r.HasQuery(sub)) unsupported = sub;
    }
    if (!unsupported.empty() && !r.bucket.empty()) {
      res = Error(r, S3Error(StatusCode::kUnimplemented, kNotImplemented,
                             fmt::format("Loam's S3 API does not implement the '?{}' sub-resource yet.", unsupported)));
    } else if (r.bucket.empty()) {
      res = ServiceOperation(r);
    } else if (ExpectsAnotherOwner(r)) {
      res = Error(r, S3Error(StatusCode::kInvalidArgument, "AccessDenied", "Access Denied"));
    } else if (r.key.empty()) {
      res = BucketOperation(r);
    } else {
      res = ObjectOperation(r);
    }
  }
  bool has_ids = false;
  for (const auto& [k, v] : res.headers) has_ids = has_ids || k == "x-amz-request-id";
  if (!has_ids) AddRequestIds(res);
  return res;
}

void AddRoutes(http::Router& router, std::shared_ptr<objects::BucketStore> store) {
  auto handler = [store](http::Request& req) { return HandleS3Request(*store, req); };
  auto errors = [](const Status& s) { return S3ErrorResponse(s, "", false); };
  router.Add({.name = "s3.read",
              .methods = {"GET", "HEAD", "DELETE"},
              .path = "/",
              .prefix = true,
              .max_body_bytes = kMaxSmallBody,
              .handler = handler,
              .errors = errors});
  router.Add({.name = "s3.post",
              .methods = {"POST"},
              .path = "/",
              .prefix = true,
              .max_body_bytes = kMaxPostBody,
              .handler = handler,
              .errors = errors});
  router.Add({.name = "s3.put",
              .methods = {"PUT"},
              .path = "/",
              .prefix = true,
              .body_mode = http::BodyMode::kStreamed,
              .max_body_bytes = kMaxPutBody,
              .handler = handler,
              .errors = errors});
  // PUT /<reserved name> is CreateBucket refused with InvalidBucketName, even where Loam's own
  // exact route for that path (e.g. GET /health) would otherwise answer 405.
  for (std::string_view reserved : kReservedBucketNames) {
    router.Add({.name = "s3.put",
                .methods = {"PUT"},
                .path = "/" + std::string(reserved),
                .body_mode = http::BodyMode::kStreamed,
                .max_body_bytes = kMaxSmallBody,
                .handler = handler,
                .errors = errors});
  }
  router.Add({.name = "s3.other",
              .methods = {"PATCH", "OPTIONS", "TRACE", "CONNECT", "PROPFIND"},
              .path = "/",
              .prefix = true,
              .max_body_bytes = kMaxSmallBody,
              .handler =
                  [](http::Request& req) {
                    http::Response res = S3ErrorResponse(NotAllowed(req.method), req.path, req.method == "HEAD");
                    return res;
                  },
              .errors = errors});
}

}  // namespace loam::api::s3
