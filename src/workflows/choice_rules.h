// Choice state rules (states-language.net, "Choice Rules"): comparison operators with their
// Path variants, the type tests (IsPresent, IsNull, IsString, ...), StringMatches, and the
// boolean combinators And / Or / Not.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

#include "common/status.h"
#include "workflows/json_path.h"

namespace loam::workflows {

// Checks one rule as a definition holds it (Variable, one operator, Next at the top level);
// `where` locates it for the message. InvalidArgument with SCHEMA_VALIDATION_FAILED wording.
Status ValidateChoiceRule(const nlohmann::json& rule, const std::string& where, bool top_level);

// Whether `rule` matches the state's input (`context` for "$$." paths). A Variable that is
// missing is a States.Runtime error for every operator but IsPresent (which tests exactly
// that), as is a *Path operand that is missing.
StatusOr<bool> Matches(const nlohmann::json& rule, const nlohmann::json& input, const PathRoots& roots);

}  // namespace loam::workflows
