#include "tracking/tracking_service.h"

#include <algorithm>
#include <bit>
#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "common/base64.h"
#include "common/strings.h"
#include "tracking/run_names.h"
#include "tracking/validation.h"

namespace loam::tracking {

namespace {

constexpr int64_t kMaxRunIdsPerBulkRequest = 100;
constexpr int64_t kMaxResultsPerRunBulk = 2500;

std::string EncodeOffsetToken(int64_t offset) { return Base64Encode(nlohmann::json{{"offset", offset}}.dump()); }

StatusOr<int64_t> DecodeOffsetToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  auto raw = Base64Decode(token);
  if (!raw) return InvalidArgument("Invalid page token, could not base64-decode");
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("offset") || !j["offset"].is_number_integer() ||
      j["offset"].get<int64_t>() < 0)
    return InvalidArgument("Invalid page token, decoded value=" + *raw);
  return j["offset"].get<int64_t>();
}

// The value travels as its IEEE-754 bit pattern, so every double (infinities included)
// comes back exactly.
std::string EncodeCursor(const HistoryCursor& c) {
  return Base64Encode(nlohmann::json{{"step", c.step},
                                     {"timestamp", c.timestamp},
                                     {"value_bits", std::bit_cast<int64_t>(c.value)},
                                     {"is_nan", c.is_nan}}
                          .dump());
}

StatusOr<std::optional<HistoryCursor>> DecodeCursor(const std::string& token) {
  if (token.empty()) return std::optional<HistoryCursor>();
  auto raw = Base64Decode(token);
  if (!raw) return InvalidArgument("Invalid page token, could not base64-decode");
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  auto is_int = [&](const char* k) { return j.is_object() && j.contains(k) && j[k].is_number_integer(); };
  if (j.is_discarded() || !is_int("step") || !is_int("timestamp") || !is_int("value_bits") || !j.contains("is_nan") ||
      !j["is_nan"].is_boolean())
    return InvalidArgument("Invalid page token, decoded value=" + *raw);
  return std::optional<HistoryCursor>(HistoryCursor{j["step"].get<int64_t>(), j["timestamp"].get<int64_t>(),
                                                    std::bit_cast<double>(j["value_bits"].get<int64_t>()),
                                                    j["is_nan"].get<bool>()});
}

StatusOr<std::vector<OrderBy>> ParseOrderByList(const std::vector<std::string>& clauses,
                                                StatusOr<OrderBy> (*parse)(std::string_view)) {
  std::vector<OrderBy> out;
  for (const auto& clause : clauses) {
    ASSIGN_OR_RETURN(OrderBy parsed, parse(clause));
    out.push_back(std::move(parsed));
  }
  return out;
}

Status CheckExperimentId(const std::string& id) {
  if (id.empty()) return InvalidArgument("Missing value for required parameter 'experiment_id'.");
  return Status::Ok();
}

}  // namespace

TrackingService::TrackingService(std::shared_ptr<TrackingStore> store, std::shared_ptr<objects::ObjectStore> artifacts,
                                 Clock clock)
    : store_(std::move(store)), artifacts_(std::move(artifacts)), clock_(std::move(clock)) {}

// ---- experiments ----------------------------------------------------------------------

StatusOr<std::string> TrackingService::CreateExperiment(const std::string& name, const std::string& artifact_location,
                                                        const std::vector<Tag>& tags) {
  RETURN_IF_ERROR(ValidateExperimentName(name));
  for (const auto& t : tags) RETURN_IF_ERROR(ValidateExperimentTag(t));
  if (!artifact_location.empty()) {
    auto lower = ToLower(artifact_location);
    if (lower.find("..") != std::string::npos && (StartsWith(lower, "mlflow-artifacts:") || StartsWith(lower, "file:")))
      return InvalidArgument("Invalid artifact location '" + artifact_location + "': must not contain '..'");
  }
  return store_->CreateExperiment({name, artifact_location, tags, clock_()});
}

StatusOr<Experiment> TrackingService::GetExperiment(const std::string& experiment_id) {
  RETURN_IF_ERROR(CheckExperimentId(experiment_id));
  return store_->GetExperiment(experiment_id);
}

StatusOr<Experiment> TrackingService::GetExperimentByName(const std::string& name) {
  if (name.empty()) return InvalidArgument("Missing value for required parameter 'experiment_name'.");
  return store_->GetExperimentByName(name);
}

StatusOr<Page<Experiment>> TrackingService::SearchExperiments(const SearchExperimentsRequest& req) {
  ExperimentQuery q;
  q.max_results = req.max_results.value_or(kSearchMaxResultsDefault);
  RETURN_IF_ERROR(ValidateMaxResults(q.max_results));
  ASSIGN_OR_RETURN(q.filter, ParseExperimentFilter(req.filter));
  ASSIGN_OR_RETURN(q.order_by, ParseOrderByList(req.order_by, ParseExperimentOrderBy));
  q.view_type = req.view_type;
  ASSIGN_OR_RETURN(q.offset, DecodeOffsetToken(req.page_token));
  ASSIGN_OR_RETURN(ExperimentPage page, store_->SearchExperiments(q));
  Page<Experiment> out{std::move(page.experiments), ""};
  if (page.has_more) out.next_page_token = EncodeOffsetToken(q.offset + q.max_results);
  return out;
}

Status TrackingService::RenameExperiment(const std::string& experiment_id, const std::string& new_name) {
  RETURN_IF_ERROR(CheckExperimentId(experiment_id));
  if (new_name.empty()) return InvalidArgument("Missing value for required parameter 'new_name'.");
  RETURN_IF_ERROR(ValidateExperimentName(new_name));
  return store_->RenameExperiment(experiment_id, new_name, clock_());
}

Status TrackingService::DeleteExperiment(const std::string& experiment_id) {
  RETURN_IF_ERROR(CheckExperimentId(experiment_id));
  if (experiment_id == "0") return InvalidArgument("Cannot delete the default experiment '0'. This is an internally reserved experiment.");
  return store_->SetExperimentLifecycle(experiment_id, LifecycleStage::kDeleted, clock_());
}

Status TrackingService::RestoreExperiment(const std::string& experiment_id) {
  RETURN_IF_ERROR(CheckExperimentId(experiment_id));
  return store_->SetExperimentLifecycle(experiment_id, LifecycleStage::kActive, clock_());
}

Status TrackingService::SetExperimentTag(const std::string& experiment_id, const Tag& tag) {
  RETURN_IF_ERROR(CheckExperimentId(experiment_id));
  RETURN_IF_ERROR(ValidateExperimentTag(tag));
  return store_->SetExperimentTag(experiment_id, tag);
}

Status TrackingService::DeleteExperimentTag(const std::string& experiment_id, const std::string& key) {
  RETURN_IF_ERROR(CheckExperimentId(experiment_id));
  RETURN_IF_ERROR(ValidateEntityKey("tag", key));
  return store_->DeleteExperimentTag(experiment_id, key);
}

// ---- runs -----------------------------------------------------------------------------

StatusOr<Run> TrackingService::CreateRun(const CreateRunRequest& req) {
  std::string experiment_id = req.experiment_id.empty() ? "0" : req.experiment_id;
  for (const auto& t : req.tags) RETURN_IF_ERROR(ValidateTag(t));
  std::string run_name = req.run_name;
  for (const auto& t : req.tags) {
    if (t.key != kRunNameTag) continue;
    if (!run_name.empty() && run_name != t.value) {
      return InvalidArgument(fmt::format(
          "Both 'run_name' argument and 'mlflow.runName' tag are specified, but with different values "
          "(run_name='{}', mlflow.runName='{}').",
          run_name, t.value));
    }
    run_name = t.value;
  }
  if (run_name.empty()) run_name = GenerateRunName();
  NewRun r{experiment_id, run_name, req.user_id, req.start_time.value_or(clock_()), req.tags};
  return store_->CreateRun(r, NewUuidHex());
}

StatusOr<Run> TrackingService::GetRun(const std::string& run_id) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  return store_->GetRun(run_id);
}

StatusOr<RunInfo> TrackingService::UpdateRun(const std::string& run_id, const RunUpdate& update) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  return store_->UpdateRun(run_id, update);
}

Status TrackingService::DeleteRun(const std::string& run_id) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  return store_->SetRunLifecycle(run_id, LifecycleStage::kDeleted, clock_());
}

Status TrackingService::RestoreRun(const std::string& run_id) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  return store_->SetRunLifecycle(run_id, LifecycleStage::kActive, clock_());
}

Status TrackingService::LogMetric(const std::string& run_id, const Metric& metric) {
  return LogBatch(run_id, {metric}, {}, {});
}

Status TrackingService::LogParam(const std::string& run_id, const Param& param) {
  return LogBatch(run_id, {}, {param}, {});
}

Status TrackingService::SetTag(const std::string& run_id, const Tag& tag) { return LogBatch(run_id, {}, {}, {tag}); }

Status TrackingService::DeleteTag(const std::string& run_id, const std::string& key) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  return store_->DeleteTag(run_id, key);
}

Status TrackingService::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                                 const std::vector<Param>& params, const std::vector<Tag>& tags) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  RETURN_IF_ERROR(ValidateBatchLimits(metrics.size(), params.size(), tags.size()));
  for (const auto& m : metrics) RETURN_IF_ERROR(ValidateMetric(m));
  std::map<std::string_view, std::string_view> seen_params;
  for (const auto& p : params) {
    RETURN_IF_ERROR(ValidateParam(p));
    auto [it, inserted] = seen_params.emplace(p.key, p.value);
    if (!inserted && it->second != p.value) {
      return InvalidArgument(fmt::format(
          "Duplicate parameter keys have been submitted: [{}]. Please ensure the request contains only one param "
          "value per param key.",
          p.key));
    }
  }
  for (const auto& t : tags) RETURN_IF_ERROR(ValidateTag(t));
  return store_->LogBatch(run_id, metrics, params, tags);
}

Status TrackingService::LogModel(const std::string& run_id, const std::string& model_json) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  auto model = nlohmann::json::parse(model_json, nullptr, false);
  if (model.is_discarded() || !model.is_object())
    return InvalidArgument("Malformed model info. \n" + model_json + "\n is not a valid JSON.");
  std::vector<std::string> missing;
  for (const char* field : {"artifact_path", "flavors", "utc_time_created", "run_id"}) {
    if (!model.contains(field)) missing.emplace_back(field);
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
    return InvalidArgument("Model json is missing mandatory fields: [" + list + "]");
  }
  ASSIGN_OR_RETURN(Run run, store_->GetRun(run_id));
  nlohmann::json history = nlohmann::json::array();
  for (const auto& t : run.tags) {
    if (t.key == kLoggedModelsTag) {
      auto parsed = nlohmann::json::parse(t.value, nullptr, false);
      if (parsed.is_array()) history = std::move(parsed);
    }
  }
  history.push_back(std::move(model));
  return store_->LogBatch(run_id, {}, {}, {{std::string(kLoggedModelsTag), history.dump()}});
}

Status TrackingService::LogInputs(const std::string& run_id, const std::vector<DatasetInput>& inputs) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  for (const auto& in : inputs) RETURN_IF_ERROR(ValidateDatasetInput(in));
  return store_->LogInputs(run_id, inputs);
}

StatusOr<Page<Run>> TrackingService::SearchRuns(const SearchRunsRequest& req) {
  RunQuery q;
  q.experiment_ids = req.experiment_ids;
  q.max_results = req.max_results.value_or(kSearchMaxResultsDefault);
  RETURN_IF_ERROR(ValidateMaxResults(q.max_results));
  ASSIGN_OR_RETURN(q.filter, ParseRunFilter(req.filter));
  ASSIGN_OR_RETURN(q.order_by, ParseOrderByList(req.order_by, ParseRunOrderBy));
  q.view_type = req.view_type;
  ASSIGN_OR_RETURN(q.offset, DecodeOffsetToken(req.page_token));
  if (q.experiment_ids.empty()) return Page<Run>{};
  ASSIGN_OR_RETURN(RunPage page, store_->SearchRuns(q));
  Page<Run> out{std::move(page.runs), ""};
  if (page.has_more) out.next_page_token = EncodeOffsetToken(q.offset + q.max_results);
  return out;
}

StatusOr<Page<Metric>> TrackingService::GetMetricHistory(const std::string& run_id, const std::string& key,
                                                         std::optional<int64_t> max_results,
                                                         const std::string& page_token) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  if (key.empty()) return InvalidArgument("Missing value for required parameter 'metric_key'.");
  if (max_results) RETURN_IF_ERROR(ValidateMaxResults(*max_results, 1'000'000'000));
  ASSIGN_OR_RETURN(auto cursor, DecodeCursor(page_token));
  ASSIGN_OR_RETURN(MetricHistoryPage page, store_->GetMetricHistory(run_id, key, max_results, cursor));
  Page<Metric> out{std::move(page.metrics), ""};
  if (page.next) out.next_page_token = EncodeCursor(*page.next);
  return out;
}

StatusOr<std::vector<MetricWithRunId>> TrackingService::GetMetricHistoryBulkInterval(
    const std::vector<std::string>& run_ids, const std::string& key, std::optional<int64_t> start_step,
    std::optional<int64_t> end_step, std::optional<int64_t> max_results) {
  if (run_ids.empty()) return InvalidArgument("GetMetricHistoryBulkInterval request must specify at least one run_id.");
  if (static_cast<int64_t>(run_ids.size()) > kMaxRunIdsPerBulkRequest) {
    return InvalidArgument(fmt::format("GetMetricHistoryBulkInterval request cannot specify more than {} run_ids. "
                                       "Received {} run_ids.", kMaxRunIdsPerBulkRequest, run_ids.size()));
  }
  for (const auto& id : run_ids) RETURN_IF_ERROR(ValidateRunId(id));
  if (key.empty()) return InvalidArgument("Missing value for required parameter 'metric_key'.");
  if (start_step.has_value() != end_step.has_value())
    return InvalidArgument("Both 'start_step' and 'end_step' must be specified or neither.");
  if (start_step && *start_step > *end_step)
    return InvalidArgument(fmt::format("'start_step' ({}) must be less than or equal to 'end_step' ({})", *start_step,
                                       *end_step));
  int64_t limit = max_results.value_or(kMaxResultsPerRunBulk);
  if (limit <= 0 || limit > kMaxResultsPerRunBulk)
    return InvalidArgument(fmt::format("'max_results' must be between 1 and {}, got {}", kMaxResultsPerRunBulk, limit));
  for (const auto& id : run_ids) {
    ASSIGN_OR_RETURN(Run run, store_->GetRun(id));
    (void)run;
  }
  ASSIGN_OR_RETURN(auto points, store_->GetMetricPointsInRange(run_ids, key, start_step, end_step));
  // Sample `limit` steps evenly over the union of all runs' steps, as MLflow does, so every
  // run is drawn over the same x values.
  std::vector<int64_t> steps;
  for (const auto& p : points) steps.push_back(p.metric.step);
  std::sort(steps.begin(), steps.end());
  steps.erase(std::unique(steps.begin(), steps.end()), steps.end());
  std::set<int64_t> keep;
  if (static_cast<int64_t>(steps.size()) <= limit) {
    keep.insert(steps.begin(), steps.end());
  } else {
    double interval = static_cast<double>(steps.size()) / static_cast<double>(limit);
    for (int64_t i = 0; i < limit; ++i) keep.insert(steps[static_cast<size_t>(std::floor(i * interval))]);
    // Each run's first and last step, so every curve is drawn to its ends.
    std::map<std::string_view, std::pair<int64_t, int64_t>> ends;
    for (const auto& p : points) {
      auto [it, inserted] = ends.emplace(p.run_id, std::make_pair(p.metric.step, p.metric.step));
      it->second.first = std::min(it->second.first, p.metric.step);
      it->second.second = std::max(it->second.second, p.metric.step);
    }
    for (const auto& [run, range] : ends) {
      keep.insert(range.first);
      keep.insert(range.second);
    }
  }
  std::vector<MetricWithRunId> out;
  for (auto& p : points) {
    if (keep.count(p.metric.step)) out.push_back(std::move(p));
  }
  // Order by the requested run order, then step, then timestamp.
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < run_ids.size(); ++i) order.emplace(run_ids[i], i);
  std::stable_sort(out.begin(), out.end(), [&](const auto& a, const auto& b) {
    auto oa = order[a.run_id], ob = order[b.run_id];
    if (oa != ob) return oa < ob;
    if (a.metric.step != b.metric.step) return a.metric.step < b.metric.step;
    return a.metric.timestamp < b.metric.timestamp;
  });
  return out;
}

// ---- artifacts ------------------------------------------------------------------------

StatusOr<ArtifactListing> TrackingService::ListRunArtifacts(const std::string& run_id, const std::string& path) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  RETURN_IF_ERROR(ValidateArtifactPath(path));
  ASSIGN_OR_RETURN(Run run, store_->GetRun(run_id));
  return ListUnder(run.info.artifact_uri, path);
}

StatusOr<ArtifactListing> TrackingService::ListUnder(const std::string& root_uri, const std::string& path) {
  ArtifactListing out;
  out.root_uri = root_uri;
  std::string prefix = kArtifactScheme;
  if (!StartsWith(out.root_uri, prefix)) {
    // Artifacts stored outside the proxy (a file:// or s3:// location the client writes to
    // directly) are listed by the client itself.
    return out;
  }
  std::string base = out.root_uri.substr(prefix.size());
  while (!base.empty() && base.front() == '/') base.erase(0, 1);
  std::string dir = path.empty() ? base : base + "/" + path;
  auto listed = artifacts_->List(dir);
  if (!listed.ok()) {
    if (listed.status().code() == StatusCode::kNotFound) return out;
    return listed.status();
  }
  for (auto& e : *listed) {
    e.name = path.empty() ? e.name : path + "/" + e.name;
    out.files.push_back(std::move(e));
  }
  return out;
}

// ---- logged models --------------------------------------------------------------------

namespace {

Status ValidateLoggedModelName(const std::string& name) {
  for (char c : std::string_view("/:.%\"'")) {
    if (name.find(c) != std::string::npos) {
      return InvalidArgument(fmt::format("Invalid model name ('{}') provided. Model name must be a non-empty string "
                                         "and cannot contain the following characters: ('/', ':', '.', '%', '\"', \"'\")",
                                         name));
    }
  }
  return Status::Ok();
}

Status ValidateModelId(const std::string& model_id) {
  if (model_id.empty()) return InvalidArgument("Missing value for required parameter 'model_id'.");
  for (unsigned char c : model_id) {
    if (!(std::isalnum(c) || c == '-' || c == '_')) return InvalidArgument("Invalid model ID: '" + model_id + "'");
  }
  return Status::Ok();
}

}  // namespace

StatusOr<LoggedModel> TrackingService::CreateLoggedModel(const NewLoggedModel& req) {
  RETURN_IF_ERROR(CheckExperimentId(req.experiment_id));
  RETURN_IF_ERROR(ValidateLoggedModelName(req.name));
  for (const auto& t : req.tags) RETURN_IF_ERROR(ValidateTag(t));
  for (const auto& p : req.params) RETURN_IF_ERROR(ValidateParam(p));
  if (!req.source_run_id.empty()) RETURN_IF_ERROR(ValidateRunId(req.source_run_id));
  LoggedModel m;
  m.model_id = "m-" + NewUuidHex();
  m.experiment_id = req.experiment_id;
  m.name = req.name.empty() ? GenerateRunName() : req.name;
  m.model_type = req.model_type;
  m.source_run_id = req.source_run_id;
  m.creation_timestamp_ms = clock_();
  m.tags = req.tags;
  m.params = req.params;
  return store_->CreateLoggedModel(m);
}

StatusOr<LoggedModel> TrackingService::GetLoggedModel(const std::string& model_id, bool allow_deleted) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  return store_->GetLoggedModel(model_id, allow_deleted);
}

StatusOr<LoggedModel> TrackingService::FinalizeLoggedModel(const std::string& model_id, LoggedModelStatus status) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  if (status != LoggedModelStatus::kReady && status != LoggedModelStatus::kUploadFailed) {
    return InvalidArgument(fmt::format("Invalid model status: {}. Expected LOGGED_MODEL_READY or "
                                       "LOGGED_MODEL_UPLOAD_FAILED.", LoggedModelStatusName(status)));
  }
  return store_->FinalizeLoggedModel(model_id, status, clock_());
}

Status TrackingService::DeleteLoggedModel(const std::string& model_id) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  return store_->DeleteLoggedModel(model_id, clock_());
}

Status TrackingService::SetLoggedModelTags(const std::string& model_id, const std::vector<Tag>& tags) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  for (const auto& t : tags) RETURN_IF_ERROR(ValidateTag(t));
  return store_->SetLoggedModelTags(model_id, tags, clock_());
}

Status TrackingService::DeleteLoggedModelTag(const std::string& model_id, const std::string& key) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  return store_->DeleteLoggedModelTag(model_id, key, clock_());
}

Status TrackingService::LogLoggedModelParams(const std::string& model_id, const std::vector<Param>& params) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  for (const auto& p : params) RETURN_IF_ERROR(ValidateParam(p));
  return store_->LogLoggedModelParams(model_id, params, clock_());
}

StatusOr<Page<LoggedModel>> TrackingService::SearchLoggedModels(const std::vector<std::string>& experiment_ids,
                                                                const std::string& filter,
                                                                const std::vector<LoggedModelOrder>& order_by,
                                                                std::optional<int64_t> max_results,
                                                                const std::string& page_token) {
  if (experiment_ids.empty()) return InvalidArgument("At least one experiment ID must be specified.");
  LoggedModelQuery q;
  q.experiment_ids = experiment_ids;
  q.max_results = max_results.value_or(100);
  RETURN_IF_ERROR(ValidateMaxResults(q.max_results));
  ASSIGN_OR_RETURN(q.filter, ParseLoggedModelFilter(filter));
  for (const auto& ob : order_by) {
    std::string field = ob.field_name;
    if (StartsWith(field, "attributes.")) field = field.substr(11);
    if (field == "creation_time") field = "creation_timestamp";
    if (field == "last_updated_time") field = "last_updated_timestamp";
    if (!IsLoggedModelAttribute(field)) {
      return InvalidArgument("Invalid order by field name: '" + ob.field_name +
                             "'. Logged models can be ordered by name, model_id, model_type, status, source_run_id, "
                             "creation_timestamp or last_updated_timestamp.");
    }
    q.order_by.push_back({EntityType::kAttribute, field, ob.ascending});
  }
  ASSIGN_OR_RETURN(q.offset, DecodeOffsetToken(page_token));
  ASSIGN_OR_RETURN(LoggedModelPage page, store_->SearchLoggedModels(q));
  Page<LoggedModel> out{std::move(page.models), ""};
  if (page.has_more) out.next_page_token = EncodeOffsetToken(q.offset + q.max_results);
  return out;
}

Status TrackingService::LogRunModels(const std::string& run_id, const std::vector<ModelLink>& models, bool as_inputs) {
  RETURN_IF_ERROR(ValidateRunId(run_id));
  for (const auto& m : models) RETURN_IF_ERROR(ValidateModelId(m.model_id));
  if (models.empty()) return Status::Ok();
  return store_->LinkRunModels(run_id, models, as_inputs);
}

StatusOr<ArtifactListing> TrackingService::ListLoggedModelArtifacts(const std::string& model_id,
                                                                    const std::string& path) {
  RETURN_IF_ERROR(ValidateModelId(model_id));
  RETURN_IF_ERROR(ValidateArtifactPath(path));
  ASSIGN_OR_RETURN(LoggedModel m, store_->GetLoggedModel(model_id, false));
  return ListUnder(m.artifact_uri, path);
}

Status TrackingService::PutArtifact(const std::string& path, const std::filesystem::path& uploaded_file) {
  RETURN_IF_ERROR(ValidateArtifactPath(path));
  if (path.empty() || path.back() == '/') return InvalidArgument("Artifact path must name a file: '" + path + "'");
  return artifacts_->PutFile(path, uploaded_file);
}

StatusOr<objects::ReadableObject> TrackingService::GetArtifact(const std::string& path) {
  RETURN_IF_ERROR(ValidateArtifactPath(path));
  auto obj = artifacts_->Get(path);
  if (!obj.ok() && obj.status().code() == StatusCode::kNotFound)
    return NotFound("Artifact '" + path + "' does not exist.");
  return obj;
}

StatusOr<std::vector<objects::ObjectEntry>> TrackingService::ListArtifacts(const std::string& path) {
  RETURN_IF_ERROR(ValidateArtifactPath(path));
  auto listed = artifacts_->List(path);
  if (!listed.ok() && listed.status().code() == StatusCode::kNotFound) return std::vector<objects::ObjectEntry>{};
  return listed;
}

Status TrackingService::DeleteArtifact(const std::string& path) {
  RETURN_IF_ERROR(ValidateArtifactPath(path));
  if (path.empty()) return InvalidArgument("Refusing to delete the artifact root");
  auto st = artifacts_->Delete(path);
  if (st.code() == StatusCode::kNotFound) return NotFound("Artifact '" + path + "' does not exist.");
  return st;
}

}  // namespace loam::tracking
