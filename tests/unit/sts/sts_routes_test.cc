// The STS Query-protocol route, driven through the Router the way the server drives it, next
// to S3's catch-all routes on "/".
#include "api/sts/sts_routes.h"

#include <gtest/gtest.h>

#include "objects/xml.h"

namespace loam::api::sts {
namespace {

class StsRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Stand-ins for S3's catch-all routes: they must not take form-encoded POST /.
    for (std::string method : {"GET", "POST", "PUT"}) {
      router_.Add({.name = "s3", .methods = {method}, .path = "/", .prefix = true,
                   .handler = [](http::Request&) { return http::Response::Text(200, "s3"); }});
    }
    AddRoutes(router_, {.account = "000000000000"});
  }

  http::Response Call(std::string body,
                      std::string content_type = "application/x-www-form-urlencoded; charset=utf-8",
                      std::string* route_name = nullptr) {
    http::Request req;
    req.method = "POST";
    req.path = req.raw_path = req.target = "/";
    req.headers = {{"content-type", content_type}};
    req.body = std::move(body);
    http::RouteMatch match = router_.Match(req.method, req.path, "", content_type);
    EXPECT_NE(match.route, nullptr);
    if (!match.route) return {};
    if (route_name) *route_name = match.route->name;
    return match.route->handler(req);
  }

  static objects::XmlElement Parse(const http::Response& res) {
    auto doc = objects::ParseXml(res.body);
    EXPECT_TRUE(doc.ok()) << doc.status().ToString() << "\n" << res.body;
    return doc.ok() ? *doc : objects::XmlElement{};
  }

  static std::string HeaderOf(const http::Response& res, const std::string& name) {
    for (const auto& [k, v] : res.headers) {
      if (k == name) return v;
    }
    return "";
  }

  static void ExpectError(const http::Response& res, unsigned status, std::string_view code,
                          std::string_view message) {
    EXPECT_EQ(res.status, status) << res.body;
    EXPECT_EQ(res.content_type, "text/xml");
    objects::XmlElement doc = Parse(res);
    EXPECT_EQ(doc.name, "ErrorResponse");
    const objects::XmlElement* error = doc.Child("Error");
    ASSERT_NE(error, nullptr) << res.body;
    ASSERT_NE(error->Child("Type"), nullptr);
    EXPECT_EQ(error->Child("Type")->text, status >= 500 ? "Receiver" : "Sender");
    ASSERT_NE(error->Child("Code"), nullptr);
    EXPECT_EQ(error->Child("Code")->text, code);
    ASSERT_NE(error->Child("Message"), nullptr);
    EXPECT_EQ(error->Child("Message")->text, message);
    ASSERT_NE(doc.Child("RequestId"), nullptr);
    EXPECT_EQ(doc.Child("RequestId")->text, HeaderOf(res, "x-amzn-RequestId"));
  }

  http::Router router_;
};

TEST_F(StsRouteTest, GetCallerIdentityAnswersTheAccountsRoot) {
  std::string route;
  http::Response res =
      Call("Action=GetCallerIdentity&Version=2011-06-15", "application/x-www-form-urlencoded; charset=utf-8", &route);
  EXPECT_EQ(route, "sts");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.content_type, "text/xml");
  EXPECT_NE(res.body.find("xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\""), std::string::npos) << res.body;
  objects::XmlElement doc = Parse(res);
  EXPECT_EQ(doc.name, "GetCallerIdentityResponse");
  const objects::XmlElement* result = doc.Child("GetCallerIdentityResult");
  ASSERT_NE(result, nullptr) << res.body;
  EXPECT_EQ(result->Child("Account")->text, "000000000000");
  EXPECT_EQ(result->Child("Arn")->text, "arn:aws:iam::000000000000:root");
  EXPECT_EQ(result->Child("UserId")->text, "000000000000");
  const objects::XmlElement* meta = doc.Child("ResponseMetadata");
  ASSERT_NE(meta, nullptr);
  std::string request_id = meta->Child("RequestId")->text;
  EXPECT_EQ(request_id.size(), 36u);
  EXPECT_EQ(request_id, HeaderOf(res, "x-amzn-RequestId"));
}

TEST_F(StsRouteTest, AcceptsParametersInAnyOrderAndPercentEncoded) {
  http::Response res = Call("Version=2011-06-15&Action=Get%43allerIdentity", "application/x-www-form-urlencoded");
  EXPECT_EQ(res.status, 200u) << res.body;
}

TEST_F(StsRouteTest, UnknownActionIsInvalidAction) {
  ExpectError(Call("Action=AssumeRole&Version=2011-06-15&RoleArn=x"), 400, "InvalidAction",
              "Could not find operation AssumeRole for version 2011-06-15");
}

TEST_F(StsRouteTest, OtherVersionIsInvalidAction) {
  ExpectError(Call("Action=GetCallerIdentity&Version=2011-06-16"), 400, "InvalidAction",
              "Could not find operation GetCallerIdentity for version 2011-06-16");
}

TEST_F(StsRouteTest, MissingActionOrVersion) {
  ExpectError(Call("Version=2011-06-15"), 400, "MissingAction", "The request must contain the parameter Action.");
  ExpectError(Call(""), 400, "MissingAction", "The request must contain the parameter Action.");
  ExpectError(Call("Action=&Version=2011-06-15"), 400, "MissingAction",
              "The request must contain the parameter Action.");
  ExpectError(Call("Action=GetCallerIdentity"), 400, "MissingParameter",
              "The request must contain the parameter Version.");
}

TEST_F(StsRouteTest, MessagesEchoingTheRequestAreEscaped) {
  http::Response res = Call("Action=%3Cx%3E%26&Version=1");
  ExpectError(res, 400, "InvalidAction", "Could not find operation <x>& for version 1");
  EXPECT_NE(res.body.find("&lt;x&gt;&amp;"), std::string::npos) << res.body;
}

TEST_F(StsRouteTest, OtherPostsToSlashStillReachS3) {
  std::string route;
  Call("<Delete/>", "application/xml", &route);
  EXPECT_EQ(route, "s3");
}

TEST(StsErrors, StatusesMapToQueryErrors) {
  http::Response big = StsErrorResponse(ResourceExhausted("too big"));
  EXPECT_EQ(big.status, 413u);
  EXPECT_NE(big.body.find("<Code>RequestEntityTooLarge</Code>"), std::string::npos);
  http::Response internal = StsErrorResponse(Internal("disk"));
  EXPECT_EQ(internal.status, 500u);
  EXPECT_NE(internal.body.find("<Type>Receiver</Type>"), std::string::npos);
  EXPECT_NE(internal.body.find("<Code>InternalFailure</Code>"), std::string::npos);
}

}  // namespace
}  // namespace loam::api::sts
