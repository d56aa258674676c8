#include "main/hosting_services.h"

#include "common/account.h"
#include "common/ids.h"
#include "hosting/transform_kind.h"

#ifndef LOAM_PYTHON_DIR
#define LOAM_PYTHON_DIR ""
#endif

namespace loam {

namespace fs = std::filesystem;

Status HostingServices::Recover() {
  RETURN_IF_ERROR(transform_runner->Recover());
  return endpoints->Recover();
}

void HostingServices::Shutdown() {
  endpoints->Shutdown();
  capture->Shutdown();  // after the endpoints: what they captured is stored
  transform_runner->Shutdown();
}

StatusOr<HostingServices> MakeHostingServices(std::vector<boost::asio::io_context*> loops, const HostingFlags& flags,
                                              const JobFlags& job_flags,
                                              const fs::path& data_dir, const std::string& tracking_uri,
                                              std::shared_ptr<jobs::JobStore> store, const JobServices& jobs) {
  const fs::path toolkit = flags.toolkit_dir.empty() ? fs::path(LOAM_PYTHON_DIR) : fs::path(flags.toolkit_dir);
  std::error_code ec;
  if (!fs::is_regular_file(toolkit / "loam_inference" / "__main__.py", ec)) {
    return FailedPrecondition("--inference-toolkit " + toolkit.string() +
                              " does not contain loam_inference/__main__.py (the endpoint worker toolkit)");
  }
  HostingServices h;
  h.invoker = std::make_shared<hosting::Invoker>(
      hosting::InvokerOptions{.timeout = std::chrono::seconds(flags.invocation_timeout_seconds)}, loops);
  hosting::FleetOptions fleet_options{.root = data_dir / "endpoints",
                                      .toolkit_dir = fs::absolute(toolkit),
                                      .tracking_uri = tracking_uri,
                                      .startup_timeout = std::chrono::seconds(flags.startup_timeout_seconds),
                                      .stop_grace = std::chrono::seconds(job_flags.stop_grace_seconds)};
  h.fleet = std::make_shared<hosting::EndpointFleet>(
      fleet_options, hosting::FleetDeps{.executor = jobs.executor, .runtimes = jobs.runtimes, .locations = jobs.locations},
      loops);
  h.invoker->set_fleet(h.fleet);
  h.capture = std::make_shared<hosting::CaptureWriter>(
      hosting::CaptureWriterOptions{.flush_interval = std::chrono::seconds(std::max(1, flags.capture_flush_seconds))},
      jobs.locations, data_dir / "tmp" / "capture");
  h.invoker->set_capture(h.capture);
  const hosting::HostingOptions options{.region = job_flags.region, .account = std::string(kAccountId)};
  h.definitions = std::make_shared<hosting::HostingDefinitions>(options, store, jobs.locations, SystemNowMillis);
  h.endpoints = std::make_shared<hosting::EndpointService>(h.definitions, store, h.fleet);
  jobs::JobRunnerOptions runner_options = jobs.runner_options;
  runner_options.jobs_root = data_dir / "jobs" / "transform";
  h.transform_runner = std::make_shared<jobs::JobRunner>(std::make_shared<hosting::TransformKind>(fs::absolute(toolkit)),
                                                          runner_options, jobs.runner_deps);
  h.transforms = std::make_shared<hosting::TransformService>(h.definitions, h.transform_runner);
  jobs.log_streams->AddGroup("/aws/sagemaker/TransformJobs", h.transform_runner);
  return h;
}

}  // namespace loam
