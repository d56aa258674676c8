#include <nlohmann/json.hpp>

#include "api/mlflow/handlers.h"
#include "api/mlflow/mlflow_errors.h"
#include "common/strings.h"

namespace loam::api::mlflow {

using nlohmann::json;
using tracking::TrackingService;

namespace {

json FileInfoJson(const objects::ObjectEntry& e) {
  json j = {{"path", e.name}, {"is_dir", e.is_dir}};
  if (!e.is_dir) j["file_size"] = e.size;
  return j;
}

StatusOr<std::string> ListRunArtifacts(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  ASSIGN_OR_RETURN(auto path, f.String("path"));
  ASSIGN_OR_RETURN(auto listing, s.ListRunArtifacts(run_id, path.value_or("")));
  json out = {{"root_uri", listing.root_uri}};
  if (!listing.files.empty()) {
    json files = json::array();
    for (const auto& e : listing.files) files.push_back(FileInfoJson(e));
    out["files"] = std::move(files);
  }
  return Dump(out);
}

std::string GuessContentType(const std::string& path) {
  auto dot = path.rfind('.');
  std::string ext = dot == std::string::npos ? "" : ToLower(path.substr(dot + 1));
  if (ext == "json") return "application/json";
  if (ext == "txt" || ext == "log" || ext == "md" || ext == "yaml" || ext == "yml" || ext == "py" || ext == "csv" ||
      ext == "mlmodel" || (path.size() >= 7 && path.substr(path.size() - 7) == "MLmodel"))
    return "text/plain";
  if (ext == "html" || ext == "htm") return "text/html";
  if (ext == "png") return "image/png";
  if (ext == "jpg" || ext == "jpeg") return "image/jpeg";
  if (ext == "svg") return "image/svg+xml";
  return "application/octet-stream";
}

// The artifact path of a prefix route: the route tail, percent-decoded once.
StatusOr<std::string> TailPath(const http::Request& req) {
  auto decoded = PercentDecode(req.route_tail, false);
  if (!decoded) return InvalidArgument("Invalid path: malformed percent-encoding");
  return *decoded;
}

// A handler for a prefix route whose action only succeeds or fails: {} or the error.
template <typename Action>
http::Handler OnPath(Action action) {
  return [action](http::Request& req) {
    auto path = TailPath(req);
    if (!path.ok()) return MlflowError(path.status());
    Status s = action(*path, req);
    return s.ok() ? http::Response::Json(200, "{}") : MlflowError(s);
  };
}

}  // namespace

std::vector<Endpoint> RunArtifactEndpoints() {
  return {{"artifacts.list", {"GET"}, "/artifacts/list", ListRunArtifacts}};
}

void AddArtifactProxyRoutes(http::Router& router, const std::string& api_prefix,
                            std::shared_ptr<TrackingService> service) {
  const std::string base = api_prefix + "/mlflow-artifacts/artifacts";
  router.Add({.name = "mlflow-artifacts.list",
              .methods = {"GET"},
              .path = base,
              .handler =
                  [service](http::Request& req) {
                    auto fields = Fields::FromRequest(req);
                    if (!fields.ok()) return MlflowError(fields.status());
                    auto path = fields->String("path");
                    if (!path.ok()) return MlflowError(path.status());
                    auto listed = service->ListArtifacts(path->value_or(""));
                    if (!listed.ok()) return MlflowError(listed.status());
                    json out = json::object();
                    if (!listed->empty()) {
                      json files = json::array();
                      for (const auto& e : *listed) files.push_back(FileInfoJson(e));
                      out["files"] = std::move(files);
                    }
                    return http::Response::Json(200, Dump(out));
                  },
              .errors = MlflowError});
  router.Add({.name = "mlflow-artifacts.download",
              .methods = {"GET"},
              .path = base + "/",
              .prefix = true,
              .handler =
                  [service](http::Request& req) {
                    auto path = TailPath(req);
                    if (!path.ok()) return MlflowError(path.status());
                    auto obj = service->GetArtifact(*path);
                    if (!obj.ok()) return MlflowError(obj.status());
                    http::Response res;
                    res.content_type = GuessContentType(*path);
                    res.file = obj->local_file;
                    auto slash = path->rfind('/');
                    std::string filename = slash == std::string::npos ? *path : path->substr(slash + 1);
                    res.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + filename + "\"");
                    return res;
                  },
              .errors = MlflowError});
  router.Add({.name = "mlflow-artifacts.upload",
              .methods = {"PUT"},
              .path = base + "/",
              .prefix = true,
              .body_mode = http::BodyMode::kStreamed,
              .max_body_bytes = size_t{64} * 1024 * 1024 * 1024,
              .handler =
                  OnPath([service](const std::string& path, http::Request& req) {
                    return service->PutArtifact(path, req.body_file);
                  }),
              .errors = MlflowError});
  router.Add({.name = "mlflow-artifacts.delete",
              .methods = {"DELETE"},
              .path = base + "/",
              .prefix = true,
              .handler =
                  OnPath([service](const std::string& path, http::Request&) { return service->DeleteArtifact(path); }),
              .errors = MlflowError});
}

}  // namespace loam::api::mlflow
