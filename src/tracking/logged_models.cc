// TrackingService: MLflow 3 logged models.
#include <cctype>
#include <fmt/format.h>

#include "common/strings.h"
#include "tracking/page_tokens.h"
#include "tracking/run_names.h"
#include "tracking/tracking_service.h"
#include "tracking/validation.h"

namespace loam::tracking {

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

}  // namespace loam::tracking
