#include "hosting/hosting_definitions.h"

#include "hosting/data_capture.h"
#include "jobs/job_kind.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "common/strings.h"

namespace loam::hosting {

using nlohmann::json;

std::string HostingArn(const HostingOptions& o, const std::string& type, const std::string& name) {
  return jobs::SageMakerArn(o.region, o.account, type, name);
}

HostingDefinitions::HostingDefinitions(HostingOptions options, std::shared_ptr<jobs::JobStore> store,
                                       std::shared_ptr<const jobs::DataLocations> locations, Clock clock)
    : options_(std::move(options)), store_(std::move(store)), locations_(std::move(locations)), clock_(std::move(clock)) {}

json HostingDefinitions::ContainerOf(const json& model) {
  if (model.contains("PrimaryContainer")) return model["PrimaryContainer"];
  if (model.contains("Containers") && !model["Containers"].empty()) return model["Containers"][0];
  return json::object();
}

StatusOr<json> HostingDefinitions::Create(const char* kind, const std::string& name, const std::string& arn,
                                          const std::string& type_words, json doc, const json& tags) {
  const int64_t now_ms = clock_();
  jobs::JobRecord record{.kind = kind, .name = name, .arn = arn, .status = "Created",
                         .creation_time_ms = now_ms, .last_modified_time_ms = now_ms, .doc = std::move(doc)};
  Status created = store_->CreateJob(record);
  if (created.code() == StatusCode::kAlreadyExists) {
    return InvalidArgument(fmt::format("Cannot create already existing {} \"{}\".", type_words, arn));
  }
  RETURN_IF_ERROR(created);
  if (const auto tag_list = jobs::TagsOf(tags); !tag_list.empty()) RETURN_IF_ERROR(store_->AddTags(arn, tag_list));
  return json::object();
}

StatusOr<json> HostingDefinitions::Load(const char* kind, const std::string& name, const std::string& type_words,
                                        const std::string& arn_type) {
  auto record = store_->GetJob(kind, name);
  if (record.status().code() == StatusCode::kNotFound) {
    return InvalidArgument(fmt::format("Could not find {} \"{}\".", type_words, HostingArn(options_, arn_type, name)));
  }
  RETURN_IF_ERROR(record.status());
  return record->doc;
}

StatusOr<json> HostingDefinitions::CreateModel(const json& request) {
  const std::string name = request["ModelName"].get<std::string>();
  const bool primary = request.contains("PrimaryContainer");
  const bool containers = request.contains("Containers");
  if (primary == containers) {
    return InvalidArgument("Exactly one of PrimaryContainer or Containers must be provided.");
  }
  if (containers && request["Containers"].size() != 1) {
    // An inference pipeline (several containers in series) is not served yet.
    return InvalidArgument("Loam serves models of one container; Containers must have exactly one entry.");
  }
  const json container = ContainerOf(request);
  if (container.contains("ModelPackageName")) return InvalidArgument("Models from model packages are not supported yet.");
  if (!container.contains("Image")) return InvalidArgument("The container must specify an Image.");
  if (container.value("Mode", "SingleModel") != "SingleModel") {
    return InvalidArgument("Only the SingleModel container mode is supported.");
  }
  if (request.value("EnableNetworkIsolation", false)) {
    return InvalidArgument("EnableNetworkIsolation is not supported for endpoint workers yet (they are not sandboxed).");
  }
  if (container.contains("ModelDataSource")) return InvalidArgument("ModelDataSource is not supported yet; use ModelDataUrl.");
  if (container.contains("ModelDataUrl")) {
    auto where = locations_->Parse(container["ModelDataUrl"].get<std::string>());
    if (!where.ok()) return InvalidArgument(fmt::format("Invalid ModelDataUrl: {}", where.status().message()));
  }
  const json environment = container.value("Environment", json::object());
  for (const auto& [k, v] : environment.items()) {
    if (k.empty()) return InvalidArgument("Environment variable names must not be empty.");
  }
  const std::string arn = HostingArn(options_, "model", name);
  json doc = request;
  doc.erase("Tags");
  doc["ModelArn"] = arn;
  doc["CreationTime"] = Now();
  if (!doc.contains("EnableNetworkIsolation")) doc["EnableNetworkIsolation"] = false;
  RETURN_IF_ERROR(Create(kModelKind, name, arn, "model", std::move(doc), request.value("Tags", json::array())).status());
  return json{{"ModelArn", arn}};
}

StatusOr<json> HostingDefinitions::DescribeModel(const std::string& name) { return Load(kModelKind, name, "model", "model"); }

StatusOr<json> HostingDefinitions::ListModels(const json& request) {
  return jobs::ListJobPage(*store_, request, jobs::JobListQuery{.kind = kModelKind}, "Models", [](const jobs::JobRecord& r) {
    return json{{"ModelName", r.name}, {"ModelArn", r.arn}, {"CreationTime", r.doc["CreationTime"]}};
  });
}

Status HostingDefinitions::DeleteModel(const std::string& name) {
  RETURN_IF_ERROR(DescribeModel(name).status());
  return store_->DeleteJob(kModelKind, name);
}

StatusOr<json> HostingDefinitions::CreateEndpointConfig(const json& request) {
  const std::string name = request["EndpointConfigName"].get<std::string>();
  if (request.contains("AsyncInferenceConfig")) return InvalidArgument("Asynchronous inference is not supported yet.");
  if (request.contains("ShadowProductionVariants")) return InvalidArgument("Shadow variants are not supported yet.");
  json variants = request["ProductionVariants"];
  std::set<std::string> seen;
  for (auto& v : variants) {
    const std::string variant = v["VariantName"].get<std::string>();
    if (!seen.insert(variant).second) {
      return InvalidArgument(fmt::format("The variant name {} is used more than once.", variant));
    }
    if (!v.contains("ModelName")) return InvalidArgument(fmt::format("Variant {} must name a ModelName.", variant));
    RETURN_IF_ERROR(DescribeModel(v["ModelName"].get<std::string>()).status());
    if (v.contains("ServerlessConfig")) {
      if (v.contains("InitialInstanceCount") || v.contains("InstanceType")) {
        return InvalidArgument(fmt::format("Variant {}: ServerlessConfig excludes InitialInstanceCount and InstanceType.", variant));
      }
    } else if (!v.contains("InitialInstanceCount") || !v.contains("InstanceType")) {
      return InvalidArgument(fmt::format("Variant {} must specify InitialInstanceCount and InstanceType (or a ServerlessConfig).", variant));
    }
    if (!v.contains("InitialVariantWeight")) v["InitialVariantWeight"] = 1.0;
  }
  double total = 0.0;
  for (const auto& v : variants) total += v["InitialVariantWeight"].get<double>();
  if (total <= 0.0) return InvalidArgument("At least one variant must have a positive InitialVariantWeight.");
  if (request.contains("DataCaptureConfig")) {
    const json& dc = request["DataCaptureConfig"];
    auto where = locations_->Parse(dc.value("DestinationS3Uri", ""));
    if (!where.ok()) return InvalidArgument(fmt::format("Invalid DataCaptureConfig.DestinationS3Uri: {}", where.status().message()));
    RETURN_IF_ERROR(ParseCaptureConfig(dc).status());
  }
  const std::string arn = HostingArn(options_, "endpoint-config", name);
  json doc = request;
  doc.erase("Tags");
  doc["ProductionVariants"] = variants;
  doc["EndpointConfigArn"] = arn;
  doc["CreationTime"] = Now();
  RETURN_IF_ERROR(Create(kEndpointConfigKind, name, arn, "endpoint configuration", std::move(doc),
                         request.value("Tags", json::array())).status());
  return json{{"EndpointConfigArn", arn}};
}

StatusOr<json> HostingDefinitions::DescribeEndpointConfig(const std::string& name) {
  return Load(kEndpointConfigKind, name, "endpoint configuration", "endpoint-config");
}

StatusOr<json> HostingDefinitions::ListEndpointConfigs(const json& request) {
  return jobs::ListJobPage(*store_, request, jobs::JobListQuery{.kind = kEndpointConfigKind}, "EndpointConfigs",
                           [](const jobs::JobRecord& r) {
                             return json{{"EndpointConfigName", r.name}, {"EndpointConfigArn", r.arn},
                                         {"CreationTime", r.doc["CreationTime"]}};
                           });
}

Status HostingDefinitions::DeleteEndpointConfig(const std::string& name) {
  RETURN_IF_ERROR(DescribeEndpointConfig(name).status());
  return store_->DeleteJob(kEndpointConfigKind, name);
}

}  // namespace loam::hosting
