// Box-constrained L-BFGS (projected two-loop recursion with an Armijo backtracking line search),
// used to fit the Gaussian process's hyperparameters. It reaches the optimum of a smooth
// log-likelihood in tens of evaluations where plain gradient ascent needs hundreds, and each
// evaluation of a GP likelihood costs a Cholesky factorisation and an inverse of the n x n kernel.
#pragma once

#include <functional>

#include <Eigen/Dense>

namespace loam::tuning {

struct LbfgsOptions {
  int max_iterations = 50;        // accepted steps
  int max_evaluations = 100;      // calls of the objective, line search included
  int history = 6;                // curvature pairs kept
  double relative_tolerance = 1e-7;   // stop when an accepted step improves f by less than this x |f|
  double gradient_tolerance = 1e-6;   // stop when the projected gradient's max norm is below this
};

struct LbfgsResult {
  Eigen::VectorXd x;
  double value = 0.0;   // f(x); +inf when not even the start was finite
  int evaluations = 0;
  int iterations = 0;
};

// Objective: returns f(x) and writes its gradient; +inf or NaN marks x as infeasible (the line
// search then shortens the step).
using Objective = std::function<double(const Eigen::VectorXd& x, Eigen::VectorXd* gradient)>;

// Minimizes f over the box [lower, upper] (element-wise) from x0 (projected into the box first).
LbfgsResult MinimizeLbfgsBox(const Objective& f, Eigen::VectorXd x0, const Eigen::VectorXd& lower,
                             const Eigen::VectorXd& upper, const LbfgsOptions& options);

}  // namespace loam::tuning
