#include "http/request.h"

#include "common/strings.h"

namespace loam::http {

std::optional<std::string_view> Request::Header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return v;
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::QueryValue(std::string_view name) const {
  for (const auto& [k, v] : query) {
    if (k == name) return v;
  }
  return std::nullopt;
}

Response Response::Json(unsigned status, std::string body) {
  Response r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

Response Response::Text(unsigned status, std::string body, std::string content_type) {
  Response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  return r;
}

std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  if (query.empty()) return out;
  for (const auto& part : Split(query, '&')) {
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string_view raw_key = eq == std::string::npos ? std::string_view(part) : std::string_view(part).substr(0, eq);
    std::string_view raw_value = eq == std::string::npos ? std::string_view() : std::string_view(part).substr(eq + 1);
    auto key = PercentDecode(raw_key, true);
    auto value = PercentDecode(raw_value, true);
    // An undecodable pair is kept verbatim so validation downstream reports it.
    out.emplace_back(key ? *key : std::string(raw_key), value ? *value : std::string(raw_value));
  }
  return out;
}

}  // namespace loam::http
