#include "main/job_services.h"

#include "common/account.h"
#include "common/log.h"
#include "executors/local_executor.h"
#include "jobs/processing_kind.h"
#include "jobs/training_kind.h"

namespace loam {

namespace fs = std::filesystem;

Status JobServices::Recover() {
  for (auto& r : runners) RETURN_IF_ERROR(r->Recover());
  return tuning->Recover();  // after the runners: the tuning loops find their training jobs re-attached
}

void JobServices::Shutdown() {
  tuning->Shutdown();  // first: a loop must not create training jobs on a runner that has shut down
  for (auto& r : runners) r->Shutdown();
}

StatusOr<JobServices> MakeJobServices(const JobFlags& flags, const fs::path& data_dir, const std::string& tracking_uri,
                                      std::shared_ptr<jobs::JobStore> store,
                                      std::shared_ptr<tracking::TrackingService> tracking,
                                      std::shared_ptr<objects::BucketStore> bucket_store) {
  std::error_code ec;
  auto runtimes = std::make_shared<jobs::RuntimeRegistry>(flags.python);
  if (!flags.runtimes_file.empty()) RETURN_IF_ERROR(runtimes->LoadFile(flags.runtimes_file));
  executors::LocalExecutorOptions exec_options;
  exec_options.loam_binary = fs::read_symlink("/proc/self/exe", ec);
  if (flags.sandbox != "none") exec_options.bwrap = executors::FindUsableBubblewrap();
  if (flags.sandbox == "bwrap" && exec_options.bwrap.empty()) {
    return FailedPrecondition("--sandbox bwrap: bubblewrap is not installed or cannot create a sandbox here");
  }
  auto executor = std::make_shared<executors::LocalExecutor>(exec_options);
  jobs::Capacity capacity = jobs::MachineCapacity();
  if (flags.job_cpus > 0) capacity.cpus = flags.job_cpus;
  if (flags.job_memory_mb > 0) capacity.memory_mb = flags.job_memory_mb;

  jobs::JobRunnerOptions options;
  options.data_dir = data_dir;
  options.tracking_uri = tracking_uri;
  options.sandbox = executor->sandbox_available();
  options.stop_grace = std::chrono::seconds(flags.stop_grace_seconds);
  options.machine_gpus = jobs::DetectGpus();
  options.max_active_jobs = static_cast<size_t>(flags.max_active_jobs);

  jobs::JobRunnerDeps deps;
  deps.store = store;
  deps.tracking = std::move(tracking);
  deps.executor = executor;
  deps.scheduler = std::make_shared<jobs::Scheduler>(capacity);  // one for every kind of job
  deps.runtimes = runtimes;
  deps.locations = std::make_shared<jobs::DataLocations>(std::move(bucket_store), data_dir / "tmp" / "job-uploads");
  log::Info("jobs.executor", {{"executor", executor->name()},
                              {"sandbox", options.sandbox ? "bubblewrap" : "none"},
                              {"cpus", capacity.cpus},
                              {"memory_mb", capacity.memory_mb},
                              {"gpus", options.machine_gpus},
                              {"python", flags.python}});

  JobServices services;
  auto runner_for = [&](std::shared_ptr<const jobs::JobKind> kind) {
    jobs::JobRunnerOptions o = options;
    o.jobs_root = data_dir / "jobs" / kind->kind();
    auto runner = std::make_shared<jobs::JobRunner>(std::move(kind), o, deps);
    services.runners.push_back(runner);
    return runner;
  };
  auto training_runner = runner_for(std::make_shared<jobs::TrainingKind>());
  auto processing_runner = runner_for(std::make_shared<jobs::ProcessingKind>());
  services.training = std::make_shared<jobs::TrainingService>(jobs::TrainingServiceOptions{flags.region, std::string(kAccountId)},
                                                              training_runner);
  services.processing = std::make_shared<jobs::ProcessingService>(flags.region, std::string(kAccountId), processing_runner);
  jobs::TuningDeps tuning_deps;
  tuning_deps.store = store;
  tuning_deps.tracking = deps.tracking;
  tuning_deps.training = services.training;
  tuning_deps.clock = deps.clock;
  services.tuning =
      std::make_shared<jobs::TuningService>(jobs::TuningServiceOptions{flags.region, std::string(kAccountId)}, tuning_deps);
  services.log_streams = std::make_shared<jobs::JobLogStreams>(std::map<std::string, std::shared_ptr<jobs::JobRunner>>{
      {"/aws/sagemaker/TrainingJobs", training_runner}, {"/aws/sagemaker/ProcessingJobs", processing_runner}});
  services.tags = std::make_shared<jobs::ResourceTags>(store);
  services.executor = executor;
  services.runtimes = runtimes;
  services.locations = deps.locations;
  services.runner_options = options;
  services.runner_deps = deps;
  return services;
}

}  // namespace loam
