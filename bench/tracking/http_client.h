// A small synchronous HTTP/1.1 client over Boost.Beast: one keep-alive connection, one
// request at a time. Errors throw BenchError. Not thread-safe: one client per thread.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace loam::bench {

struct HttpResponse {
  unsigned status = 0;
  std::string body;
};

class HttpClient {
 public:
  HttpClient(const std::string& host, uint16_t port);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POST with a JSON body. The body is moved into the request and handed back afterwards,
  // so a prepared body can be sent without a copy.
  HttpResponse Post(std::string_view target, std::string& body);
  HttpResponse PostCopy(std::string_view target, std::string body) { return Post(target, body); }
  HttpResponse Get(std::string_view target);

  // Like Post/Get, but a non-200 answer throws with the target and the body.
  std::string PostOk(std::string_view target, std::string body);
  std::string GetOk(std::string_view target);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Percent-encoding of a query-string value.

}  // namespace loam::bench
