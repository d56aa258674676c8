// Hyperband for tuning jobs (Strategy "Hyperband"), in its asynchronous form (ASHA, Li et al.,
// "A System for Massively Parallel Hyperparameter Tuning", MLSys 2020): configurations are
// sampled uniformly at random, and each training job is stopped at a rung of its bracket when
// its objective there is not among the best 1/eta of the jobs of that bracket that reached the
// rung. There is no synchronisation barrier: jobs run as soon as a slot is free.
//
// Resources are what the job reports its objective per (epochs): a job's curve holds its
// objective after 1, 2, ... units, so the value at resource r is curve[r - 1].
//
//  * s_max = floor(log_eta(max_resource / min_resource)); brackets 0..s_max.
//  * Trial n (1-based) belongs to bracket (n - 1) mod (s_max + 1): the brackets take turns, from
//    the most aggressive (bracket 0, first rung at min_resource) to the one that never stops a
//    job early (bracket s_max).
//  * The rungs of bracket b are r_k = min_resource * eta^(b + k) for k = 0, 1, ... while
//    r_k < max_resource.
//  * At rung r a job is stopped when its value at r is strictly worse than the
//    (1 - 1/eta)-quantile (linear interpolation; the 1/eta-quantile for Minimize) of the values at
//    r of every job of the bracket that reached r, itself included. Alone at a rung, a job
//    continues. Each job is judged once per rung, when it first reaches it.
//
// Thread-safety: immutable after Create.
#pragma once

#include <vector>

#include "common/status.h"
#include "tuning/strategy.h"

namespace loam::tuning {

struct HyperbandOptions {
  int min_resource = 1;
  int max_resource = 1;
  int eta = 3;
};

class HyperbandSchedule {
 public:
  // InvalidArgument unless 1 <= min_resource <= max_resource and eta >= 2.
  static StatusOr<HyperbandSchedule> Create(const HyperbandOptions& options);

  int brackets() const { return s_max_ + 1; }
  int BracketOf(int trial_number) const;
  std::vector<int> Rungs(int bracket) const;

  // Whether a job that has just reached `rung` continues. `rung_values` are the values at
  // that rung of every job of the bracket that reached it (the job's own value included).
  bool Continues(double value, const std::vector<double>& rung_values, ObjectiveType objective) const;

 private:
  HyperbandOptions options_;
  int s_max_ = 0;
};

}  // namespace loam::tuning
