#include "hosting/worker_client.h"

#include <boost/asio.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace loam::hosting {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr uint64_t kMaxWorkerResponseBytes = 64ull * 1024 * 1024;
constexpr const char* kCustomAttributesHeader = "X-Amzn-SageMaker-Custom-Attributes";

}  // namespace

struct WorkerConnectionPool::Connection {
  explicit Connection(asio::io_context& ioc) : stream(ioc) {}
  beast::tcp_stream stream;
  beast::flat_buffer buffer;
};

WorkerConnectionPool::WorkerConnectionPool(asio::io_context& ioc, uint16_t port) : ioc_(ioc), port_(port) {}
WorkerConnectionPool::~WorkerConnectionPool() = default;

std::unique_ptr<WorkerConnectionPool::Connection> WorkerConnectionPool::TakeIdle() {
  std::lock_guard lock(mu_);
  if (idle_.empty()) return nullptr;
  auto c = std::move(idle_.back());
  idle_.pop_back();
  return c;
}

void WorkerConnectionPool::ReturnIdle(std::unique_ptr<Connection> c) {
  std::lock_guard lock(mu_);
  if (idle_.size() < 256) idle_.push_back(std::move(c));
}

asio::awaitable<WorkerResponse> WorkerConnectionPool::Invoke(WorkerRequest request) {
  bhttp::request<bhttp::string_body> msg{bhttp::verb::post, "/invocations", 11};
  msg.set(bhttp::field::host, "127.0.0.1:" + std::to_string(port_));
  msg.set(bhttp::field::content_type, request.content_type);
  if (!request.accept.empty()) msg.set(bhttp::field::accept, request.accept);
  if (!request.custom_attributes.empty()) msg.set(kCustomAttributesHeader, request.custom_attributes);
  msg.keep_alive(true);
  msg.body() = std::move(request.body);
  msg.prepare_payload();

  WorkerResponse out;
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::unique_ptr<Connection> conn = TakeIdle();
    const bool reused = conn != nullptr;
    beast::error_code ec;
    if (!conn) {
      conn = std::make_unique<Connection>(ioc_);
      conn->stream.expires_after(request.timeout);
      co_await conn->stream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port_),
                                          asio::redirect_error(asio::use_awaitable, ec));
      if (ec) {
        out.transport = WorkerResponse::Transport::kUnreachable;
        out.transport_error = "cannot connect to the model worker: " + ec.message();
        co_return out;
      }
      conn->stream.socket().set_option(tcp::no_delay(true), ec);
    }
    conn->stream.expires_after(request.timeout);
    co_await bhttp::async_write(conn->stream, msg, asio::redirect_error(asio::use_awaitable, ec));
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(kMaxWorkerResponseBytes);
    if (!ec) co_await bhttp::async_read(conn->stream, conn->buffer, parser, asio::redirect_error(asio::use_awaitable, ec));
    if (ec) {
      // A kept-alive connection the worker closed while idle fails before any answer: retry.
      if (reused && !parser.got_some() && ec != beast::error::timeout) continue;
      out.transport = ec == beast::error::timeout ? WorkerResponse::Transport::kTimeout
                                                  : WorkerResponse::Transport::kUnreachable;
      out.transport_error = ec == beast::error::timeout ? "the model did not answer within the invocation timeout"
                                                        : "the connection to the model worker failed: " + ec.message();
      co_return out;
    }
    auto& res = parser.get();
    out.status = res.result_int();
    out.content_type = std::string(res[bhttp::field::content_type]);
    out.custom_attributes = std::string(res[kCustomAttributesHeader]);
    const bool keep = res.keep_alive();
    out.body = std::move(res.body());
    if (keep) {
      conn->stream.expires_never();
      ReturnIdle(std::move(conn));
    }
    co_return out;
  }
  out.transport = WorkerResponse::Transport::kUnreachable;
  out.transport_error = "the model worker closed the connection";
  co_return out;
}

bool PingWorker(uint16_t port, std::chrono::milliseconds timeout) {
  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  beast::error_code ec;
  stream.expires_after(timeout);
  bool ok = false;
  stream.async_connect(tcp::endpoint(asio::ip::address_v4::loopback(), port), [&](beast::error_code cec) {
    if (cec) return;
    auto req = std::make_shared<bhttp::request<bhttp::empty_body>>(bhttp::verb::get, "/ping", 11);
    req->set(bhttp::field::host, "127.0.0.1");
    bhttp::async_write(stream, *req, [&, req](beast::error_code wec, size_t) {
      if (wec) return;
      auto buffer = std::make_shared<beast::flat_buffer>();
      auto res = std::make_shared<bhttp::response<bhttp::string_body>>();
      bhttp::async_read(stream, *buffer, *res, [&ok, buffer, res](beast::error_code rec, size_t) {
        ok = !rec && res->result_int() == 200;
      });
    });
  });
  ioc.run();
  stream.socket().close(ec);
  return ok;
}

uint16_t FreeLoopbackPort() {
  asio::io_context ioc;
  tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  return acceptor.local_endpoint().port();
}

}  // namespace loam::hosting
