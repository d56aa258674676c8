// A botocore service model (the subset Loam serves) and request validation against it, the
// way an AWS JSON service validates: same constraints, same ValidationException wording.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loam::api::aws {

struct Shape;  // defined in api/aws/shape.h, private to the model and its validator

class ServiceModel {
 public:
  // Parses botocore's service-2.json layout ({"metadata", "operations", "shapes"}) and
  // compiles every pattern once. Patterns RE2 cannot compile must be listed in
  // metadata.re2IncompatiblePatterns (they are then not enforced); any other is an error.
  // Shape name -> the pattern Loam applies instead of the model's.
  using PatternOverrides = std::map<std::string, std::string, std::less<>>;
  // Shape name -> enum values Loam accepts besides the model's.
  using EnumExtensions = std::map<std::string, std::vector<std::string>, std::less<>>;
  static StatusOr<std::shared_ptr<const ServiceModel>> Parse(std::string_view json,
                                                             const PatternOverrides& overrides = {},
                                                             const EnumExtensions& enum_extensions = {});
  // The embedded SageMaker subset (src/api/aws/sagemaker_model_data.cc), parsed on first use.
  static std::shared_ptr<const ServiceModel> SageMaker();
  // The embedded CloudWatch Logs subset (the calls the SageMaker SDK makes to follow job logs).
  static std::shared_ptr<const ServiceModel> Logs();
  // The embedded SageMaker Runtime subset (InvokeEndpoint: its URI label and headers).
  static std::shared_ptr<const ServiceModel> SageMakerRuntime();
  // The embedded Step Functions subset (state machines, executions, task tokens, tags).
  static std::shared_ptr<const ServiceModel> StepFunctions();

  ServiceModel(const ServiceModel&) = delete;
  ServiceModel& operator=(const ServiceModel&) = delete;
  ~ServiceModel();

  const std::string& target_prefix() const { return target_prefix_; }        // "SageMaker"
  const std::string& api_version() const { return api_version_; }            // "2017-07-24"
  const std::string& json_version() const { return json_version_; }          // "1.1"
  const std::string& botocore_version() const { return botocore_version_; }  // "" if not recorded
  // Patterns present in the model but not enforced because RE2 cannot compile them.
  const std::vector<std::string>& skipped_patterns() const { return skipped_patterns_; }

  bool HasOperation(std::string_view operation) const;
  std::vector<std::string> OperationNames() const;

  // OK, or InvalidArgument with AWS's message, e.g. "1 validation error detected: Value null
  // at 'roleArn' failed to satisfy constraint: Member must not be null". A value of the wrong
  // JSON type fails the whole request before any constraint is checked, as AWS's
  // deserializer does: that Status carries the AWS type SerializationException (see
  // AwsError in api/aws/aws_errors.h). Unknown members are ignored, as AWS does.
  Status ValidateInput(std::string_view operation, const nlohmann::json& input) const;

 private:
  ServiceModel();

  std::string target_prefix_;
  std::string api_version_;
  std::string json_version_;
  std::string botocore_version_;
  std::vector<std::string> skipped_patterns_;
  std::map<std::string, std::unique_ptr<Shape>, std::less<>> shapes_;
  std::map<std::string, const Shape*, std::less<>> operation_inputs_;  // nullptr: no input shape
};

}  // namespace loam::api::aws
