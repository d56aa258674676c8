#include "http_client.h"

#include <cctype>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "bench.h"

namespace loam::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

struct HttpClient::Impl {
  std::string host;
  uint16_t port = 0;
  asio::io_context ioc;
  tcp::socket socket{ioc};
  beast::flat_buffer buffer;

  void Connect() {
    tcp::resolver resolver(ioc);
    asio::connect(socket, resolver.resolve(host, std::to_string(port)));
    socket.set_option(tcp::no_delay(true));
  }

  template <class Request>
  HttpResponse Send(Request& req) {
    req.set(http::field::host, host);
    req.set(http::field::user_agent, "loam-bench");
    req.keep_alive(true);
    req.prepare_payload();
    beast::error_code ec;
    http::write(socket, req, ec);
    if (ec) throw BenchError("http write " + std::string(req.target()) + ": " + ec.message());
    http::response_parser<http::string_body> parser;
    parser.body_limit(boost::none);  // a full metric history is tens of MB
    http::read(socket, buffer, parser, ec);
    if (ec) throw BenchError("http read " + std::string(req.target()) + ": " + ec.message());
    auto& res = parser.get();
    HttpResponse out{res.result_int(), std::move(res.body())};
    if (!res.keep_alive()) {
      socket.close();
      Connect();
    }
    return out;
  }
};

HttpClient::HttpClient(const std::string& host, uint16_t port) : impl_(std::make_unique<Impl>()) {
  impl_->host = host;
  impl_->port = port;
  impl_->Connect();
}

HttpClient::~HttpClient() {
  beast::error_code ec;
  impl_->socket.shutdown(tcp::socket::shutdown_both, ec);
  impl_->socket.close(ec);
}

HttpResponse HttpClient::Post(std::string_view target, std::string& body) {
  http::request<http::string_body> req{http::verb::post, beast::string_view(target.data(), target.size()), 11};
  req.set(http::field::content_type, "application/json");
  req.body() = std::move(body);
  struct GiveBack {  // hand the body back to the caller whatever happens
    std::string& to;
    std::string& from;
    ~GiveBack() { to = std::move(from); }
  } give_back{body, req.body()};
  return impl_->Send(req);
}

HttpResponse HttpClient::Get(std::string_view target) {
  http::request<http::empty_body> req{http::verb::get, beast::string_view(target.data(), target.size()), 11};
  return impl_->Send(req);
}

std::string HttpClient::PostOk(std::string_view target, std::string body) {
  HttpResponse r = Post(target, body);
  if (r.status != 200) {
    throw BenchError("POST " + std::string(target) + " -> " + std::to_string(r.status) + ": " + r.body.substr(0, 500));
  }
  return std::move(r.body);
}

std::string HttpClient::GetOk(std::string_view target) {
  HttpResponse r = Get(target);
  if (r.status != 200) {
    throw BenchError("GET " + std::string(target) + " -> " + std::to_string(r.status) + ": " + r.body.substr(0, 500));
  }
  return std::move(r.body);
}

}  // namespace loam::bench
