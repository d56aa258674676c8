#include "tracking/entities.h"

namespace loam::tracking {

const char* LifecycleStageName(LifecycleStage s) { return s == LifecycleStage::kActive ? "active" : "deleted"; }

std::optional<ViewType> ParseViewType(std::string_view name) {
  if (name == "ACTIVE_ONLY" || name == "1") return ViewType::kActiveOnly;
  if (name == "DELETED_ONLY" || name == "2") return ViewType::kDeletedOnly;
  if (name == "ALL" || name == "3") return ViewType::kAll;
  return std::nullopt;
}

const char* RunStatusName(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning: return "RUNNING";
    case RunStatus::kScheduled: return "SCHEDULED";
    case RunStatus::kFinished: return "FINISHED";
    case RunStatus::kFailed: return "FAILED";
    case RunStatus::kKilled: return "KILLED";
  }
  return "RUNNING";
}

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  if (name == "RUNNING" || name == "1") return RunStatus::kRunning;
  if (name == "SCHEDULED" || name == "2") return RunStatus::kScheduled;
  if (name == "FINISHED" || name == "3") return RunStatus::kFinished;
  if (name == "FAILED" || name == "4") return RunStatus::kFailed;
  if (name == "KILLED" || name == "5") return RunStatus::kKilled;
  return std::nullopt;
}

const char* LoggedModelStatusName(LoggedModelStatus s) {
  switch (s) {
    case LoggedModelStatus::kUnspecified: return "LOGGED_MODEL_STATUS_UNSPECIFIED";
    case LoggedModelStatus::kPending: return "LOGGED_MODEL_PENDING";
    case LoggedModelStatus::kReady: return "LOGGED_MODEL_READY";
    case LoggedModelStatus::kUploadFailed: return "LOGGED_MODEL_UPLOAD_FAILED";
  }
  return "LOGGED_MODEL_STATUS_UNSPECIFIED";
}

std::optional<LoggedModelStatus> ParseLoggedModelStatus(std::string_view name) {
  if (name == "LOGGED_MODEL_STATUS_UNSPECIFIED" || name == "0") return LoggedModelStatus::kUnspecified;
  if (name == "LOGGED_MODEL_PENDING" || name == "1") return LoggedModelStatus::kPending;
  if (name == "LOGGED_MODEL_READY" || name == "2") return LoggedModelStatus::kReady;
  if (name == "LOGGED_MODEL_UPLOAD_FAILED" || name == "3") return LoggedModelStatus::kUploadFailed;
  return std::nullopt;
}

}  // namespace loam::tracking
