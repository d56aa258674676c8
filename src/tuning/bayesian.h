// Bayesian optimization strategy ("Bayesian"): a Gaussian process over the search space and
// log expected improvement as the acquisition function.
//
//  * Kernel inputs: numeric parameters as their unit coordinate after rounding integers (so the
//    model sees only values the job can actually run); categoricals one-hot.
//  * Targets: objective values, negated for Maximize, so the model always minimizes; failed
//    trials and trials whose configuration is not in the space are ignored.
//  * Initial design: a Latin hypercube of max(num_initial, n) points, num_initial defaulting to
//    max(3, d + 1); the GP is used once that many trials have completed (random points fill in
//    when the design is used up before enough trials complete, e.g. after failures).
//  * Incumbent: the lowest posterior mean over the completed trials (robust to noise).
//  * Pending trials and the earlier points of the same batch are "Kriging believer" fantasies:
//    added to the GP with its own posterior mean as the observation, which collapses the
//    variance there and pushes later suggestions elsewhere.
//  * Hyperparameters: a full multi-start fit whenever the completed trials have grown by
//    refit_growth since the last one, a short fit from the previous optimum otherwise.
//  * Acquisition maximisation: num_candidates points (uniform, plus perturbations of the best
//    trials) scored with log-EI, then the best few refined by a shrinking random local search.
#pragma once

#include <random>
#include <vector>

#include <Eigen/Dense>

#include "tuning/gaussian_process.h"
#include "tuning/strategy.h"

namespace loam::tuning {

// log h(z), h(z) = phi(z) + z * Phi(z), accurate and finite for every finite z: the direct form
// for z > -1, the erfc-scaled form for -25 < z <= -1, and the asymptotic series below (after
// Ament et al., "Unexpected Improvements to Expected Improvement", NeurIPS 2023).
double LogH(double z);
// log EI for minimization: log E[max(best - f, 0)], f ~ N(mean, variance).
double LogExpectedImprovement(double mean, double variance, double best);

class BayesianStrategy : public Strategy {
 public:
  BayesianStrategy(const SearchSpace& space, const StrategyOptions& options);
  StatusOr<std::vector<Configuration>> Suggest(int n, const std::vector<Trial>& history) override;

 private:
  Eigen::VectorXd Features(const std::vector<double>& u) const;
  std::vector<double> RandomUnit();
  // Picks the unit point maximizing log-EI under the current (fantasy-conditioned) GP.
  std::vector<double> MaximizeAcquisition(double best, const std::vector<std::vector<double>>& elite);

  SearchSpace space_;
  StrategyOptions options_;
  std::mt19937_64 rng_;
  int num_initial_;
  std::vector<std::vector<double>> design_;
  size_t design_next_ = 0;
  GaussianProcess gp_;
  Eigen::Index last_full_fit_size_ = 0;  // completed trials at the last full hyperparameter fit
};

}  // namespace loam::tuning
