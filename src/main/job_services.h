// The job side of `loam server`: executor, scheduler, runtimes and one runner per job kind,
// built from the job flags.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "jobs/job_runner.h"
#include "jobs/job_store.h"
#include "jobs/log_streams.h"
#include "jobs/resource_tags.h"
#include "jobs/processing_service.h"
#include "jobs/training_service.h"
#include "jobs/tuning_service.h"
#include "objects/bucket_store.h"
#include "tracking/tracking_service.h"

namespace loam {

struct JobFlags {
  std::string python = "python3";
  std::string runtimes_file;
  int job_cpus = 0;
  int64_t job_memory_mb = 0;
  std::string sandbox = "auto";
  int stop_grace_seconds = 10;
  int max_active_jobs = 1000;
  std::string region = "us-east-1";
};

struct JobServices {
  std::vector<std::shared_ptr<jobs::JobRunner>> runners;
  std::shared_ptr<jobs::TrainingService> training;
  std::shared_ptr<jobs::ProcessingService> processing;
  std::shared_ptr<jobs::TuningService> tuning;
  std::shared_ptr<jobs::ResourceTags> tags;
  std::shared_ptr<jobs::JobLogStreams> log_streams;  // the CloudWatch Logs view
  // Shared with endpoints, whose workers run on the same executor and runtimes.
  std::shared_ptr<executors::Executor> executor;
  std::shared_ptr<const jobs::RuntimeRegistry> runtimes;
  std::shared_ptr<const jobs::DataLocations> locations;
  // What every runner shares (the scheduler above all), for the kinds other services run.
  jobs::JobRunnerOptions runner_options;
  jobs::JobRunnerDeps runner_deps;

  // Reconciles the jobs an earlier server left unfinished.
  Status Recover();
  // Ends the workers; running jobs keep running and the next start re-attaches them.
  void Shutdown();
};

// `tracking_uri` is what jobs get as MLFLOW_TRACKING_URI (the server's bound address).
StatusOr<JobServices> MakeJobServices(const JobFlags& flags, const std::filesystem::path& data_dir,
                                      const std::string& tracking_uri, std::shared_ptr<jobs::JobStore> store,
                                      std::shared_ptr<tracking::TrackingService> tracking,
                                      std::shared_ptr<objects::BucketStore> bucket_store);

}  // namespace loam
