#include "objects/s3_wire.h"

#include <curl/curl.h>
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "common/strings.h"
#include "objects/digests.h"
#include "objects/xml.h"

namespace loam::objects::s3wire {

namespace {

constexpr std::string_view kMetaPrefix = "x-amz-meta-";
constexpr std::string_view kChecksumPrefix = "x-amz-checksum-";
// The standard headers S3 keeps with an object (besides Content-Type).
constexpr std::string_view kStoredHeaders[] = {"content-encoding", "content-disposition", "content-language",
                                               "cache-control", "expires"};

std::string Text(const XmlElement& parent, std::string_view child) {
  const XmlElement* element = parent.Child(child);
  return element ? element->text : std::string();
}

int64_t Int(const XmlElement& parent, std::string_view child) {
  return ParseInt64(Text(parent, child)).value_or(0);
}

bool Flag(const XmlElement& parent, std::string_view child) { return EqualsIgnoreCase(Trim(Text(parent, child)), "true"); }

StatusOr<XmlElement> Document(std::string_view xml, std::string_view root) {
  auto doc = ParseXml(xml);
  if (!doc.ok()) return Internal("the external object store answered malformed XML: " + doc.status().message());
  if (doc->name != root) {
    return Internal(fmt::format("the external object store answered <{}> where <{}> was expected", doc->name, root));
  }
  return doc;
}

// A listing's key or prefix: URL-encoded when the store honoured encoding-type=url (which
// keeps keys with characters XML cannot carry intact); as is when it ignored it.
std::string Decoded(std::string text, bool url_encoded) {
  if (!url_encoded) return text;
  auto decoded = PercentDecode(text, /*plus_as_space=*/true);
  return decoded ? std::move(*decoded) : std::move(text);
}

bool UrlEncoded(const XmlElement& doc) { return Text(doc, "EncodingType") == "url"; }

std::map<std::string, std::string> ChecksumElements(const XmlElement& parent) {
  std::map<std::string, std::string> checksums;
  for (const auto& algorithm : SupportedChecksums()) {
    std::string value = Text(parent, "Checksum" + algorithm);
    if (!value.empty()) checksums[algorithm] = value;
  }
  return checksums;
}

}  // namespace

int64_t ParseIsoTime(std::string_view text) {
  std::string s(Trim(text));
  std::tm tm{};
  int millis = 0;
  int n = std::sscanf(s.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                      &tm.tm_min, &tm.tm_sec, &millis);
  if (n < 6) return 0;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm)) * 1000 + (n == 7 ? millis : 0);
}

int64_t ParseHttpDate(std::string_view text) {
  std::string s(Trim(text));
  time_t t = curl_getdate(s.c_str(), nullptr);
  return t < 0 ? 0 : static_cast<int64_t>(t) * 1000;
}

std::string ChecksumHeaderName(std::string_view algorithm) { return std::string(kChecksumPrefix) + ToLower(algorithm); }

std::vector<std::pair<std::string, std::string>> AttributeHeaders(const ObjectAttributes& attributes) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!attributes.content_type.empty()) headers.emplace_back("Content-Type", attributes.content_type);
  for (const auto& [name, value] : attributes.headers) headers.emplace_back(name, value);
  for (const auto& [name, value] : attributes.user_metadata) headers.emplace_back(std::string(kMetaPrefix) + name, value);
  return headers;
}

std::map<std::string, std::string> ChecksumsFromHeaders(const S3Reply& reply) {
  std::map<std::string, std::string> checksums;
  for (const auto& algorithm : SupportedChecksums()) {
    if (auto value = reply.Header(ChecksumHeaderName(algorithm))) checksums[algorithm] = std::string(*value);
  }
  return checksums;
}

ObjectInfo ObjectInfoFromHeaders(std::string_view key, const S3Reply& reply) {
  ObjectInfo info;
  info.key = std::string(key);
  info.size = static_cast<uint64_t>(ParseInt64(reply.Header("content-length").value_or("0")).value_or(0));
  info.etag = std::string(reply.Header("etag").value_or(""));
  info.last_modified_ms = ParseHttpDate(reply.Header("last-modified").value_or(""));
  info.attributes.content_type = std::string(reply.Header("content-type").value_or(""));
  for (std::string_view name : kStoredHeaders) {
    if (auto value = reply.Header(name)) info.attributes.headers.emplace_back(std::string(name), std::string(*value));
  }
  for (const auto& [name, value] : reply.headers) {
    if (name.starts_with(kMetaPrefix)) info.attributes.user_metadata[name.substr(kMetaPrefix.size())] = value;
  }
  info.checksums = ChecksumsFromHeaders(reply);
  info.parts_count = static_cast<int>(ParseInt64(reply.Header("x-amz-mp-parts-count").value_or("0")).value_or(0));
  return info;
}

std::string CreateBucketConfiguration(std::string_view region) {
  XmlWriter xml("CreateBucketConfiguration");
  xml.Element("LocationConstraint", region);
  return xml.Finish();
}

std::string CompleteMultipartUploadBody(const std::vector<CompletedPart>& parts) {
  XmlWriter xml("CompleteMultipartUpload");
  for (const auto& part : parts) {
    std::string etag = part.etag.starts_with('"') ? part.etag : "\"" + part.etag + "\"";
    xml.Open("Part").Element("PartNumber", std::to_string(part.number)).Element("ETag", etag).Close();
  }
  return xml.Finish();
}

StatusOr<std::vector<BucketInfo>> ParseListBuckets(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement doc, Document(xml, "ListAllMyBucketsResult"));
  std::vector<BucketInfo> buckets;
  if (const XmlElement* list = doc.Child("Buckets")) {
    for (const auto& bucket : list->children) {
      if (bucket.name != "Bucket") continue;
      buckets.push_back({Text(bucket, "Name"), ParseIsoTime(Text(bucket, "CreationDate")), Text(bucket, "BucketRegion")});
    }
  }
  std::sort(buckets.begin(), buckets.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return buckets;
}

StatusOr<std::string> ParseLocation(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement doc, Document(xml, "LocationConstraint"));
  std::string region(Trim(doc.text));
  return region == "us-east-1" ? std::string() : region;
}

StatusOr<ListPage> ParseListObjects(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement doc, Document(xml, "ListBucketResult"));
  bool url = UrlEncoded(doc);
  ListPage page;
  page.truncated = Flag(doc, "IsTruncated");
  for (const auto& child : doc.children) {
    if (child.name == "Contents") {
      ObjectInfo info;
      info.key = Decoded(Text(child, "Key"), url);
      info.size = static_cast<uint64_t>(Int(child, "Size"));
      info.last_modified_ms = ParseIsoTime(Text(child, "LastModified"));
      info.etag = Text(child, "ETag");
      page.objects.push_back(std::move(info));
    } else if (child.name == "CommonPrefixes") {
      page.common_prefixes.push_back(Decoded(Text(child, "Prefix"), url));
    }
  }
  return page;
}

StatusOr<std::string> ParseUploadId(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement doc, Document(xml, "InitiateMultipartUploadResult"));
  std::string id = Text(doc, "UploadId");
  if (id.empty()) return Internal("the external object store started a multipart upload without an UploadId");
  return id;
}

StatusOr<CopyResult> ParseCopyResult(std::string_view xml) {
  auto doc = ParseXml(xml);
  if (!doc.ok() || (doc->name != "CopyObjectResult" && doc->name != "CopyPartResult")) {
    return Internal("the external object store answered a copy without a CopyObjectResult");
  }
  return CopyResult{Text(*doc, "ETag"), ParseIsoTime(Text(*doc, "LastModified")), ChecksumElements(*doc)};
}

StatusOr<CopyResult> ParseCompleteResult(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement doc, Document(xml, "CompleteMultipartUploadResult"));
  return CopyResult{Text(doc, "ETag"), 0, ChecksumElements(doc)};
}

StatusOr<ListPartsResult> ParseListParts(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement doc, Document(xml, "ListPartsResult"));
  ListPartsResult result;
  result.upload.bucket = Text(doc, "Bucket");
  result.upload.key = Text(doc, "Key");
  result.upload.upload_id = Text(doc, "UploadId");
  result.upload.checksum_algorithm = Text(doc, "ChecksumAlgorithm");
  result.truncated = Flag(doc, "IsTruncated");
  result.next_marker = static_cast<int>(Int(doc, "NextPartNumberMarker"));
  for (const auto& child : doc.children) {
    if (child.name != "Part") continue;
    PartInfo part;
    part.number = static_cast<int>(Int(child, "PartNumber"));
    part.size = static_cast<uint64_t>(Int(child, "Size"));
    part.etag = Text(child, "ETag");
    part.last_modified_ms = ParseIsoTime(Text(child, "LastModified"));
    part.checksums = ChecksumElements(child);
    result.parts.push_back(std::move(part));
  }
  return result;
}

StatusOr<ListUploadsResult> ParseListUploads(std::string_view xml) {
  ASSIGN_OR_RETURN(XmlElement doc, Document(xml, "ListMultipartUploadsResult"));
  bool url = UrlEncoded(doc);
  ListUploadsResult result;
  result.truncated = Flag(doc, "IsTruncated");
  result.next_key_marker = Decoded(Text(doc, "NextKeyMarker"), url);
  result.next_upload_id_marker = Text(doc, "NextUploadIdMarker");
  std::string bucket = Text(doc, "Bucket");
  for (const auto& child : doc.children) {
    if (child.name != "Upload") continue;
    MultipartUpload upload;
    upload.upload_id = Text(child, "UploadId");
    upload.bucket = bucket;
    upload.key = Decoded(Text(child, "Key"), url);
    upload.initiated_ms = ParseIsoTime(Text(child, "Initiated"));
    upload.checksum_algorithm = Text(child, "ChecksumAlgorithm");
    result.uploads.push_back(std::move(upload));
  }
  return result;
}

}  // namespace loam::objects::s3wire
