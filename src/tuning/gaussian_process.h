// Gaussian-process regression used by the Bayesian strategy.
//
// Model: f ~ GP(0, s2 * Matern52_ARD(x, x'; l)), y = f + eps, eps ~ N(0, noise), fitted to
// standardized targets (y - mean) / std. Inputs are rows of X, expected in (roughly) the unit
// cube. Hyperparameters theta = (log l_1..l_D, log s2, log noise) are the MAP estimate under
// weak log-normal priors, found by box-constrained L-BFGS on the analytic gradient, from the
// previous optimum (a warm start) and, on a full fit, draws from the prior.
// Cholesky factorisations retry with diagonal jitter 1e-9, 1e-8, ..., 1e-2 before giving up.
//
// Not thread-safe; cheap to copy.
#pragma once

#include <random>

#include <Eigen/Dense>

#include "common/status.h"

namespace loam::tuning {

struct GpHyperparameters {
  Eigen::VectorXd log_lengthscales;  // one per input column
  double log_signal_variance = 0.0;
  double log_noise_variance = -6.9;  // ~1e-3 of the standardized variance
};

struct GpFitOptions {
  int num_restarts = 3;        // starts: the previous/default point plus num_restarts - 1 prior draws
  int max_evaluations = 60;    // likelihood evaluations per start (line search included)
};

// Matérn-5/2 with ARD lengthscales; exposed for tests.
double Matern52(const Eigen::VectorXd& a, const Eigen::VectorXd& b, const Eigen::VectorXd& lengthscales,
                double signal_variance);

class GaussianProcess {
 public:
  // Standardizes y, fits the hyperparameters (warm-started from the current ones when the input
  // dimension matches) and conditions on the data. Needs at least one row.
  Status Fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y, const GpFitOptions& options,
             std::mt19937_64& rng);
  // Conditions on new data with the current hyperparameters and standardization (no refit); the
  // Bayesian strategy adds fantasy observations for pending trials this way.
  Status Condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y);
  // Posterior mean and variance of the latent f at the rows of Xs, in the units of y.
  void Predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd* mean, Eigen::VectorXd* variance) const;

  // Log marginal likelihood plus log prior of theta for the standardized data, and its gradient.
  // Returns -inf when the kernel matrix cannot be factorised.
  double LogPosterior(const Eigen::VectorXd& theta, Eigen::VectorXd* gradient) const;

  const GpHyperparameters& hyperparameters() const { return hyper_; }
  void set_hyperparameters(const GpHyperparameters& h) { hyper_ = h; }
  int num_points() const { return static_cast<int>(X_.rows()); }

 private:
  Status Factorize();

  Eigen::MatrixXd X_;
  Eigen::VectorXd z_;  // standardized targets
  double y_mean_ = 0.0;
  double y_std_ = 1.0;
  GpHyperparameters hyper_;
  Eigen::LLT<Eigen::MatrixXd> llt_;
  Eigen::VectorXd alpha_;  // K^-1 z
};

}  // namespace loam::tuning
