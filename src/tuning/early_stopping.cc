#include "tuning/early_stopping.h"

#include <algorithm>
#include <cmath>

namespace loam::tuning {

StatusOr<StoppingDecision> MedianStoppingRule(const std::vector<double>& current,
                                              const std::vector<std::vector<double>>& others,
                                              ObjectiveType objective,
                                              const MedianStoppingOptions& options) {
  if (current.empty()) return InvalidArgument("the current job has reported no objective values");
  const bool minimize = objective == ObjectiveType::kMinimize;
  const size_t s = current.size() - 1;
  StoppingDecision d;
  bool any = false;
  for (double v : current) {
    if (!std::isfinite(v)) continue;
    if (!any || (minimize ? v < d.best_so_far : v > d.best_so_far)) d.best_so_far = v;
    any = true;
  }
  if (!any) return InvalidArgument("the current job has no finite objective value");
  if (static_cast<int>(current.size()) < options.min_steps) {
    d.reason = "too few steps reported";
    return d;
  }
  std::vector<double> averages;
  for (const auto& curve : others) {
    if (curve.size() <= s) continue;
    double sum = 0;
    int count = 0;
    for (size_t i = 0; i <= s; ++i) {
      if (!std::isfinite(curve[i])) continue;
      sum += curve[i];
      ++count;
    }
    if (count > 0) averages.push_back(sum / count);
  }
  d.compared = static_cast<int>(averages.size());
  if (d.compared < std::max(1, options.min_completed)) {
    d.reason = "only " + std::to_string(d.compared) + " completed jobs reached step " + std::to_string(s);
    return d;
  }
  std::sort(averages.begin(), averages.end());
  const size_t k = averages.size();
  d.median = k % 2 == 1 ? averages[k / 2] : 0.5 * (averages[k / 2 - 1] + averages[k / 2]);
  d.stop = minimize ? d.best_so_far > d.median : d.best_so_far < d.median;
  d.reason = d.stop ? "best value so far is worse than the median running average of other jobs"
                    : "best value so far is at least as good as the median running average";
  return d;
}

}  // namespace loam::tuning
