// The JSONata conformance corpus: every file in tests/conformance/jsonata is one topic, a list of
// expressions with their input, bindings and what the reference implementation (jsonata-js
// 2.0.6) gives for them (see that directory's README.md). One test per file; every case of a file
// runs even after one fails, and each failure names the expression, input and both outcomes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "case_files.h"
#include "workflows/jsonata/jsonata.h"

namespace loam::jsonata {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Doubles from two engines may differ in the last bits (a sum taken in another order); integers
// must be exact, which the relative tolerance gives for any value below 2^40 or so anyway.
bool SameNumber(double a, double b) {
  if (a == b) return true;
  if (!std::isfinite(a) || !std::isfinite(b)) return false;
  return std::fabs(a - b) <= 1e-12 * std::max(std::fabs(a), std::fabs(b));
}

// JSON equality with numbers compared by value (1 and 1.0 are the same JSON number), objects by
// key regardless of order, arrays item by item.
bool Equivalent(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return SameNumber(a.get<double>(), b.get<double>());
  if (a.type() != b.type()) return false;
  if (a.is_array()) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
      if (!Equivalent(a[i], b[i])) return false;
    }
    return true;
  }
  if (a.is_object()) {
    if (a.size() != b.size()) return false;
    for (auto it = a.begin(); it != a.end(); ++it) {
      auto other = b.find(it.key());
      if (other == b.end() || !Equivalent(it.value(), *other)) return false;
    }
    return true;
  }
  return a == b;
}

std::string Describe(const StatusOr<std::optional<json>>& outcome) {
  if (!outcome.ok()) return "error \"" + outcome.status().message() + "\"";
  if (!outcome->has_value()) return "undefined";
  return "result " + (*outcome)->dump();
}

std::string DescribeExpected(const json& kase) {
  if (kase.contains("error")) return "error " + kase["error"].get<std::string>();
  if (kase.contains("undefined")) return "undefined";
  return "result " + kase.at("result").dump();
}

// Compiles and evaluates one case; a syntax error is an outcome like any other. The case is read
// with its keys in the order written, as the reference reads it ($keys and `*` show the order).
StatusOr<std::optional<json>> RunCase(const nlohmann::ordered_json& kase) {
  StatusOr<Expression> expression = Expression::Compile(kase.at("expr").get<std::string>());
  if (!expression.ok()) return expression.status();
  Bindings values;
  if (kase.contains("bindings")) {
    for (const auto& [name, value] : kase["bindings"].items()) values.emplace(name, FromJson(value));
  }
  // No input is undefined, which JSON cannot say.
  const Value input = kase.contains("input") ? FromJson(kase["input"]) : Value();
  EvaluateOptions options;
  options.random_seed = 1;
  StatusOr<Value> result = expression->Evaluate(input, values, options);
  if (!result.ok()) return result.status();
  if (result->undefined()) return std::optional<json>();
  StatusOr<json> out = ToJson(*result);
  if (!out.ok()) return out.status();
  return std::optional<json>(std::move(*out));
}

// Empty when the outcome is what the case expects, otherwise why not.
std::string Mismatch(const json& kase, const StatusOr<std::optional<json>>& outcome) {
  if (kase.contains("error")) {
    const std::string code = kase["error"].get<std::string>();
    if (outcome.ok()) return "expected an error";
    if (outcome.status().message().rfind(code, 0) != 0) return "a different error code";
    return "";
  }
  if (!outcome.ok()) return "unexpected error";
  if (kase.contains("undefined")) return outcome->has_value() ? "expected undefined" : "";
  if (!outcome->has_value()) return "unexpected undefined";
  return Equivalent(**outcome, kase.at("result")) ? "" : "different result";
}

class JsonataConformance : public ::testing::TestWithParam<std::string> {};

TEST_P(JsonataConformance, MatchesTheReference) {
  const fs::path file = fs::path(LOAM_JSONATA_CASES_DIR) / (GetParam() + ".json");
  std::ifstream in(file);
  const auto ordered = nlohmann::ordered_json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(ordered.is_discarded()) << file << " is not valid JSON";
  const json topic = json::parse(ordered.dump());
  const json& cases = topic.at("cases");
  ASSERT_FALSE(cases.empty()) << file << " has no cases";
  int failures = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const json& kase = cases[i];
    const StatusOr<std::optional<json>> outcome = RunCase(ordered.at("cases")[i]);
    const std::string why = Mismatch(kase, outcome);
    if (why.empty()) continue;
    ++failures;
    std::ostringstream report;
    report << GetParam() << " case " << i << ": " << why << "\n  expr:     " << kase["expr"].get<std::string>()
           << "\n  input:    " << (kase.contains("input") ? kase["input"].dump() : "(undefined)");
    if (kase.contains("bindings")) report << "\n  bindings: " << kase["bindings"].dump();
    report << "\n  expected: " << DescribeExpected(kase) << "\n  loam:     " << Describe(outcome);
    ADD_FAILURE() << report.str();
  }
  EXPECT_EQ(failures, 0) << failures << " of " << cases.size() << " cases differ";
}

INSTANTIATE_TEST_SUITE_P(Topics, JsonataConformance, ::testing::ValuesIn(loam::testing::JsonCaseNames(LOAM_JSONATA_CASES_DIR)),
                         [](const ::testing::TestParamInfo<std::string>& info) {
                           std::string name = info.param;
                           for (char& ch : name) {
                             if (!std::isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return name;
                         });

}  // namespace
}  // namespace loam::jsonata
