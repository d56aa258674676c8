#include "cli/http_client.h"

#include <cstdlib>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <fmt/format.h>

#include <cctype>

namespace loam::cli {

namespace beast = boost::beast;
namespace http = beast::http;
namespace asio = boost::asio;

std::string HttpReply::Header(const std::string& name) const {
  for (const auto& [k, v] : headers) {
    if (k.size() == name.size() &&
        std::equal(k.begin(), k.end(), name.begin(), [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
      return v;
    }
  }
  return {};
}

StatusOr<HttpClient> HttpClient::Create(const std::string& endpoint) {
  const std::string scheme = "http://";
  if (endpoint.rfind(scheme, 0) != 0) return InvalidArgument(fmt::format("endpoint {} must start with http://", endpoint));
  std::string rest = endpoint.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  HttpClient c;
  auto colon = rest.rfind(':');
  c.host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
  c.port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
  if (c.host_.empty()) return InvalidArgument(fmt::format("endpoint {} names no host", endpoint));
  return c;
}

StatusOr<HttpReply> HttpClient::Request(const std::string& method, const std::string& target,
                                        const std::vector<std::pair<std::string, std::string>>& headers,
                                        const std::string& body) const {
  // Boost reports errors through error_code here; nothing throws past this function.
  beast::error_code ec;
  asio::io_context io;
  asio::ip::tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(host_, port_, ec);
  if (ec) return FailedPrecondition(fmt::format("cannot resolve {}: {}", host_, ec.message()));
  beast::tcp_stream stream(io);
  stream.connect(endpoints, ec);
  if (ec) return FailedPrecondition(fmt::format("cannot reach the Loam server at {}:{}: {}", host_, port_, ec.message()));
  http::request<http::string_body> req{http::string_to_verb(method), target, 11};
  req.set(http::field::host, host_);
  req.set(http::field::user_agent, "loam-cli");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req, ec);
  if (ec) return FailedPrecondition(fmt::format("sending the request failed: {}", ec.message()));
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  http::read(stream, buffer, parser, ec);
  if (ec) return FailedPrecondition(fmt::format("reading the reply failed: {}", ec.message()));
  auto& res = parser.get();
  HttpReply reply;
  reply.status = res.result_int();
  for (const auto& field : res) reply.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  reply.body = std::move(res.body());
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  return reply;
}

std::string DefaultEndpoint() {
  const char* e = std::getenv("LOAM_ENDPOINT");
  return e && *e ? e : "http://127.0.0.1:7070";
}

StatusOr<nlohmann::json> CallAwsJson(const HttpClient& client, const std::string& target_prefix,
                                     const std::string& content_type, const std::string& operation,
                                     const nlohmann::json& input) {
  ASSIGN_OR_RETURN(HttpReply reply, client.Request("POST", "/",
                                                   {{"X-Amz-Target", target_prefix + operation}, {"Content-Type", content_type}},
                                                   input.dump()));
  nlohmann::json body = nlohmann::json::parse(reply.body, nullptr, false);
  if (reply.status != 200) {
    std::string type = body.is_object() ? body.value("__type", "Error") : "Error";
    std::string message = body.is_object() ? body.value("message", reply.body) : reply.body;
    return InvalidArgument(type + ": " + message);
  }
  if (body.is_discarded()) return Internal("the server's reply is not JSON");
  return body;
}

}  // namespace loam::cli
