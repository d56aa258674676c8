#include "api/mlflow/handlers.h"
#include "tracking/validation.h"

namespace loam::api::mlflow {

using nlohmann::json;
using tracking::TrackingService;

namespace {

constexpr size_t kMaxLogBatchBody = 1000 * 1000;  // MLflow's 1 MB request limit for log-batch

StatusOr<tracking::Metric> ParseMetric(const Fields& f) {
  tracking::Metric m;
  ASSIGN_OR_RETURN(m.key, f.RequiredString("key"));
  ASSIGN_OR_RETURN(auto value, f.Double("value"));
  if (!value) return InvalidArgument("Missing value for required parameter 'value'. See the API docs for more information about request parameters.");
  ASSIGN_OR_RETURN(auto timestamp, f.Int64("timestamp"));
  if (!timestamp) return InvalidArgument("Missing value for required parameter 'timestamp'. See the API docs for more information about request parameters.");
  ASSIGN_OR_RETURN(auto step, f.Int64("step"));
  m.value = *value;
  m.timestamp = *timestamp;
  m.step = step.value_or(0);
  return m;
}

StatusOr<tracking::Param> ParseKeyValue(const Fields& f) {
  ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
  ASSIGN_OR_RETURN(std::string value, f.RequiredString("value"));
  return tracking::Param{std::move(key), std::move(value)};
}

StatusOr<std::vector<tracking::ModelLink>> ParseModelLinks(const Fields& f, const std::string& name) {
  std::vector<tracking::ModelLink> links;
  ASSIGN_OR_RETURN(auto items, f.MessageList(name));
  for (const auto& item : items) {
    tracking::ModelLink link;
    ASSIGN_OR_RETURN(link.model_id, item.RequiredString("model_id"));
    ASSIGN_OR_RETURN(auto step, item.Int64("step"));
    link.step = step.value_or(0);
    links.push_back(std::move(link));
  }
  return links;
}

StatusOr<std::string> Create(TrackingService& s, const Fields& f) {
  tracking::CreateRunRequest req;
  ASSIGN_OR_RETURN(auto experiment_id, f.String("experiment_id"));
  req.experiment_id = experiment_id.value_or("");
  ASSIGN_OR_RETURN(auto user_id, f.String("user_id"));
  req.user_id = user_id.value_or("");
  ASSIGN_OR_RETURN(auto run_name, f.String("run_name"));
  req.run_name = run_name.value_or("");
  ASSIGN_OR_RETURN(req.start_time, f.Int64("start_time"));
  ASSIGN_OR_RETURN(req.tags, ParseTags(f, "tags"));
  ASSIGN_OR_RETURN(auto run, s.CreateRun(req));
  return Dump({{"run", ToJson(run)}});
}

StatusOr<std::string> Update(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  tracking::RunUpdate u;
  ASSIGN_OR_RETURN(auto status, f.String("status"));
  if (status) {
    u.status = tracking::ParseRunStatus(*status);
    if (!u.status) {
      return InvalidArgument("Invalid value \"" + *status +
                             "\" for parameter 'status' supplied: expected RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.");
    }
  }
  ASSIGN_OR_RETURN(u.end_time, f.Int64("end_time"));
  ASSIGN_OR_RETURN(u.run_name, f.String("run_name"));
  ASSIGN_OR_RETURN(auto info, s.UpdateRun(run_id, u));
  return Dump({{"run_info", ToJson(info)}});
}

StatusOr<std::string> Delete(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  RETURN_IF_ERROR(s.DeleteRun(run_id));
  return EmptyResponse();
}

StatusOr<std::string> Restore(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  RETURN_IF_ERROR(s.RestoreRun(run_id));
  return EmptyResponse();
}

StatusOr<std::string> Get(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  ASSIGN_OR_RETURN(auto run, s.GetRun(run_id));
  return Dump({{"run", ToJson(run)}});
}

StatusOr<std::string> Search(TrackingService& s, const Fields& f) {
  tracking::SearchRunsRequest req;
  ASSIGN_OR_RETURN(req.experiment_ids, f.StringList("experiment_ids"));
  ASSIGN_OR_RETURN(auto filter, f.String("filter"));
  req.filter = filter.value_or("");
  ASSIGN_OR_RETURN(req.view_type, ParseViewTypeField(f, "run_view_type"));
  ASSIGN_OR_RETURN(req.max_results, f.Int64("max_results"));
  ASSIGN_OR_RETURN(req.order_by, f.StringList("order_by"));
  ASSIGN_OR_RETURN(auto token, f.String("page_token"));
  req.page_token = token.value_or("");
  ASSIGN_OR_RETURN(auto page, s.SearchRuns(req));
  json out = json::object();
  if (!page.items.empty()) {
    json arr = json::array();
    for (const auto& r : page.items) arr.push_back(ToJson(r));
    out["runs"] = std::move(arr);
  }
  if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
  return Dump(out);
}

StatusOr<std::string> LogMetric(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  ASSIGN_OR_RETURN(auto m, ParseMetric(f));
  RETURN_IF_ERROR(s.LogMetric(run_id, m));
  return EmptyResponse();
}

StatusOr<std::string> LogParam(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  ASSIGN_OR_RETURN(auto p, ParseKeyValue(f));
  RETURN_IF_ERROR(s.LogParam(run_id, p));
  return EmptyResponse();
}

StatusOr<std::string> SetTag(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  ASSIGN_OR_RETURN(auto t, ParseKeyValue(f));
  RETURN_IF_ERROR(s.SetTag(run_id, t));
  return EmptyResponse();
}

StatusOr<std::string> DeleteTag(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
  RETURN_IF_ERROR(s.DeleteTag(run_id, key));
  return EmptyResponse();
}

StatusOr<std::string> LogBatch(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  std::vector<tracking::Metric> metrics;
  std::vector<tracking::Param> params;
  std::vector<tracking::Tag> tags;
  ASSIGN_OR_RETURN(auto metric_fields, f.MessageList("metrics"));
  ASSIGN_OR_RETURN(auto param_fields, f.MessageList("params"));
  ASSIGN_OR_RETURN(auto tag_fields, f.MessageList("tags"));
  // Limits first, so an oversized batch is refused before any work.
  RETURN_IF_ERROR(tracking::ValidateBatchLimits(metric_fields.size(), param_fields.size(), tag_fields.size()));
  metrics.reserve(metric_fields.size());
  for (const auto& m : metric_fields) {
    ASSIGN_OR_RETURN(auto metric, ParseMetric(m));
    metrics.push_back(std::move(metric));
  }
  for (const auto& p : param_fields) {
    ASSIGN_OR_RETURN(auto param, ParseKeyValue(p));
    params.push_back(std::move(param));
  }
  for (const auto& t : tag_fields) {
    ASSIGN_OR_RETURN(auto tag, ParseKeyValue(t));
    tags.push_back(std::move(tag));
  }
  RETURN_IF_ERROR(s.LogBatch(run_id, metrics, params, tags));
  return EmptyResponse();
}

StatusOr<std::string> LogModel(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  ASSIGN_OR_RETURN(std::string model_json, f.RequiredString("model_json"));
  RETURN_IF_ERROR(s.LogModel(run_id, model_json));
  return EmptyResponse();
}

StatusOr<std::string> LogInputs(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  std::vector<tracking::DatasetInput> inputs;
  if (!f.Has("datasets")) {
    return InvalidArgument("Missing value for required parameter 'datasets'. See the API docs for more information "
                           "about request parameters.");
  }
  ASSIGN_OR_RETURN(auto items, f.MessageList("datasets"));
  for (const auto& item : items) {
    tracking::DatasetInput in;
    ASSIGN_OR_RETURN(in.tags, ParseTags(item, "tags"));
    ASSIGN_OR_RETURN(auto ds, item.Message("dataset"));
    if (!ds) return InvalidArgument("Missing value for required parameter 'datasets.dataset'.");
    ASSIGN_OR_RETURN(in.dataset.name, ds->RequiredString("name"));
    ASSIGN_OR_RETURN(in.dataset.digest, ds->RequiredString("digest"));
    ASSIGN_OR_RETURN(in.dataset.source_type, ds->RequiredString("source_type"));
    ASSIGN_OR_RETURN(in.dataset.source, ds->RequiredString("source"));
    ASSIGN_OR_RETURN(auto schema, ds->String("schema"));
    ASSIGN_OR_RETURN(auto profile, ds->String("profile"));
    in.dataset.schema = schema.value_or("");
    in.dataset.profile = profile.value_or("");
    inputs.push_back(std::move(in));
  }
  ASSIGN_OR_RETURN(auto models, ParseModelLinks(f, "models"));
  if (!inputs.empty()) RETURN_IF_ERROR(s.LogInputs(run_id, inputs));
  RETURN_IF_ERROR(s.LogRunModels(run_id, models, /*as_inputs=*/true));
  return EmptyResponse();
}

StatusOr<std::string> LogOutputs(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  ASSIGN_OR_RETURN(auto models, ParseModelLinks(f, "models"));
  RETURN_IF_ERROR(s.LogRunModels(run_id, models, /*as_inputs=*/false));
  return EmptyResponse();
}

}  // namespace

std::vector<Endpoint> RunEndpoints() {
  return {
      {"runs.create", {"POST"}, "/runs/create", Create},
      {"runs.update", {"POST"}, "/runs/update", Update},
      {"runs.delete", {"POST"}, "/runs/delete", Delete},
      {"runs.restore", {"POST"}, "/runs/restore", Restore},
      {"runs.get", {"GET"}, "/runs/get", Get},
      {"runs.search", {"POST"}, "/runs/search", Search},
      {"runs.log-metric", {"POST"}, "/runs/log-metric", LogMetric},
      {"runs.log-parameter", {"POST"}, "/runs/log-parameter", LogParam},
      {"runs.set-tag", {"POST"}, "/runs/set-tag", SetTag},
      {"runs.delete-tag", {"POST"}, "/runs/delete-tag", DeleteTag},
      {"runs.log-batch", {"POST"}, "/runs/log-batch", LogBatch, kMaxLogBatchBody},
      {"runs.log-model", {"POST"}, "/runs/log-model", LogModel},
      {"runs.log-inputs", {"POST"}, "/runs/log-inputs", LogInputs},
      {"runs.outputs", {"POST"}, "/runs/outputs", LogOutputs},
  };
}

}  // namespace loam::api::mlflow
