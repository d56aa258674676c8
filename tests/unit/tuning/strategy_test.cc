#include "tuning/strategy.h"

#include <set>

#include <gtest/gtest.h>

namespace loam::tuning {
namespace {

SearchSpace MixedSpace() {
  return std::move(SearchSpace::Create({ParameterRange::Continuous("lr", 1e-4, 1.0),
                                        ParameterRange::Integer("layers", 1, 8),
                                        ParameterRange::Categorical("opt", {"sgd", "adam"})}))
      .value();
}

std::vector<std::string> Keys(const std::vector<Configuration>& cs) {
  std::vector<std::string> k;
  for (const auto& c : cs) k.push_back(ConfigurationKey(c));
  return k;
}

TEST(StrategyTest, FactoryKnowsNames) {
  auto space = MixedSpace();
  EXPECT_TRUE(MakeStrategy("Random", space, {}).ok());
  EXPECT_TRUE(MakeStrategy("Bayesian", space, {}).ok());
  auto h = MakeStrategy("Hyperband", space, {});
  ASSERT_FALSE(h.ok());
  EXPECT_EQ(h.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(StrategyNames().size(), 3u);
}

TEST(StrategyTest, RandomIsReproducibleAndValid) {
  auto space = MixedSpace();
  auto a = std::move(MakeStrategy("Random", space, {.seed = 7})).value();
  auto b = std::move(MakeStrategy("Random", space, {.seed = 7})).value();
  auto c = std::move(MakeStrategy("Random", space, {.seed = 8})).value();
  auto ra = a->Suggest(20, {});
  auto rb = b->Suggest(20, {});
  auto rc = c->Suggest(20, {});
  ASSERT_TRUE(ra.ok() && rb.ok() && rc.ok());
  EXPECT_EQ(Keys(*ra), Keys(*rb));
  EXPECT_NE(Keys(*ra), Keys(*rc));
  for (const auto& cfg : *ra) EXPECT_TRUE(space.Validate(cfg).ok());
  EXPECT_FALSE(a->Suggest(0, {}).ok());
}

TEST(StrategyTest, GridRejectsContinuous) {
  auto g = MakeStrategy("Grid", MixedSpace(), {});
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kInvalidArgument);
}

TEST(StrategyTest, GridOrderAndExhaustion) {
  auto space = std::move(SearchSpace::Create({ParameterRange::Categorical("opt", {"sgd", "adam"}),
                                              ParameterRange::Integer("k", 1, 3)}))
                   .value();
  auto g = std::move(MakeStrategy("Grid", space, {})).value();
  std::vector<Trial> history;
  auto first = g->Suggest(4, history);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(Keys(*first), (std::vector<std::string>{"k=1,opt=sgd", "k=2,opt=sgd", "k=3,opt=sgd", "k=1,opt=adam"}));
  for (auto& c : *first) history.push_back({.config = c, .status = TrialStatus::kCompleted, .objective = 1.0});
  auto rest = g->Suggest(10, history);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(Keys(*rest), (std::vector<std::string>{"k=2,opt=adam", "k=3,opt=adam"}));
  auto done = g->Suggest(1, history);
  ASSERT_FALSE(done.ok());
  EXPECT_EQ(done.status().code(), StatusCode::kResourceExhausted);
}

TEST(StrategyTest, GridSkipsConfigurationsAlreadyInHistory) {
  auto space = std::move(SearchSpace::Create({ParameterRange::Integer("k", 1, 4)})).value();
  auto g = std::move(MakeStrategy("Grid", space, {})).value();
  std::vector<Trial> history = {{.config = {{"k", int64_t{1}}}, .status = TrialStatus::kFailed},
                                {.config = {{"k", int64_t{3}}}, .status = TrialStatus::kPending}};
  auto s = g->Suggest(10, history);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(Keys(*s), (std::vector<std::string>{"k=2", "k=4"}));
}

}  // namespace
}  // namespace loam::tuning
