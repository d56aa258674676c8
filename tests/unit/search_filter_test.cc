#include "tracking/search_filter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace loam::tracking {
namespace {

TEST(RunFilter, EmptyFilterHasNoClauses) {
  auto f = ParseRunFilter("");
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->clauses.empty());
  EXPECT_TRUE(ParseRunFilter("   ").ok());
}

TEST(RunFilter, ParsesEveryEntityAndJoinsWithAnd) {
  auto f = ParseRunFilter(
      "metrics.rmse < 0.5 and params.alpha = '0.1' AND tags.\"my tag\" != \"x\" AND attributes.status = 'FINISHED' "
      "AND datasets.name IN ('train', 'test')");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->clauses.size(), 5u);
  EXPECT_EQ(f->clauses[0].entity, EntityType::kMetric);
  EXPECT_EQ(f->clauses[0].op, CompareOp::kLt);
  EXPECT_DOUBLE_EQ(std::get<double>(f->clauses[0].value), 0.5);
  EXPECT_EQ(f->clauses[1].entity, EntityType::kParam);
  EXPECT_EQ(std::get<std::string>(f->clauses[1].value), "0.1");
  EXPECT_EQ(f->clauses[2].key, "my tag");
  EXPECT_EQ(f->clauses[2].op, CompareOp::kNe);
  EXPECT_EQ(f->clauses[3].entity, EntityType::kAttribute);
  EXPECT_EQ(f->clauses[4].entity, EntityType::kDataset);
  EXPECT_EQ(std::get<std::vector<std::string>>(f->clauses[4].value).size(), 2u);
}

TEST(RunFilter, BacktickKeysDottedKeysAndAliases) {
  auto f = ParseRunFilter("metrics.`val loss` >= -1e-3 AND params.model.lr = '3' AND attribute.run_id NOT IN ('a') "
                          "AND run.created > 5 AND tags.t IS NOT NULL AND tags.u IS NULL");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  EXPECT_EQ(f->clauses[0].key, "val loss");
  EXPECT_DOUBLE_EQ(std::get<double>(f->clauses[0].value), -1e-3);
  EXPECT_EQ(f->clauses[1].key, "model.lr");
  EXPECT_EQ(f->clauses[2].key, "run_id");
  EXPECT_EQ(f->clauses[2].op, CompareOp::kNotIn);
  EXPECT_EQ(f->clauses[3].key, "start_time");
  EXPECT_EQ(f->clauses[4].op, CompareOp::kIsNotNull);
  EXPECT_EQ(f->clauses[5].op, CompareOp::kIsNull);
}

TEST(RunFilter, LikeAndILikeOnStrings) {
  auto f = ParseRunFilter("attributes.run_name LIKE 'sgd%' AND tags.team ILIKE '%ML%'");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->clauses[0].op, CompareOp::kLike);
  EXPECT_EQ(f->clauses[1].op, CompareOp::kILike);
}

struct BadFilter {
  const char* filter;
  const char* position;  // expected "position N" in the message
};

class RunFilterErrors : public ::testing::TestWithParam<BadFilter> {};

TEST_P(RunFilterErrors, NamePosition) {
  auto f = ParseRunFilter(GetParam().filter);
  ASSERT_FALSE(f.ok()) << GetParam().filter;
  EXPECT_EQ(f.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(f.status().message().find(GetParam().position), std::string::npos) << f.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, RunFilterErrors,
    ::testing::Values(BadFilter{"metrics.m >> 1", "position 11"},          // a second '>'
                      BadFilter{"metrics.m > 'a'", "position 12"},         // string for a metric
                      BadFilter{"params.p > 'a'", "position 9"},           // ordering on a string
                      BadFilter{"params.p = 1", "position 11"},            // unquoted string value
                      BadFilter{"foo.x = 'a'", "position 0"},              // unknown entity
                      BadFilter{"metrics.a < 1 OR metrics.b < 1", "position 14"},
                      BadFilter{"params.p = 'a' params.q = 'b'", "position 15"},
                      BadFilter{"attributes.nope = 'x'", "position 11"},
                      BadFilter{"tags.t = 'unterminated", "position 9"},
                      BadFilter{"params.p IN 'a'", "position 12"},
                      BadFilter{"metrics.m LIKE '1'", "position 10"},
                      BadFilter{"params.p", "position 8"},
                      BadFilter{"metrics.m ! 1", "position 10"},
                      BadFilter{"params.p IS NULL", "position 9"}),
    [](const ::testing::TestParamInfo<BadFilter>& info) { return "case" + std::to_string(info.index); });

TEST(RunOrderBy, ParsesDirectionAndEntity) {
  auto a = ParseRunOrderBy("metrics.rmse DESC");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->entity, EntityType::kMetric);
  EXPECT_FALSE(a->ascending);
  auto b = ParseRunOrderBy("attributes.start_time");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->ascending);
  EXPECT_EQ(b->key, "start_time");
  auto c = ParseRunOrderBy("params.`learning rate` asc");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->key, "learning rate");
  EXPECT_FALSE(ParseRunOrderBy("metrics.m sideways").ok());
  EXPECT_FALSE(ParseRunOrderBy("datasets.name").ok());
  EXPECT_FALSE(ParseRunOrderBy("").ok());
}

TEST(ExperimentFilter, NameTagsAndTimes) {
  auto f = ParseExperimentFilter("name LIKE 'exp%' AND tags.team = 'ml' AND creation_time > 10");
  ASSERT_TRUE(f.ok()) << f.status().ToString();
  ASSERT_EQ(f->clauses.size(), 3u);
  EXPECT_EQ(f->clauses[0].key, "name");
  EXPECT_EQ(f->clauses[1].entity, EntityType::kTag);
  EXPECT_DOUBLE_EQ(std::get<double>(f->clauses[2].value), 10);
  EXPECT_TRUE(ParseExperimentFilter("attribute.name = 'x'").ok());
  EXPECT_FALSE(ParseExperimentFilter("metrics.m > 1").ok());
  EXPECT_FALSE(ParseExperimentFilter("name > 'a'").ok());
  auto ob = ParseExperimentOrderBy("last_update_time DESC");
  ASSERT_TRUE(ob.ok());
  EXPECT_FALSE(ob->ascending);
}

}  // namespace
}  // namespace loam::tracking

namespace loam::tracking {
namespace {

// Random token soup: parsing never fails other than with InvalidArgument naming a position.
TEST(RunFilter, RandomInputsFailCleanly) {
  const std::vector<std::string> pieces = {"metrics.", "params.", "tags.", "attributes.", "datasets.", "m", "`a b`",
                                           "\"q\"", "'v'", "'", "\"", "`", "=", "!=", "<", ">=", "!", "LIKE", "IN",
                                           "NOT", "IS", "NULL", "AND", "OR", "(", ")", ",", "1.5", "-2e3", "x",
                                           " ", "..", "run_id", "status", "\\", "\xff", "name"};
  std::mt19937 rng(42);
  for (int i = 0; i < 5000; ++i) {
    std::string input;
    int n = std::uniform_int_distribution<int>(0, 12)(rng);
    for (int j = 0; j < n; ++j) input += pieces[std::uniform_int_distribution<size_t>(0, pieces.size() - 1)(rng)];
    for (auto parse : {ParseRunFilter, ParseExperimentFilter, ParseLoggedModelFilter}) {
      auto f = parse(input);
      if (f.ok()) continue;
      ASSERT_EQ(f.status().code(), StatusCode::kInvalidArgument) << input;
      ASSERT_NE(f.status().message().find("position"), std::string::npos) << input;
    }
    auto ob = ParseRunOrderBy(input);
    if (!ob.ok()) {
      ASSERT_EQ(ob.status().code(), StatusCode::kInvalidArgument) << input;
    }
  }
}

}  // namespace
}  // namespace loam::tracking
