#include "tuning/search_space.h"

#include <cmath>

#include <gtest/gtest.h>

namespace loam::tuning {
namespace {

SearchSpace MustCreate(std::vector<ParameterRange> r) {
  auto s = SearchSpace::Create(std::move(r));
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  return std::move(s).value();
}

TEST(SearchSpaceTest, ValidationErrors) {
  using R = ParameterRange;
  const std::vector<std::vector<R>> bad = {
      {},
      {R::Continuous("a", 1, 1)},
      {R::Continuous("a", 2, 1)},
      {R::Continuous("a", 0, 1, ScalingType::kLogarithmic)},
      {R::Continuous("a", -1, 1, ScalingType::kLogarithmic)},
      {R::Continuous("a", 0, 1, ScalingType::kReverseLogarithmic)},
      {R::Continuous("a", -0.1, 0.9, ScalingType::kReverseLogarithmic)},
      {R::Integer("a", 0, 5, ScalingType::kReverseLogarithmic)},
      {R::Integer("a", 0, 10, ScalingType::kLogarithmic)},
      {R::Categorical("a", {})},
      {R::Categorical("a", {"x", "x"})},
      {R::Continuous("a", 0, 1), R::Integer("a", 0, 1)},
      {R::Continuous("", 0, 1)},
      {R::Continuous("a", 0, INFINITY)},
  };
  for (const auto& ranges : bad) {
    auto s = SearchSpace::Create(ranges);
    EXPECT_FALSE(s.ok());
    if (!s.ok()) {
      EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
    }
  }
}

TEST(SearchSpaceTest, AutoScalingRule) {
  auto s = MustCreate({ParameterRange::Continuous("lr", 1e-5, 1e-1), ParameterRange::Continuous("m", 0.1, 99.0),
                       ParameterRange::Continuous("w", 0, 1e6), ParameterRange::Integer("n", 1, 1000)});
  EXPECT_EQ(s.EffectiveScaling(0), ScalingType::kLogarithmic);
  EXPECT_EQ(s.EffectiveScaling(1), ScalingType::kLinear);  // < 3 orders of magnitude
  EXPECT_EQ(s.EffectiveScaling(2), ScalingType::kLinear);  // min = 0
  EXPECT_EQ(s.EffectiveScaling(3), ScalingType::kLogarithmic);
}

TEST(SearchSpaceTest, ScalingRoundTrips) {
  auto s = MustCreate({ParameterRange::Continuous("lin", -3, 7, ScalingType::kLinear),
                       ParameterRange::Continuous("log", 1e-4, 10, ScalingType::kLogarithmic),
                       ParameterRange::Continuous("rev", 0.5, 0.9999, ScalingType::kReverseLogarithmic)});
  for (int i = 0; i < 3; ++i) {
    for (double u : {0.0, 0.1, 0.37, 0.5, 0.9, 1.0}) {
      const double x = s.NumericFromUnit(i, u);
      EXPECT_NEAR(s.NumericToUnit(i, x), u, 1e-12) << i << " " << u;
    }
  }
  EXPECT_NEAR(s.NumericFromUnit(1, 0.5), std::sqrt(1e-4 * 10), 1e-12);  // geometric midpoint
  EXPECT_NEAR(s.NumericFromUnit(2, 0.0), 0.5, 1e-12);
  EXPECT_NEAR(s.NumericFromUnit(2, 1.0), 0.9999, 1e-12);
  // Reverse-log: half of the unit interval covers 1 - x from 0.5 down to ~0.007.
  EXPECT_NEAR(1 - s.NumericFromUnit(2, 0.5), std::sqrt(0.5 * 1e-4), 1e-12);
}

TEST(SearchSpaceTest, ConfigurationRoundTripAndIntegers) {
  auto s = MustCreate({ParameterRange::Integer("k", 1, 5, ScalingType::kLinear),
                       ParameterRange::Categorical("opt", {"sgd", "adam", "rmsprop"}),
                       ParameterRange::Continuous("lr", 1e-4, 1.0)});
  std::vector<int> counts(6, 0);
  for (int i = 0; i <= 1000; ++i) {
    const double u = i / 1000.0;
    auto c = s.FromUnit({u, u, u});
    ASSERT_TRUE(c.ok());
    const int64_t k = std::get<int64_t>(c->at("k"));
    ASSERT_GE(k, 1);
    ASSERT_LE(k, 5);
    ++counts[k];
    auto back = s.ToUnit(*c);
    ASSERT_TRUE(back.ok());
    auto again = s.FromUnit(*back);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(ConfigurationKey(*again), ConfigurationKey(*c));
  }
  for (int k = 1; k <= 5; ++k) EXPECT_NEAR(counts[k], 200, 2);  // integers equally likely
  auto c = s.FromUnit({0.0, 0.99, 0.0});
  EXPECT_EQ(std::get<std::string>(c->at("opt")), "rmsprop");
}

TEST(SearchSpaceTest, ValidateConfiguration) {
  auto s = MustCreate({ParameterRange::Integer("k", 1, 5), ParameterRange::Categorical("o", {"a", "b"})});
  EXPECT_TRUE(s.Validate({{"k", int64_t{3}}, {"o", std::string("a")}}).ok());
  EXPECT_FALSE(s.Validate({{"k", int64_t{6}}, {"o", std::string("a")}}).ok());
  EXPECT_FALSE(s.Validate({{"k", 3.0}, {"o", std::string("a")}}).ok());
  EXPECT_FALSE(s.Validate({{"k", int64_t{3}}, {"o", std::string("c")}}).ok());
  EXPECT_FALSE(s.Validate({{"k", int64_t{3}}}).ok());
  EXPECT_FALSE(s.Validate({{"k", int64_t{3}}, {"o", std::string("a")}, {"z", 1.0}}).ok());
}

TEST(SearchSpaceTest, HyperParameterStrings) {
  EXPECT_EQ(FormatValue(0.1), "0.1");
  EXPECT_EQ(FormatValue(1e-5), "1e-05");
  EXPECT_EQ(FormatValue(int64_t{42}), "42");
  EXPECT_EQ(FormatValue(std::string("adam")), "adam");
  auto s = MustCreate({ParameterRange::Integer("epochs", 1, 50), ParameterRange::Continuous("lr", 0.0, 1.0)});
  auto hp = s.ToHyperParameters({{"epochs", int64_t{10}}, {"lr", 0.25}});
  EXPECT_EQ(hp.at("epochs"), "10");
  EXPECT_EQ(hp.at("lr"), "0.25");
  EXPECT_EQ(*ParseScalingType("ReverseLogarithmic"), ScalingType::kReverseLogarithmic);
  EXPECT_FALSE(ParseScalingType("log").ok());
}

}  // namespace
}  // namespace loam::tuning
