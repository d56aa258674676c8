// The runtime front end of endpoints: picks a production variant (TargetVariant, or at random
// by weight), the least busy healthy instance of it, and sends the request to that worker over
// a kept-alive connection. It runs on the HTTP server's own io_context, asynchronously, so no
// server thread waits on a model and no answer crosses to another thread pool. Knows nothing
// of the client side's protocol: adapters map InvocationResult to theirs.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "hosting/data_capture.h"
#include "hosting/endpoint_fleet.h"

namespace loam::hosting {

struct Invocation {
  std::string endpoint;
  std::string target_variant;  // empty: by weight
  std::string content_type = "application/octet-stream";
  std::string accept;
  std::string custom_attributes;
  std::string inference_id;  // recorded with captured data
  std::string body;
  size_t loop = 0;  // the server event loop the request arrived on: the worker call stays there
};

struct InvocationResult {
  enum class Outcome {
    kOk,                 // the model answered 2xx
    kEndpointNotFound,   // no such endpoint, or not in service
    kUnknownVariant,     // TargetVariant names no variant of the endpoint
    kNoHealthyInstance,  // every instance of the chosen variant is down (restarting)
    kModelError,         // the model answered non-2xx, timed out or dropped the connection
  };
  Outcome outcome = Outcome::kOk;
  std::string message;       // for errors
  std::string variant;       // the variant that served (or was chosen)
  unsigned model_status = 0; // the worker's HTTP status (0: none, e.g. a timeout)
  std::string content_type;
  std::string custom_attributes;
  std::string body;
};

struct InvokerOptions {
  std::chrono::milliseconds timeout{60000};  // SageMaker's 60 s invocation limit
};

class Invoker {
 public:
  // `loops` are the HTTP server's event loops; a request's worker call runs on its own.
  Invoker(InvokerOptions options, std::vector<boost::asio::io_context*> loops);
  ~Invoker();
  Invoker(const Invoker&) = delete;
  Invoker& operator=(const Invoker&) = delete;

  void set_fleet(std::shared_ptr<EndpointFleet> fleet) { fleet_ = std::move(fleet); }
  void set_capture(std::shared_ptr<CaptureWriter> capture) { capture_ = std::move(capture); }

  // Calls `done` exactly once: at once for a request that cannot be routed, else from the
  // request's loop (or the native prediction pool).
  void Invoke(Invocation invocation, std::function<void(InvocationResult)> done);

  // Whether the endpoint is in service with at least one healthy instance.
  bool Ready(const std::string& endpoint) const;
  // Whether the endpoint is in service (its workers may be restarting).
  bool Exists(const std::string& endpoint) const { return fleet_ && fleet_->Live(endpoint) != nullptr; }

 private:
  // Records the capture event of a successful invocation, then answers.
  void Finish(InvocationResult result, std::optional<CapturedEvent> capture,
              const std::function<void(InvocationResult)>& done);

  InvokerOptions options_;
  std::vector<boost::asio::io_context*> loops_;
  std::shared_ptr<EndpointFleet> fleet_;
  std::shared_ptr<CaptureWriter> capture_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  // Runs native model predictions, off the I/O threads.
  boost::asio::thread_pool native_pool_;
};

}  // namespace loam::hosting
