#include "workflows/choice_rules.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <ctime>
#include <optional>
#include <string_view>

#include "workflows/json_path.h"
#include "workflows/timestamps.h"

namespace loam::workflows {

using nlohmann::json;

namespace {

enum class Operand { kString, kNumeric, kBoolean, kTimestamp };
enum class Relation { kEquals, kLess, kGreater, kLessEquals, kGreaterEquals };

struct Comparison {
  std::string_view name;
  Operand operand;
  Relation relation;
};

constexpr std::array<Comparison, 16> kComparisons = {{
    {"StringEquals", Operand::kString, Relation::kEquals},
    {"StringLessThan", Operand::kString, Relation::kLess},
    {"StringGreaterThan", Operand::kString, Relation::kGreater},
    {"StringLessThanEquals", Operand::kString, Relation::kLessEquals},
    {"StringGreaterThanEquals", Operand::kString, Relation::kGreaterEquals},
    {"NumericEquals", Operand::kNumeric, Relation::kEquals},
    {"NumericLessThan", Operand::kNumeric, Relation::kLess},
    {"NumericGreaterThan", Operand::kNumeric, Relation::kGreater},
    {"NumericLessThanEquals", Operand::kNumeric, Relation::kLessEquals},
    {"NumericGreaterThanEquals", Operand::kNumeric, Relation::kGreaterEquals},
    {"BooleanEquals", Operand::kBoolean, Relation::kEquals},
    {"TimestampEquals", Operand::kTimestamp, Relation::kEquals},
    {"TimestampLessThan", Operand::kTimestamp, Relation::kLess},
    {"TimestampGreaterThan", Operand::kTimestamp, Relation::kGreater},
    {"TimestampLessThanEquals", Operand::kTimestamp, Relation::kLessEquals},
    {"TimestampGreaterThanEquals", Operand::kTimestamp, Relation::kGreaterEquals},
}};

constexpr std::array<std::string_view, 6> kTypeTests = {"IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean",
                                                        "IsTimestamp"};

// The comparison a key names ("NumericEqualsPath" -> NumericEquals, path = true).
std::optional<std::pair<Comparison, bool>> ComparisonOf(std::string_view key) {
  for (const Comparison& c : kComparisons) {
    if (key == c.name) return std::make_pair(c, false);
    if (key.size() == c.name.size() + 4 && key.substr(0, c.name.size()) == c.name && key.substr(c.name.size()) == "Path") {
      return std::make_pair(c, true);
    }
  }
  return std::nullopt;
}

bool IsTypeTest(std::string_view key) {
  for (auto t : kTypeTests) {
    if (key == t) return true;
  }
  return false;
}

template <class T>
bool Relate(const T& a, const T& b, Relation r) {
  switch (r) {
    case Relation::kEquals: return a == b;
    case Relation::kLess: return a < b;
    case Relation::kGreater: return a > b;
    case Relation::kLessEquals: return a <= b;
    case Relation::kGreaterEquals: return a >= b;
  }
  return false;
}

// Whether a value fits the operator's type (a value of another type never matches).
bool OfType(const json& v, Operand operand) {
  switch (operand) {
    case Operand::kString: return v.is_string();
    case Operand::kNumeric: return v.is_number();
    case Operand::kBoolean: return v.is_boolean();
    case Operand::kTimestamp: return v.is_string() && ParseTimestamp(v.get<std::string>()).has_value();
  }
  return false;
}

bool Compare(const json& a, const json& b, const Comparison& c) {
  if (!OfType(a, c.operand) || !OfType(b, c.operand)) return false;
  switch (c.operand) {
    case Operand::kString: return Relate(a.get<std::string>(), b.get<std::string>(), c.relation);
    case Operand::kNumeric:
      // Integers compare exactly: as doubles 2^53 and 2^53 + 1 would be equal.
      if (a.is_number_integer() && b.is_number_integer()) {
        if (a.is_number_unsigned() || b.is_number_unsigned()) {
          if (a.is_number_unsigned() && b.is_number_unsigned()) return Relate(a.get<uint64_t>(), b.get<uint64_t>(), c.relation);
          return Relate(a.get<double>(), b.get<double>(), c.relation);
        }
        return Relate(a.get<int64_t>(), b.get<int64_t>(), c.relation);
      }
      return Relate(a.get<double>(), b.get<double>(), c.relation);
    case Operand::kBoolean: return Relate(a.get<bool>(), b.get<bool>(), c.relation);
    case Operand::kTimestamp:
      return Relate(*ParseTimestamp(a.get<std::string>()), *ParseTimestamp(b.get<std::string>()), c.relation);
  }
  return false;
}

// StringMatches: "*" matches any run of characters; "\*" and "\\" are literal. Linear in
// practice: on a mismatch only the last "*" is retried one character further (never exponential).
bool Glob(std::string_view text, std::string_view pattern) {
  size_t t = 0, p = 0;
  size_t star = std::string_view::npos, resume = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = ++p;
      resume = t;
      continue;
    }
    if (p < pattern.size()) {
      char want = pattern[p];
      size_t used = 1;
      if (want == '\\' && p + 1 < pattern.size()) {
        want = pattern[p + 1];
        used = 2;
      }
      if (text[t] == want) {
        ++t;
        p += used;
        continue;
      }
    }
    if (star == std::string_view::npos) return false;
    p = star;
    t = ++resume;
  }
  while (p < pattern.size() && pattern[p] == '*') ++p;
  return p == pattern.size();
}

StatusOr<std::optional<json>> Variable(const json& rule, const json& input, const PathRoots& roots) {
  ASSIGN_OR_RETURN(auto path, CachedPath(rule["Variable"].get<std::string>()));
  auto v = SelectFrom(input, roots, *path);
  if (v.status().code() == StatusCode::kNotFound) return std::optional<json>();
  if (!v.ok()) return v.status();
  return std::optional<json>(std::move(v).value());
}

}  // namespace

Status ValidateChoiceRule(const json& rule, const std::string& where, bool top_level) {
  auto invalid = [&](const std::string& what) {
    return InvalidArgument(fmt::format("SCHEMA_VALIDATION_FAILED: {} at {}", what, where));
  };
  if (!rule.is_object()) return invalid("A choice rule must be an object");
  if (top_level && !rule.contains("Next")) return invalid("A choice rule must have a 'Next' field");
  if (!top_level && rule.contains("Next")) return invalid("Field 'Next' is not allowed in a nested choice rule");
  for (const char* combinator : {"And", "Or"}) {
    if (!rule.contains(combinator)) continue;
    if (!rule[combinator].is_array() || rule[combinator].empty()) {
      return invalid(fmt::format("'{}' must be a non-empty array of choice rules", combinator));
    }
    for (size_t i = 0; i < rule[combinator].size(); ++i) {
      RETURN_IF_ERROR(ValidateChoiceRule(rule[combinator][i], fmt::format("{}/{}[{}]", where, combinator, i), false));
    }
    return Status::Ok();
  }
  if (rule.contains("Not")) return ValidateChoiceRule(rule["Not"], where + "/Not", false);
  if (!rule.contains("Variable") || !rule["Variable"].is_string()) return invalid("A choice rule must have a 'Variable' field");
  if (auto p = ParsePath(rule["Variable"].get<std::string>()); !p.ok()) return invalid(std::string(p.status().message()));
  int operators = 0;
  for (const auto& [key, value] : rule.items()) {
    if (key == "Variable" || key == "Next" || key == "Comment" || (top_level && key == "Assign")) continue;
    if (auto c = ComparisonOf(key)) {
      ++operators;
      if (c->second) {
        if (!value.is_string() || !ParsePath(value.get<std::string>()).ok()) return invalid(fmt::format("'{}' must be a path", key));
      } else if (!OfType(value, c->first.operand) && !(c->first.operand == Operand::kTimestamp && value.is_string())) {
        return invalid(fmt::format("The value of '{}' has the wrong type", key));
      }
    } else if (IsTypeTest(key)) {
      ++operators;
      if (!value.is_boolean()) return invalid(fmt::format("'{}' must be true or false", key));
    } else if (key == "StringMatches") {
      ++operators;
      if (!value.is_string()) return invalid("'StringMatches' must be a string");
    } else {
      return invalid(fmt::format("Field '{}' is not supported", key));
    }
  }
  if (operators != 1) return invalid("A choice rule must have exactly one comparison operator");
  return Status::Ok();
}

StatusOr<bool> Matches(const json& rule, const json& input, const PathRoots& roots) {
  if (rule.contains("And")) {
    for (const auto& r : rule["And"]) {
      ASSIGN_OR_RETURN(bool m, Matches(r, input, roots));
      if (!m) return false;
    }
    return true;
  }
  if (rule.contains("Or")) {
    for (const auto& r : rule["Or"]) {
      ASSIGN_OR_RETURN(bool m, Matches(r, input, roots));
      if (m) return true;
    }
    return false;
  }
  if (rule.contains("Not")) {
    ASSIGN_OR_RETURN(bool m, Matches(rule["Not"], input, roots));
    return !m;
  }
  ASSIGN_OR_RETURN(std::optional<json> variable, Variable(rule, input, roots));
  for (const auto& [key, expected] : rule.items()) {
    if (key == "IsPresent") return variable.has_value() == expected.get<bool>();
    if (key == "Variable" || key == "Next" || key == "Comment" || key == "Assign") continue;
    if (!variable) {
      const std::string text = rule["Variable"].get<std::string>();
      return InvalidArgument(
          fmt::format("Invalid path '{}': The choice state's condition path references an invalid value.", text));
    }
    if (IsTypeTest(key)) {
      if (!variable) return false;
      bool is = false;
      if (key == "IsNull") is = variable->is_null();
      if (key == "IsNumeric") is = variable->is_number();
      if (key == "IsString") is = variable->is_string();
      if (key == "IsBoolean") is = variable->is_boolean();
      if (key == "IsTimestamp") is = OfType(*variable, Operand::kTimestamp);
      return is == expected.get<bool>();
    }
    if (key == "StringMatches") return variable && variable->is_string() && Glob(variable->get<std::string>(), expected.get<std::string>());
    if (auto c = ComparisonOf(key)) {
      if (!variable) return false;
      json operand = expected;
      if (c->second) {
        ASSIGN_OR_RETURN(auto path, CachedPath(expected.get<std::string>()));
        auto v = SelectFrom(input, roots, *path);
        if (!v.ok()) {
          return InvalidArgument(fmt::format("States.Runtime: Invalid path '{}' : No results for path: $['{}']",
                                             path->text, path->text));
        }
        operand = std::move(v).value();
      }
      return Compare(*variable, operand, c->first);
    }
  }
  return false;
}

}  // namespace loam::workflows
