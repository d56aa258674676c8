#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <limits>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/ids.h"
#include "common/log.h"
#include "common/strings.h"

namespace loam::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
using asio::use_awaitable;

namespace {

constexpr uint64_t kMaxDrainBytes = 64 * 1024 * 1024;

// One live connection, registered so shutdown can close it when it is idle.
struct Connection {
  Connection(tcp::socket socket, size_t loop_index) : stream(std::move(socket)), loop(loop_index) {}
  beast::tcp_stream stream;
  size_t loop;
  std::atomic<bool> busy{false};
};

Response DefaultError(const Status& status) {
  unsigned code = status.code() == StatusCode::kNotFound      ? 404
                  : status.code() == StatusCode::kInternal    ? 500
                  : status.code() == StatusCode::kUnavailable ? 503
                                                              : 400;
  nlohmann::json j = {{"error", StatusCodeName(status.code())}, {"message", status.message()}};
  return Response::Json(code, j.dump());
}

constexpr size_t kReadBufferBytes = 64 * 1024;

// A body of `length` bytes of a file from `offset` (Beast's file_body of Boost 1.74 serves
// whole files only, through a 4 KiB buffer).
struct FileRangeBody {
  struct value_type {
    beast::file file;
    uint64_t offset = 0;
    uint64_t length = 0;
  };

  static std::uint64_t size(const value_type& body) { return body.length; }

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(bhttp::header<isRequest, Fields>&, value_type& body) : body_(body) {}

    void init(beast::error_code& ec) {
      remain_ = body_.length;
      buf_ = std::make_unique<char[]>(kChunk);
      body_.file.seek(body_.offset, ec);
    }

    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      if (remain_ == 0) return boost::none;
      size_t amount = static_cast<size_t>(std::min<uint64_t>(remain_, kChunk));
      size_t n = body_.file.read(buf_.get(), amount, ec);
      if (ec) return boost::none;
      if (n == 0) {  // the file shrank under us: cut the response short
        ec = bhttp::error::partial_message;
        return boost::none;
      }
      remain_ -= n;
      return {{const_buffers_type(buf_.get(), n), remain_ > 0}};
    }

   private:
    static constexpr size_t kChunk = 256 * 1024;
    value_type& body_;
    uint64_t remain_ = 0;
    std::unique_ptr<char[]> buf_;
  };
};

// Removes a response's temporary file when the request is done with it, however it ends.
class TemporaryFileGuard {
 public:
  explicit TemporaryFileGuard(const Response& res) {
    if (res.file && res.file_is_temporary) path_ = *res.file;
  }
  ~TemporaryFileGuard() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove(path_, ec);
  }
  TemporaryFileGuard(const TemporaryFileGuard&) = delete;
  TemporaryFileGuard& operator=(const TemporaryFileGuard&) = delete;

 private:
  std::filesystem::path path_;
};

template <class Fields>
void CopyHeaders(const Fields& fields, Request& req) {
  for (const auto& f : fields) {
    req.headers.emplace_back(ToLower(std::string_view(f.name_string().data(), f.name_string().size())),
                             std::string(f.value().data(), f.value().size()));
  }
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  std::shared_ptr<const Router> router;
  std::shared_ptr<HttpMetrics> metrics;
  // One per I/O thread; loops[0] also runs the acceptor and the signal and shutdown handlers.
  std::vector<std::unique_ptr<asio::io_context>> loops;
  std::unique_ptr<tcp::acceptor> acceptor;
  size_t next_loop = 0;  // acceptor only
  std::atomic<bool> draining{false};
  std::mutex mu;
  std::unordered_map<uint64_t, std::weak_ptr<Connection>> connections;  // guarded by mu
  uint64_t next_connection_id = 0;                                       // guarded by mu

  awaitable<void> Accept();
  awaitable<void> Serve(std::shared_ptr<Connection> conn, uint64_t id);
  awaitable<bool> HandleOne(Connection& conn, beast::flat_buffer& buffer);
  awaitable<bool> Drain(Connection& conn, beast::flat_buffer& buffer,
                        bhttp::request_parser<bhttp::empty_body>& header_parser);
  awaitable<void> Write(Connection& conn, Response res, unsigned version, bool keep_alive, bool head,
                        beast::error_code& ec);
  void CloseIdleConnections();
  void StopLoops() {
    for (auto& loop : loops) loop->stop();
  }
};

namespace {

// Suspends the connection's coroutine until the route's asynchronous handler answers, from
// whichever thread it answers on. The pending answer holds a work guard, so the server's run
// loop does not return while a request is still waiting for its response.
awaitable<Response> CallAsync(const Route& route, Request& req) {
  asio::use_awaitable_t<> token;
  co_return co_await asio::async_initiate<asio::use_awaitable_t<>, void(Response)>(
      [&route, &req](auto handler) {
        using HandlerT = decltype(handler);
        using Executor = asio::associated_executor_t<HandlerT>;
        struct Pending {
          Pending(HandlerT h, const Executor& ex) : handler(std::move(h)), work(asio::make_work_guard(ex)) {}
          std::mutex mu;
          std::optional<HandlerT> handler;
          asio::executor_work_guard<Executor> work;
        };
        Executor executor = asio::get_associated_executor(handler);
        auto pending = std::make_shared<Pending>(std::move(handler), executor);
        Responder done = [pending, executor](Response res) {
          std::optional<HandlerT> h;
          {
            std::lock_guard lock(pending->mu);
            if (!pending->handler) return;  // answered twice: the first answer stands
            h.emplace(std::move(*pending->handler));
            pending->handler.reset();
          }
          asio::post(executor, [h = std::move(*h), res = std::move(res), pending]() mutable {
            std::move(h)(std::move(res));
            pending->work.reset();
          });
        };
        try {
          route.async_handler(req, done);
        } catch (const std::exception& e) {
          log::Error("http.handler_exception", {{"route", route.name}, {"error", e.what()}});
          const Status st = Internal(std::string("internal error: ") + e.what());
          done(route.errors ? route.errors(st) : DefaultError(st));
        }
      },
      token);
}

constexpr auto kTimerPacemaker = std::chrono::milliseconds(250);

awaitable<void> TimerPacemaker(asio::io_context& loop) {
  asio::steady_timer timer(loop);
  for (;;) {
    timer.expires_after(kTimerPacemaker);
    beast::error_code ec;
    co_await timer.async_wait(asio::redirect_error(use_awaitable, ec));
    if (ec) co_return;
  }
}

}  // namespace

Server::Server(ServerOptions options, std::shared_ptr<const Router> router, std::shared_ptr<HttpMetrics> metrics)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->router = std::move(router);
  impl_->metrics = std::move(metrics);
  const int n = std::max(1, impl_->options.threads);
  for (int i = 0; i < n; ++i) impl_->loops.push_back(std::make_unique<asio::io_context>(1));  // one thread each
  impl_->acceptor = std::make_unique<tcp::acceptor>(*impl_->loops[0]);
}

Server::~Server() = default;

std::vector<asio::io_context*> Server::loops() {
  std::vector<asio::io_context*> out;
  for (auto& loop : impl_->loops) out.push_back(loop.get());
  return out;
}

Status Server::Listen() {
  beast::error_code ec;
  auto address = asio::ip::make_address(impl_->options.host, ec);
  if (ec) return InvalidArgument("invalid host '" + impl_->options.host + "': " + ec.message());
  tcp::endpoint endpoint{address, impl_->options.port};
  auto& acc = *impl_->acceptor;
  acc.open(endpoint.protocol(), ec);
  if (ec) return Internal("open: " + ec.message());
  acc.set_option(asio::socket_base::reuse_address(true), ec);
  acc.bind(endpoint, ec);
  if (ec) return Internal("bind " + impl_->options.host + ":" + std::to_string(impl_->options.port) + ": " + ec.message());
  acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return Internal("listen: " + ec.message());
  bound_port_ = acc.local_endpoint().port();
  return Status::Ok();
}

void Server::Run(bool install_signal_handlers) {
  auto& impl = *impl_;
  asio::io_context& main_loop = *impl.loops[0];
  asio::co_spawn(main_loop, impl.Accept(), asio::detached);
  std::unique_ptr<asio::signal_set> signals;
  if (install_signal_handlers) {
    signals = std::make_unique<asio::signal_set>(main_loop, SIGINT, SIGTERM);
    signals->async_wait([this](const beast::error_code& ec, int signo) {
      if (ec) return;
      log::Info("shutdown.signal", {{"signal", signo}});
      Shutdown();
    });
  }
  // Every loop runs until shutdown stops them all, connections or not.
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep;
  for (auto& loop : impl.loops) keep.push_back(asio::make_work_guard(*loop));
  // Each loop keeps a timer due within kTimerPacemaker. Asio re-arms the loop's timerfd (a
  // system call) whenever a new timer becomes the earliest; requests set connection and
  // invocation timeouts of seconds, so behind this timer they never are, and the request
  // path makes no timerfd call. The pacemaker itself re-arms a few times a second.
  for (auto& loop : impl.loops) asio::co_spawn(*loop, TimerPacemaker(*loop), asio::detached);
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl.loops.size(); ++i) threads.emplace_back([&impl, i] { impl.loops[i]->run(); });
  main_loop.run();
  impl.StopLoops();
  for (auto& t : threads) t.join();
}

void Server::Shutdown() {
  auto& impl = *impl_;
  if (impl.draining.exchange(true)) return;
  asio::io_context& main_loop = *impl.loops[0];
  asio::post(main_loop, [&impl, &main_loop] {
    beast::error_code ec;
    impl.acceptor->close(ec);
    impl.CloseIdleConnections();
    // A hard stop if a request refuses to finish within the grace period.
    auto timer = std::make_shared<asio::steady_timer>(main_loop, impl.options.shutdown_grace);
    timer->async_wait([&impl, timer](const beast::error_code&) {
      bool any = false;
      {
        std::lock_guard lock(impl.mu);
        for (auto& [id, weak] : impl.connections) any = any || !weak.expired();
      }
      if (any) log::Warn("shutdown.forced", {});
      impl.StopLoops();
    });
    // Let the timer not hold the loop open when everything finishes early.
    asio::co_spawn(main_loop, [&impl, &main_loop, timer]() -> awaitable<void> {
      asio::steady_timer poll(main_loop);
      for (;;) {
        {
          std::lock_guard lock(impl.mu);
          bool any = false;
          for (auto& [id, weak] : impl.connections) any = any || !weak.expired();
          if (!any) break;
        }
        impl.CloseIdleConnections();
        poll.expires_after(std::chrono::milliseconds(20));
        co_await poll.async_wait(use_awaitable);
      }
      timer->cancel();
      impl.StopLoops();
    }, asio::detached);
  });
}

void Server::Impl::CloseIdleConnections() {
  std::lock_guard lock(mu);
  for (auto& [id, weak] : connections) {
    if (auto conn = weak.lock()) {
      if (!conn->busy.load()) {
        asio::post(conn->stream.get_executor(), [conn] { conn->stream.cancel(); });
      }
    }
  }
}

awaitable<void> Server::Impl::Accept() {
  for (;;) {
    beast::error_code ec;
    // The connection's loop, in turn: its socket and coroutine live there.
    const size_t loop = next_loop++ % loops.size();
    tcp::socket socket = co_await acceptor->async_accept(*loops[loop], asio::redirect_error(use_awaitable, ec));
    if (ec) {
      if (draining || ec == asio::error::operation_aborted) co_return;
      log::Warn("http.accept_error", {{"error", ec.message()}});
      continue;
    }
    auto conn = std::make_shared<Connection>(std::move(socket), loop);
    uint64_t id;
    {
      std::lock_guard lock(mu);
      id = next_connection_id++;
      connections[id] = conn;
    }
    auto executor = conn->stream.get_executor();
    asio::co_spawn(executor, Serve(std::move(conn), id), asio::detached);
  }
}

awaitable<void> Server::Impl::Serve(std::shared_ptr<Connection> conn, uint64_t id) {
  beast::flat_buffer buffer;
  // Beast sizes each read by the buffer's spare room: without room reserved, request bodies
  // arrive 512 bytes per read (and per file write), which made uploads CPU-bound at ~25 MiB/s.
  buffer.reserve(kReadBufferBytes);
  try {
    while (!draining) {
      bool keep_alive = co_await HandleOne(*conn, buffer);
      if (!keep_alive) break;
    }
  } catch (const std::exception& e) {
    log::Warn("http.connection_error", {{"error", e.what()}});
  }
  beast::error_code ec;
  conn->stream.socket().shutdown(tcp::socket::shutdown_send, ec);
  conn->stream.close();
  std::lock_guard lock(mu);
  connections.erase(id);
}

awaitable<bool> Server::Impl::HandleOne(Connection& conn, beast::flat_buffer& buffer) {
  beast::error_code ec;
  bhttp::request_parser<bhttp::empty_body> header_parser;
  header_parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
  header_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  conn.stream.expires_after(options.idle_timeout);
  co_await bhttp::async_read_header(conn.stream, buffer, header_parser, asio::redirect_error(use_awaitable, ec));
  if (ec) {
    if (ec != bhttp::error::end_of_stream && ec != beast::error::timeout &&
        ec != asio::error::operation_aborted && ec != asio::error::eof && ec != asio::error::connection_reset) {
      // Malformed request line or headers: answer 400 and close.
      Response bad = DefaultError(InvalidArgument("malformed HTTP request: " + ec.message()));
      beast::error_code wec;
      co_await Write(conn, std::move(bad), 11, false, false, wec);
    }
    co_return false;
  }
  conn.busy = true;
  auto started = std::chrono::steady_clock::now();
  conn.stream.expires_after(options.request_timeout);

  const auto& hreq = header_parser.get();
  Request req;
  req.loop = conn.loop;
  req.method = std::string(hreq.method_string());
  req.target = std::string(hreq.target());
  std::string_view target = req.target;
  auto qpos = target.find('?');
  req.raw_path = std::string(target.substr(0, qpos));
  auto decoded = PercentDecode(req.raw_path, false);
  req.path = decoded ? *decoded : req.raw_path;
  if (qpos != std::string_view::npos) req.query = ParseQuery(target.substr(qpos + 1));
  CopyHeaders(hreq, req);
  unsigned version = hreq.version();
  bool keep_alive = hreq.keep_alive();
  auto amz_target = req.Header("x-amz-target").value_or("");

  RouteMatch match = router->Match(req.method, req.path, amz_target, req.Header("content-type").value_or(""));
  const Route* route = match.route;
  ErrorFormatter errors = route && route->errors ? route->errors : ErrorFormatter(DefaultError);
  std::string route_name = route ? route->name : "unmatched";
  if (route && route->prefix) req.route_tail = req.raw_path.substr(std::min(req.raw_path.size(), route->path.size()));

  if (auto expect = req.Header("expect"); expect && EqualsIgnoreCase(*expect, "100-continue")) {
    bhttp::response<bhttp::empty_body> cont{bhttp::status::continue_, version};
    co_await bhttp::async_write(conn.stream, cont, asio::redirect_error(use_awaitable, ec));
    if (ec) co_return false;
  }

  Response res;
  bool body_ok = true;
  size_t limit = route ? route->max_body_bytes : 1024 * 1024;
  // A chunked body that outgrows the limit is cut off mid-stream: answer and close.
  auto too_large = [&] {
    res = errors(ResourceExhausted("request body exceeds the limit of " + std::to_string(limit) + " bytes"));
    res.status = 413;
    body_ok = false;
    keep_alive = false;
  };
  auto declared = header_parser.content_length();
  if (declared && *declared > limit) {
    // Refused before reading: drain a modest body so the client reads our answer rather
    // than a reset, then answer with the protocol's error.
    keep_alive = keep_alive && *declared <= kMaxDrainBytes && co_await Drain(conn, buffer, header_parser);
    res = errors(ResourceExhausted("request body of " + std::to_string(*declared) + " bytes exceeds the limit of " +
                                   std::to_string(limit) + " bytes for this endpoint"));
    res.status = 413;
    body_ok = false;
  } else if (route && !match.method_not_allowed && route->body_mode == BodyMode::kStreamed) {
    bhttp::request_parser<bhttp::file_body> parser{std::move(header_parser)};
    parser.body_limit(limit);
    std::error_code fs_ec;
    std::filesystem::create_directories(options.upload_dir, fs_ec);
    req.body_file = options.upload_dir / ("upload-" + NewUuidHex());
    parser.get().body().open(req.body_file.c_str(), beast::file_mode::write, ec);
    if (ec) {
      res = errors(Internal("cannot spool upload: " + ec.message()));
      body_ok = false;
    } else {
      co_await bhttp::async_read(conn.stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
      parser.get().body().close();
      if (ec == bhttp::error::body_limit) {
        too_large();
      } else if (ec) {
        std::filesystem::remove(req.body_file, fs_ec);
        conn.busy = false;
        co_return false;
      }
      req.body_size = std::filesystem::file_size(req.body_file, fs_ec);
    }
  } else {
    bhttp::request_parser<bhttp::string_body> parser{std::move(header_parser)};
    parser.body_limit(limit);
    co_await bhttp::async_read(conn.stream, buffer, parser, asio::redirect_error(use_awaitable, ec));
    if (ec == bhttp::error::body_limit) {
      too_large();
    } else if (ec) {
      conn.busy = false;
      co_return false;
    } else {
      req.body = std::move(parser.get().body());
      req.body_size = req.body.size();
    }
  }

  if (body_ok) {
    if (!route) {
      res = DefaultError(NotFound("no route for " + req.method + " " + req.path));
      res.status = 404;
    } else if (match.method_not_allowed) {
      res = errors(InvalidArgument("method " + req.method + " is not allowed for " + req.path));
      res.status = 405;
    } else {
      try {
        // Not a conditional expression: GCC 12 miscompiles co_await inside ?: (it runs both arms).
        if (route->async_handler) {
          res = co_await CallAsync(*route, req);
        } else {
          res = route->handler(req);
        }
      } catch (const std::exception& e) {
        log::Error("http.handler_exception", {{"route", route_name}, {"error", e.what()}});
        res = errors(Internal(std::string("internal error: ") + e.what()));
      }
    }
  }
  if (!req.body_file.empty()) {
    std::error_code fs_ec;
    std::filesystem::remove(req.body_file, fs_ec);
  }

  unsigned status = res.status;
  if (draining) keep_alive = false;
  // Counted before the reply goes out: a client that has its answer sees it counted. The
  // latency is the time to a ready response (sending a large file body is not included).
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  metrics->Record(route_name, req.method, status, seconds);
  TemporaryFileGuard temporary_file(res);
  co_await Write(conn, std::move(res), version, keep_alive, req.method == "HEAD", ec);
  log::Debug("http.request", {{"method", req.method}, {"path", req.raw_path}, {"route", route_name},
                              {"status", status}, {"ms", seconds * 1000}});
  conn.busy = false;
  co_return keep_alive && !ec;
}

awaitable<bool> Server::Impl::Drain(Connection& conn, beast::flat_buffer& buffer,
                                    bhttp::request_parser<bhttp::empty_body>& header_parser) {
  bhttp::request_parser<bhttp::buffer_body> drain{std::move(header_parser)};
  drain.body_limit(kMaxDrainBytes);
  std::vector<char> chunk(64 * 1024);
  while (!drain.is_done()) {
    drain.get().body().data = chunk.data();
    drain.get().body().size = chunk.size();
    beast::error_code ec;
    co_await bhttp::async_read(conn.stream, buffer, drain, asio::redirect_error(use_awaitable, ec));
    if (ec == bhttp::error::need_buffer) continue;
    if (ec) co_return false;
  }
  co_return true;
}

awaitable<void> Server::Impl::Write(Connection& conn, Response res, unsigned version, bool keep_alive, bool head,
                                    beast::error_code& ec) {
  auto apply = [&](auto& msg) {
    msg.set(bhttp::field::server, "loam");
    msg.set(bhttp::field::content_type, res.content_type);
    for (const auto& [k, v] : res.headers) msg.set(k, v);
    msg.keep_alive(keep_alive);
  };
  // Answers to HEAD carry the headers of the GET, Content-Length included, and no body.
  auto write_head = [&](uint64_t length) -> awaitable<void> {
    bhttp::response<bhttp::empty_body> msg{static_cast<bhttp::status>(res.status), version};
    apply(msg);
    if (res.status != 204 && res.status != 304 && res.status >= 200) msg.content_length(length);
    co_await bhttp::async_write(conn.stream, msg, asio::redirect_error(use_awaitable, ec));
  };
  if (res.file) {
    FileRangeBody::value_type body;
    body.file.open(res.file->c_str(), beast::file_mode::scan, ec);
    uint64_t size = ec ? 0 : body.file.size(ec);
    if (!ec && res.file_offset > size) ec = beast::errc::make_error_code(beast::errc::invalid_argument);
    if (!ec) {
      body.offset = res.file_offset;
      body.length = std::min(res.file_length.value_or(size - res.file_offset), size - res.file_offset);
      if (head) {
        co_await write_head(body.length);
        co_return;
      }
      bhttp::response<FileRangeBody> msg{static_cast<bhttp::status>(res.status), version};
      apply(msg);
      msg.body() = std::move(body);
      msg.prepare_payload();
      co_await bhttp::async_write(conn.stream, msg, asio::redirect_error(use_awaitable, ec));
      co_return;
    }
    res = DefaultError(Internal("cannot open file: " + ec.message()));
    ec = {};
  }
  if (head) {
    co_await write_head(res.head_content_length.value_or(res.body.size()));
    co_return;
  }
  bhttp::response<bhttp::string_body> msg{static_cast<bhttp::status>(res.status), version};
  apply(msg);
  msg.body() = std::move(res.body);
  msg.prepare_payload();
  co_await bhttp::async_write(conn.stream, msg, asio::redirect_error(use_awaitable, ec));
}

}  // namespace loam::http
