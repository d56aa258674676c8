#include "tracking/validation.h"

#include <gtest/gtest.h>

namespace loam::tracking {
namespace {

TEST(Validation, EntityKeys) {
  EXPECT_TRUE(ValidateEntityKey("metric", "val_loss").ok());
  EXPECT_TRUE(ValidateEntityKey("metric", "a/b c-d.e:f").ok());
  EXPECT_FALSE(ValidateEntityKey("metric", "").ok());
  EXPECT_FALSE(ValidateEntityKey("metric", "a/../b").ok());
  EXPECT_FALSE(ValidateEntityKey("metric", "/abs").ok());
  EXPECT_FALSE(ValidateEntityKey("metric", "a//b").ok());
  EXPECT_FALSE(ValidateEntityKey("param", "bad$char").ok());
  EXPECT_FALSE(ValidateEntityKey("param", std::string(251, 'k')).ok());
  EXPECT_TRUE(ValidateEntityKey("param", std::string(250, 'k')).ok());
}

TEST(Validation, ValueLengths) {
  EXPECT_TRUE(ValidateParam({"p", std::string(6000, 'v')}).ok());
  EXPECT_FALSE(ValidateParam({"p", std::string(6001, 'v')}).ok());
  EXPECT_TRUE(ValidateTag({"t", std::string(8000, 'v')}).ok());
  auto s = ValidateTag({"t", std::string(8001, 'v')});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("exceeded length limit of 8000"), std::string::npos);
}

TEST(Validation, BatchLimits) {
  EXPECT_TRUE(ValidateBatchLimits(1000, 0, 0).ok());
  EXPECT_FALSE(ValidateBatchLimits(1001, 0, 0).ok());
  EXPECT_TRUE(ValidateBatchLimits(900, 50, 50).ok());
  EXPECT_FALSE(ValidateBatchLimits(1000, 1, 0).ok());
  EXPECT_FALSE(ValidateBatchLimits(0, 101, 0).ok());
  EXPECT_TRUE(ValidateBatchLimits(0, 100, 100).ok());
  EXPECT_FALSE(ValidateBatchLimits(0, 0, 101).ok());
  EXPECT_FALSE(ValidateBatchLimits(950, 50, 1).ok());
}

TEST(Validation, MaxResults) {
  EXPECT_TRUE(ValidateMaxResults(50000).ok());
  EXPECT_FALSE(ValidateMaxResults(50001).ok());
  EXPECT_FALSE(ValidateMaxResults(0).ok());
}

TEST(Validation, ArtifactPathsCannotEscape) {
  EXPECT_TRUE(ValidateArtifactPath("0/abc/artifacts/model/MLmodel").ok());
  EXPECT_TRUE(ValidateArtifactPath("").ok());
  EXPECT_TRUE(ValidateArtifactPath("a/..b/c").ok());
  EXPECT_FALSE(ValidateArtifactPath("../etc/passwd").ok());
  EXPECT_FALSE(ValidateArtifactPath("a/../../b").ok());
  EXPECT_FALSE(ValidateArtifactPath("/etc/passwd").ok());
  EXPECT_FALSE(ValidateArtifactPath("a/%2e%2e/b").ok());
  EXPECT_FALSE(ValidateArtifactPath("a/%252e%252e/b").ok());
  EXPECT_FALSE(ValidateArtifactPath("%2Fetc%2Fpasswd").ok());
  EXPECT_FALSE(ValidateArtifactPath("a\\..\\b").ok());
  EXPECT_FALSE(ValidateArtifactPath(std::string("a\0b", 3)).ok());
}

TEST(Validation, RunIds) {
  EXPECT_TRUE(ValidateRunId("0123456789abcdef0123456789abcdef").ok());
  EXPECT_FALSE(ValidateRunId("").ok());
  EXPECT_FALSE(ValidateRunId("../x").ok());
  EXPECT_FALSE(ValidateRunId("-abc").ok());
}

}  // namespace
}  // namespace loam::tracking
