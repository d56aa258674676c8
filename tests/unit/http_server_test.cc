// The HTTP server in-process on a free port, driven by a raw client over loopback.
#include "http/server.h"

#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <atomic>
#include <mutex>
#include <thread>
#include <vector>

#include "test_util.h"

namespace loam::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto router = std::make_shared<Router>();
    auto errors = [](const Status& s) { return Response::Json(400, "{\"custom\":\"" + s.message() + "\"}"); };
    router->Add({.name = "echo", .methods = {"POST"}, .path = "/echo", .max_body_bytes = 1024,
                 .handler = [](Request& r) { return Response::Text(200, r.body); }, .errors = errors});
    router->Add({.name = "slow", .methods = {"GET"}, .path = "/slow", .handler = [](Request&) {
                   std::this_thread::sleep_for(std::chrono::milliseconds(300));
                   return Response::Text(200, "done");
                 }});
    router->Add({.name = "upload", .methods = {"PUT"}, .path = "/up/", .prefix = true,
                 .body_mode = BodyMode::kStreamed, .handler = [](Request& r) {
                   return Response::Text(200, r.route_tail + ":" + std::to_string(r.body_size));
                 }});
    // Answers from a thread of its own after a delay, as the endpoint invoker does.
    router->Add({.name = "later", .methods = {"POST"}, .path = "/later",
                 .async_handler = [this](Request& r, Responder done) {
                   std::lock_guard lock(async_mu_);
                   async_threads_.emplace_back([body = r.body, done] {
                     std::this_thread::sleep_for(std::chrono::milliseconds(50));
                     done(Response::Text(200, "later:" + body));
                     done(Response::Text(500, "a second answer is ignored"));
                   });
                 }});
    router->Add({.name = "throws", .methods = {"GET"}, .path = "/throws",
                 .async_handler = [](Request&, Responder) { throw std::runtime_error("boom"); },
                 .errors = errors});
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.upload_dir = dir_.path() / "uploads";
    server_ = std::make_unique<Server>(options, router, metrics_);
    ASSERT_TRUE(server_->Listen().ok());
    thread_ = std::thread([this] { server_->Run(false); });
  }

  void TearDown() override {
    server_->Shutdown();
    thread_.join();
    for (auto& t : async_threads_) t.join();
  }

  asio::ip::tcp::socket Connect() {
    asio::ip::tcp::socket s(ioc_);
    s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    return s;
  }

  static bhttp::response<bhttp::string_body> Exchange(asio::ip::tcp::socket& s, bhttp::request<bhttp::string_body> req) {
    req.prepare_payload();
    bhttp::write(s, req);
    beast::flat_buffer buffer;
    bhttp::response<bhttp::string_body> res;
    bhttp::read(s, buffer, res);
    return res;
  }

  static bhttp::request<bhttp::string_body> Req(bhttp::verb v, const std::string& target, std::string body = "") {
    bhttp::request<bhttp::string_body> r{v, target, 11};
    r.set(bhttp::field::host, "127.0.0.1");
    r.body() = std::move(body);
    return r;
  }

  testing::ScratchDir dir_;
  std::shared_ptr<HttpMetrics> metrics_ = std::make_shared<HttpMetrics>();
  std::unique_ptr<Server> server_;
  std::thread thread_;
  asio::io_context ioc_;
  std::mutex async_mu_;
  std::vector<std::thread> async_threads_;
};

TEST_F(HttpServerTest, AsyncHandlersAnswerFromAnotherThreadOnce) {
  auto s = Connect();
  for (int i = 0; i < 2; ++i) {  // the connection stays usable after an asynchronous answer
    auto res = Exchange(s, Req(bhttp::verb::post, "/later", "x" + std::to_string(i)));
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), "later:x" + std::to_string(i));
  }
  // Concurrent requests on separate connections all get their own answers.
  std::vector<std::thread> clients;
  std::atomic<int> right{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      asio::io_context ioc;
      asio::ip::tcp::socket c(ioc);
      c.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
      auto res = Exchange(c, Req(bhttp::verb::post, "/later", std::to_string(i)));
      if (res.result_int() == 200 && res.body() == "later:" + std::to_string(i)) ++right;
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(right.load(), 8);
}

TEST_F(HttpServerTest, AnAsyncHandlerThatThrowsGetsTheRouteErrorShape) {
  auto s = Connect();
  auto res = Exchange(s, Req(bhttp::verb::get, "/throws"));
  EXPECT_EQ(res.result_int(), 400u);  // the route's formatter chose 400
  EXPECT_NE(res.body().find("boom"), std::string::npos) << res.body();
}

TEST_F(HttpServerTest, KeepAliveServesSeveralRequestsOnOneConnection) {
  auto s = Connect();
  for (int i = 0; i < 3; ++i) {
    auto res = Exchange(s, Req(bhttp::verb::post, "/echo", "hello " + std::to_string(i)));
    EXPECT_EQ(res.result_int(), 200u);
    EXPECT_EQ(res.body(), "hello " + std::to_string(i));
    EXPECT_TRUE(res.keep_alive());
  }
  // Requests are counted once their response is written, just after the client has it.
  const std::string line = "route=\"echo\",method=\"POST\",code=\"200\"} 3";
  for (int i = 0; i < 100 && metrics_->RenderPrometheus().find(line) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(metrics_->RenderPrometheus().find(line), std::string::npos);
}

TEST_F(HttpServerTest, OversizedDeclaredBodyIsRefusedWithTheRouteErrorShape) {
  auto s = Connect();
  auto res = Exchange(s, Req(bhttp::verb::post, "/echo", std::string(4096, 'x')));
  EXPECT_EQ(res.result_int(), 413u);
  EXPECT_NE(res.body().find("\"custom\""), std::string::npos);
  EXPECT_NE(res.body().find("1024"), std::string::npos);
}

TEST_F(HttpServerTest, UnknownPathAndWrongMethod) {
  auto s = Connect();
  EXPECT_EQ(Exchange(s, Req(bhttp::verb::get, "/nothing")).result_int(), 404u);
  EXPECT_EQ(Exchange(s, Req(bhttp::verb::get, "/echo")).result_int(), 405u);
}

TEST_F(HttpServerTest, StreamedUploadAndExpectContinue) {
  auto s = Connect();
  auto req = Req(bhttp::verb::put, "/up/a%20b/c.bin", std::string(100000, 'z'));
  req.set(bhttp::field::expect, "100-continue");
  req.prepare_payload();
  bhttp::request_serializer<bhttp::string_body> sr{req};
  bhttp::write_header(s, sr);
  beast::flat_buffer buffer;
  bhttp::response<bhttp::empty_body> cont;
  bhttp::read(s, buffer, cont);
  EXPECT_EQ(cont.result(), bhttp::status::continue_);
  bhttp::write(s, sr);
  bhttp::response<bhttp::string_body> res;
  bhttp::read(s, buffer, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "a%20b/c.bin:100000");
  EXPECT_TRUE(std::filesystem::is_empty(dir_.path() / "uploads"));  // the spooled body is gone
}

TEST_F(HttpServerTest, MalformedRequestGets400) {
  auto s = Connect();
  std::string garbage = "NOT AN HTTP REQUEST\r\n\r\n";
  asio::write(s, asio::buffer(garbage));
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(s, buffer, res);
  EXPECT_EQ(res.result_int(), 400u);
}

TEST_F(HttpServerTest, ShutdownLetsTheRequestInFlightFinish) {
  auto s = Connect();
  auto idle = Connect();  // an idle keep-alive connection must not hold shutdown up
  auto req = Req(bhttp::verb::get, "/slow");
  req.prepare_payload();
  bhttp::write(s, req);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  auto started = std::chrono::steady_clock::now();
  server_->Shutdown();
  beast::flat_buffer buffer;
  bhttp::response<bhttp::string_body> res;
  bhttp::read(s, buffer, res);
  EXPECT_EQ(res.result_int(), 200u);
  EXPECT_EQ(res.body(), "done");
  EXPECT_FALSE(res.keep_alive());
  thread_.join();
  thread_ = std::thread([] {});
  // Well before the 10 s grace period: shutdown waited for the work, not for the idle peer.
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace loam::http
