// What differs between kinds of job (training, processing, later transform); the JobRunner
// does everything else: admission, processes, stop and runtime limits, restart, the run.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"
#include "executors/executor.h"
#include "jobs/data_locations.h"
#include "jobs/metric_parser.h"
#include "jobs/runtimes.h"
#include "tracking/tracking_service.h"

namespace loam::jobs {

struct WorkspaceContext {
  const DataLocations* locations = nullptr;
  const RuntimeRegistry* runtimes = nullptr;
  bool sandbox = false;
  int machine_cpus = 1;
  int machine_gpus = 0;
  std::string tracking_uri;
  std::filesystem::path data_dir;  // hidden from sandboxed jobs
};

struct PreparedJob {
  std::vector<std::string> hosts;                 // algo-1 ... algo-N
  std::vector<executors::ProcessSpec> processes;  // one per host, same order
};

struct JobOutcome {
  enum class Kind { kCompleted, kFailed, kStopped };
  Kind kind = Kind::kCompleted;
  std::string stop_reason;  // "user" or "max_runtime" when stopped
  std::string failure;      // the FailureReason when failed
};

enum class JobPhase { kDownloading, kRunning, kStopping, kUploading };

class JobKind {
 public:
  virtual ~JobKind() = default;
  virtual const char* kind() const = 0;              // the store's kind: "training"
  virtual const char* noun() const = 0;              // "training job", in messages
  virtual const char* status_field() const = 0;      // "TrainingJobStatus"
  virtual const char* start_time_field() const = 0;  // "TrainingStartTime"
  virtual int instance_count(const nlohmann::json& doc) const = 0;
  virtual std::string instance_type(const nlohmann::json& doc) const = 0;
  virtual double max_runtime_seconds(const nlohmann::json& doc) const = 0;
  virtual std::vector<MetricDefinition> metric_definitions(const nlohmann::json& doc) const = 0;
  // Where a failing process may leave its reason, relative to its instance root.
  virtual std::filesystem::path failure_file() const = 0;

  // Records entering a phase in the document (training: SecondaryStatus transitions).
  virtual void EnterPhase(nlohmann::json& doc, JobPhase phase, double now) const = 0;
  virtual std::vector<tracking::Param> RunParams(const nlohmann::json& doc) const = 0;
  // Stages the job's directories; InvalidArgument is a problem with the user's data or code.
  virtual StatusOr<PreparedJob> Prepare(const nlohmann::json& doc, const std::filesystem::path& job_dir,
                                        const std::string& run_id, const WorkspaceContext& ctx) const = 0;
  // After the processes ended: uploads what the job produced; fields to add to the document
  // go into `changes`. A non-empty result is a reason to fail the job (an upload that failed).
  virtual std::string Upload(const nlohmann::json& doc, nlohmann::json& changes, const std::filesystem::path& job_dir,
                             const std::vector<std::string>& hosts, const JobOutcome& outcome,
                             const DataLocations& locations, tracking::TrackingService& tracking,
                             const std::string& run_id) const = 0;
  // The final status, end time and failure reason.
  virtual void Finish(nlohmann::json& doc, const JobOutcome& outcome, double now) const = 0;
};

// Files every job kind lays out the same way.
std::vector<std::string> HostNames(int count);
std::filesystem::path InstanceRoot(const std::filesystem::path& job_dir, const std::string& host);
std::filesystem::path InstanceLog(const std::filesystem::path& job_dir, const std::string& host);
std::filesystem::path InstanceExitFile(const std::filesystem::path& job_dir, const std::string& host);

// arn:aws:sagemaker:<region>:<account>:<resource>/<name in lower case>, as SageMaker writes them.
std::string SageMakerArn(const std::string& region, const std::string& account, const std::string& resource,
                         const std::string& name);
// The SageMaker Python SDK names jobs <base>-YYYY-MM-DD-HH-MM-SS-mmm; the base names the experiment.
std::string BaseJobName(const std::string& name);
// The MLflow experiment of a new job: ExperimentConfig.ExperimentName, else the base name.
std::string ExperimentNameFor(const nlohmann::json& request, const std::string& job_name);
// A job input (channel, processing input) as an MLflow dataset of its run.
tracking::DatasetInput InputDataset(const std::string& name, const std::string& uri);

using Environment = std::vector<std::pair<std::string, std::string>>;
// What a container image would set, nothing of Loam's: PATH, HOME, locale, CUDA, unbuffered Python.
Environment BaseEnvironment();
void SetEnv(Environment& env, const std::string& name, const std::string& value);
Status WriteJsonFile(const std::filesystem::path& file, const nlohmann::json& value);

}  // namespace loam::jobs
