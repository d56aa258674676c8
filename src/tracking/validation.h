// MLflow's input rules: names, lengths and batch limits, with MLflow's messages.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "tracking/entities.h"

namespace loam::tracking {

inline constexpr size_t kMaxEntityKeyLength = 250;
inline constexpr size_t kMaxParamValueLength = 6000;
inline constexpr size_t kMaxTagValueLength = 8000;
inline constexpr size_t kMaxExperimentNameLength = 500;
inline constexpr size_t kMaxExperimentTagValueLength = 5000;
inline constexpr size_t kMaxMetricsPerBatch = 1000;
inline constexpr size_t kMaxParamsTagsPerBatch = 100;
inline constexpr size_t kMaxEntitiesPerBatch = 1000;
inline constexpr int64_t kSearchMaxResultsDefault = 1000;
inline constexpr int64_t kSearchMaxResultsThreshold = 50000;
inline constexpr size_t kMaxDatasetNameLength = 500;
inline constexpr size_t kMaxDatasetDigestLength = 36;
inline constexpr size_t kMaxDatasetSourceLength = 65535;
inline constexpr size_t kMaxDatasetSchemaLength = 1048575;
inline constexpr size_t kMaxDatasetProfileLength = 16777215;
inline constexpr size_t kMaxInputTagKeyLength = 255;
inline constexpr size_t kMaxInputTagValueLength = 500;

// kind is "metric", "param" or "tag"; names follow MLflow's pattern and must not resolve to
// another path when used as a file name.
Status ValidateEntityKey(std::string_view kind, std::string_view key);
Status ValidateMetric(const Metric& m);
Status ValidateParam(const Param& p);
Status ValidateTag(const Tag& t);
Status ValidateExperimentTag(const Tag& t);
Status ValidateBatchLimits(size_t metrics, size_t params, size_t tags);
Status ValidateRunId(std::string_view run_id);
Status ValidateExperimentName(std::string_view name);
Status ValidateMaxResults(int64_t max_results, int64_t threshold = kSearchMaxResultsThreshold);
Status ValidateDatasetInput(const DatasetInput& input);

// Artifact paths: relative, no "..", no backslashes or NUL, also after repeated
// percent-decoding (so encoded and double-encoded traversals are caught).
Status ValidateArtifactPath(std::string_view path);

}  // namespace loam::tracking
