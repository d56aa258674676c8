#include "api/mlflow/handlers.h"

namespace loam::api::mlflow {

using nlohmann::json;
using tracking::TrackingService;

StatusOr<std::vector<tracking::Tag>> ParseTags(const Fields& f, const std::string& name) {
  std::vector<tracking::Tag> tags;
  ASSIGN_OR_RETURN(auto items, f.MessageList(name));
  for (const auto& item : items) {
    ASSIGN_OR_RETURN(std::string key, item.RequiredString("key"));
    ASSIGN_OR_RETURN(auto value, item.String("value"));
    tags.push_back({std::move(key), value.value_or("")});
  }
  return tags;
}

StatusOr<tracking::ViewType> ParseViewTypeField(const Fields& f, const std::string& name) {
  ASSIGN_OR_RETURN(auto raw, f.String(name));
  if (!raw) {
    ASSIGN_OR_RETURN(auto number, f.Int64(name));
    if (!number) return tracking::ViewType::kActiveOnly;
    raw = std::to_string(*number);
  }
  auto v = tracking::ParseViewType(*raw);
  if (!v) {
    return InvalidArgument("Invalid value \"" + *raw + "\" for parameter '" + name +
                           "' supplied: expected ACTIVE_ONLY, DELETED_ONLY or ALL.");
  }
  return *v;
}

namespace {

StatusOr<std::string> Create(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string name, f.RequiredString("name"));
  ASSIGN_OR_RETURN(auto location, f.String("artifact_location"));
  ASSIGN_OR_RETURN(auto tags, ParseTags(f, "tags"));
  ASSIGN_OR_RETURN(std::string id, s.CreateExperiment(name, location.value_or(""), tags));
  return Dump({{"experiment_id", id}});
}

StatusOr<std::string> Get(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
  ASSIGN_OR_RETURN(auto e, s.GetExperiment(id));
  return Dump({{"experiment", ToJson(e)}});
}

StatusOr<std::string> GetByName(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string name, f.RequiredString("experiment_name"));
  ASSIGN_OR_RETURN(auto e, s.GetExperimentByName(name));
  return Dump({{"experiment", ToJson(e)}});
}

StatusOr<std::string> Search(TrackingService& s, const Fields& f) {
  tracking::SearchExperimentsRequest req;
  ASSIGN_OR_RETURN(req.max_results, f.Int64("max_results"));
  ASSIGN_OR_RETURN(auto token, f.String("page_token"));
  req.page_token = token.value_or("");
  ASSIGN_OR_RETURN(auto filter, f.String("filter"));
  req.filter = filter.value_or("");
  ASSIGN_OR_RETURN(req.order_by, f.StringList("order_by"));
  ASSIGN_OR_RETURN(req.view_type, ParseViewTypeField(f, "view_type"));
  ASSIGN_OR_RETURN(auto page, s.SearchExperiments(req));
  json out = json::object();
  if (!page.items.empty()) {
    json arr = json::array();
    for (const auto& e : page.items) arr.push_back(ToJson(e));
    out["experiments"] = std::move(arr);
  }
  if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
  return Dump(out);
}

StatusOr<std::string> Update(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
  ASSIGN_OR_RETURN(auto new_name, f.String("new_name"));
  RETURN_IF_ERROR(s.RenameExperiment(id, new_name.value_or("")));
  return EmptyResponse();
}

StatusOr<std::string> Delete(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
  RETURN_IF_ERROR(s.DeleteExperiment(id));
  return EmptyResponse();
}

StatusOr<std::string> Restore(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
  RETURN_IF_ERROR(s.RestoreExperiment(id));
  return EmptyResponse();
}

StatusOr<std::string> SetTag(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
  ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
  ASSIGN_OR_RETURN(std::string value, f.RequiredString("value"));
  RETURN_IF_ERROR(s.SetExperimentTag(id, {key, value}));
  return EmptyResponse();
}

StatusOr<std::string> DeleteTag(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string id, f.RequiredString("experiment_id"));
  ASSIGN_OR_RETURN(std::string key, f.RequiredString("key"));
  RETURN_IF_ERROR(s.DeleteExperimentTag(id, key));
  return EmptyResponse();
}

}  // namespace

std::vector<Endpoint> ExperimentEndpoints() {
  return {
      {"experiments.create", {"POST"}, "/experiments/create", Create},
      {"experiments.get", {"GET"}, "/experiments/get", Get},
      {"experiments.get-by-name", {"GET"}, "/experiments/get-by-name", GetByName},
      {"experiments.search", {"POST", "GET"}, "/experiments/search", Search},
      {"experiments.update", {"POST"}, "/experiments/update", Update},
      {"experiments.delete", {"POST"}, "/experiments/delete", Delete},
      {"experiments.restore", {"POST"}, "/experiments/restore", Restore},
      {"experiments.set-experiment-tag", {"POST"}, "/experiments/set-experiment-tag", SetTag},
      {"experiments.delete-experiment-tag", {"POST"}, "/experiments/delete-experiment-tag", DeleteTag},
  };
}

}  // namespace loam::api::mlflow
