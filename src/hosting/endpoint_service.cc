#include "hosting/endpoint_service.h"

#include <fmt/format.h>

#include "common/log.h"

namespace loam::hosting {

using nlohmann::json;

namespace {

const std::vector<std::string> kActiveStatuses = {"Creating", "InService", "Updating", "SystemUpdating", "Deleting"};

// Loam's own part of an endpoint's record: the deployment that serves it, kept so a restart
// brings back exactly that even when its config or models were deleted meanwhile (SageMaker
// endpoints keep serving then). Never shown by Describe.
constexpr const char* kDeployedSpec = "_LoamDeployedSpec";

// Update calls need a settled endpoint, as SageMaker's do.
Status RequireInService(const jobs::JobRecord& r) {
  if (r.doc.value("EndpointStatus", "") == "InService") return Status::Ok();
  return InvalidArgument(fmt::format("Cannot update in-progress endpoint \"{}\".", r.arn));
}

// Loam swaps a configuration all at once, after the new one is healthy: a blue/green update
// with ALL_AT_ONCE traffic routing. Other deployment policies are refused until they exist.
Status CheckDeploymentConfig(const json& request) {
  if (!request.contains("DeploymentConfig")) return Status::Ok();
  const json& dc = request["DeploymentConfig"];
  if (dc.contains("RollingUpdatePolicy")) return InvalidArgument("RollingUpdatePolicy is not supported yet.");
  if (dc.contains("AutoRollbackConfiguration")) {
    return InvalidArgument("AutoRollbackConfiguration (CloudWatch alarms) is not supported yet.");
  }
  if (dc.contains("BlueGreenUpdatePolicy")) {
    const std::string type = dc["BlueGreenUpdatePolicy"]["TrafficRoutingConfiguration"].value("Type", "");
    if (type != "ALL_AT_ONCE") {
      return InvalidArgument(fmt::format("TrafficRoutingConfiguration Type {} is not supported yet; use ALL_AT_ONCE.", type));
    }
  }
  return Status::Ok();
}

json SpecToJson(const DeploymentSpec& spec) {
  json variants = json::array();
  for (const VariantSpec& v : spec.variants) {
    variants.push_back({{"VariantName", v.variant_name}, {"ModelName", v.model_name}, {"Container", v.container},
                        {"InstanceCount", v.instance_count}, {"Weight", v.weight}});
  }
  return {{"EndpointConfigName", spec.config}, {"Variants", variants}, {"DataCaptureConfig", spec.data_capture}};
}

// DescribeEndpoint's DataCaptureConfigSummary of a config's DataCaptureConfig.
json CaptureSummary(const json& dc) {
  const bool enabled = dc.value("EnableCapture", true);
  json summary = {{"EnableCapture", enabled},
                  {"CaptureStatus", enabled ? "Started" : "Stopped"},
                  {"CurrentSamplingPercentage", dc.value("InitialSamplingPercentage", 0)},
                  {"DestinationS3Uri", dc.value("DestinationS3Uri", "")}};
  if (dc.contains("KmsKeyId")) summary["KmsKeyId"] = dc["KmsKeyId"];
  return summary;
}

DeploymentSpec SpecFromJson(const std::string& endpoint, const json& j) {
  DeploymentSpec spec{.endpoint = endpoint, .config = j.value("EndpointConfigName", ""),
                      .data_capture = j.value("DataCaptureConfig", json())};
  for (const json& v : j.value("Variants", json::array())) {
    spec.variants.push_back({.variant_name = v.value("VariantName", ""), .model_name = v.value("ModelName", ""),
                             .container = v.value("Container", json::object()), .instance_count = v.value("InstanceCount", 1),
                             .weight = v.value("Weight", 1.0)});
  }
  return spec;
}

}  // namespace

EndpointService::EndpointService(std::shared_ptr<HostingDefinitions> definitions, std::shared_ptr<jobs::JobStore> store,
                                 std::shared_ptr<EndpointFleet> fleet)
    : definitions_(std::move(definitions)), store_(std::move(store)), fleet_(std::move(fleet)) {}

EndpointService::~EndpointService() { Shutdown(); }

std::shared_ptr<std::mutex> EndpointService::OpLock(const std::string& name) {
  std::lock_guard lock(mu_);
  auto& m = op_locks_[name];
  if (!m) m = std::make_shared<std::mutex>();
  return m;
}

StatusOr<jobs::JobRecord> EndpointService::LoadRecord(const std::string& name) {
  auto record = store_->GetJob(kEndpointKind, name);
  if (record.status().code() == StatusCode::kNotFound) {
    return InvalidArgument(fmt::format("Could not find endpoint \"{}\".", HostingArn(definitions_->options(), "endpoint", name)));
  }
  return record;
}

Status EndpointService::Modify(const std::string& name, const std::function<Status(jobs::JobRecord&)>& change) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(jobs::JobRecord record, LoadRecord(name));
  RETURN_IF_ERROR(change(record));
  record.doc["LastModifiedTime"] = definitions_->Now();
  record.last_modified_time_ms = static_cast<int64_t>(definitions_->Now() * 1000.0);
  record.status = record.doc.value("EndpointStatus", record.status);
  return store_->UpdateJob(record);
}

StatusOr<DeploymentSpec> EndpointService::SpecFor(const std::string& endpoint, const std::string& config_name) {
  ASSIGN_OR_RETURN(json config, definitions_->DescribeEndpointConfig(config_name));
  DeploymentSpec spec{.endpoint = endpoint, .config = config_name, .data_capture = config.value("DataCaptureConfig", json())};
  for (const json& v : config["ProductionVariants"]) {
    ASSIGN_OR_RETURN(json model, definitions_->DescribeModel(v["ModelName"].get<std::string>()));
    VariantSpec vs{.variant_name = v["VariantName"].get<std::string>(),
                   .model_name = v["ModelName"].get<std::string>(),
                   .container = HostingDefinitions::ContainerOf(model),
                   .instance_count = v.value("InitialInstanceCount", 1),
                   .weight = v.value("InitialVariantWeight", 1.0)};
    spec.variants.push_back(std::move(vs));
  }
  return spec;
}

json EndpointService::VariantsOf(const DeploymentSpec& spec) const {
  json out = json::array();
  const double now = definitions_->Now();
  for (const VariantSpec& v : spec.variants) {
    const std::string image = v.container.value("Image", "");
    out.push_back({{"VariantName", v.variant_name},
                   {"DeployedImages", json::array({{{"SpecifiedImage", image}, {"ResolvedImage", image}, {"ResolutionTime", now}}})},
                   {"CurrentWeight", v.weight},
                   {"DesiredWeight", v.weight},
                   {"CurrentInstanceCount", v.instance_count},
                   {"DesiredInstanceCount", v.instance_count}});
  }
  return out;
}

void EndpointService::Background(std::function<void()> op) {
  std::lock_guard lock(threads_mu_);
  // Operations that have finished are joined here, so threads do not pile up.
  std::erase_if(threads_, [](BackgroundOp& b) {
    if (!*b.finished) return false;
    b.thread.join();
    return true;
  });
  auto finished = std::make_shared<std::atomic<bool>>(false);
  threads_.push_back({std::thread([op = std::move(op), finished] {
                        op();
                        *finished = true;
                      }),
                      finished});
}

StatusOr<json> EndpointService::Create(const json& request) {
  const std::string name = request["EndpointName"].get<std::string>();
  const std::string config = request["EndpointConfigName"].get<std::string>();
  const std::string arn = HostingArn(definitions_->options(), "endpoint", name);
  if (store_->GetJob(kEndpointKind, name).ok()) {
    return InvalidArgument(fmt::format("Cannot create already existing endpoint \"{}\".", arn));
  }
  RETURN_IF_ERROR(CheckDeploymentConfig(request));
  RETURN_IF_ERROR(SpecFor(name, config).status());
  ASSIGN_OR_RETURN(json config_doc, definitions_->DescribeEndpointConfig(config));
  const double now = definitions_->Now();
  json doc = {{"EndpointName", name}, {"EndpointArn", arn}, {"EndpointConfigName", config},
              {"EndpointStatus", "Creating"}, {"CreationTime", now}, {"LastModifiedTime", now}};
  if (config_doc.contains("DataCaptureConfig")) doc["DataCaptureConfig"] = CaptureSummary(config_doc["DataCaptureConfig"]);
  const auto now_ms = static_cast<int64_t>(now * 1000.0);
  jobs::JobRecord record{.kind = kEndpointKind, .name = name, .arn = arn, .status = "Creating",
                         .creation_time_ms = now_ms, .last_modified_time_ms = now_ms, .doc = doc};
  Status created = store_->CreateJob(record);
  if (created.code() == StatusCode::kAlreadyExists) {
    return InvalidArgument(fmt::format("Cannot create already existing endpoint \"{}\".", arn));
  }
  RETURN_IF_ERROR(created);
  const std::vector<jobs::Tag> tags = jobs::TagsOf(request.value("Tags", json::array()));
  if (!tags.empty()) RETURN_IF_ERROR(store_->AddTags(arn, tags));
  Background([this, name, config] { Deploy(name, config, false); });
  return json{{"EndpointArn", arn}};
}

void EndpointService::Deploy(const std::string& name, const std::string& config, bool update, const json& current,
                             const json& deployed) {
  auto op = OpLock(name);
  std::lock_guard op_lock(*op);
  auto fail = [&](const std::string& reason) {
    log::Warn("endpoint.deploy_failed", {{"endpoint", name}, {"config", config}, {"reason", reason}});
    Status saved = Modify(name, [&](jobs::JobRecord& r) {
      // A failed update leaves the endpoint serving its previous configuration.
      r.doc["EndpointStatus"] = update ? "InService" : "Failed";
      r.doc["FailureReason"] = reason;
      r.doc.erase("PendingDeploymentSummary");
      return Status::Ok();
    });
    if (!saved.ok()) log::Error("endpoint.save_failed", {{"endpoint", name}, {"error", saved.ToString()}});
  };
  StatusOr<DeploymentSpec> spec = deployed.is_object() ? StatusOr<DeploymentSpec>(SpecFromJson(name, deployed))
                                                        : SpecFor(name, config);
  if (!spec.ok()) return fail(spec.status().message());
  for (VariantSpec& v : spec->variants) {  // the last weights and counts (after a resize)
    for (const json& c : current) {
      if (c.value("VariantName", "") != v.variant_name) continue;
      v.instance_count = c.value("CurrentInstanceCount", v.instance_count);
      v.weight = c.value("CurrentWeight", v.weight);
    }
  }
  log::Info("endpoint.deploying", {{"endpoint", name}, {"config", config}});
  auto deployment = fleet_->Deploy(*spec, stopping_);
  if (stopping_) {  // the next start redeploys it
    if (deployment.ok()) fleet_->Retire(*deployment);
    return;
  }
  if (!deployment.ok()) return fail(deployment.status().message());
  std::shared_ptr<Deployment> previous = fleet_->Activate(*deployment);
  Status saved = Modify(name, [&](jobs::JobRecord& r) {
    r.doc["EndpointStatus"] = "InService";
    r.doc["EndpointConfigName"] = config;
    r.doc["ProductionVariants"] = VariantsOf(*spec);
    r.doc[kDeployedSpec] = SpecToJson(*spec);
    if (spec->data_capture.is_object()) {
      r.doc["DataCaptureConfig"] = CaptureSummary(spec->data_capture);
    } else {
      r.doc.erase("DataCaptureConfig");
    }
    r.doc.erase("FailureReason");
    r.doc.erase("PendingDeploymentSummary");
    return Status::Ok();
  });
  if (!saved.ok()) log::Error("endpoint.save_failed", {{"endpoint", name}, {"error", saved.ToString()}});
  log::Info("endpoint.in_service", {{"endpoint", name}, {"config", config}});
  if (previous) fleet_->Retire(previous);  // after the new one took the traffic
}

StatusOr<json> EndpointService::Describe(const std::string& name) {
  ASSIGN_OR_RETURN(jobs::JobRecord record, LoadRecord(name));
  record.doc.erase(kDeployedSpec);
  return record.doc;
}

StatusOr<json> EndpointService::List(const json& request) {
  return jobs::ListJobPage(*store_, request, jobs::JobListQuery{.kind = kEndpointKind}, "Endpoints", [](const jobs::JobRecord& r) {
    return json{{"EndpointName", r.name}, {"EndpointArn", r.arn}, {"CreationTime", r.doc["CreationTime"]},
                {"LastModifiedTime", r.doc["LastModifiedTime"]}, {"EndpointStatus", r.doc["EndpointStatus"]}};
  });
}

StatusOr<json> EndpointService::Update(const json& request) {
  const std::string name = request["EndpointName"].get<std::string>();
  const std::string config = request["EndpointConfigName"].get<std::string>();
  if (request.value("RetainAllVariantProperties", false) || request.contains("ExcludeRetainedVariantProperties")) {
    return InvalidArgument("RetainAllVariantProperties is not supported yet.");
  }
  RETURN_IF_ERROR(CheckDeploymentConfig(request));
  if (request.value("RetainDeploymentConfig", false)) return InvalidArgument("RetainDeploymentConfig is not supported yet.");
  RETURN_IF_ERROR(SpecFor(name, config).status());
  RETURN_IF_ERROR(Modify(name, [&](jobs::JobRecord& r) {
    RETURN_IF_ERROR(RequireInService(r));
    r.doc["EndpointStatus"] = "Updating";
    r.doc["PendingDeploymentSummary"] = {{"EndpointConfigName", config}, {"StartTime", definitions_->Now()}};
    return Status::Ok();
  }));
  Background([this, name, config] { Deploy(name, config, true); });
  return json{{"EndpointArn", HostingArn(definitions_->options(), "endpoint", name)}};
}

Status EndpointService::Delete(const std::string& name) {
  bool already = false;
  RETURN_IF_ERROR(Modify(name, [&](jobs::JobRecord& r) {
    already = r.doc.value("EndpointStatus", "") == "Deleting";
    r.doc["EndpointStatus"] = "Deleting";
    return Status::Ok();
  }));
  if (already) return Status::Ok();
  Background([this, name] { Remove(name); });
  return Status::Ok();
}

void EndpointService::Remove(const std::string& name) {
  auto op = OpLock(name);
  std::lock_guard op_lock(*op);
  fleet_->Retire(fleet_->Live(name));
  if (stopping_) return;  // the next start finishes the deletion
  Status deleted = store_->DeleteJob(kEndpointKind, name);
  if (!deleted.ok()) log::Error("endpoint.delete_failed", {{"endpoint", name}, {"error", deleted.ToString()}});
  log::Info("endpoint.deleted", {{"endpoint", name}});
}

StatusOr<json> EndpointService::UpdateWeightsAndCapacities(const json& request) {
  const std::string name = request["EndpointName"].get<std::string>();
  const json changes = request["DesiredWeightsAndCapacities"];
  RETURN_IF_ERROR(Modify(name, [&](jobs::JobRecord& r) {
    RETURN_IF_ERROR(RequireInService(r));
    json& variants = r.doc["ProductionVariants"];
    for (const json& c : changes) {
      const std::string variant = c["VariantName"].get<std::string>();
      auto it = std::find_if(variants.begin(), variants.end(), [&](const json& v) { return v["VariantName"] == variant; });
      if (it == variants.end()) {
        return InvalidArgument(fmt::format("The variant(s) \"[{}]\" are not present in the endpoint \"{}\".", variant, r.arn));
      }
      if (c.contains("DesiredWeight")) (*it)["DesiredWeight"] = c["DesiredWeight"];
      if (c.contains("DesiredInstanceCount")) (*it)["DesiredInstanceCount"] = c["DesiredInstanceCount"];
    }
    r.doc["EndpointStatus"] = "Updating";
    return Status::Ok();
  }));
  Background([this, name, changes] {
    auto op = OpLock(name);
    std::lock_guard op_lock(*op);
    std::string failure;
    for (const json& c : changes) {
      std::optional<double> weight;
      std::optional<int> count;
      if (c.contains("DesiredWeight")) weight = c["DesiredWeight"].get<double>();
      if (c.contains("DesiredInstanceCount")) count = c["DesiredInstanceCount"].get<int>();
      Status st = fleet_->Resize(name, c["VariantName"].get<std::string>(), weight, count);
      if (!st.ok()) failure = st.message();
    }
    Status saved = Modify(name, [&](jobs::JobRecord& r) {
      r.doc["EndpointStatus"] = "InService";
      for (json& v : r.doc["ProductionVariants"]) {
        v["CurrentWeight"] = v["DesiredWeight"];
        v["CurrentInstanceCount"] = v["DesiredInstanceCount"];
      }
      if (!failure.empty()) r.doc["FailureReason"] = failure;
      return Status::Ok();
    });
    if (!saved.ok()) log::Error("endpoint.save_failed", {{"endpoint", name}, {"error", saved.ToString()}});
  });
  return json{{"EndpointArn", HostingArn(definitions_->options(), "endpoint", name)}};
}

Status EndpointService::Recover() {
  fleet_->KillLeftoverWorkers();
  ASSIGN_OR_RETURN(auto records, store_->JobsWithStatus(kEndpointKind, kActiveStatuses));
  for (const jobs::JobRecord& r : records) {
    const std::string name = r.name;
    const std::string status = r.doc.value("EndpointStatus", r.status);
    const std::string config = r.doc.value("EndpointConfigName", "");
    log::Info("endpoint.recover", {{"endpoint", name}, {"status", status}});
    if (status == "Deleting") {
      Background([this, name] { Remove(name); });
    } else if (status == "Creating") {
      Background([this, name, config] { Deploy(name, config, false); });
    } else {
      // In service (or being updated, or resized) before: its last configuration comes back
      // first, at its last weights and counts; then an interrupted update runs again.
      const json current = r.doc.value("ProductionVariants", json::array());
      const json deployed = r.doc.contains(kDeployedSpec) ? r.doc[kDeployedSpec] : json(nullptr);
      const std::string pending = r.doc.contains("PendingDeploymentSummary")
                                      ? r.doc["PendingDeploymentSummary"].value("EndpointConfigName", "")
                                      : "";
      Background([this, name, config, current, deployed, pending] {
        Deploy(name, config, false, current, deployed);
        if (!pending.empty() && !stopping_) Deploy(name, pending, true);
      });
    }
  }
  return Status::Ok();
}

void EndpointService::Shutdown() {
  stopping_ = true;
  std::vector<BackgroundOp> threads;
  {
    std::lock_guard lock(threads_mu_);
    threads.swap(threads_);
  }
  for (auto& b : threads) b.thread.join();
  fleet_->Shutdown();
}

}  // namespace loam::hosting
