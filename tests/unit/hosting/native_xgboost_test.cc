// The native XGBoost server's pieces that need no model: Python's float formatting (the
// Python worker's answers are matched byte for byte) and a model file libxgboost refuses.
#include "hosting/native_xgboost.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <limits>

#include "test_util.h"

namespace loam::hosting {
namespace {

TEST(PythonFloatRepr, MatchesPythonRepr) {
  // Expected values printed by CPython's repr().
  const std::pair<double, const char*> cases[] = {
      {1.0, "1.0"},
      {0.1, "0.1"},
      {1e-05, "1e-05"},
      {0.0001, "0.0001"},
      {1.5e+16, "1.5e+16"},
      {1e+16, "1e+16"},
      {1.2345678901234568e+17, "1.2345678901234568e+17"},
      {6.075398921966553, "6.075398921966553"},
      {-2.5, "-2.5"},
      {100.0, "100.0"},
      {1000000000000000.0, "1000000000000000.0"},
      {123456.789, "123456.789"},
      {static_cast<double>(0.3f), "0.30000001192092896"},
      {5e-324, "5e-324"},
      {1.7976931348623157e+308, "1.7976931348623157e+308"},
      {-0.0, "-0.0"},
      {0.00012345, "0.00012345"},
      {std::numeric_limits<double>::infinity(), "inf"},
      {std::nan(""), "nan"},
  };
  for (const auto& [value, expected] : cases) EXPECT_EQ(PythonFloatRepr(value), expected) << expected;
}

TEST(XgboostModel, FileThatIsNotAModelIsRefusedWithTheLibrarysReason) {
  testing::ScratchDir dir;
  std::ofstream(dir.path() / "xgboost-model") << "not a model";
  auto model = XgboostModel::Load(dir.path() / "xgboost-model");
  ASSERT_FALSE(model.ok());
  EXPECT_EQ(model.status().code(), StatusCode::kInvalidArgument);
  const std::string message(model.status().message());
  EXPECT_NE(message.find("libxgboost " + XgboostModel::LibraryVersion() + " cannot load"), std::string::npos) << message;
  EXPECT_EQ(message.find("Stack trace"), std::string::npos) << message;
}

}  // namespace
}  // namespace loam::hosting
