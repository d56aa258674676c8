// The one HTTP/1.1 server: Boost.Beast over Asio coroutines, keep-alive, size limits,
// timeouts, per-route metrics and graceful shutdown. Handlers receive transport-neutral Request
// values and run on the I/O threads, so they must not block for long.
//
// Each I/O thread runs an event loop of its own, and each accepted connection is served by one
// loop for its whole life (round robin): a request's steps never cross to another thread, so
// no request pays for waking one. Asynchronous handlers that do I/O of their own (the endpoint
// invoker) do it on the request's loop (Request::loop).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "http/metrics.h"
#include "http/router.h"

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace loam::http {

struct ServerOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;               // 0 picks a free port
  int threads = 4;
  std::chrono::seconds idle_timeout{75};      // keep-alive connection idle limit
  std::chrono::seconds request_timeout{300};  // reading one request (headers and body)
  size_t header_limit = 64 * 1024;
  std::filesystem::path upload_dir;   // where streamed bodies are spooled
  std::chrono::seconds shutdown_grace{10};
};

class Server {
 public:
  Server(ServerOptions options, std::shared_ptr<const Router> router, std::shared_ptr<HttpMetrics> metrics);
  ~Server();

  // Binds the listening socket; port() is valid afterwards.
  Status Listen();
  uint16_t port() const { return bound_port_; }
  // The event loops, one per I/O thread (ServerOptions::threads), valid from construction.
  // Request::loop indexes them.
  std::vector<boost::asio::io_context*> loops();
  // Serves until Shutdown() (or SIGINT/SIGTERM when install_signal_handlers is set).
  void Run(bool install_signal_handlers);
  // Stops accepting, finishes requests in flight, closes idle connections. Thread-safe.
  void Shutdown();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint16_t bound_port_ = 0;
};

}  // namespace loam::http
