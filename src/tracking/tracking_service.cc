#include "tracking/tracking_service.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <fmt/format.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "tracking/page_tokens.h"
#include "common/strings.h"
#include "tracking/run_names.h"
#include "tracking/validation.h"

namespace loam::tracking {

namespace {

constexpr int64_t kMaxRunIdsPerBulkRequest = 100;
constexpr int64_t kMaxResultsPerRunBulk = 2500;

StatusOr<std::vector<OrderBy>> ParseOrderByList(const std::vector<std::string>& clauses,
                                                StatusOr<OrderBy> (*parse)(std::string_view)) {
  std::vector<OrderBy> out;
  for (const auto& clause : clauses) {
    ASSIGN_OR_RETURN(OrderBy parsed, parse(clause));
    out.push_back(std::move(parsed));
  }
  return out;
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

}  // namespace loam::tracking
