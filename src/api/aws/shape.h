// Internal to api/aws: one botocore shape, resolved and with its pattern compiled, and the
// validator that walks a request against it.
#pragma once

#include <re2/re2.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"

namespace loam::api::aws {

struct Shape {
  enum class Type { kStructure, kList, kMap, kString, kInteger, kLong, kFloat, kDouble, kBoolean, kTimestamp,
                    kBlob, kDocument };

  // A min or max from the model, kept as written so messages quote it exactly ("63", "0.5").
  struct Bound {
    double value = 0;
    std::string text;
  };

  struct Member {
    std::string name;       // "TrainingJobName": the JSON key
    std::string path_name;  // "trainingJobName": how AWS names it in validation messages
    const Shape* shape = nullptr;
    bool required = false;
  };

  std::string name;
  Type type = Type::kDocument;
  std::optional<Bound> min;  // length for strings, blobs, lists and maps; value for numbers
  std::optional<Bound> max;
  std::string pattern;            // as written in the model; empty: none
  std::unique_ptr<RE2> regex;     // null when there is no pattern or RE2 cannot compile it
  std::vector<std::string> enum_values;
  std::vector<Member> members;    // structures, in model order
  const Shape* member = nullptr;  // lists
  const Shape* key = nullptr;     // maps
  const Shape* value = nullptr;   // maps

  bool IsScalar() const {
    return type != Type::kStructure && type != Type::kList && type != Type::kMap && type != Type::kDocument;
  }
};

// Validates `input` against the structure `root` (see ServiceModel::ValidateInput).
Status ValidateAgainstShape(const Shape& root, const nlohmann::json& input);

}  // namespace loam::api::aws
