// Batch transform jobs as a JobKind: the model's container is staged once per job, each
// instance gets its share of the input objects (dealt by object, as SageMaker does) and runs
// `<runtime python> -m loam_inference.batch`, which starts the same model server an endpoint
// runs and sends it the records (split, batched and in parallel as the request says), writing
// `<input>.out` per input. The outputs are uploaded to S3OutputPath when every instance is done.
#pragma once

#include <filesystem>
#include <string>

#include "jobs/job_kind.h"

namespace loam::hosting {

// Checks what the service model cannot express; InvalidArgument otherwise.
Status CheckTransformRequest(const nlohmann::json& request, const jobs::DataLocations& locations);

class TransformKind final : public jobs::JobKind {
 public:
  // `toolkit_dir` holds loam_inference (put on the instances' PYTHONPATH).
  explicit TransformKind(std::filesystem::path toolkit_dir) : toolkit_dir_(std::move(toolkit_dir)) {}

  const char* kind() const override { return "transform"; }
  const char* noun() const override { return "transform job"; }
  const char* status_field() const override { return "TransformJobStatus"; }
  const char* start_time_field() const override { return "TransformStartTime"; }
  int instance_count(const nlohmann::json& doc) const override;
  std::string instance_type(const nlohmann::json& doc) const override;
  // Transform jobs have no runtime limit in SageMaker; invocations have their own timeout.
  double max_runtime_seconds(const nlohmann::json&) const override { return 100.0 * 365 * 86400; }
  std::vector<jobs::MetricDefinition> metric_definitions(const nlohmann::json&) const override { return {}; }
  std::filesystem::path failure_file() const override { return "output/failure"; }

  void EnterPhase(nlohmann::json&, jobs::JobPhase, double) const override {}
  std::vector<tracking::Param> RunParams(const nlohmann::json& doc) const override;
  StatusOr<jobs::PreparedJob> Prepare(const nlohmann::json& doc, const std::filesystem::path& job_dir,
                                      const std::string& run_id, const jobs::WorkspaceContext& ctx) const override;
  std::string Upload(const nlohmann::json& doc, nlohmann::json& changes, const std::filesystem::path& job_dir,
                     const std::vector<std::string>& hosts, const jobs::JobOutcome& outcome,
                     const jobs::DataLocations& locations, tracking::TrackingService& tracking,
                     const std::string& run_id) const override;
  void Finish(nlohmann::json& doc, const jobs::JobOutcome& outcome, double now) const override;

 private:
  std::filesystem::path toolkit_dir_;
};

}  // namespace loam::hosting
