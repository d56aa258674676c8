#include "api/aws/service_model.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "api/aws/aws_errors.h"

namespace loam::api::aws {
namespace {

TEST(AwsServiceModel, EmbeddedSageMakerModelHasEveryServedOperation) {
  auto model = ServiceModel::SageMaker();
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->target_prefix(), "SageMaker");
  EXPECT_EQ(model->api_version(), "2017-07-24");
  EXPECT_EQ(model->json_version(), "1.1");
  EXPECT_FALSE(model->botocore_version().empty());
  const char* kOperations[] = {
      "CreateTrainingJob", "DescribeTrainingJob", "ListTrainingJobs", "StopTrainingJob", "AddTags", "ListTags",
      "DeleteTags", "CreateProcessingJob", "DescribeProcessingJob", "ListProcessingJobs", "StopProcessingJob",
      "CreateHyperParameterTuningJob", "DescribeHyperParameterTuningJob", "ListHyperParameterTuningJobs",
      "StopHyperParameterTuningJob", "ListTrainingJobsForHyperParameterTuningJob", "CreateModel", "DescribeModel",
      "ListModels", "DeleteModel", "CreateEndpointConfig", "DescribeEndpointConfig", "ListEndpointConfigs",
      "DeleteEndpointConfig", "CreateEndpoint", "DescribeEndpoint", "ListEndpoints", "UpdateEndpoint",
      "DeleteEndpoint", "UpdateEndpointWeightsAndCapacities", "CreateTransformJob", "DescribeTransformJob",
      "ListTransformJobs", "StopTransformJob"};
  for (const char* op : kOperations) EXPECT_TRUE(model->HasOperation(op)) << op;
  EXPECT_EQ(model->OperationNames().size(), std::size(kOperations));
  EXPECT_FALSE(model->HasOperation("CreateNotebookInstance"));
  EXPECT_EQ(ServiceModel::SageMaker(), model) << "parsed once";
}

TEST(AwsServiceModel, EmbeddedStepFunctionsModelValidatesItsOperations) {
  auto model = ServiceModel::StepFunctions();
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->api_version(), "2016-11-23");
  EXPECT_EQ(model->json_version(), "1.0");
  EXPECT_EQ(model->OperationNames().size(), 19u);
  using Json = nlohmann::json;
  EXPECT_TRUE(model->ValidateInput("StartExecution", Json{{"stateMachineArn", "arn:aws:states:us-east-1:1:stateMachine:m"}}).ok());
  Status long_name = model->ValidateInput("CreateStateMachine", Json{{"name", std::string(81, 'a')}, {"definition", "{}"}, {"roleArn", "r"}});
  EXPECT_NE(long_name.message().find("'name'"), std::string::npos) << long_name.message();
  Status no_token = model->ValidateInput("SendTaskSuccess", Json{{"output", "{}"}});
  EXPECT_NE(no_token.message().find("'taskToken'"), std::string::npos) << no_token.message();
}

TEST(AwsServiceModel, EmbeddedSageMakerRuntimeModelValidatesInvokeEndpoint) {
  auto model = ServiceModel::SageMakerRuntime();
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->api_version(), "2017-05-13");
  EXPECT_EQ(model->OperationNames(), std::vector<std::string>{"InvokeEndpoint"});
  using Json = nlohmann::json;
  EXPECT_TRUE(model->ValidateInput("InvokeEndpoint", Json{{"EndpointName", "my-ep"}, {"Body", ""},
                                                          {"ContentType", "text/csv"}, {"TargetVariant", "v1"}})
                  .ok());
  Status bad_name = model->ValidateInput("InvokeEndpoint", Json{{"EndpointName", "bad_name!"}, {"Body", ""}});
  EXPECT_EQ(bad_name.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad_name.message().find("'endpointName'"), std::string::npos) << bad_name.message();
  Status long_attributes = model->ValidateInput(
      "InvokeEndpoint", Json{{"EndpointName", "ep"}, {"Body", ""}, {"CustomAttributes", std::string(1025, 'a')}});
  EXPECT_NE(long_attributes.message().find("'customAttributes'"), std::string::npos) << long_attributes.message();
  Status bad_variant = model->ValidateInput("InvokeEndpoint", Json{{"EndpointName", "ep"}, {"Body", ""}, {"TargetVariant", "-x"}});
  EXPECT_NE(bad_variant.message().find("'targetVariant'"), std::string::npos) << bad_variant.message();
}

TEST(AwsServiceModel, SkipsOnlyTheListedJavaOnlyPatterns) {
  const auto& skipped = ServiceModel::SageMaker()->skipped_patterns();
  // Look-behind is Java-only; the pinned model uses it in ArnOrName.
  EXPECT_TRUE(std::any_of(skipped.begin(), skipped.end(),
                          [](const std::string& p) { return p.find("(?<!-)") != std::string::npos; }));
}

constexpr const char* kTinyModel = R"({
  "metadata": {"targetPrefix": "Tiny", "jsonVersion": "1.0", "apiVersion": "1"%s},
  "operations": {"Put": {"name": "Put", "input": {"shape": "PutInput"}}, "Ping": {"name": "Ping"}},
  "shapes": {
    "PutInput": {"type": "structure", "required": ["Name"], "members": {"Name": {"shape": "Name"}}},
    "Name": {"type": "string", "min": 1, "max": 5, "pattern": "%s"}
  }})";

std::string TinyModel(const std::string& pattern, const std::string& metadata_extra = "") {
  std::string text = kTinyModel;
  text.replace(text.find("%s"), 2, metadata_extra);
  text.replace(text.find("%s"), 2, pattern);
  return text;
}

TEST(AwsServiceModel, ParsesAModelAndValidatesWithIt) {
  auto model = ServiceModel::Parse(TinyModel("[a-z]+"));
  ASSERT_TRUE(model.ok()) << model.status().message();
  EXPECT_TRUE((*model)->ValidateInput("Put", {{"Name", "abc"}}).ok());
  EXPECT_TRUE((*model)->ValidateInput("Ping", nlohmann::json::object()).ok());
  Status s = (*model)->ValidateInput("Put", {{"Name", "ab1"}});
  EXPECT_EQ(s.message(),
            "1 validation error detected: Value 'ab1' at 'name' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-z]+");
}

TEST(AwsServiceModel, RejectsAPatternRe2CannotCompileUnlessListed) {
  auto refused = ServiceModel::Parse(TinyModel("(?!x).+"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("re2IncompatiblePatterns"), std::string::npos);

  auto listed = ServiceModel::Parse(TinyModel("(?!x).+", R"(, "re2IncompatiblePatterns": ["(?!x).+"])"));
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_TRUE((*listed)->ValidateInput("Put", {{"Name", "x"}}).ok()) << "the unenforceable pattern is skipped";
  EXPECT_FALSE((*listed)->ValidateInput("Put", {{"Name", "toolong"}}).ok()) << "other constraints still hold";
}

TEST(AwsServiceModel, RejectsMalformedModels) {
  EXPECT_FALSE(ServiceModel::Parse("not json").ok());
  EXPECT_FALSE(ServiceModel::Parse("[]").ok());
  EXPECT_FALSE(ServiceModel::Parse(R"({"metadata": {}, "operations": {}})").ok());
  EXPECT_FALSE(ServiceModel::Parse(
                   R"({"metadata": {}, "operations": {}, "shapes": {"A": {"type": "list", "member": {"shape": "B"}}}})")
                   .ok());
}

TEST(AwsServiceModel, UnknownOperationIsReportedAsSuch) {
  Status s = ServiceModel::SageMaker()->ValidateInput("Nope", nlohmann::json::object());
  EXPECT_EQ(ToAwsError(s).type, kUnknownOperationException);
}

}  // namespace
}  // namespace loam::api::aws
