// The AWS JSON route, driven through the Router the way the server drives it.
#include "api/aws/aws_json.h"

#include <gtest/gtest.h>

#include "api/aws/aws_errors.h"

namespace loam::api::aws {
namespace {

using Json = nlohmann::json;

class AwsJsonRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AwsJsonService service{.target_prefix = "SageMaker.", .model = ServiceModel::SageMaker()};
    service.operations["DescribeTrainingJob"] = [this](const Json& input) -> StatusOr<Json> {
      last_input_ = input;
      std::string name = input.at("TrainingJobName");
      if (name == "taken") return AlreadyExists("Training job taken already exists");
      if (name == "missing") return AwsError(StatusCode::kNotFound, kResourceNotFound, "Could not find job");
      if (name == "gone") return NotFound("Requested resource not found.");
      if (name == "broken") return Internal("disk full");
      if (name == "throws") throw std::runtime_error("boom");
      return Json{{"TrainingJobName", name}, {"TrainingJobStatus", "InProgress"}};
    };
    service.operations["ListTrainingJobs"] = [](const Json&) -> StatusOr<Json> {
      return Json{{"TrainingJobSummaries", Json::array()}};
    };
    AddAwsJsonService(router_, std::move(service), "sagemaker");
  }

  // What the server does: match by method, path and X-Amz-Target, then call the handler.
  http::Response Call(const std::string& target, std::string body, std::string* route_name = nullptr) {
    http::Request req;
    req.method = "POST";
    req.path = req.raw_path = req.target = "/";
    req.headers = {{"x-amz-target", target},
                   {"content-type", "application/x-amz-json-1.1"},
                   {"authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240101/us-east-1/sagemaker/"
                                     "aws4_request, SignedHeaders=host;x-amz-date, Signature=deadbeef"}};
    req.body = std::move(body);
    http::RouteMatch match = router_.Match(req.method, req.path, target);
    EXPECT_NE(match.route, nullptr) << target;
    if (!match.route) return {};
    if (route_name) *route_name = match.route->name;
    return match.route->handler(req);
  }

  static std::string HeaderOf(const http::Response& res, const std::string& name) {
    for (const auto& [k, v] : res.headers) {
      if (k == name) return v;
    }
    return "";
  }

  static void ExpectError(const http::Response& res, unsigned status, std::string_view type) {
    EXPECT_EQ(res.status, status);
    EXPECT_EQ(res.content_type, "application/x-amz-json-1.1");
    Json body = Json::parse(res.body);
    EXPECT_EQ(body["__type"], type) << res.body;
    EXPECT_EQ(body["message"], body["Message"]);
    EXPECT_EQ(HeaderOf(res, "x-amzn-ErrorType"), type);
    EXPECT_EQ(HeaderOf(res, "x-amzn-RequestId").size(), 36u);
  }

  http::Router router_;
  Json last_input_;
};

TEST_F(AwsJsonRouteTest, AnswersTheOperationResultAsAwsJson) {
  std::string route;
  http::Response res = Call("SageMaker.DescribeTrainingJob", R"({"TrainingJobName": "job-1"})", &route);
  EXPECT_EQ(route, "sagemaker.DescribeTrainingJob");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(res.content_type, "application/x-amz-json-1.1");
  EXPECT_EQ(Json::parse(res.body), (Json{{"TrainingJobName", "job-1"}, {"TrainingJobStatus", "InProgress"}}));
  EXPECT_EQ(HeaderOf(res, "x-amzn-RequestId").size(), 36u);
  EXPECT_EQ(last_input_["TrainingJobName"], "job-1");
}

TEST_F(AwsJsonRouteTest, TreatsAnEmptyBodyAsAnEmptyObject) {
  http::Response res = Call("SageMaker.ListTrainingJobs", "");
  EXPECT_EQ(res.status, 200u);
  EXPECT_EQ(Json::parse(res.body), (Json{{"TrainingJobSummaries", Json::array()}}));
}

TEST_F(AwsJsonRouteTest, RejectsBodiesThatAreNotJsonObjects) {
  ExpectError(Call("SageMaker.ListTrainingJobs", "{not json"), 400, "SerializationException");
  ExpectError(Call("SageMaker.ListTrainingJobs", "[1, 2]"), 400, "SerializationException");
  ExpectError(Call("SageMaker.DescribeTrainingJob", R"({"TrainingJobName": 7})"), 400, "SerializationException");
}

TEST_F(AwsJsonRouteTest, RejectsUnknownOperations) {
  std::string route;
  http::Response res = Call("SageMaker.CreateNotebookInstance", "{}", &route);
  EXPECT_EQ(route, "sagemaker.unknown");
  ExpectError(res, 400, "UnknownOperationException");
  // A registered name as a mere prefix of the target is not that operation.
  ExpectError(Call("SageMaker.ListTrainingJobsForHyperParameterTuningJob", "{}"), 400, "UnknownOperationException");
}

TEST_F(AwsJsonRouteTest, ValidatesBeforeCallingTheOperation) {
  http::Response res = Call("SageMaker.DescribeTrainingJob", R"({"TrainingJobName": "bad name!"})");
  ExpectError(res, 400, "ValidationException");
  EXPECT_EQ(Json::parse(res.body)["message"],
            "1 validation error detected: Value 'bad name!' at 'trainingJobName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  EXPECT_TRUE(last_input_.is_null()) << "the operation was not called";
}

TEST_F(AwsJsonRouteTest, MapsStatusesToAwsErrorTypes) {
  ExpectError(Call("SageMaker.DescribeTrainingJob", R"({"TrainingJobName": "taken"})"), 400, "ResourceInUse");
  ExpectError(Call("SageMaker.DescribeTrainingJob", R"({"TrainingJobName": "gone"})"), 400, "ValidationException");
  http::Response res = Call("SageMaker.DescribeTrainingJob", R"({"TrainingJobName": "missing"})");
  ExpectError(res, 400, "ResourceNotFound");
  EXPECT_EQ(Json::parse(res.body)["message"], "Could not find job");
  ExpectError(Call("SageMaker.DescribeTrainingJob", R"({"TrainingJobName": "broken"})"), 500, "InternalFailure");
  ExpectError(Call("SageMaker.DescribeTrainingJob", R"({"TrainingJobName": "throws"})"), 500, "InternalFailure");
}

TEST(AwsErrors, DefaultTypesPerStatusCode) {
  EXPECT_EQ(ToAwsError(InvalidArgument("x")).type, "ValidationException");
  EXPECT_EQ(ToAwsError(NotFound("x")).type, "ValidationException");
  EXPECT_EQ(ToAwsError(FailedPrecondition("x")).type, "ValidationException");
  EXPECT_EQ(ToAwsError(AlreadyExists("x")).type, "ResourceInUse");
  EXPECT_EQ(ToAwsError(ResourceExhausted("x")).type, "ResourceLimitExceeded");
  AwsErrorReply unimplemented = ToAwsError(Unimplemented("x"));
  EXPECT_EQ(unimplemented.type, "NotImplementedException");
  EXPECT_EQ(unimplemented.http_status, 400u);
  AwsErrorReply internal = ToAwsError(Internal("x"));
  EXPECT_EQ(internal.type, "InternalFailure");
  EXPECT_EQ(internal.http_status, 500u);
  AwsErrorReply typed = ToAwsError(AwsError(StatusCode::kNotFound, "ResourceNotFound", "no such model"));
  EXPECT_EQ(typed.type, "ResourceNotFound");
  EXPECT_EQ(typed.message, "no such model");
  EXPECT_EQ(typed.http_status, 400u);
}

}  // namespace
}  // namespace loam::api::aws
