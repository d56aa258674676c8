// HTTP/1.1 to one endpoint worker (the inference toolkit's model server on 127.0.0.1:<port>):
// POST /invocations over kept-alive connections, and GET /ping for health checks. This is the
// proxying half of Loam's one Asio/Beast HTTP stack; invocations run on the invoker's
// io_context, pings are synchronous calls from control threads.
#pragma once

#include <utility>  // before asio/awaitable.hpp, which uses std::exchange without it

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace loam::hosting {

struct WorkerRequest {
  std::string content_type;
  std::string accept;
  std::string custom_attributes;  // X-Amzn-SageMaker-Custom-Attributes, passed through
  std::string body;
  std::chrono::milliseconds timeout{60000};
};

struct WorkerResponse {
  enum class Transport { kOk, kTimeout, kUnreachable };
  Transport transport = Transport::kOk;
  std::string transport_error;  // when not kOk
  unsigned status = 0;          // the worker's HTTP status when kOk
  std::string content_type;
  std::string custom_attributes;
  std::string body;
};

// The kept-alive connections to one worker. Thread-safe; connections belong to `ioc`.
class WorkerConnectionPool {
 public:
  WorkerConnectionPool(boost::asio::io_context& ioc, uint16_t port);
  ~WorkerConnectionPool();
  WorkerConnectionPool(const WorkerConnectionPool&) = delete;
  WorkerConnectionPool& operator=(const WorkerConnectionPool&) = delete;

  // Sends one invocation. A kept-alive connection the worker has closed meanwhile is retried
  // once on a fresh connection (the request never reached the model then).
  boost::asio::awaitable<WorkerResponse> Invoke(WorkerRequest request);
  uint16_t port() const { return port_; }

 private:
  struct Connection;
  std::unique_ptr<Connection> TakeIdle();
  void ReturnIdle(std::unique_ptr<Connection> c);

  boost::asio::io_context& ioc_;
  uint16_t port_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;  // guarded by mu_
};

// GET /ping on a fresh connection: true for a 200 within `timeout`.
bool PingWorker(uint16_t port, std::chrono::milliseconds timeout);

// A port on 127.0.0.1 that nothing listens on right now (the kernel's choice), for a worker.
uint16_t FreeLoopbackPort();

}  // namespace loam::hosting
