#include "tuning/early_stopping.h"

#include <gtest/gtest.h>

namespace loam::tuning {
namespace {

// Running averages at step 2 of the others: 2.0, 3.0, 4.0 -> median 3.0.
const std::vector<std::vector<double>> kOthers = {{3, 2, 1, 0.5}, {4, 3, 2, 1}, {5, 4, 3, 2}};

TEST(EarlyStoppingTest, StopsWhenBestSoFarIsWorseThanMedian) {
  auto d = MedianStoppingRule({5, 4, 3.5}, kOthers, ObjectiveType::kMinimize);
  ASSERT_TRUE(d.ok());
  EXPECT_TRUE(d->stop);
  EXPECT_DOUBLE_EQ(d->median, 3.0);
  EXPECT_DOUBLE_EQ(d->best_so_far, 3.5);
  EXPECT_EQ(d->compared, 3);
}

TEST(EarlyStoppingTest, KeepsWhenBestSoFarBeatsMedian) {
  auto d = MedianStoppingRule({5, 2.9, 4}, kOthers, ObjectiveType::kMinimize);  // best so far counts
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->stop);
  auto equal = MedianStoppingRule({3, 3, 3}, kOthers, ObjectiveType::kMinimize);
  EXPECT_FALSE(equal->stop);  // "worse" is strict
}

TEST(EarlyStoppingTest, MaximizeFlipsTheComparison) {
  EXPECT_TRUE(MedianStoppingRule({1, 2, 2.5}, kOthers, ObjectiveType::kMaximize)->stop);
  EXPECT_FALSE(MedianStoppingRule({1, 2, 3.5}, kOthers, ObjectiveType::kMaximize)->stop);
}

TEST(EarlyStoppingTest, NeedsEnoughOtherJobsAtThatStep) {
  // Only two of the others reach step 4.
  std::vector<std::vector<double>> others = {{1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}, {1, 1}};
  auto d = MedianStoppingRule({9, 9, 9, 9, 9}, others, ObjectiveType::kMinimize);
  ASSERT_TRUE(d.ok());
  EXPECT_FALSE(d->stop);
  EXPECT_EQ(d->compared, 2);
  EXPECT_FALSE(MedianStoppingRule({}, others, ObjectiveType::kMinimize).ok());
}

}  // namespace
}  // namespace loam::tuning
