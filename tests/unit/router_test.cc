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

TEST(Router, RoutesFormEncodedPostsByContentTypeAheadOfPathRoutes) {
  Router r;
  r.Add(Make("s3.post", {"POST"}, "/", true));
  r.Add(Make("s3.read", {"GET"}, "/", true));
  r.Add(Make("sagemaker", {"POST"}, "", false, "SageMaker."));
  Route query = Make("sts", {"POST"}, "/");
  query.content_type_prefix = "application/x-www-form-urlencoded";
  r.Add(std::move(query));
  EXPECT_EQ(r.Match("POST", "/", "", "application/x-www-form-urlencoded; charset=utf-8").route->name, "sts");
  EXPECT_EQ(r.Match("POST", "/", "", "Application/X-WWW-Form-Urlencoded").route->name, "sts");
  // Another content type, no content type, another path or method: the routes by path answer.
  EXPECT_EQ(r.Match("POST", "/", "", "application/xml").route->name, "s3.post");
  EXPECT_EQ(r.Match("POST", "/", "").route->name, "s3.post");
  EXPECT_EQ(r.Match("POST", "/bucket", "", "application/x-www-form-urlencoded").route->name, "s3.post");
  EXPECT_EQ(r.Match("GET", "/", "", "application/x-www-form-urlencoded").route->name, "s3.read");
  // A shorter Content-Type than the prefix never matches.
  EXPECT_EQ(r.Match("POST", "/", "", "application/x-www").route->name, "s3.post");
  // X-Amz-Target wins over the Content-Type.
  EXPECT_EQ(r.Match("POST", "/", "SageMaker.ListTrainingJobs", "application/x-www-form-urlencoded").route->name,
            "sagemaker");
}

TEST(Router, ContentTypeRouteNeverAnswersForOtherMethodsOnItsPath) {
  Router r;
  Route query = Make("sts", {"POST"}, "/");
  query.content_type_prefix = "application/x-www-form-urlencoded";
  r.Add(std::move(query));
  r.Add(Make("health", {"GET"}, "/health"));
  EXPECT_EQ(r.Match("GET", "/", "", "application/x-www-form-urlencoded").route, nullptr);
  EXPECT_EQ(r.Match("POST", "/", "", "text/plain").route, nullptr);
  auto m = r.Match("POST", "/health", "", "application/x-www-form-urlencoded");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.route->name, "health");
  EXPECT_TRUE(m.method_not_allowed);
}

}  // namespace
}  // namespace loam::http
