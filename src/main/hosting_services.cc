#include "main/hosting_services.h"

#include "common/account.h"
#include "common/ids.h"

#ifndef LOAM_PYTHON_DIR
#define LOAM_PYTHON_DIR ""
#endif

namespace loam {

namespace fs = std::filesystem;

void HostingServices::Shutdown() { endpoints->Shutdown(); }

StatusOr<HostingServices> MakeHostingServices(boost::asio::io_context& ioc, const HostingFlags& flags,
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
      hosting::InvokerOptions{.timeout = std::chrono::seconds(flags.invocation_timeout_seconds)}, ioc);
  hosting::FleetOptions fleet_options{.root = data_dir / "endpoints",
                                      .toolkit_dir = fs::absolute(toolkit),
                                      .tracking_uri = tracking_uri,
                                      .startup_timeout = std::chrono::seconds(flags.startup_timeout_seconds),
                                      .stop_grace = std::chrono::seconds(job_flags.stop_grace_seconds)};
  h.fleet = std::make_shared<hosting::EndpointFleet>(
      fleet_options, hosting::FleetDeps{.executor = jobs.executor, .runtimes = jobs.runtimes, .locations = jobs.locations},
      ioc);
  h.invoker->set_fleet(h.fleet);
  const hosting::HostingOptions options{.region = job_flags.region, .account = std::string(kAccountId)};
  h.definitions = std::make_shared<hosting::HostingDefinitions>(options, store, jobs.locations, SystemNowMillis);
  h.endpoints = std::make_shared<hosting::EndpointService>(h.definitions, store, h.fleet);
  return h;
}

}  // namespace loam
