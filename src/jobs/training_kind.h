// Training jobs as a JobKind: SageMaker's training container layout, SecondaryStatus
// transitions, hyperparameters as the run's params, model.tar.gz and output.tar.gz.
#pragma once

#include "jobs/job_kind.h"

namespace loam::jobs {

class TrainingKind final : public JobKind {
 public:
  const char* kind() const override { return "training"; }
  const char* noun() const override { return "training job"; }
  const char* status_field() const override { return "TrainingJobStatus"; }
  const char* start_time_field() const override { return "TrainingStartTime"; }
  int instance_count(const nlohmann::json& doc) const override;
  std::string instance_type(const nlohmann::json& doc) const override;
  double max_runtime_seconds(const nlohmann::json& doc) const override;
  std::vector<MetricDefinition> metric_definitions(const nlohmann::json& doc) const override;
  std::filesystem::path failure_file() const override { return "output/failure"; }

  void EnterPhase(nlohmann::json& doc, JobPhase phase, double now) const override;
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
