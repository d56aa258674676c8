// The hosting side of `loam server`: the endpoint invoker (on the HTTP server's io_context),
// the fleet of worker processes, and the model / endpoint-config / endpoint services.
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "hosting/endpoint_service.h"
#include "hosting/hosting_definitions.h"
#include "hosting/invoker.h"
#include "main/job_services.h"

namespace loam {

struct HostingFlags {
  std::string toolkit_dir;          // python/ with loam_inference; default: the source tree's
  int startup_timeout_seconds = 300;
  int invocation_timeout_seconds = 60;
};

struct HostingServices {
  std::shared_ptr<hosting::Invoker> invoker;
  std::shared_ptr<hosting::EndpointFleet> fleet;
  std::shared_ptr<hosting::HostingDefinitions> definitions;
  std::shared_ptr<hosting::EndpointService> endpoints;

  // Stops background operations and workers.
  void Shutdown();
};

// `ioc` is the HTTP server's: invocations are proxied on it.
StatusOr<HostingServices> MakeHostingServices(boost::asio::io_context& ioc, const HostingFlags& flags,
                                              const JobFlags& job_flags,
                                              const std::filesystem::path& data_dir, const std::string& tracking_uri,
                                              std::shared_ptr<jobs::JobStore> store, const JobServices& jobs);

}  // namespace loam
