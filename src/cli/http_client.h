// A small blocking HTTP/1.1 client for the `loam` command-line tools that talk to a server.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loam::cli {

struct HttpReply {
  unsigned status = 0;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string Header(const std::string& name) const;
};

class HttpClient {
 public:
  // endpoint: "http://host:port"
  static StatusOr<HttpClient> Create(const std::string& endpoint);

  StatusOr<HttpReply> Request(const std::string& method, const std::string& target,
                              const std::vector<std::pair<std::string, std::string>>& headers,
                              const std::string& body) const;

 private:
  std::string host_;
  std::string port_;
};

// $LOAM_ENDPOINT, else http://127.0.0.1:7070.
std::string DefaultEndpoint();

// One AWS JSON protocol call: POST / with "X-Amz-Target: <target_prefix><operation>". A non-200
// answer is InvalidArgument "<__type>: <message>".
StatusOr<nlohmann::json> CallAwsJson(const HttpClient& client, const std::string& target_prefix,
                                     const std::string& content_type, const std::string& operation,
                                     const nlohmann::json& input);

}  // namespace loam::cli
