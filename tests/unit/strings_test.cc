#include "common/strings.h"

#include <gtest/gtest.h>

#include <cmath>

#include "http/request.h"

namespace loam {
namespace {

TEST(Strings, PercentDecode) {
  EXPECT_EQ(PercentDecode("a%20b", false).value(), "a b");
  EXPECT_EQ(PercentDecode("a+b", false).value(), "a+b");
  EXPECT_EQ(PercentDecode("a+b", true).value(), "a b");
  EXPECT_EQ(PercentDecode("%2e%2E", false).value(), "..");
  EXPECT_FALSE(PercentDecode("%2", false).has_value());
  EXPECT_FALSE(PercentDecode("%zz", false).has_value());
}

TEST(Strings, ParseNumbers) {
  EXPECT_EQ(ParseInt64("123").value(), 123);
  EXPECT_EQ(ParseInt64("-5").value(), -5);
  EXPECT_FALSE(ParseInt64("12a").has_value());
  EXPECT_FALSE(ParseInt64("").has_value());
  EXPECT_DOUBLE_EQ(ParseDouble("1.5e3").value(), 1500);
  EXPECT_TRUE(std::isnan(ParseDouble("NaN").value()));
  EXPECT_TRUE(std::isinf(ParseDouble("-Infinity").value()));
  EXPECT_FALSE(ParseDouble("abc").has_value());
}

TEST(Strings, ParseQueryKeepsRepeatedKeysInOrder) {
  auto q = http::ParseQuery("run_ids=a&run_ids=b&path=x%2Fy&flag");
  ASSERT_EQ(q.size(), 4u);
  EXPECT_EQ(q[0], (std::pair<std::string, std::string>{"run_ids", "a"}));
  EXPECT_EQ(q[1].second, "b");
  EXPECT_EQ(q[2].second, "x/y");
  EXPECT_EQ(q[3].first, "flag");
}

}  // namespace
}  // namespace loam

namespace loam {
namespace {

TEST(Strings, IsValidUtf8) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80"));  // é € 😀
  EXPECT_FALSE(IsValidUtf8("\xff"));
  EXPECT_FALSE(IsValidUtf8("\xc3"));            // truncated
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));        // overlong "/"
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));    // a surrogate
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("a\xe2\x82"));       // truncated at the end
}

}  // namespace
}  // namespace loam
