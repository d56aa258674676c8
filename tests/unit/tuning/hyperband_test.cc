#include "tuning/hyperband.h"

#include <gtest/gtest.h>

namespace loam::tuning {
namespace {

TEST(HyperbandTest, BracketsAndRungs) {
  auto s = HyperbandSchedule::Create({1, 9, 3});
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->brackets(), 3);
  EXPECT_EQ(s->Rungs(0), (std::vector<int>{1, 3}));
  EXPECT_EQ(s->Rungs(1), (std::vector<int>{3}));
  EXPECT_EQ(s->Rungs(2), (std::vector<int>{}));
  EXPECT_EQ(s->BracketOf(1), 0);
  EXPECT_EQ(s->BracketOf(2), 1);
  EXPECT_EQ(s->BracketOf(3), 2);
  EXPECT_EQ(s->BracketOf(4), 0);
  auto wide = HyperbandSchedule::Create({2, 100, 3});
  ASSERT_TRUE(wide.ok());
  EXPECT_EQ(wide->brackets(), 4);  // 2, 6, 18, 54 <= 100
  EXPECT_EQ(wide->Rungs(0), (std::vector<int>{2, 6, 18, 54}));
  auto single = HyperbandSchedule::Create({5, 5, 3});
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->brackets(), 1);
  EXPECT_TRUE(single->Rungs(0).empty());
}

TEST(HyperbandTest, RejectsBadOptions) {
  EXPECT_FALSE(HyperbandSchedule::Create({0, 9, 3}).ok());
  EXPECT_FALSE(HyperbandSchedule::Create({10, 9, 3}).ok());
  EXPECT_FALSE(HyperbandSchedule::Create({1, 9, 1}).ok());
}

TEST(HyperbandTest, KeepsTheBestThirdAtARung) {
  auto s = HyperbandSchedule::Create({1, 9, 3});
  ASSERT_TRUE(s.ok());
  const std::vector<double> rung = {1, 2, 3, 4, 5, 6, 7};  // 1/3-quantile = 3
  EXPECT_TRUE(s->Continues(1, rung, ObjectiveType::kMinimize));
  EXPECT_TRUE(s->Continues(3, rung, ObjectiveType::kMinimize));
  EXPECT_FALSE(s->Continues(4, rung, ObjectiveType::kMinimize));
  EXPECT_TRUE(s->Continues(7, rung, ObjectiveType::kMaximize));  // 2/3-quantile = 5
  EXPECT_TRUE(s->Continues(5, rung, ObjectiveType::kMaximize));
  EXPECT_FALSE(s->Continues(4, rung, ObjectiveType::kMaximize));
}

TEST(HyperbandTest, AloneAtARungAJobContinues) {
  auto s = HyperbandSchedule::Create({1, 9, 3});
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->Continues(100, {100}, ObjectiveType::kMinimize));
  EXPECT_FALSE(s->Continues(8, {0.1, 8}, ObjectiveType::kMinimize));  // cutoff 0.1 + (8 - 0.1) / 3
  EXPECT_TRUE(s->Continues(0.1, {0.1, 8}, ObjectiveType::kMinimize));
}

}  // namespace
}  // namespace loam::tuning
