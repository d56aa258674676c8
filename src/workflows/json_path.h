// The paths of the Amazon States Language's JSONPath query mode (states-language.net):
// Reference Paths ("$", "$.a.b", "$['name with spaces']", "$.list[0]", and "$$." for the
// context object), which select one node and may be written to (ResultPath), and Paths, which
// may also hold "[*]", slices "[a:b]" and filters "[?(@.MetricName == 'rmse')]" and then select
// a list of nodes.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loam::workflows {

struct PathStep {
  enum class Kind { kField, kIndex, kWildcard, kSlice, kFilter };
  Kind kind = Kind::kField;
  std::string field;           // kField
  int64_t index = 0;           // kIndex (negative counts from the end)
  std::optional<int64_t> from, to;  // kSlice
  // kFilter: the items (of a list, or values of an object) whose node at `filter_path` (from
  // "@") exists, or compares with `filter_op` ("==", "!=", "<", "<=", ">", ">=") to `filter_value`.
  std::vector<PathStep> filter_path;
  std::string filter_op;  // "" for an existence test
  nlohmann::json filter_value;
};

struct JsonPath {
  std::string text;      // as written
  bool context = false;  // "$$": the context object rather than the input
  std::vector<PathStep> steps;
  // A Reference Path: only fields and indices, so it names exactly one node.
  bool IsReference() const;
};

// Parses "$..." or "$$...". InvalidArgument says what is wrong and where.
StatusOr<JsonPath> ParsePath(std::string_view text);

// ParsePath, remembered per thread: an execution evaluates the same few paths over and over.
StatusOr<std::shared_ptr<const JsonPath>> CachedPath(std::string_view text);

// The node(s) a path selects. A Reference Path gives the node; a path with a wildcard or a slice
// gives the list of what it matched. NotFound when a step names what is not there (the caller
// words it as States.Runtime).
StatusOr<nlohmann::json> Select(const nlohmann::json& root, const JsonPath& path);

// Writes `value` at a Reference Path in `root` (ResultPath): "$" replaces the root; missing
// objects on the way are created. InvalidArgument when a step meets a non-object.
Status Assign(nlohmann::json& root, const JsonPath& path, nlohmann::json value);

}  // namespace loam::workflows
