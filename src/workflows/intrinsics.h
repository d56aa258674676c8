// The States Language's intrinsic functions (JSONPath mode): "States.Format('{} {}', $.a, 'b')"
// in a payload template's "key.$" value. Calls are parsed once (a definition with a malformed
// call or an unknown function is refused at validation) and evaluated against the state's
// input and the context object; a failure at run time is States.IntrinsicFailure.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "workflows/json_path.h"

namespace loam::workflows {

struct IntrinsicArg;

struct IntrinsicCall {
  std::string function;  // "Format", "ArrayRange", ...
  std::vector<IntrinsicArg> args;
};

struct IntrinsicArg {
  enum class Kind { kLiteral, kPath, kCall };
  Kind kind = Kind::kLiteral;
  nlohmann::json literal;      // kLiteral: a string (escapes resolved), number, boolean or null
  std::string raw;             // kLiteral strings: with "\{" and "\}" kept, for States.Format
  JsonPath path;               // kPath
  std::shared_ptr<IntrinsicCall> call;  // kCall
};

// Whether a template value is an intrinsic call ("States." ...).
bool IsIntrinsic(std::string_view text);

// InvalidArgument for a malformed call, an unknown function or a wrong number of arguments.
StatusOr<IntrinsicCall> ParseIntrinsic(std::string_view text);
// ParseIntrinsic, remembered per thread.
StatusOr<std::shared_ptr<const IntrinsicCall>> CachedIntrinsic(std::string_view text);

// The call's value; InvalidArgument (States.IntrinsicFailure) with the reason.
StatusOr<nlohmann::json> EvaluateIntrinsic(const IntrinsicCall& call, const nlohmann::json& input,
                                           const PathRoots& roots);

}  // namespace loam::workflows
