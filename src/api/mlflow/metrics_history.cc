#include "api/mlflow/handlers.h"

namespace loam::api::mlflow {

using tracking::TrackingService;

namespace {

StatusOr<std::string> GetHistory(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(std::string run_id, f.RunId());
  ASSIGN_OR_RETURN(std::string key, f.RequiredString("metric_key"));
  ASSIGN_OR_RETURN(auto max_results, f.Int64("max_results"));
  ASSIGN_OR_RETURN(auto token, f.String("page_token"));
  ASSIGN_OR_RETURN(auto page, s.GetMetricHistory(run_id, key, max_results, token.value_or("")));
  // Histories can hold millions of points: written directly rather than through a DOM.
  std::string out;
  out.reserve(page.items.size() * 96 + 64);
  out += '{';
  if (!page.items.empty()) {
    std::string escaped_key = EscapeJsonString(key);
    out += "\"metrics\":[";
    for (size_t i = 0; i < page.items.size(); ++i) {
      if (i) out += ',';
      const auto& m = page.items[i];
      AppendMetricJson(out, escaped_key, m.value, m.timestamp, m.step);
    }
    out += ']';
  }
  if (!page.next_page_token.empty()) {
    out += page.items.empty() ? "" : ",";
    out += "\"next_page_token\":" + EscapeJsonString(page.next_page_token);
  }
  out += '}';
  return out;
}

StatusOr<std::string> GetHistoryBulkInterval(TrackingService& s, const Fields& f) {
  ASSIGN_OR_RETURN(auto run_ids, f.StringList("run_ids"));
  ASSIGN_OR_RETURN(std::string key, f.RequiredString("metric_key"));
  ASSIGN_OR_RETURN(auto start_step, f.Int64("start_step"));
  ASSIGN_OR_RETURN(auto end_step, f.Int64("end_step"));
  ASSIGN_OR_RETURN(auto max_results, f.Int64("max_results"));
  ASSIGN_OR_RETURN(auto points, s.GetMetricHistoryBulkInterval(run_ids, key, start_step, end_step, max_results));
  std::string out = "{";
  if (!points.empty()) {
    std::string escaped_key = EscapeJsonString(key);
    out += "\"metrics\":[";
    std::string escaped_run;
    const std::string* last_run = nullptr;
    for (size_t i = 0; i < points.size(); ++i) {
      if (i) out += ',';
      const auto& p = points[i];
      if (!last_run || *last_run != p.run_id) {
        escaped_run = EscapeJsonString(p.run_id);
        last_run = &p.run_id;
      }
      AppendMetricJson(out, escaped_key, p.metric.value, p.metric.timestamp, p.metric.step, &escaped_run);
    }
    out += ']';
  }
  out += '}';
  return out;
}

}  // namespace

std::vector<Endpoint> MetricHistoryEndpoints() {
  return {
      {"metrics.get-history", {"GET"}, "/metrics/get-history", GetHistory},
      {"metrics.get-history-bulk-interval", {"GET"}, "/metrics/get-history-bulk-interval", GetHistoryBulkInterval},
  };
}

}  // namespace loam::api::mlflow
