// MLflow 3's logged-model API: what mlflow>=3 calls from log_model and to load runs:/ URIs.
#include "api/mlflow/handlers.h"
#include "api/mlflow/mlflow_errors.h"
#include "common/strings.h"

namespace loam::api::mlflow {

using nlohmann::json;
using tracking::TrackingService;

namespace {

StatusOr<std::vector<tracking::Param>> ParseKeyValues(const Fields& f, const std::string& name) {
  return ParseTags(f, name);
}

StatusOr<std::string> Create(TrackingService& s, const Fields& f) {
  TrackingService::NewLoggedModel req;
  ASSIGN_OR_RETURN(req.experiment_id, f.RequiredString("experiment_id"));
  ASSIGN_OR_RETURN(auto name, f.String("name"));
  ASSIGN_OR_RETURN(auto model_type, f.String("model_type"));
  ASSIGN_OR_RETURN(auto source_run_id, f.String("source_run_id"));
  req.name = name.value_or("");
  req.model_type = model_type.value_or("");
  req.source_run_id = source_run_id.value_or("");
  ASSIGN_OR_RETURN(req.tags, ParseTags(f, "tags"));
  ASSIGN_OR_RETURN(req.params, ParseKeyValues(f, "params"));
  ASSIGN_OR_RETURN(auto model, s.CreateLoggedModel(req));
  return Dump({{"model", ToJson(model)}});
}

StatusOr<std::string> Search(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(auto experiment_ids, f.StringList("experiment_ids"));
  ASSIGN_OR_RETURN(auto filter, f.String("filter"));
  ASSIGN_OR_RETURN(auto max_results, f.Int64("max_results"));
  ASSIGN_OR_RETURN(auto token, f.String("page_token"));
  ASSIGN_OR_RETURN(auto order_items, f.MessageList("order_by"));
  std::vector<TrackingService::LoggedModelOrder> order_by;
  for (const auto& item : order_items) {
    TrackingService::LoggedModelOrder ob;
    ASSIGN_OR_RETURN(ob.field_name, item.RequiredString("field_name"));
    ASSIGN_OR_RETURN(auto ascending, item.Bool("ascending"));
    ob.ascending = ascending.value_or(true);
    order_by.push_back(std::move(ob));
  }
  ASSIGN_OR_RETURN(auto page, s.SearchLoggedModels(experiment_ids, filter.value_or(""), order_by, max_results,
                                                   token.value_or("")));
  json out = json::object();
  if (!page.items.empty()) {
    json arr = json::array();
    for (const auto& m : page.items) arr.push_back(ToJson(m));
    out["models"] = std::move(arr);
  }
  if (!page.next_page_token.empty()) out["next_page_token"] = page.next_page_token;
  return Dump(out);
}

// Dispatches /logged-models/{model_id}... by the rest of the path and the method.
StatusOr<std::string> OnModel(TrackingService& s, const http::Request& req, const Fields& f) {
  auto decoded = PercentDecode(req.route_tail, false);
  if (!decoded) return InvalidArgument("Invalid logged model path");
  std::vector<std::string> parts = Split(*decoded, '/');
  const std::string& model_id = parts[0];
  const std::string& m = req.method;
  if (parts.size() == 1) {
    if (m == "GET") {
      ASSIGN_OR_RETURN(auto allow_deleted, f.Bool("allow_deleted"));
      ASSIGN_OR_RETURN(auto model, s.GetLoggedModel(model_id, allow_deleted.value_or(false)));
      return Dump({{"model", ToJson(model)}});
    }
    if (m == "PATCH") {
      ASSIGN_OR_RETURN(std::string status_name, f.RequiredString("status"));
      auto status = tracking::ParseLoggedModelStatus(status_name);
      if (!status) return InvalidArgument("Invalid value \"" + status_name + "\" for parameter 'status' supplied.");
      ASSIGN_OR_RETURN(auto model, s.FinalizeLoggedModel(model_id, *status));
      return Dump({{"model", ToJson(model)}});
    }
    if (m == "DELETE") {
      RETURN_IF_ERROR(s.DeleteLoggedModel(model_id));
      return EmptyResponse();
    }
  } else if (parts.size() == 2 && parts[1] == "params" && m == "POST") {
    ASSIGN_OR_RETURN(auto params, ParseKeyValues(f, "params"));
    RETURN_IF_ERROR(s.LogLoggedModelParams(model_id, params));
    return EmptyResponse();
  } else if (parts.size() == 2 && parts[1] == "tags" && m == "PATCH") {
    ASSIGN_OR_RETURN(auto tags, ParseTags(f, "tags"));
    RETURN_IF_ERROR(s.SetLoggedModelTags(model_id, tags));
    return EmptyResponse();
  } else if (parts.size() >= 3 && parts[1] == "tags" && m == "DELETE") {
    std::string key = decoded->substr(model_id.size() + 6);  // "<id>/tags/" then the key, which may hold '/'
    RETURN_IF_ERROR(s.DeleteLoggedModelTag(model_id, key));
    return EmptyResponse();
  } else if (parts.size() == 3 && parts[1] == "artifacts" && parts[2] == "directories" && m == "GET") {
    ASSIGN_OR_RETURN(auto path, f.String("artifact_directory_path"));
    ASSIGN_OR_RETURN(auto listing, s.ListLoggedModelArtifacts(model_id, path.value_or("")));
    json out = {{"root_uri", listing.root_uri}};
    if (!listing.files.empty()) {
      json files = json::array();
      for (const auto& e : listing.files) {
        json j = {{"path", e.name}, {"is_dir", e.is_dir}};
        if (!e.is_dir) j["file_size"] = e.size;
        files.push_back(std::move(j));
      }
      out["files"] = std::move(files);
    }
    return Dump(out);
  }
  return NotFound("No API endpoint " + req.method + " " + req.path);
}

}  // namespace

std::vector<Endpoint> LoggedModelEndpoints() {
  return {
      {"logged-models.create", {"POST"}, "/logged-models", Create},
      {"logged-models.search", {"POST"}, "/logged-models/search", Search},
  };
}

void AddLoggedModelRoutes(http::Router& router, const std::string& api_prefix,
                          std::shared_ptr<TrackingService> service) {
  router.Add({.name = "mlflow.logged-models.model",
              .methods = {"GET", "PATCH", "DELETE", "POST"},
              .path = api_prefix + "/mlflow/logged-models/",
              .prefix = true,
              .handler =
                  [service](http::Request& req) {
                    auto fields = Fields::FromRequest(req);
                    if (!fields.ok()) return MlflowError(fields.status());
                    auto body = OnModel(*service, req, *fields);
                    if (!body.ok()) return MlflowError(body.status());
                    return http::Response::Json(200, std::move(*body));
                  },
              .errors = MlflowError});
}

}  // namespace loam::api::mlflow
