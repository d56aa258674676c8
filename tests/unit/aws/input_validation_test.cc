// CreateTrainingJob against the embedded SageMaker model: the messages are AWS's, verbatim.
#include <gtest/gtest.h>

#include <algorithm>

#include "api/aws/aws_errors.h"
#include "api/aws/service_model.h"

namespace loam::api::aws {
namespace {

using Json = nlohmann::json;

Json ValidTrainingJob() {
  return Json::parse(R"json({
    "TrainingJobName": "xgb-churn-2024-01",
    "RoleArn": "arn:aws:iam::123456789012:role/service-role/SageMakerRole",
    "AlgorithmSpecification": {"TrainingImage": "loam/xgboost:1.7", "TrainingInputMode": "File",
                               "MetricDefinitions": [{"Name": "validation:auc", "Regex": "auc=([0-9.]+)"}],
                               "EnableSageMakerMetricsTimeSeries": true},
    "HyperParameters": {"max_depth": "5", "eta": "0.2", "objective": "binary:logistic"},
    "InputDataConfig": [
      {"ChannelName": "train", "ContentType": "text/csv", "CompressionType": "None", "InputMode": "File",
       "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/train/",
                                       "S3DataDistributionType": "FullyReplicated"}}},
      {"ChannelName": "validation",
       "DataSource": {"S3DataSource": {"S3DataType": "S3Prefix", "S3Uri": "s3://bucket/validation/"}}}],
    "OutputDataConfig": {"S3OutputPath": "s3://bucket/output/"},
    "ResourceConfig": {"InstanceType": "ml.m5.xlarge", "InstanceCount": 1, "VolumeSizeInGB": 10,
                       "KeepAlivePeriodInSeconds": 0},
    "StoppingCondition": {"MaxRuntimeInSeconds": 3600, "MaxWaitTimeInSeconds": 7200},
    "Tags": [{"Key": "team", "Value": "ml platform"}],
    "EnableManagedSpotTraining": false,
    "Environment": {"LOG_LEVEL": "debug"},
    "RetryStrategy": {"MaximumRetryAttempts": 2},
    "CheckpointConfig": {"S3Uri": "s3://bucket/checkpoints/", "LocalPath": "/opt/ml/checkpoints"},
    "SomeFutureMember": {"ignored": true}
  })json");
}

Status Validate(const Json& input) { return ServiceModel::SageMaker()->ValidateInput("CreateTrainingJob", input); }

std::string Message(const Json& input) { return Validate(input).message(); }

TEST(AwsValidation, AcceptsAFullValidRequest) {
  Status s = Validate(ValidTrainingJob());
  EXPECT_TRUE(s.ok()) << s.message();
}

TEST(AwsValidation, ReportsAPatternViolation) {
  Json j = ValidTrainingJob();
  j["TrainingJobName"] = "bad name!";
  Status s = Validate(j);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(ToAwsError(s).type, kValidationException);
  EXPECT_EQ(s.message(),
            "1 validation error detected: Value 'bad name!' at 'trainingJobName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
}

TEST(AwsValidation, PatternsMustMatchTheWholeValue) {
  Json j = ValidTrainingJob();
  j["TrainingJobName"] = "ok-prefix-then_underscore";  // a prefix matches; the whole does not
  EXPECT_FALSE(Validate(j).ok());
}

TEST(AwsValidation, ReportsAMissingRequiredMember) {
  Json j = ValidTrainingJob();
  j.erase("RoleArn");
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: "
            "Member must not be null");
  j["RoleArn"] = nullptr;  // an explicit null is the same as absent
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: "
            "Member must not be null");
}

TEST(AwsValidation, ReportsEveryViolatedConstraintOfAValue) {
  Json j = ValidTrainingJob();
  j["TrainingJobName"] = "";
  EXPECT_EQ(Message(j),
            "2 validation errors detected: Value '' at 'trainingJobName' failed to satisfy constraint: Member must "
            "have length greater than or equal to 1; Value '' at 'trainingJobName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
  // The pattern caps the length too, so AWS reports both, length first.
  j["TrainingJobName"] = std::string(64, 'a');
  EXPECT_EQ(Message(j), "2 validation errors detected: Value '" + std::string(64, 'a') +
                            "' at 'trainingJobName' failed to satisfy constraint: Member must have length less "
                            "than or equal to 63; Value '" + std::string(64, 'a') +
                            "' at 'trainingJobName' failed to satisfy constraint: Member must satisfy regular "
                            "expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}");
}

TEST(AwsValidation, ReportsTooLongAndTooShortValues) {
  Json j = ValidTrainingJob();
  j["RoleArn"] = "arn:aws:iam::123456789012:role/" + std::string(2020, 'r');
  EXPECT_EQ(Message(j), "1 validation error detected: Value '" + j["RoleArn"].get<std::string>() +
                            "' at 'roleArn' failed to satisfy constraint: Member must have length less than or "
                            "equal to 2048");
  j["RoleArn"] = "arn:aws:iam::role/r";  // 19 characters, and no account id
  EXPECT_EQ(Message(j),
            "2 validation errors detected: Value 'arn:aws:iam::role/r' at 'roleArn' failed to satisfy constraint: "
            "Member must have length greater than or equal to 20; Value 'arn:aws:iam::role/r' at 'roleArn' failed "
            "to satisfy constraint: Member must satisfy regular expression pattern: "
            "arn:aws[a-z\\-]*:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+");
}

TEST(AwsValidation, CountsCharactersNotBytes) {
  Json j = ValidTrainingJob();
  j["Tags"][0]["Value"] = std::string(128, 'a') + "\xC3\xA9";  // 129 characters, 130 bytes; max 256
  EXPECT_TRUE(Validate(j).ok());
}

TEST(AwsValidation, ReportsAnEnumViolation) {
  Json j = ValidTrainingJob();
  j["AlgorithmSpecification"]["TrainingInputMode"] = "Stream";
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value 'Stream' at 'algorithmSpecification.trainingInputMode' failed to "
            "satisfy constraint: Member must satisfy enum value set: [Pipe, File, FastFile]");
}

TEST(AwsValidation, ReportsIntegerRanges) {
  Json j = ValidTrainingJob();
  j["ResourceConfig"]["InstanceCount"] = 0;  // the pinned model's minimum is 0
  EXPECT_TRUE(Validate(j).ok());
  j["ResourceConfig"]["InstanceCount"] = -1;
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value '-1' at 'resourceConfig.instanceCount' failed to satisfy "
            "constraint: Member must have value greater than or equal to 0");
  j = ValidTrainingJob();
  j["ResourceConfig"]["KeepAlivePeriodInSeconds"] = 3601;
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value '3601' at 'resourceConfig.keepAlivePeriodInSeconds' failed to "
            "satisfy constraint: Member must have value less than or equal to 3600");
  j = ValidTrainingJob();
  j["ResourceConfig"]["VolumeSizeInGB"] = 0;
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value '0' at 'resourceConfig.volumeSizeInGB' failed to satisfy "
            "constraint: Member must have value greater than or equal to 1");
}

TEST(AwsValidation, NamesListElementsByOneBasedIndex) {
  Json j = ValidTrainingJob();
  j["InputDataConfig"][1]["ChannelName"] = "bad channel";
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value 'bad channel' at 'inputDataConfig.2.member.channelName' failed to "
            "satisfy constraint: Member must satisfy regular expression pattern: [A-Za-z0-9\\.\\-_]+");
  j = ValidTrainingJob();
  j["InputDataConfig"][0].erase("ChannelName");
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value null at 'inputDataConfig.1.member.channelName' failed to satisfy "
            "constraint: Member must not be null");
}

TEST(AwsValidation, ReportsListLength) {
  Json j = ValidTrainingJob();
  j["InputDataConfig"] = Json::array();
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value '[]' at 'inputDataConfig' failed to satisfy constraint: Member "
            "must have length greater than or equal to 1");
  j = ValidTrainingJob();
  for (int i = 0; i < 20; ++i) j["InputDataConfig"].push_back(j["InputDataConfig"][0]);
  EXPECT_NE(Message(j).find("at 'inputDataConfig' failed to satisfy constraint: Member must have length less "
                            "than or equal to 20"),
            std::string::npos);
}

TEST(AwsValidation, ReportsPlainListElementsOnceForTheList) {
  Json j = ValidTrainingJob();
  j["AlgorithmSpecification"]["ContainerEntrypoint"] = {"python", std::string(257, 'x')};
  EXPECT_EQ(Message(j), "1 validation error detected: Value '[python, " + std::string(257, 'x') +
                            "]' at 'algorithmSpecification.containerEntrypoint' failed to satisfy constraint: "
                            "Member must satisfy constraint: [Member must have length less than or equal to 256, "
                            "Member must have length greater than or equal to 0, Member must satisfy regular "
                            "expression pattern: .*, Member must not be null]");
}

TEST(AwsValidation, ReportsMapKeysAndValuesAsAws) {
  Json j = ValidTrainingJob();
  j["HyperParameters"]["eta"] = std::string(2501, '1');
  EXPECT_EQ(Message(j),
            "1 validation error detected: Value at 'hyperParameters' failed to satisfy constraint: Map value must "
            "satisfy constraint: [Member must have length less than or equal to 2500, Member must have length "
            "greater than or equal to 0, Member must satisfy regular expression pattern: .*]");
}

TEST(AwsValidation, CountsEveryViolationAndListsAtMostTen) {
  Json j = ValidTrainingJob();
  j["TrainingJobName"] = "bad name!";
  j.erase("RoleArn");
  EXPECT_EQ(Message(j),
            "2 validation errors detected: Value 'bad name!' at 'trainingJobName' failed to satisfy constraint: "
            "Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}; Value null at "
            "'roleArn' failed to satisfy constraint: Member must not be null");

  j = ValidTrainingJob();
  j.erase("RoleArn");
  for (int i = 0; i < 12; ++i) j["InputDataConfig"].push_back({{"ChannelName", "c" + std::to_string(i)}});
  std::string m = Message(j);  // no RoleArn, and 12 channels without DataSource
  EXPECT_EQ(m.rfind("13 validation errors detected: ", 0), 0u) << m;
  EXPECT_EQ(std::count(m.begin(), m.end(), ';'), 9) << "ten listed";
}

TEST(AwsValidation, WrongJsonTypesAreSerializationErrors) {
  Json j = ValidTrainingJob();
  j["ResourceConfig"]["InstanceCount"] = "2";
  Status s = Validate(j);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  AwsErrorReply reply = ToAwsError(s);
  EXPECT_EQ(reply.type, kSerializationException);
  EXPECT_EQ(reply.message, "STRING_VALUE can not be converted to an Integer (at 'resourceConfig.instanceCount')");

  j = ValidTrainingJob();
  j["TrainingJobName"] = "bad name!";  // a constraint violation does not hide the type error
  j["OutputDataConfig"] = "s3://bucket/";
  EXPECT_EQ(ToAwsError(Validate(j)).type, kSerializationException);

  j = ValidTrainingJob();
  j["InputDataConfig"] = {{"ChannelName", "train"}};  // an object, not a list of them
  EXPECT_EQ(ToAwsError(Validate(j)).message,
            "Start of structure or map found where not expected (at 'inputDataConfig')");

  j = ValidTrainingJob();
  j["ResourceConfig"]["InstanceCount"] = 1.5;
  EXPECT_EQ(ToAwsError(Validate(j)).type, kSerializationException);
  j["ResourceConfig"]["InstanceCount"] = int64_t{1} << 40;
  EXPECT_EQ(ToAwsError(Validate(j)).type, kSerializationException);
  j = ValidTrainingJob();
  j["EnableManagedSpotTraining"] = "true";
  EXPECT_EQ(ToAwsError(Validate(j)).message,
            "STRING_VALUE can not be converted to a Boolean (at 'enableManagedSpotTraining')");
  EXPECT_EQ(ToAwsError(ServiceModel::SageMaker()->ValidateInput("CreateTrainingJob", Json::array())).type,
            kSerializationException);
}

}  // namespace
}  // namespace loam::api::aws
