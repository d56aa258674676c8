// Bucket operations and listing: ListBuckets, CreateBucket, HeadBucket, DeleteBucket,
// GetBucketLocation, GetBucketVersioning, ListObjects (v1) and ListObjectsV2.
#include <fmt/format.h>

#include <algorithm>

#include "api/s3/s3_common.h"
#include "api/s3/s3_errors.h"
#include "common/strings.h"
#include "objects/xml.h"

namespace loam::api::s3 {

using objects::ParseXml;
using objects::XmlWriter;

namespace {

constexpr size_t kMaxConfigurationBytes = 64 * 1024;

std::string Region(const objects::BucketInfo& b) { return b.region.empty() ? "us-east-1" : b.region; }

void WriteOwner(XmlWriter& xml, std::string_view element = "Owner") {
  xml.Open(element).Element("ID", OwnerId()).Element("DisplayName", kOwnerDisplayName).Close();
}

}  // namespace

http::Response ListBuckets(S3Request& r) {
  auto buckets = r.store.ListBuckets();
  if (!buckets.ok()) return Error(r, buckets.status());
  auto max = IntQuery(r, "max-buckets", 10000, 1, 10000);
  if (!max.ok()) return Error(r, max.status());
  std::string prefix = r.Query("prefix");
  std::string after;
  if (r.HasQuery("continuation-token")) {
    auto decoded = DecodeToken(r.Query("continuation-token"));
    if (!decoded) {
      return Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                              "The continuation token provided is incorrect"));
    }
    after = *decoded;
  }
  XmlWriter xml("ListAllMyBucketsResult");
  xml.Open("Buckets");
  int64_t count = 0;
  std::string next;
  for (const auto& b : *buckets) {
    if (!b.name.starts_with(prefix) || b.name <= after) continue;
    if (std::find(kReservedBucketNames.begin(), kReservedBucketNames.end(), b.name) != kReservedBucketNames.end())
      continue;
    if (count == *max) {
      next = EncodeToken(after);
      break;
    }
    xml.Open("Bucket")
        .Element("Name", b.name)
        .Element("CreationDate", IsoTime(b.created_ms))
        .Element("BucketRegion", Region(b))
        .Close();
    after = b.name;
    ++count;
  }
  xml.Close();
  WriteOwner(xml);
  if (!next.empty()) xml.Element("ContinuationToken", next);
  if (r.HasQuery("prefix")) xml.Element("Prefix", prefix);
  return XmlResponse(xml.Finish());
}

http::Response CreateBucket(S3Request& r) {
  if (std::find(kReservedBucketNames.begin(), kReservedBucketNames.end(), r.bucket) != kReservedBucketNames.end()) {
    return Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidBucketName,
                            fmt::format("The specified bucket is not valid: '{0}' is reserved, because Loam serves "
                                        "its own /{0} paths on this port and path-style S3 requests could not reach "
                                        "such a bucket.",
                                        r.bucket)));
  }
  if (Status s = objects::ValidateBucketName(r.bucket); !s.ok()) return Error(r, s);
  auto body = ReadSmallBody(r, kMaxConfigurationBytes);
  if (!body.ok()) return Error(r, body.status());
  std::string region;
  if (!Trim(*body).empty()) {
    auto doc = ParseXml(*body);
    if (!doc.ok() || doc->name != "CreateBucketConfiguration") {
      return Error(r, S3Error(StatusCode::kInvalidArgument, kMalformedXML,
                              "The XML you provided was not well-formed or did not validate against our published "
                              "schema" +
                                  (doc.ok() ? std::string(" (expected CreateBucketConfiguration)")
                                            : " (" + doc.status().message() + ")")));
    }
    if (const auto* loc = doc->Child("LocationConstraint")) region = std::string(Trim(loc->text));
  }
  if (Status s = r.store.CreateBucket(r.bucket, region); !s.ok()) return Error(r, s);
  http::Response res = EmptyResponse(200);
  res.headers.emplace_back("Location", "/" + r.bucket);
  return res;
}

http::Response HeadBucket(S3Request& r) {
  auto info = r.store.GetBucket(r.bucket);
  if (!info.ok()) return Error(r, info.status());
  http::Response res = EmptyResponse(200);
  res.headers.emplace_back("x-amz-bucket-region", Region(*info));
  res.headers.emplace_back("x-amz-access-point-alias", "false");
  return res;
}

http::Response DeleteBucket(S3Request& r) {
  if (Status s = r.store.DeleteBucket(r.bucket); !s.ok()) return Error(r, s);
  return EmptyResponse(204);
}

http::Response GetBucketLocation(S3Request& r) {
  auto info = r.store.GetBucket(r.bucket);
  if (!info.ok()) return Error(r, info.status());
  XmlWriter xml("LocationConstraint");
  if (info->region != "us-east-1") xml.Text(info->region);  // us-east-1 is reported as empty
  return XmlResponse(xml.Finish());
}

http::Response GetBucketVersioning(S3Request& r) {
  auto info = r.store.GetBucket(r.bucket);
  if (!info.ok()) return Error(r, info.status());
  return XmlResponse(XmlWriter("VersioningConfiguration").Finish());  // never enabled
}

http::Response ListObjects(S3Request& r, bool v2) {
  bool url = false;
  if (r.HasQuery("encoding-type")) {
    if (r.Query("encoding-type") != "url") {
      return Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                              "Invalid Encoding Method specified in Request"));
    }
    url = true;
  }
  auto enc = [&](std::string_view s) { return url ? UrlEncode(s) : std::string(s); };
  auto max_keys = IntQuery(r, "max-keys", 1000, 0, 1000);
  if (!max_keys.ok()) return Error(r, max_keys.status());
  objects::ListObjectsOptions options;
  options.prefix = r.Query("prefix");
  options.delimiter = r.Query("delimiter");
  options.max_keys = static_cast<int>(*max_keys);
  if (v2) {
    if (r.HasQuery("continuation-token")) {
      auto decoded = DecodeToken(r.Query("continuation-token"));
      if (!decoded || r.Query("continuation-token").empty()) {
        return Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                                "The continuation token provided is incorrect"));
      }
      options.marker = *decoded;
    } else {
      options.marker = r.Query("start-after");
    }
  } else {
    options.marker = r.Query("marker");
  }
  auto list = r.store.ListObjects(r.bucket, options);
  if (!list.ok()) return Error(r, list.status());
  bool fetch_owner = !v2 || r.Query("fetch-owner") == "true";

  XmlWriter xml("ListBucketResult");
  xml.Element("Name", r.bucket).Element("Prefix", enc(options.prefix));
  if (v2) {
    if (r.HasQuery("continuation-token")) xml.Element("ContinuationToken", r.Query("continuation-token"));
    if (r.HasQuery("start-after")) xml.Element("StartAfter", enc(r.Query("start-after")));
    xml.Element("KeyCount", std::to_string(list->objects.size() + list->common_prefixes.size()));
    if (list->truncated) xml.Element("NextContinuationToken", EncodeToken(list->last));
  } else {
    xml.Element("Marker", enc(options.marker));
    if (list->truncated) xml.Element("NextMarker", enc(list->last));
  }
  xml.Element("MaxKeys", std::to_string(options.max_keys));
  if (!options.delimiter.empty()) xml.Element("Delimiter", enc(options.delimiter));
  if (url) xml.Element("EncodingType", "url");
  xml.Element("IsTruncated", list->truncated ? "true" : "false");
  for (const auto& o : list->objects) {
    xml.Open("Contents")
        .Element("Key", enc(o.key))
        .Element("LastModified", IsoTime(o.last_modified_ms))
        .Element("ETag", o.etag)
        .Element("Size", std::to_string(o.size))
        .Element("StorageClass", "STANDARD");
    if (fetch_owner) WriteOwner(xml);
    xml.Close();
  }
  for (const auto& cp : list->common_prefixes) xml.Open("CommonPrefixes").Element("Prefix", enc(cp)).Close();
  return XmlResponse(xml.Finish());
}

}  // namespace loam::api::s3
