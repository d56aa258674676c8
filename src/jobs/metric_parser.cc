#include "jobs/metric_parser.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdlib>

namespace loam::jobs {

StatusOr<MetricParser> MetricParser::Create(const std::vector<MetricDefinition>& definitions) {
  MetricParser parser;
  for (const auto& d : definitions) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_shared<RE2>(d.regex, options);
    if (!re->ok()) {
      return InvalidArgument(fmt::format("MetricDefinitions regex for '{}' is invalid: {}", d.name, re->error()));
    }
    if (re->NumberOfCapturingGroups() < 1) {
      return InvalidArgument(fmt::format("MetricDefinitions regex for '{}' needs a capture group for the value", d.name));
    }
    parser.compiled_.push_back({d.name, std::move(re)});
  }
  return parser;
}

std::vector<MetricSample> MetricParser::ParseLine(std::string_view line) const {
  std::vector<MetricSample> out;
  for (const auto& c : compiled_) {
    std::string captured;
    if (!RE2::PartialMatch(line, *c.regex, &captured)) continue;
    const char* begin = captured.c_str();
    char* end = nullptr;
    double v = std::strtod(begin, &end);
    if (end == begin || !std::isfinite(v)) continue;  // SageMaker drops values that are not numbers
    out.push_back({c.name, v});
  }
  return out;
}

}  // namespace loam::jobs
