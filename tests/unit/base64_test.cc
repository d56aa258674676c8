#include "common/base64.h"

#include <gtest/gtest.h>

#include <vector>

namespace loam {
namespace {

TEST(Base64, RoundTripsAllPaddings) {
  for (const std::string& s : std::vector<std::string>{"", "a", "ab", "abc", "abcd", "{\"offset\": 100}", std::string("\0\xff\x10", 3)}) {
    auto decoded = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(decoded.has_value()) << s;
    EXPECT_EQ(*decoded, s);
  }
}

TEST(Base64, MatchesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
}

TEST(Base64, RejectsGarbage) {
  EXPECT_FALSE(Base64Decode("abc").has_value());
  EXPECT_FALSE(Base64Decode("ab!d").has_value());
  EXPECT_FALSE(Base64Decode("a=bc").has_value());
}

}  // namespace
}  // namespace loam
