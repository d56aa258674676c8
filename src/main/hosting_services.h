// The hosting side of `loam server`: the endpoint invoker (on the HTTP server's io_context),
// the fleet of worker processes, the model / endpoint-config / endpoint services and batch
// transform (a job kind on the shared scheduler).
#pragma once

#include <filesystem>
#include <memory>
#include <string>

#include "common/status.h"
#include "hosting/endpoint_service.h"
#include "hosting/hosting_definitions.h"
#include "hosting/invoker.h"
#include "hosting/transform_service.h"
#include "main/job_services.h"

namespace loam {

struct HostingFlags {
  std::string toolkit_dir;          // python/ with loam_inference; default: the source tree's
  int startup_timeout_seconds = 300;
  int invocation_timeout_seconds = 60;
  int capture_flush_seconds = 5;
};

struct HostingServices {
  std::shared_ptr<hosting::Invoker> invoker;
  std::shared_ptr<hosting::CaptureWriter> capture;
  std::shared_ptr<hosting::EndpointFleet> fleet;
  std::shared_ptr<hosting::HostingDefinitions> definitions;
  std::shared_ptr<hosting::EndpointService> endpoints;
  std::shared_ptr<jobs::JobRunner> transform_runner;
  std::shared_ptr<hosting::TransformService> transforms;

  // Redeploys endpoints and re-attaches transform jobs an earlier server left.
  Status Recover();
  // Stops background operations and endpoint workers; running transform jobs keep running.
  void Shutdown();
};

// `loops` are the HTTP server's event loops: invocations are proxied on the loop they arrive on.
StatusOr<HostingServices> MakeHostingServices(std::vector<boost::asio::io_context*> loops, const HostingFlags& flags,
                                              const JobFlags& job_flags,
                                              const std::filesystem::path& data_dir, const std::string& tracking_uri,
                                              std::shared_ptr<jobs::JobStore> store, const JobServices& jobs);

}  // namespace loam
