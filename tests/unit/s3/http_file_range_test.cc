// The HTTP server's file responses: a byte range of a file, a temporary file deleted once
// sent, and HEAD answered with the GET's headers (Content-Length included) and no body.
#include <gtest/gtest.h>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <fstream>
#include <thread>

#include "http/server.h"
#include "test_util.h"

namespace loam::http {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

class FileRangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    file_ = dir_.path() / "data.bin";
    content_.resize(700 * 1024);
    for (size_t i = 0; i < content_.size(); ++i) content_[i] = static_cast<char>(i * 7 + i / 1000);
    std::ofstream(file_, std::ios::binary) << content_;
    auto router = std::make_shared<Router>();
    router->Add({.name = "file", .methods = {"GET", "HEAD"}, .path = "/f", .handler = [this](Request& r) {
                   Response res;
                   res.file = file_;
                   if (auto off = r.QueryValue("offset")) res.file_offset = std::stoull(std::string(*off));
                   if (auto len = r.QueryValue("length")) res.file_length = std::stoull(std::string(*len));
                   res.status = r.QueryValue("offset") ? 206 : 200;
                   res.content_type = "application/octet-stream";
                   res.headers.emplace_back("ETag", "\"x\"");
                   return res;
                 }});
    router->Add({.name = "text", .methods = {"GET", "HEAD"}, .path = "/t", .handler = [](Request&) {
                   return Response::Text(200, "twelve bytes");
                 }});
    // A fresh copy per request, as a remote object store's download.
    router->Add({.name = "copy", .methods = {"GET", "HEAD"}, .path = "/copy", .handler = [this](Request& r) {
                   Response res;
                   if (r.method == "HEAD") {
                     res.head_content_length = content_.size();
                     return res;
                   }
                   auto copy = dir_.path() / ("copy-" + std::to_string(copies_++));
                   std::filesystem::copy_file(file_, copy);
                   res.file = copy;
                   res.file_is_temporary = true;
                   res.file_offset = 1000;
                   res.file_length = 2000;
                   return res;
                 }});
    router->Add({.name = "gone", .methods = {"GET"}, .path = "/gone", .handler = [this](Request&) {
                   Response res;
                   res.file = dir_.path() / "missing";
                   return res;
                 }});
    ServerOptions options;
    options.port = 0;
    options.threads = 2;
    options.upload_dir = dir_.path() / "uploads";
    server_ = std::make_unique<Server>(options, router, std::make_shared<HttpMetrics>());
    ASSERT_TRUE(server_->Listen().ok());
    thread_ = std::thread([this] { server_->Run(false); });
  }

  void TearDown() override {
    server_->Shutdown();
    thread_.join();
  }

  // One request on a fresh connection; HEAD responses are read as header-only.
  bhttp::response<bhttp::string_body> Get(bhttp::verb verb, const std::string& target) {
    asio::ip::tcp::socket s(ioc_);
    s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
    bhttp::request<bhttp::empty_body> req{verb, target, 11};
    req.set(bhttp::field::host, "127.0.0.1");
    bhttp::write(s, req);
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(16 * 1024 * 1024);
    if (verb == bhttp::verb::head) parser.skip(true);
    bhttp::read(s, buffer, parser);
    return parser.release();
  }

  testing::ScratchDir dir_;
  std::filesystem::path file_;
  std::string content_;
  std::atomic<int> copies_{0};  // requests run on the server's threads
  std::unique_ptr<Server> server_;
  std::thread thread_;
  asio::io_context ioc_;
};

TEST_F(FileRangeTest, WholeFileAndRanges) {
  auto whole = Get(bhttp::verb::get, "/f");
  EXPECT_EQ(whole.result_int(), 200u);
  EXPECT_EQ(whole.body(), content_);
  auto part = Get(bhttp::verb::get, "/f?offset=300000&length=123456");
  EXPECT_EQ(part.result_int(), 206u);
  EXPECT_EQ(part.body(), content_.substr(300000, 123456));
  EXPECT_EQ(part[bhttp::field::content_length], "123456");
  auto tail = Get(bhttp::verb::get, "/f?offset=716000");
  EXPECT_EQ(tail.body(), content_.substr(716000));
  auto clipped = Get(bhttp::verb::get, "/f?offset=716000&length=999999");
  EXPECT_EQ(clipped.body(), content_.substr(716000));
  auto empty = Get(bhttp::verb::get, "/f?offset=716800&length=0");
  EXPECT_EQ(empty.body(), "");
  auto beyond = Get(bhttp::verb::get, "/f?offset=999999999");
  EXPECT_EQ(beyond.result_int(), 500u);
  EXPECT_EQ(Get(bhttp::verb::get, "/gone").result_int(), 500u);
}

TEST_F(FileRangeTest, TemporaryFilesAreDeletedOnceSent) {
  auto part = Get(bhttp::verb::get, "/copy");
  EXPECT_EQ(part.body(), content_.substr(1000, 2000));
  EXPECT_EQ(Get(bhttp::verb::get, "/copy").body(), content_.substr(1000, 2000));
  // The response is complete before the server's last step: wait for it.
  for (int i = 0; i < 200 && (std::filesystem::exists(dir_.path() / "copy-0") ||
                              std::filesystem::exists(dir_.path() / "copy-1"));
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "copy-0"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() / "copy-1"));
  EXPECT_TRUE(std::filesystem::exists(file_));
  auto head = Get(bhttp::verb::head, "/copy");
  EXPECT_EQ(head[bhttp::field::content_length], std::to_string(content_.size()));
}

TEST_F(FileRangeTest, HeadSendsHeadersOnly) {
  auto head = Get(bhttp::verb::head, "/f");
  EXPECT_EQ(head.result_int(), 200u);
  EXPECT_EQ(head[bhttp::field::content_length], std::to_string(content_.size()));
  EXPECT_EQ(head[bhttp::field::etag], "\"x\"");
  auto range = Get(bhttp::verb::head, "/f?offset=10&length=5");
  EXPECT_EQ(range[bhttp::field::content_length], "5");
  auto text = Get(bhttp::verb::head, "/t");
  EXPECT_EQ(text[bhttp::field::content_length], "12");
  // A HEAD then a GET on one keep-alive connection: no stray body bytes in between.
  asio::ip::tcp::socket s(ioc_);
  s.connect({asio::ip::make_address("127.0.0.1"), server_->port()});
  beast::flat_buffer buffer;
  for (auto verb : {bhttp::verb::head, bhttp::verb::get}) {
    bhttp::request<bhttp::empty_body> req{verb, "/t", 11};
    req.set(bhttp::field::host, "127.0.0.1");
    bhttp::write(s, req);
    bhttp::response_parser<bhttp::string_body> parser;
    if (verb == bhttp::verb::head) parser.skip(true);
    bhttp::read(s, buffer, parser);
    EXPECT_EQ(parser.get().body(), verb == bhttp::verb::head ? "" : "twelve bytes");
  }
}

}  // namespace
}  // namespace loam::http
