#include "tuning/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>
#include <vector>

namespace loam::tuning {
namespace {

Eigen::VectorXd Project(const Eigen::VectorXd& x, const Eigen::VectorXd& lo, const Eigen::VectorXd& hi) {
  return x.cwiseMax(lo).cwiseMin(hi);
}

// The gradient with the components that push against an active bound removed: zero exactly at a
// box-constrained stationary point.
Eigen::VectorXd ProjectedGradient(const Eigen::VectorXd& x, const Eigen::VectorXd& g, const Eigen::VectorXd& lo,
                                  const Eigen::VectorXd& hi) {
  Eigen::VectorXd pg = g;
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    if ((x(i) <= lo(i) && g(i) > 0) || (x(i) >= hi(i) && g(i) < 0)) pg(i) = 0.0;
  }
  return pg;
}

}  // namespace

LbfgsResult MinimizeLbfgsBox(const Objective& f, Eigen::VectorXd x0, const Eigen::VectorXd& lower,
                             const Eigen::VectorXd& upper, const LbfgsOptions& options) {
  LbfgsResult r;
  r.x = Project(x0, lower, upper);
  Eigen::VectorXd g;
  r.value = f(r.x, &g);
  r.evaluations = 1;
  if (!std::isfinite(r.value)) {
    r.value = std::numeric_limits<double>::infinity();
    return r;
  }
  std::deque<Eigen::VectorXd> s_hist, y_hist;
  std::deque<double> rho_hist;
  while (r.iterations < options.max_iterations && r.evaluations < options.max_evaluations) {
    const Eigen::VectorXd pg = ProjectedGradient(r.x, g, lower, upper);
    if (pg.lpNorm<Eigen::Infinity>() < options.gradient_tolerance) break;

    // Two-loop recursion on the projected gradient: d = -H pg.
    Eigen::VectorXd q = pg;
    std::vector<double> alpha(s_hist.size());
    for (size_t k = s_hist.size(); k-- > 0;) {
      alpha[k] = rho_hist[k] * s_hist[k].dot(q);
      q -= alpha[k] * y_hist[k];
    }
    double gamma = 1.0;
    if (!s_hist.empty()) gamma = s_hist.back().dot(y_hist.back()) / y_hist.back().squaredNorm();
    else gamma = 1.0 / std::max(1.0, pg.lpNorm<Eigen::Infinity>());  // first step at most 1 per coordinate
    Eigen::VectorXd d = gamma * q;
    for (size_t k = 0; k < s_hist.size(); ++k) {
      const double beta = rho_hist[k] * y_hist[k].dot(d);
      d += (alpha[k] - beta) * s_hist[k];
    }
    d = -d;
    for (Eigen::Index i = 0; i < d.size(); ++i) {
      if ((r.x(i) <= lower(i) && d(i) < 0) || (r.x(i) >= upper(i) && d(i) > 0)) d(i) = 0.0;
    }
    if (d.dot(pg) >= 0.0) {  // not a descent direction: forget the curvature and go downhill
      s_hist.clear();
      y_hist.clear();
      rho_hist.clear();
      d = -pg / std::max(1.0, pg.lpNorm<Eigen::Infinity>());
    }

    // Armijo backtracking along the projected path.
    double step = 1.0;
    Eigen::VectorXd x_new, g_new;
    double f_new = std::numeric_limits<double>::infinity();
    bool accepted = false;
    while (r.evaluations < options.max_evaluations) {
      x_new = Project(r.x + step * d, lower, upper);
      f_new = f(x_new, &g_new);
      ++r.evaluations;
      if (std::isfinite(f_new) && f_new <= r.value + 1e-4 * g.dot(x_new - r.x)) {
        accepted = true;
        break;
      }
      step *= 0.5;
      if (step < 1e-10) break;
    }
    if (!accepted) break;
    ++r.iterations;
    const Eigen::VectorXd s = x_new - r.x, y = g_new - g;
    const double improvement = r.value - f_new;
    r.x = x_new;
    g = g_new;
    r.value = f_new;
    const double sy = s.dot(y);
    if (sy > 1e-10 * y.squaredNorm()) {  // keeps H positive definite
      s_hist.push_back(s);
      y_hist.push_back(y);
      rho_hist.push_back(1.0 / sy);
      if (static_cast<int>(s_hist.size()) > options.history) {
        s_hist.pop_front();
        y_hist.pop_front();
        rho_hist.pop_front();
      }
    }
    if (improvement < options.relative_tolerance * std::max(1.0, std::abs(r.value))) break;
  }
  return r;
}

}  // namespace loam::tuning
