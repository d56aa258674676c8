// The evaluator's limits: an expression a user writes may be wrong, long or deliberately
// expensive, and must still end with an error rather than take the process down or hang it.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "workflows/jsonata/jsonata.h"

namespace loam::jsonata {
namespace {

// The outcome as text: the result as JSON, "undefined", or the error's code.
std::string Outcome(const std::string& text) {
  auto expression = Expression::Compile(text);
  if (!expression.ok()) return expression.status().message().substr(0, 5);
  auto result = expression->Evaluate(Value(), {});
  if (!result.ok()) return result.status().message().substr(0, 5);
  if (result->undefined()) return "undefined";
  auto json = ToJson(*result);
  return json.ok() ? json->dump() : json.status().message().substr(0, 5);
}

std::string Repeat(const std::string& piece, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += piece;
  return out;
}

TEST(JsonataLimits, LongOperatorChainsAreRefusedWhileParsing) {
  EXPECT_EQ(Outcome("a" + Repeat(".a", 200000)), "S0201");
  EXPECT_EQ(Outcome("1" + Repeat("+1", 200000)), "S0201");
  EXPECT_EQ(Outcome("true" + Repeat(" and true", 200000)), "S0201");
  EXPECT_EQ(Outcome(Repeat("(", 100000) + "1" + Repeat(")", 100000)), "S0201");
  EXPECT_EQ(Outcome("1" + Repeat("+1", 300)), "301");  // long, but within the limit
}

TEST(JsonataLimits, DeeplyNestedClosuresAreFreedWithoutRecursion) {
  // 200,000 closures, each over the one before: freeing them must not recurse 200,000 deep.
  EXPECT_EQ(Outcome("($f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, function(){ $acc }) }; $count($f(200000, 1)))"),
            "1");
}

TEST(JsonataLimits, ChainsOfComposedFunctionsStopAtTheDepthLimit) {
  EXPECT_EQ(Outcome("($f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, $acc ~> $string) }; $f(100000, $uppercase))('a')"),
            "U1001");
}

TEST(JsonataLimits, ValuesNestedTooDeeplyOrTooLargeAreErrors) {
  EXPECT_EQ(Outcome("($f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, {'a': $acc}) }; $f(100000, 1))"), "U1003");
  EXPECT_EQ(Outcome("($f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, {'a': $acc, 'b': $acc}) }; $string($f(40, 1)))"),
            "U1004");
  EXPECT_EQ(Outcome("($f := function($n, $acc){ $n = 0 ? $acc : $f($n - 1, $acc & $acc) }; $length($f(40, 'x')))"), "U1004");
}

TEST(JsonataLimits, EndlessLoopsRunOutOfSteps) {
  EXPECT_EQ(Outcome("($f := function($n){ $f($n + 1) }; $f(0))"), "U1002");
}

TEST(JsonataLimits, RangesPastTwoToTheFiftyThirdEnd) {
  // 9007199254740993 reads as ...992: stepping by adding one to a double would stop there for ever.
  EXPECT_EQ(Outcome("$count([9007199254740990..9007199254740993])"), "3");
  EXPECT_EQ(Outcome("[1..100000000]"), "D2014");
}

TEST(JsonataLimits, NumbersOutOfRangeAreSyntaxErrors) {
  EXPECT_EQ(Outcome("1e400"), "S0102");
  EXPECT_EQ(Outcome("1e-400"), "0");
}

TEST(JsonataLimits, CallsWithThousandsOfArgumentsAreRefused) {
  std::string args = "1";
  for (int i = 0; i < 40000; ++i) args += ",1";
  EXPECT_EQ(Outcome("$sum(" + args + ")"), "T0410");
  EXPECT_EQ(Outcome("function($a)<n+>{1}(" + args + ")"), "T0410");
}

TEST(JsonataLimits, AThreadEndsCleanlyAfterCachingExpressions) {
  // The per-thread expression cache holds values (a regex literal) that are freed as the thread
  // ends, after the thread's other objects: freeing them must not touch anything already gone.
  std::string outcome;
  std::thread worker([&outcome] {
    auto expression = CachedExpression("$map(['a1', 'b2'], function($s){ $match($s, /[0-9]/).match })");
    if (!expression.ok()) return;
    auto result = (*expression)->Evaluate(Value(), {});
    if (result.ok()) outcome = Stringify(*result);
  });
  worker.join();
  EXPECT_EQ(outcome, "[\"1\",\"2\"]");
}

}  // namespace
}  // namespace loam::jsonata
