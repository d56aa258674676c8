// Request counters and latency histograms per route, rendered in Prometheus text format.
// Thread-safe: guarded by an internal mutex (the critical section is a few additions).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

namespace loam::http {

class HttpMetrics {
 public:
  void Record(const std::string& route, const std::string& method, unsigned status, double seconds);
  void SetGauge(const std::string& name, double value);
  std::string RenderPrometheus() const;

 private:
  static constexpr std::array<double, 12> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                      0.05,   0.1,   0.25,   0.5,   1.0,  5.0};
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};
    uint64_t count = 0;
    double sum = 0;
  };
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, unsigned>, uint64_t> requests_;  // guarded by mu_
  std::map<std::string, Histogram> latency_;                                      // guarded by mu_
  std::map<std::string, double> gauges_;                                          // guarded by mu_
};

}  // namespace loam::http
