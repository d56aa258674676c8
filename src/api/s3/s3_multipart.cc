// Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
// CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads.
#include <fmt/format.h>

#include "api/s3/s3_common.h"
#include "api/s3/s3_errors.h"
#include "common/strings.h"
#include "objects/digests.h"
#include "objects/xml.h"

namespace loam::api::s3 {

using objects::ParseXml;
using objects::XmlWriter;

namespace {

constexpr size_t kMaxCompleteBodyBytes = 8 * 1024 * 1024;

Status Malformed(std::string_view detail) {
  return S3Error(StatusCode::kInvalidArgument, kMalformedXML,
                 fmt::format("The XML you provided was not well-formed or did not validate against our published "
                             "schema ({})",
                             detail));
}

StatusOr<int> PartNumber(const S3Request& r) {
  auto n = ParseInt64(r.Query("partNumber"));
  if (!n || *n < 1 || *n > objects::kMaxPartNumber) {
    return S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                   fmt::format("Part number must be an integer between 1 and {}, inclusive",
                               objects::kMaxPartNumber));
  }
  return static_cast<int>(*n);
}

void WriteParty(XmlWriter& xml, std::string_view element) {
  xml.Open(element).Element("ID", OwnerId()).Element("DisplayName", kOwnerDisplayName).Close();
}

void WriteChecksums(XmlWriter& xml, const std::map<std::string, std::string>& checksums) {
  for (const auto& [alg, value] : checksums) xml.Element("Checksum" + alg, value);
}

std::string UpperCase(std::string_view s) {
  std::string out;
  for (char c : s) out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

StatusOr<std::optional<objects::ByteRange>> CopySourceRange(const S3Request& r) {
  auto header = r.Header("x-amz-copy-source-range");
  if (!header) return std::optional<objects::ByteRange>();
  auto bad = S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                     "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last "
                     "are the zero-based offsets of the first and last bytes to copy");
  std::string_view h = Trim(*header);
  if (!h.starts_with("bytes=")) return bad;
  h.remove_prefix(6);
  auto dash = h.find('-');
  if (dash == std::string_view::npos) return bad;
  auto first = ParseInt64(h.substr(0, dash));
  auto last = ParseInt64(h.substr(dash + 1));
  if (!first || !last || *first < 0 || *last < *first) return bad;
  return std::optional<objects::ByteRange>(
      objects::ByteRange{static_cast<uint64_t>(*first), static_cast<uint64_t>(*last - *first + 1)});
}

}  // namespace

http::Response CreateMultipartUpload(S3Request& r) {
  auto attributes = AttributesFromHeaders(r);
  if (!attributes.ok()) return Error(r, attributes.status());
  std::string algorithm = UpperCase(Trim(r.Header("x-amz-checksum-algorithm").value_or("")));
  if (!algorithm.empty() && !objects::IsSupportedChecksum(algorithm)) {
    if (algorithm != "CRC64NVME") {
      return Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidRequest,
                              "Value for x-amz-checksum-algorithm header is invalid."));
    }
    algorithm.clear();  // known to S3, not computed by Loam: parts are kept without it
  }
  auto upload = r.store.CreateMultipartUpload(r.bucket, r.key, *attributes, algorithm);
  if (!upload.ok()) return Error(r, upload.status());
  XmlWriter xml("InitiateMultipartUploadResult");
  xml.Element("Bucket", r.bucket).Element("Key", r.key).Element("UploadId", upload->upload_id);
  http::Response res = XmlResponse(xml.Finish());
  if (!algorithm.empty()) res.headers.emplace_back("x-amz-checksum-algorithm", algorithm);
  return res;
}

http::Response UploadPart(S3Request& r) {
  auto number = PartNumber(r);
  if (!number.ok()) return Error(r, number.status());
  std::string upload_id = r.Query("uploadId");
  if (auto copy = r.Header("x-amz-copy-source")) {  // UploadPartCopy
    std::string_view raw = Trim(*copy);
    auto decoded = PercentDecode(raw.substr(0, raw.find('?')), false);
    std::string_view s = decoded ? std::string_view(*decoded) : std::string_view();
    if (s.starts_with('/')) s.remove_prefix(1);
    auto slash = s.find('/');
    if (!decoded || slash == std::string_view::npos || slash == 0 || slash + 1 == s.size()) {
      return Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                              "Copy Source must mention the source bucket and key: sourcebucket/sourcekey"));
    }
    auto range = CopySourceRange(r);
    if (!range.ok()) return Error(r, range.status());
    auto part = r.store.UploadPartCopy(r.bucket, r.key, upload_id, *number, s.substr(0, slash), s.substr(slash + 1),
                                       *range);
    if (!part.ok()) return Error(r, part.status());
    XmlWriter xml("CopyPartResult");
    xml.Element("LastModified", IsoTime(part->last_modified_ms)).Element("ETag", part->etag);
    WriteChecksums(xml, part->checksums);
    return XmlResponse(xml.Finish());
  }
  auto payload = ReadPayload(r);
  if (!payload.ok()) return Error(r, payload.status());
  auto part = r.store.UploadPart(r.bucket, r.key, upload_id, *number, payload->file, payload->expected);
  if (!part.ok()) return Error(r, part.status());
  http::Response res = EmptyResponse(200);
  res.headers.emplace_back("ETag", part->etag);
  for (const auto& [alg, value] : part->checksums) res.headers.emplace_back("x-amz-checksum-" + ToLower(alg), value);
  return res;
}

http::Response CompleteMultipartUpload(S3Request& r) {
  auto body = ReadSmallBody(r, kMaxCompleteBodyBytes);
  if (!body.ok()) return Error(r, body.status());
  auto doc = ParseXml(*body);
  if (!doc.ok()) return Error(r, Malformed(doc.status().message()));
  if (doc->name != "CompleteMultipartUpload") return Error(r, Malformed("expected a CompleteMultipartUpload element"));
  std::vector<objects::CompletedPart> parts;
  for (const auto& child : doc->children) {
    if (child.name != "Part") continue;
    const auto* number = child.Child("PartNumber");
    const auto* etag = child.Child("ETag");
    auto n = number ? ParseInt64(Trim(number->text)) : std::nullopt;
    if (!n || !etag || *n < 1 || *n > objects::kMaxPartNumber) {
      return Error(r, Malformed("every Part needs a PartNumber between 1 and 10000 and an ETag"));
    }
    parts.push_back({static_cast<int>(*n), std::string(Trim(etag->text))});
  }
  if (parts.empty()) return Error(r, Malformed("at least one Part is required"));
  auto info = r.store.CompleteMultipartUpload(r.bucket, r.key, r.Query("uploadId"), parts);
  if (!info.ok()) return Error(r, info.status());
  std::string host(r.Header("host").value_or("localhost"));
  XmlWriter xml("CompleteMultipartUploadResult");
  xml.Element("Location", "http://" + host + "/" + r.bucket + "/" + UrlEncode(r.key))
      .Element("Bucket", r.bucket)
      .Element("Key", r.key)
      .Element("ETag", info->etag);
  WriteChecksums(xml, info->checksums);
  if (!info->checksums.empty()) xml.Element("ChecksumType", "COMPOSITE");
  return XmlResponse(xml.Finish());
}

http::Response AbortMultipartUpload(S3Request& r) {
  if (Status s = r.store.AbortMultipartUpload(r.bucket, r.key, r.Query("uploadId")); !s.ok()) return Error(r, s);
  return EmptyResponse(204);
}

http::Response ListParts(S3Request& r) {
  auto max_parts = IntQuery(r, "max-parts", 1000, 0, 1000);
  if (!max_parts.ok()) return Error(r, max_parts.status());
  auto marker = IntQuery(r, "part-number-marker", 0, 0);
  if (!marker.ok()) return Error(r, marker.status());
  auto list = r.store.ListParts(r.bucket, r.key, r.Query("uploadId"), static_cast<int>(*marker),
                                static_cast<int>(*max_parts));
  if (!list.ok()) return Error(r, list.status());
  XmlWriter xml("ListPartsResult");
  xml.Element("Bucket", r.bucket)
      .Element("Key", r.key)
      .Element("UploadId", list->upload.upload_id)
      .Element("PartNumberMarker", std::to_string(*marker))
      .Element("NextPartNumberMarker", std::to_string(list->next_marker))
      .Element("MaxParts", std::to_string(*max_parts))
      .Element("IsTruncated", list->truncated ? "true" : "false");
  for (const auto& p : list->parts) {
    xml.Open("Part")
        .Element("PartNumber", std::to_string(p.number))
        .Element("LastModified", IsoTime(p.last_modified_ms))
        .Element("ETag", p.etag)
        .Element("Size", std::to_string(p.size));
    WriteChecksums(xml, p.checksums);
    xml.Close();
  }
  WriteParty(xml, "Initiator");
  WriteParty(xml, "Owner");
  xml.Element("StorageClass", "STANDARD");
  if (!list->upload.checksum_algorithm.empty()) xml.Element("ChecksumAlgorithm", list->upload.checksum_algorithm);
  return XmlResponse(xml.Finish());
}

http::Response ListMultipartUploads(S3Request& r) {
  bool url = false;
  if (r.HasQuery("encoding-type")) {
    if (r.Query("encoding-type") != "url") {
      return Error(r, S3Error(StatusCode::kInvalidArgument, objects::reason::kInvalidArgument,
                              "Invalid Encoding Method specified in Request"));
    }
    url = true;
  }
  auto enc = [&](std::string_view s) { return url ? UrlEncode(s) : std::string(s); };
  auto max = IntQuery(r, "max-uploads", 1000, 0, 1000);
  if (!max.ok()) return Error(r, max.status());
  objects::ListUploadsOptions options;
  options.prefix = r.Query("prefix");
  options.key_marker = r.Query("key-marker");
  options.upload_id_marker = r.Query("upload-id-marker");
  options.max_uploads = static_cast<int>(*max);
  auto list = r.store.ListMultipartUploads(r.bucket, options);
  if (!list.ok()) return Error(r, list.status());
  XmlWriter xml("ListMultipartUploadsResult");
  xml.Element("Bucket", r.bucket)
      .Element("KeyMarker", enc(options.key_marker))
      .Element("UploadIdMarker", options.upload_id_marker)
      .Element("NextKeyMarker", enc(list->next_key_marker))
      .Element("NextUploadIdMarker", list->next_upload_id_marker)
      .Element("MaxUploads", std::to_string(options.max_uploads))
      .Element("IsTruncated", list->truncated ? "true" : "false")
      .Element("Prefix", enc(options.prefix));
  if (url) xml.Element("EncodingType", "url");
  for (const auto& u : list->uploads) {
    xml.Open("Upload").Element("Key", enc(u.key)).Element("UploadId", u.upload_id);
    WriteParty(xml, "Initiator");
    WriteParty(xml, "Owner");
    xml.Element("StorageClass", "STANDARD").Element("Initiated", IsoTime(u.initiated_ms));
    if (!u.checksum_algorithm.empty()) xml.Element("ChecksumAlgorithm", u.checksum_algorithm);
    xml.Close();
  }
  return XmlResponse(xml.Finish());
}

}  // namespace loam::api::s3
