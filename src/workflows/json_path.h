// The paths of the Amazon States Language's JSONPath query mode (states-language.net):
// Reference Paths ("$", "$.a.b", "$['name with spaces']", "$.list[0]", and "$$." for the
// context object), which select one node and may be written to (ResultPath), and Paths, which
// may also hold "[*]", slices "[a:b]" and filters "[?(@.MetricName == 'rmse')]" and then select
// a list of nodes.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loam::workflows {

// For dump(): text that is not valid UTF-8 (a base64-decoded string, a job's log line) is
// replaced rather than thrown on.
inline constexpr auto kReplaceInvalid = nlohmann::json::error_handler_t::replace;

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
  std::string variable;  // "$name...": the workflow variable `name` rather than the input
  std::vector<PathStep> steps;
  // A Reference Path: only fields and indices, so it names exactly one node.
  bool IsReference() const;
};

// Parses "$...", "$$..." or "$name..." (a workflow variable: a letter or "_", then letters,
// digits and "_"). InvalidArgument says what is wrong and where.
StatusOr<JsonPath> ParsePath(std::string_view text);

// ParsePath, remembered per thread: an execution evaluates the same few paths over and over.
StatusOr<std::shared_ptr<const JsonPath>> CachedPath(std::string_view text);

// Where a path starts: "$" the data it is given, "$$" the context object, "$name" a variable.
struct PathRoots {
  const nlohmann::json* context = nullptr;
  // The variable's value, or nullptr when no such variable is in scope.
  std::function<const nlohmann::json*(const std::string& name)> variable;
};

// Select from the root the path names: NotFound also when its variable is not in scope.
StatusOr<nlohmann::json> SelectFrom(const nlohmann::json& data, const PathRoots& roots, const JsonPath& path);

// The node(s) a path selects. A Reference Path gives the node; a path with a wildcard or a slice
// gives the list of what it matched. NotFound when a step names what is not there (the caller
// words it as States.Runtime).
StatusOr<nlohmann::json> Select(const nlohmann::json& root, const JsonPath& path);

// Writes `value` at a Reference Path in `root` (ResultPath): "$" replaces the root; missing
// objects on the way are created. InvalidArgument when a step meets a non-object.
Status Assign(nlohmann::json& root, const JsonPath& path, nlohmann::json value);

}  // namespace loam::workflows
