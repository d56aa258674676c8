// Processing jobs as a JobKind: inputs staged at their LocalPath under /opt/ml/processing
// (FullyReplicated, or dealt across instances with ShardedByS3Key), the container's entry
// point and arguments, outputs uploaded from their LocalPath when the job completes.
#pragma once

#include "jobs/job_kind.h"

namespace loam::jobs {

// Checks what can be checked before a processing job is accepted; InvalidArgument otherwise.
Status CheckProcessingRequest(const nlohmann::json& request, const DataLocations& locations);

class ProcessingKind final : public JobKind {
 public:
  const char* kind() const override { return "processing"; }
  const char* noun() const override { return "processing job"; }
  const char* status_field() const override { return "ProcessingJobStatus"; }
  const char* start_time_field() const override { return "ProcessingStartTime"; }
  int instance_count(const nlohmann::json& doc) const override;
  std::string instance_type(const nlohmann::json& doc) const override;
  double max_runtime_seconds(const nlohmann::json& doc) const override;
  std::vector<MetricDefinition> metric_definitions(const nlohmann::json&) const override { return {}; }
  std::filesystem::path failure_file() const override { return "output/message"; }

  void EnterPhase(nlohmann::json&, JobPhase, double) const override {}  // processing reports no phases
  std::vector<tracking::Param> RunParams(const nlohmann::json& doc) const override;
  StatusOr<PreparedJob> Prepare(const nlohmann::json& doc, const std::filesystem::path& job_dir,
                                const std::string& run_id, const WorkspaceContext& ctx) const override;
  std::string Upload(const nlohmann::json& doc, nlohmann::json& changes, const std::filesystem::path& job_dir,
                     const std::vector<std::string>& hosts, const JobOutcome& outcome,
                     const DataLocations& locations, tracking::TrackingService& tracking,
                     const std::string& run_id) const override;
  void Finish(nlohmann::json& doc, const JobOutcome& outcome, double now) const override;
};

}  // namespace loam::jobs
