// MetricDefinitions: regexes (RE2) applied to every log line; the first capture group of a
// match is the metric's value, as SageMaker parses training logs.
#pragma once

#include <re2/re2.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace loam::jobs {

struct MetricDefinition {
  std::string name;
  std::string regex;
};

struct MetricSample {
  std::string name;
  double value = 0;
};

class MetricParser {
 public:
  // InvalidArgument when a regex does not compile or has no capture group.
  static StatusOr<MetricParser> Create(const std::vector<MetricDefinition>& definitions);

  // Every match in a line, in definition order (a line may carry several metrics).
  std::vector<MetricSample> ParseLine(std::string_view line) const;
  bool empty() const { return compiled_.empty(); }

 private:
  struct Compiled {
    std::string name;
    std::shared_ptr<const RE2> regex;
  };
  std::vector<Compiled> compiled_;
};

// Splits appended log text into complete lines, keeping a partial last line for later.
class LineSplitter {
 public:
  template <typename F>
  void Feed(std::string_view chunk, F&& on_line) {
    pending_.append(chunk);
    size_t start = 0, nl;
    while ((nl = pending_.find('\n', start)) != std::string::npos) {
      on_line(std::string_view(pending_).substr(start, nl - start));
      start = nl + 1;
    }
    pending_.erase(0, start);
    if (pending_.size() > kMaxLine) pending_.clear();  // a runaway line without newline
  }
  template <typename F>
  void Flush(F&& on_line) {
    if (!pending_.empty()) on_line(std::string_view(pending_));
    pending_.clear();
  }

 private:
  static constexpr size_t kMaxLine = 1 << 20;
  std::string pending_;
};

}  // namespace loam::jobs
