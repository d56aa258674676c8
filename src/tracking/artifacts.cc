// TrackingService: run artifact listings and the artifact proxy over the object store.
#include "common/strings.h"
#include "tracking/tracking_service.h"
#include "tracking/validation.h"

namespace loam::tracking {

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
