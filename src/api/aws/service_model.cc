#include "api/aws/service_model.h"

#include <cctype>
#include <cstdlib>
#include <set>

#include "api/aws/aws_errors.h"
#include "api/aws/shape.h"
#include "common/log.h"

namespace loam::api::aws {

extern const std::string_view kSageMakerModelJson;  // generated: sagemaker_model_data.cc
extern const std::string_view kLogsModelJson;       // generated: logs_model_data.cc
extern const std::string_view kStepFunctionsModelJson;  // generated: stepfunctions_model_data.cc
extern const std::string_view kSageMakerRuntimeModelJson;  // generated: sagemaker_runtime_model_data.cc

namespace {

// ordered_json keeps structure members in model order, which is the order AWS reports
// violations in.
using ModelJson = nlohmann::ordered_json;

StatusOr<Shape::Type> ParseType(const std::string& name) {
  static const std::map<std::string, Shape::Type, std::less<>> kTypes = {
      {"structure", Shape::Type::kStructure}, {"list", Shape::Type::kList},
      {"map", Shape::Type::kMap},             {"string", Shape::Type::kString},
      {"integer", Shape::Type::kInteger},     {"long", Shape::Type::kLong},
      {"float", Shape::Type::kFloat},         {"double", Shape::Type::kDouble},
      {"boolean", Shape::Type::kBoolean},     {"timestamp", Shape::Type::kTimestamp},
      {"blob", Shape::Type::kBlob},           {"document", Shape::Type::kDocument}};
  auto it = kTypes.find(name);
  if (it == kTypes.end()) return InvalidArgument("unsupported shape type '" + name + "'");
  return it->second;
}

std::optional<Shape::Bound> ParseBound(const ModelJson& shape, const char* key) {
  auto it = shape.find(key);
  if (it == shape.end() || !it->is_number()) return std::nullopt;
  return Shape::Bound{it->get<double>(), it->dump()};
}

// AWS names members in messages by their lowerCamelCase form: "RoleArn" -> "roleArn".
std::string PathName(const std::string& member) {
  std::string out = member;
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out;
}

// First pass: a shape's own type and constraints; references are resolved afterwards.
StatusOr<std::unique_ptr<Shape>> ParseShapeBody(const std::string& name, const ModelJson& body,
                                                const std::set<std::string, std::less<>>& skippable) {
  auto shape = std::make_unique<Shape>();
  shape->name = name;
  ASSIGN_OR_RETURN(shape->type, ParseType(body.at("type").get<std::string>()));
  shape->min = ParseBound(body, "min");
  shape->max = ParseBound(body, "max");
  if (auto it = body.find("enum"); it != body.end()) shape->enum_values = it->get<std::vector<std::string>>();
  if (auto it = body.find("pattern"); it != body.end()) {
    shape->pattern = it->get<std::string>();
    RE2::Options options;
    options.set_log_errors(false);  // failures are reported (or deliberately skipped) below
    auto regex = std::make_unique<RE2>(shape->pattern, options);
    if (regex->ok()) {
      shape->regex = std::move(regex);
    } else if (!skippable.contains(shape->pattern)) {
      return InvalidArgument("pattern of shape " + name + " does not compile with RE2 (" + regex->error() +
                             ") and is not listed in metadata.re2IncompatiblePatterns: " + shape->pattern);
    }
  }
  return shape;
}

}  // namespace

ServiceModel::ServiceModel() = default;
ServiceModel::~ServiceModel() = default;

StatusOr<std::shared_ptr<const ServiceModel>> ServiceModel::Parse(std::string_view json,
                                                                  const PatternOverrides& overrides,
                                                                  const EnumExtensions& enum_extensions) {
  ModelJson doc = ModelJson::parse(json, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return InvalidArgument("service model is not a JSON object");
  std::shared_ptr<ServiceModel> model(new ServiceModel());
  // The model is trusted build input, but a malformed one must still fail as a Status.
  try {
    const ModelJson& metadata = doc.at("metadata");
    model->target_prefix_ = metadata.value("targetPrefix", "");
    model->api_version_ = metadata.value("apiVersion", "");
    model->json_version_ = metadata.value("jsonVersion", "");
    model->botocore_version_ = metadata.value("botocoreVersion", "");
    if (auto it = metadata.find("re2IncompatiblePatterns"); it != metadata.end()) {
      model->skipped_patterns_ = it->get<std::vector<std::string>>();
    }
    const std::set<std::string, std::less<>> skippable(model->skipped_patterns_.begin(),
                                                       model->skipped_patterns_.end());

    const ModelJson& shapes = doc.at("shapes");
    for (const auto& [name, body] : shapes.items()) {
      ModelJson effective = body;
      if (auto o = overrides.find(name); o != overrides.end()) effective["pattern"] = o->second;
      if (auto e = enum_extensions.find(name); e != enum_extensions.end() && effective.contains("enum")) {
        for (const auto& v : e->second) effective["enum"].push_back(v);
      }
      ASSIGN_OR_RETURN(auto shape, ParseShapeBody(name, effective, skippable));
      model->shapes_.emplace(name, std::move(shape));
    }
    auto resolve = [&](const ModelJson& ref, const std::string& from) -> StatusOr<const Shape*> {
      std::string target = ref.at("shape").get<std::string>();
      auto it = model->shapes_.find(target);
      if (it == model->shapes_.end()) return InvalidArgument("shape " + from + " refers to unknown shape " + target);
      return it->second.get();
    };
    for (const auto& [name, body] : shapes.items()) {
      Shape& shape = *model->shapes_.at(name);
      std::set<std::string, std::less<>> required;
      if (auto it = body.find("required"); it != body.end()) {
        for (const auto& r : *it) required.insert(r.get<std::string>());
      }
      if (auto it = body.find("members"); it != body.end()) {
        for (const auto& [member_name, ref] : it->items()) {
          ASSIGN_OR_RETURN(const Shape* target, resolve(ref, name));
          shape.members.push_back({member_name, PathName(member_name), target, required.contains(member_name)});
        }
      }
      if (auto it = body.find("member"); it != body.end()) {
        ASSIGN_OR_RETURN(shape.member, resolve(*it, name));
      }
      if (auto it = body.find("key"); it != body.end()) {
        ASSIGN_OR_RETURN(shape.key, resolve(*it, name));
      }
      if (auto it = body.find("value"); it != body.end()) {
        ASSIGN_OR_RETURN(shape.value, resolve(*it, name));
      }
      bool complete = (shape.type != Shape::Type::kList || shape.member) &&
                      (shape.type != Shape::Type::kMap || (shape.key && shape.value));
      if (!complete) return InvalidArgument("shape " + name + " lacks its member, key or value shape");
    }

    for (const auto& [name, op] : doc.at("operations").items()) {
      const Shape* input = nullptr;
      if (auto it = op.find("input"); it != op.end()) {
        ASSIGN_OR_RETURN(input, resolve(*it, name));
        if (input->type != Shape::Type::kStructure) {
          return InvalidArgument("input of operation " + name + " is not a structure");
        }
      }
      model->operation_inputs_.emplace(name, input);
    }
  } catch (const nlohmann::json::exception& e) {
    return InvalidArgument(std::string("malformed service model: ") + e.what());
  }
  return std::shared_ptr<const ServiceModel>(std::move(model));
}

std::shared_ptr<const ServiceModel> ServiceModel::SageMaker() {
  static const std::shared_ptr<const ServiceModel> kModel = [] {
    // Loam also reads data from the local filesystem: wherever SageMaker takes an S3 (or
    // https) URI, a file:// URI or an absolute path is accepted too.
    const std::string kLocal = "|file://.+|/.*";
    PatternOverrides local_uris = {{"S3Uri", "(https|s3)://([^/]+)/?(.*)" + kLocal},
                                   {"S3ModelUri", "(https|s3)://([^/]+)/?(.*)" + kLocal},
                                   {"Url", "(https|s3)://([^/]+)/?(.*)" + kLocal},
                                   {"DestinationS3Uri", "(https|s3)://([^/])/?(.*)" + kLocal}};
    // ... and runs on this machine: the SageMaker SDK's local-mode instance types.
    const std::vector<std::string> kLocalTypes = {"local", "local_gpu"};
    EnumExtensions local_instances = {{"TrainingInstanceType", kLocalTypes},
                                      {"ProcessingInstanceType", kLocalTypes},
                                      {"ProductionVariantInstanceType", kLocalTypes},
                                      {"TransformInstanceType", kLocalTypes}};
    auto parsed = Parse(kSageMakerModelJson, local_uris, local_instances);
    if (!parsed.ok()) {
      // The embedded model is checked by the unit tests; failing here is a build defect.
      log::Error("aws.model_invalid", {{"service", "sagemaker"}, {"error", parsed.status().message()}});
      std::abort();
    }
    return std::move(parsed).value();
  }();
  return kModel;
}

namespace {

// An embedded model without Loam's overrides; failing to parse it is a build defect (the unit
// tests parse every one).
std::shared_ptr<const ServiceModel> ParseEmbedded(std::string_view json, const char* service) {
  auto parsed = ServiceModel::Parse(json);
  if (!parsed.ok()) {
    log::Error("aws.model_invalid", {{"service", service}, {"error", parsed.status().message()}});
    std::abort();
  }
  return std::move(parsed).value();
}

}  // namespace

std::shared_ptr<const ServiceModel> ServiceModel::Logs() {
  static const std::shared_ptr<const ServiceModel> kModel = ParseEmbedded(kLogsModelJson, "logs");
  return kModel;
}

std::shared_ptr<const ServiceModel> ServiceModel::SageMakerRuntime() {
  static const std::shared_ptr<const ServiceModel> kModel =
      ParseEmbedded(kSageMakerRuntimeModelJson, "sagemaker-runtime");
  return kModel;
}

std::shared_ptr<const ServiceModel> ServiceModel::StepFunctions() {
  static const std::shared_ptr<const ServiceModel> kModel = ParseEmbedded(kStepFunctionsModelJson, "stepfunctions");
  return kModel;
}

bool ServiceModel::HasOperation(std::string_view operation) const {
  return operation_inputs_.find(operation) != operation_inputs_.end();
}

std::vector<std::string> ServiceModel::OperationNames() const {
  std::vector<std::string> names;
  names.reserve(operation_inputs_.size());
  for (const auto& [name, input] : operation_inputs_) names.push_back(name);
  return names;
}

Status ServiceModel::ValidateInput(std::string_view operation, const nlohmann::json& input) const {
  auto it = operation_inputs_.find(operation);
  if (it == operation_inputs_.end()) {
    return AwsError(StatusCode::kInvalidArgument, kUnknownOperationException,
                    "Operation " + std::string(operation) + " is not in the " + target_prefix_ + " service model");
  }
  if (!input.is_object()) {
    return AwsError(StatusCode::kInvalidArgument, kSerializationException,
                    "The request body must be a JSON object");
  }
  if (!it->second) return Status::Ok();  // an operation without input accepts any object
  return ValidateAgainstShape(*it->second, input);
}

}  // namespace loam::api::aws
