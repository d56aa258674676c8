#include "tracking/validation.h"

#include <cctype>
#include <fmt/format.h>

#include "common/strings.h"

namespace loam::tracking {

namespace {

Status LengthLimit(std::string_view what, std::string_view value, size_t limit) {
  if (value.size() <= limit) return Status::Ok();
  std::string shown(value.substr(0, std::min<size_t>(value.size(), 250)));
  if (value.size() > 250) shown += "...";
  return InvalidArgument(fmt::format("{} '{}' had length {}, which exceeded length limit of {}", what, shown,
                                     value.size(), limit));
}

// posixpath.normpath, enough to decide whether a name resolves to another path.
std::string NormPath(std::string_view path) {
  if (path.empty()) return ".";
  bool absolute = path.front() == '/';
  std::vector<std::string> parts;
  for (const auto& part : Split(path, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == ".." && !parts.empty() && parts.back() != "..") {
      parts.pop_back();
      continue;
    }
    if (part == ".." && absolute) continue;
    parts.push_back(part);
  }
  std::string out = absolute ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += '/';
    out += parts[i];
  }
  return out.empty() ? "." : out;
}

}  // namespace

Status ValidateEntityKey(std::string_view kind, std::string_view key) {
  for (unsigned char c : key) {
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ' ' || c == '/' || c == ':' || c >= 0x80)) {
      return InvalidArgument(fmt::format(
          "Invalid {} name: '{}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), "
          "spaces ( ), colon(:) and slashes (/).",
          kind, key));
    }
  }
  std::string norm = NormPath(key);
  if (norm != key || norm == "." || StartsWith(norm, "..") || StartsWith(norm, "/")) {
    return InvalidArgument(fmt::format(
        "Invalid {} name: '{}'. Names may be treated as files in certain cases, and must not resolve to other names "
        "when treated as such. This name would resolve to '{}'",
        kind, key, norm));
  }
  std::string what = kind == "param" ? "Param key" : kind == "tag" ? "Tag key" : "Metric key";
  return LengthLimit(what, key, kMaxEntityKeyLength);
}

Status ValidateMetric(const Metric& m) { return ValidateEntityKey("metric", m.key); }

Status ValidateParam(const Param& p) {
  RETURN_IF_ERROR(ValidateEntityKey("param", p.key));
  return LengthLimit("Param value", p.value, kMaxParamValueLength);
}

Status ValidateTag(const Tag& t) {
  RETURN_IF_ERROR(ValidateEntityKey("tag", t.key));
  return LengthLimit("Tag value", t.value, kMaxTagValueLength);
}

Status ValidateExperimentTag(const Tag& t) {
  RETURN_IF_ERROR(ValidateEntityKey("tag", t.key));
  return LengthLimit("Tag value", t.value, kMaxExperimentTagValueLength);
}

Status ValidateBatchLimits(size_t metrics, size_t params, size_t tags) {
  auto check = [](std::string_view what, size_t limit, size_t got) {
    if (got <= limit) return Status::Ok();
    return InvalidArgument(fmt::format(
        "A batch logging request can contain at most {} {}. Got {} {}. Please split up {} across multiple requests "
        "and try again.",
        limit, what, got, what, what));
  };
  RETURN_IF_ERROR(check("metrics", kMaxMetricsPerBatch, metrics));
  RETURN_IF_ERROR(check("params", kMaxParamsTagsPerBatch, params));
  RETURN_IF_ERROR(check("tags", kMaxParamsTagsPerBatch, tags));
  return check("metrics, params, and tags", kMaxEntitiesPerBatch, metrics + params + tags);
}

Status ValidateRunId(std::string_view run_id) {
  bool ok = !run_id.empty() && run_id.size() <= 256 && std::isalnum(static_cast<unsigned char>(run_id[0]));
  for (unsigned char c : run_id) ok = ok && (std::isalnum(c) || c == '_' || c == '-');
  if (!ok) return InvalidArgument(fmt::format("Invalid run ID: '{}'", run_id));
  return Status::Ok();
}

Status ValidateExperimentName(std::string_view name) {
  if (Trim(name).empty()) return InvalidArgument("Invalid experiment name: ''. Experiment names must be non-empty.");
  return LengthLimit("Experiment name", name, kMaxExperimentNameLength);
}

Status ValidateMaxResults(int64_t max_results, int64_t threshold) {
  if (max_results <= 0 || max_results > threshold) {
    return InvalidArgument(fmt::format(
        "Invalid value {} for parameter 'max_results' supplied. It must be a positive integer at most {}",
        max_results, threshold));
  }
  return Status::Ok();
}

Status ValidateDatasetInput(const DatasetInput& input) {
  const Dataset& d = input.dataset;
  if (d.name.empty()) return InvalidArgument("Missing value for required parameter 'dataset.name'.");
  if (d.digest.empty()) return InvalidArgument("Missing value for required parameter 'dataset.digest'.");
  if (d.source_type.empty()) return InvalidArgument("Missing value for required parameter 'dataset.source_type'.");
  if (d.source.empty()) return InvalidArgument("Missing value for required parameter 'dataset.source'.");
  RETURN_IF_ERROR(LengthLimit("Dataset name", d.name, kMaxDatasetNameLength));
  RETURN_IF_ERROR(LengthLimit("Dataset digest", d.digest, kMaxDatasetDigestLength));
  RETURN_IF_ERROR(LengthLimit("Dataset source", d.source, kMaxDatasetSourceLength));
  RETURN_IF_ERROR(LengthLimit("Dataset schema", d.schema, kMaxDatasetSchemaLength));
  RETURN_IF_ERROR(LengthLimit("Dataset profile", d.profile, kMaxDatasetProfileLength));
  for (const auto& t : input.tags) {
    if (t.key.empty()) return InvalidArgument("Missing value for required parameter 'tags.key'.");
    RETURN_IF_ERROR(LengthLimit("Input tag key", t.key, kMaxInputTagKeyLength));
    RETURN_IF_ERROR(LengthLimit("Input tag value", t.value, kMaxInputTagValueLength));
  }
  return Status::Ok();
}

Status ValidateArtifactPath(std::string_view path) {
  std::string current(path);
  for (int round = 0; round < 4; ++round) {
    auto bad = [&] {
      return InvalidArgument(fmt::format("Invalid path: '{}'. Artifact paths must be relative and must not "
                                         "contain '..' segments.", path));
    };
    if (current.find('\0') != std::string::npos || current.find('\\') != std::string::npos) return bad();
    if (!current.empty() && current.front() == '/') return bad();
    if (current.size() >= 2 && current[1] == ':') return bad();
    for (const auto& seg : Split(current, '/')) {
      if (seg == "..") return bad();
    }
    auto decoded = PercentDecode(current, false);
    if (!decoded || *decoded == current) break;
    current = *decoded;
  }
  return Status::Ok();
}

}  // namespace loam::tracking
