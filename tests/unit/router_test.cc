#include "http/router.h"

#include <gtest/gtest.h>

namespace loam::http {
namespace {

Route Make(std::string name, std::vector<std::string> methods, std::string path, bool prefix = false,
           std::string target = "") {
  return Route{.name = std::move(name), .methods = std::move(methods), .path = std::move(path), .prefix = prefix,
               .amz_target_prefix = std::move(target), .handler = [](Request&) { return Response{}; }};
}

TEST(Router, ExactBeatsPrefixAndLongestPrefixWins) {
  Router r;
  r.Add(Make("fallback", {"GET", "POST"}, "/api/", true));
  r.Add(Make("deep", {"GET"}, "/api/2.0/x/", true));
  r.Add(Make("exact", {"GET"}, "/api/2.0/x/list"));
  EXPECT_EQ(r.Match("GET", "/api/2.0/x/list", "").route->name, "exact");
  EXPECT_EQ(r.Match("GET", "/api/2.0/x/file", "").route->name, "deep");
  EXPECT_EQ(r.Match("GET", "/api/other", "").route->name, "fallback");
  EXPECT_EQ(r.Match("GET", "/nothing", "").route, nullptr);
}

TEST(Router, PicksTheRouteWhoseMethodMatchesAmongEqualPrefixes) {
  Router r;
  r.Add(Make("get", {"GET"}, "/a/", true));
  r.Add(Make("put", {"PUT"}, "/a/", true));
  EXPECT_EQ(r.Match("PUT", "/a/x", "").route->name, "put");
  EXPECT_EQ(r.Match("GET", "/a/x", "").route->name, "get");
  auto m = r.Match("POST", "/a/x", "");
  EXPECT_TRUE(m.method_not_allowed);
}

TEST(Router, ReportsMethodNotAllowedForExactPath) {
  Router r;
  r.Add(Make("create", {"POST"}, "/runs/create"));
  auto m = r.Match("GET", "/runs/create", "");
  ASSERT_NE(m.route, nullptr);
  EXPECT_TRUE(m.method_not_allowed);
}

TEST(Router, RoutesByAmzTarget) {
  Router r;
  r.Add(Make("sagemaker", {"POST"}, "", false, "SageMaker."));
  r.Add(Make("sfn", {"POST"}, "", false, "AWSStepFunctions."));
  EXPECT_EQ(r.Match("POST", "/", "SageMaker.CreateTrainingJob").route->name, "sagemaker");
  EXPECT_EQ(r.Match("POST", "/", "AWSStepFunctions.StartExecution").route->name, "sfn");
  EXPECT_EQ(r.Match("POST", "/", "Other.Op").route, nullptr);
}

}  // namespace
}  // namespace loam::http
