// The States Language's paths: parsing, selecting, and writing a result in place.
#include "workflows/json_path.h"

#include <gtest/gtest.h>

#include "workflows/timestamps.h"

namespace loam::workflows {
namespace {

using nlohmann::json;

json Doc() {
  return json::parse(R"({"a": {"b": [10, 20, 30], "name with spaces": 1}, "list": [{"x": 1}, {"x": 2}, {"y": 3}]})");
}

TEST(JsonPath, ReferencePathsSelectOneNode) {
  auto select = [](const std::string& text) { return Select(Doc(), *ParsePath(text)); };
  EXPECT_EQ(*select("$"), Doc());
  EXPECT_EQ(*select("$.a.b[1]"), json(20));
  EXPECT_EQ(*select("$.a.b[-1]"), json(30));
  EXPECT_EQ(*select("$['a']['name with spaces']"), json(1));
  EXPECT_EQ(*select("$.a[\"b\"][0]"), json(10));
  EXPECT_EQ(select("$.a.missing").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(select("$.a.b[3]").status().code(), StatusCode::kNotFound);
}

TEST(JsonPath, WildcardsAndSlicesSelectLists) {
  auto select = [](const std::string& text) { return Select(Doc(), *ParsePath(text)); };
  EXPECT_EQ(*select("$.list[*].x"), json::parse("[1, 2]"));
  EXPECT_EQ(*select("$.a.b[1:]"), json::parse("[20, 30]"));
  EXPECT_EQ(*select("$.a.b[:-1]"), json::parse("[10, 20]"));
  EXPECT_EQ(*select("$.list.*.y"), json::parse("[3]"));
  EXPECT_FALSE(ParsePath("$.list[*].x")->IsReference());
}

TEST(JsonPath, ContextPathsAndBadPaths) {
  auto p = ParsePath("$$.Execution.Input['Create Model'].ModelName");
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->context);
  json ctx = {{"Execution", {{"Input", {{"Create Model", {{"ModelName", "m"}}}}}}}};
  EXPECT_EQ(*Select(ctx, *p), json("m"));
  EXPECT_FALSE(ParsePath("a.b").ok());
  EXPECT_FALSE(ParsePath("$.").ok());
  EXPECT_FALSE(ParsePath("$['unterminated").ok());
  EXPECT_FALSE(ParsePath("$[x]").ok());
}

TEST(JsonPath, FiltersSelectTheItemsWhoseFieldComparesWithALiteral) {
  const json metrics = json::parse(R"({"FinalMetricDataList": [
      {"MetricName": "train:loss", "Value": 0.5}, {"MetricName": "validation:rmse", "Value": 52.1},
      {"MetricName": "validation:r2", "Value": 0.41, "Extra": true}]})");
  auto select = [&](const char* text) {
    auto p = ParsePath(text);
    EXPECT_TRUE(p.ok()) << text << ": " << p.status().message();
    EXPECT_FALSE(p->IsReference());
    return *Select(metrics, *p);
  };
  EXPECT_EQ(select("$.FinalMetricDataList[?(@.MetricName == 'validation:rmse')].Value"), json({52.1}));
  EXPECT_EQ(select("$.FinalMetricDataList[?(@.MetricName=='validation:rmse')].Value"), json({52.1}));
  EXPECT_EQ(select("$.FinalMetricDataList[?(@.Value < 1)].MetricName"), json({"train:loss", "validation:r2"}));
  EXPECT_EQ(select("$.FinalMetricDataList[?(@.Value >= 52.1)].MetricName"), json({"validation:rmse"}));
  EXPECT_EQ(select("$.FinalMetricDataList[?(@.MetricName != 'train:loss')].Value"), json({52.1, 0.41}));
  EXPECT_EQ(select("$.FinalMetricDataList[?(@.Extra)].MetricName"), json({"validation:r2"}));
  EXPECT_EQ(select("$.FinalMetricDataList[?(@.Extra == true)].Value"), json({0.41}));
  EXPECT_EQ(select("$.FinalMetricDataList[?(@.MetricName == 'a)]b')].Value"), json::array());
  EXPECT_EQ(select("$.FinalMetricDataList[?(@.Value > 'text')].Value"), json::array());  // numbers never order against strings
  EXPECT_FALSE(ParsePath("$.list[?(@.a = 1)]").ok());
  EXPECT_FALSE(ParsePath("$.list[?(.a == 1)]").ok());
  EXPECT_FALSE(ParsePath("$.list[?(@.a == {)]").ok());
  EXPECT_FALSE(ParsePath("$.list[?(@.a == 1]").ok());
  EXPECT_FALSE(ParsePath("$.list[?@.a]").ok());
}

TEST(JsonPath, AssignCreatesObjectsOnTheWayAndRefusesNonObjects) {
  json doc = {{"a", 1}};
  ASSERT_TRUE(Assign(doc, *ParsePath("$.r.s"), json("v")).ok());
  EXPECT_EQ(doc, json::parse(R"({"a": 1, "r": {"s": "v"}})"));
  ASSERT_TRUE(Assign(doc, *ParsePath("$"), json(5)).ok());
  EXPECT_EQ(doc, json(5));
  json scalar = {{"a", 1}};
  EXPECT_FALSE(Assign(scalar, *ParsePath("$.a.b"), json(1)).ok());
  EXPECT_FALSE(Assign(scalar, *ParsePath("$.list[*]"), json(1)).ok());
}

TEST(Timestamps, Rfc3339AsTheStatesLanguageWritesThem) {
  EXPECT_EQ(ParseTimestamp("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseTimestamp("2016-03-14T01:59:00Z"), int64_t{1457920740} * 1000000);
  EXPECT_EQ(ParseTimestamp("2016-03-14T01:59:00.5Z"), int64_t{1457920740} * 1000000 + 500000);
  EXPECT_EQ(ParseTimestamp("2016-03-14T03:59:00+02:00"), int64_t{1457920740} * 1000000);
  EXPECT_FALSE(ParseTimestamp("2016-03-14 01:59:00Z"));
  EXPECT_FALSE(ParseTimestamp("2016-03-14T01:59:00z"));
  EXPECT_FALSE(ParseTimestamp("2016-02-30T01:59:00Z"));
  EXPECT_FALSE(ParseTimestamp("2016-03-14T01:59:00"));
}

}  // namespace
}  // namespace loam::workflows
