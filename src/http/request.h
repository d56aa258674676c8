// Transport-neutral request and response values handed between the HTTP server and the
// protocol adapters. Adapters never see Beast types.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loam::http {

struct Request {
  std::string method;       // "GET", "POST", ...
  std::string target;       // raw request target, e.g. "/api/2.0/mlflow/runs/get?run_id=1"
  std::string path;         // percent-decoded path without the query
  std::string raw_path;     // path as sent, still percent-encoded
  std::vector<std::pair<std::string, std::string>> query;    // decoded, in order
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  std::string body;                   // buffered routes
  std::filesystem::path body_file;    // streamed routes: the uploaded bytes, on disk
  uint64_t body_size = 0;
  std::string route_tail;             // for prefix routes: raw_path after the prefix
  size_t loop = 0;                    // the server event loop serving it (Server::loops())

  // First header with this (lower-case) name.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
  // First query value with this name.
  std::optional<std::string_view> QueryValue(std::string_view name) const;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When set, the server streams this file as the body instead of `body`: the bytes from
  // `file_offset`, `file_length` of them (to the end of the file when unset).
  std::optional<std::filesystem::path> file;
  uint64_t file_offset = 0;
  std::optional<uint64_t> file_length;
  // The file is this response's own copy (a remote object store's download): the server
  // deletes it once the response is written, or abandoned.
  bool file_is_temporary = false;
  // For an answer to HEAD with neither body nor file: the Content-Length its GET would carry.
  std::optional<uint64_t> head_content_length;

  static Response Json(unsigned status, std::string body);
  static Response Text(unsigned status, std::string body, std::string content_type = "text/plain; charset=utf-8");
};

// Parses "a=1&b=x%20y" into decoded pairs; '+' means space as in HTML forms.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query);

}  // namespace loam::http
