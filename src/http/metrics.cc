#include "http/metrics.h"

#include <fmt/format.h>

namespace loam::http {

void HttpMetrics::Record(const std::string& route, const std::string& method, unsigned status,
                         double seconds) {
  std::lock_guard lock(mu_);
  ++requests_[{route, method, status}];
  auto& h = latency_[route];
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++h.counts[i];
  }
  ++h.count;
  h.sum += seconds;
}

void HttpMetrics::SetGauge(const std::string& name, double value) {
  std::lock_guard lock(mu_);
  gauges_[name] = value;
}

std::string HttpMetrics::RenderPrometheus() const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP loam_http_requests_total HTTP requests served, by route, method and status.\n";
  out += "# TYPE loam_http_requests_total counter\n";
  for (const auto& [key, n] : requests_) {
    const auto& [route, method, status] = key;
    out += fmt::format("loam_http_requests_total{{route=\"{}\",method=\"{}\",code=\"{}\"}} {}\n", route,
                       method, status, n);
  }
  out += "# HELP loam_http_request_duration_seconds Time from request read to response written.\n";
  out += "# TYPE loam_http_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBuckets.size(); ++i) {
      out += fmt::format("loam_http_request_duration_seconds_bucket{{route=\"{}\",le=\"{}\"}} {}\n", route,
                         kBuckets[i], h.counts[i]);
    }
    out += fmt::format("loam_http_request_duration_seconds_bucket{{route=\"{}\",le=\"+Inf\"}} {}\n", route,
                       h.count);
    out += fmt::format("loam_http_request_duration_seconds_sum{{route=\"{}\"}} {}\n", route, h.sum);
    out += fmt::format("loam_http_request_duration_seconds_count{{route=\"{}\"}} {}\n", route, h.count);
  }
  for (const auto& [name, value] : gauges_) {
    out += fmt::format("# TYPE {} gauge\n{} {}\n", name, name, value);
  }
  return out;
}

}  // namespace loam::http
