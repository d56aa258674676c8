#include "tuning/hyperband.h"

#include <algorithm>
#include <cmath>

namespace loam::tuning {

StatusOr<HyperbandSchedule> HyperbandSchedule::Create(const HyperbandOptions& options) {
  if (options.min_resource < 1 || options.max_resource < options.min_resource) {
    return InvalidArgument("Hyperband needs 1 <= MinResource <= MaxResource");
  }
  if (options.eta < 2) return InvalidArgument("Hyperband needs a reduction factor of at least 2");
  HyperbandSchedule s;
  s.options_ = options;
  // The largest s with min * eta^s <= max, in integers (no floating-point log rounding).
  int64_t r = options.min_resource;
  while (r * options.eta <= options.max_resource) {
    r *= options.eta;
    ++s.s_max_;
  }
  return s;
}

int HyperbandSchedule::BracketOf(int trial_number) const { return std::max(0, trial_number - 1) % brackets(); }

std::vector<int> HyperbandSchedule::Rungs(int bracket) const {
  std::vector<int> rungs;
  int64_t r = options_.min_resource;
  for (int i = 0; i < bracket; ++i) r *= options_.eta;
  for (; r < options_.max_resource; r *= options_.eta) rungs.push_back(static_cast<int>(r));
  return rungs;
}

bool HyperbandSchedule::Continues(double value, const std::vector<double>& rung_values, ObjectiveType objective) const {
  std::vector<double> v;
  for (double x : rung_values) {
    if (std::isfinite(x)) v.push_back(x);
  }
  if (!std::isfinite(value)) return v.empty();
  if (v.size() <= 1) return true;
  std::sort(v.begin(), v.end());
  const double keep = 1.0 / options_.eta;
  // The cutoff below which (Minimize) or above which (Maximize) the best 1/eta lie.
  const double q = objective == ObjectiveType::kMinimize ? keep : 1.0 - keep;
  const double pos = q * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  const double cutoff = v[lo] + (pos - static_cast<double>(lo)) * (v[hi] - v[lo]);
  return objective == ObjectiveType::kMinimize ? value <= cutoff : value >= cutoff;
}

}  // namespace loam::tuning
