#include "tuning/bayesian.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <limits>
#include <numeric>

namespace loam::tuning {
namespace {

constexpr double kHalfLog2Pi = 0.91893853320467274;  // log(2 pi) / 2

double Sign(ObjectiveType t) { return t == ObjectiveType::kMaximize ? -1.0 : 1.0; }

}  // namespace

double LogH(double z) {
  if (z > -1.0) {
    const double phi = std::exp(-0.5 * z * z - kHalfLog2Pi);
    const double cdf = 0.5 * std::erfc(-z / std::sqrt(2.0));
    return std::log(phi + z * cdf);
  }
  if (z > -25.0) {
    // h = phi(z) * (1 - w), w = |z| sqrt(pi/2) erfcx(|z|/sqrt2); exp(z^2/2) * erfc stays within
    // double range down to z = -25, and 1 - w >= ~1/z^2 loses at most a few digits.
    const double a = -z;
    const double w = a * std::sqrt(std::numbers::pi / 2.0) * std::exp(0.5 * z * z) * std::erfc(a / std::sqrt(2.0));
    return -0.5 * z * z - kHalfLog2Pi + std::log1p(-w);
  }
  // 1 - w = z^-2 (1 - 3 z^-2 + 15 z^-4 - 105 z^-6 + 945 z^-8 - 10395 z^-10 ...), the asymptotic
  // expansion of erfc, whose truncation error here is below 1e-11.
  const double inv = 1.0 / (z * z);
  const double series = 1.0 + inv * (-3.0 + inv * (15.0 + inv * (-105.0 + inv * (945.0 - inv * 10395.0))));
  return -0.5 * z * z - kHalfLog2Pi + std::log(inv) + std::log(series);
}

double LogExpectedImprovement(double mean, double variance, double best) {
  const double sigma = std::sqrt(std::max(variance, 1e-300));
  return std::log(sigma) + LogH((best - mean) / sigma);
}

BayesianStrategy::BayesianStrategy(const SearchSpace& space, const StrategyOptions& options)
    : space_(space), options_(options), rng_(options.seed) {
  num_initial_ = options.num_initial > 0 ? options.num_initial : std::max(3, space.dims() + 1);
}

std::vector<double> BayesianStrategy::RandomUnit() {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  std::vector<double> u(space_.dims());
  for (double& x : u) x = unit(rng_);
  return u;
}

Eigen::VectorXd BayesianStrategy::Features(const std::vector<double>& u) const {
  std::vector<double> f;
  for (int i = 0; i < space_.dims(); ++i) {
    const ParameterRange& r = space_.parameters()[i];
    const double ui = std::clamp(u[i], 0.0, 1.0);
    if (r.kind == ParameterKind::kCategorical) {
      const int k = static_cast<int>(r.values.size());
      const int idx = std::min(k - 1, static_cast<int>(ui * k));
      for (int j = 0; j < k; ++j) f.push_back(j == idx ? 1.0 : 0.0);
    } else if (r.kind == ParameterKind::kInteger) {
      const double v = std::clamp(std::round(space_.NumericFromUnit(i, ui)), r.min_value, r.max_value);
      f.push_back(space_.NumericToUnit(i, v));
    } else {
      f.push_back(ui);
    }
  }
  return Eigen::Map<Eigen::VectorXd>(f.data(), static_cast<Eigen::Index>(f.size()));
}

std::vector<double> BayesianStrategy::MaximizeAcquisition(
    double best, const std::vector<std::vector<double>>& elite) {
  const int d = space_.dims();
  const int m = std::max(1, options_.num_candidates);
  std::vector<std::vector<double>> cand;
  cand.reserve(m);
  std::normal_distribution<double> normal(0.0, 1.0);
  // A fifth of the candidates probe near the best trials, where improvement usually lives.
  const int local = elite.empty() ? 0 : m / 5;
  for (int k = 0; k < local; ++k) {
    std::vector<double> u = elite[k % elite.size()];
    for (double& x : u) x = std::clamp(x + 0.05 * normal(rng_), 0.0, 1.0);
    cand.push_back(std::move(u));
  }
  while (static_cast<int>(cand.size()) < m) cand.push_back(RandomUnit());

  const Eigen::Index D = Features(cand[0]).size();
  Eigen::MatrixXd F(static_cast<Eigen::Index>(cand.size()), D);
  for (size_t k = 0; k < cand.size(); ++k) F.row(static_cast<Eigen::Index>(k)) = Features(cand[k]);
  Eigen::VectorXd mean, var;
  gp_.Predict(F, &mean, &var);
  std::vector<double> score(cand.size());
  for (size_t k = 0; k < cand.size(); ++k) {
    const auto i = static_cast<Eigen::Index>(k);
    score[k] = LogExpectedImprovement(mean(i), var(i), best);
    if (!std::isfinite(score[k])) score[k] = -std::numeric_limits<double>::infinity();
  }
  std::vector<size_t> order(cand.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t top = std::min<size_t>(order.size(), std::max(1, options_.num_local_refinements));
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(top), order.end(),
                    [&](size_t a, size_t b) { return score[a] > score[b]; });

  auto score_of = [&](const std::vector<double>& u) {
    Eigen::MatrixXd row = Features(u).transpose();
    Eigen::VectorXd mu, v;
    gp_.Predict(row, &mu, &v);
    const double s = LogExpectedImprovement(mu(0), v(0), best);
    return std::isfinite(s) ? s : -std::numeric_limits<double>::infinity();
  };
  std::vector<double> best_u = cand[order[0]];
  double best_score = score[order[0]];
  // Derivative-free refinement: the acquisition is piecewise constant in integer and categorical
  // coordinates, so gradients would not help there anyway.
  for (size_t t = 0; t < top; ++t) {
    std::vector<double> u = cand[order[t]];
    double s = score[order[t]];
    double step = 0.05;
    int failures = 0;
    for (int it = 0; it < 30 && step > 1e-4; ++it) {
      std::vector<double> trial = u;
      for (int i = 0; i < d; ++i) trial[i] = std::clamp(trial[i] + step * normal(rng_), 0.0, 1.0);
      const double ts = score_of(trial);
      if (ts > s) {
        u = std::move(trial);
        s = ts;
        failures = 0;
      } else if (++failures >= 4) {
        step *= 0.5;
        failures = 0;
      }
    }
    if (s > best_score) {
      best_score = s;
      best_u = u;
    }
  }
  return best_u;
}

StatusOr<std::vector<Configuration>> BayesianStrategy::Suggest(int n, const std::vector<Trial>& history) {
  if (n <= 0) return InvalidArgument("Suggest needs n > 0");
  std::vector<std::vector<double>> done_u, pending_u;
  std::vector<double> done_y;
  for (const Trial& t : history) {
    if (t.status == TrialStatus::kFailed) continue;
    auto u = space_.ToUnit(t.config);
    if (!u.ok()) continue;  // a configuration from another space says nothing about this one
    if (t.status == TrialStatus::kCompleted) {
      if (!t.objective.has_value() || !std::isfinite(*t.objective)) continue;
      done_u.push_back(std::move(u).value());
      done_y.push_back(Sign(options_.objective) * *t.objective);
    } else {
      pending_u.push_back(std::move(u).value());
    }
  }

  std::vector<Configuration> out;
  if (static_cast<int>(done_u.size()) < std::max(2, num_initial_)) {
    if (design_.empty()) {
      // Latin hypercube: every coordinate gets one point in each of N equal strata.
      const int N = std::max(num_initial_, n);
      design_.assign(N, std::vector<double>(space_.dims()));
      std::uniform_real_distribution<double> unit(0.0, 1.0);
      for (int i = 0; i < space_.dims(); ++i) {
        std::vector<int> perm(N);
        std::iota(perm.begin(), perm.end(), 0);
        std::shuffle(perm.begin(), perm.end(), rng_);
        for (int k = 0; k < N; ++k) design_[k][i] = (perm[k] + unit(rng_)) / N;
      }
    }
    for (int k = 0; k < n; ++k) {
      const std::vector<double> u = design_next_ < design_.size() ? design_[design_next_++] : RandomUnit();
      ASSIGN_OR_RETURN(Configuration c, space_.FromUnit(u));
      out.push_back(std::move(c));
    }
    return out;
  }

  const auto nd = static_cast<Eigen::Index>(done_u.size());
  const Eigen::Index D = Features(done_u[0]).size();
  Eigen::MatrixXd X(nd, D);
  Eigen::VectorXd y(nd);
  for (Eigen::Index i = 0; i < nd; ++i) {
    X.row(i) = Features(done_u[static_cast<size_t>(i)]);
    y(i) = done_y[static_cast<size_t>(i)];
  }
  const bool full = last_full_fit_size_ == 0 ||
                    static_cast<double>(nd) >= (1.0 + options_.refit_growth) * static_cast<double>(last_full_fit_size_);
  const GpFitOptions fit = full ? GpFitOptions{.num_restarts = options_.num_restarts,
                                               .max_evaluations = options_.fit_evaluations}
                                : GpFitOptions{.num_restarts = 1, .max_evaluations = options_.warm_fit_evaluations};
  RETURN_IF_ERROR(gp_.Fit(X, y, fit, rng_));
  if (full) last_full_fit_size_ = nd;

  Eigen::VectorXd mean;
  gp_.Predict(X, &mean, nullptr);
  double best = mean.minCoeff();
  // The trials with the lowest posterior mean seed the local candidates.
  std::vector<Eigen::Index> idx(static_cast<size_t>(nd));
  std::iota(idx.begin(), idx.end(), 0);
  std::sort(idx.begin(), idx.end(), [&](Eigen::Index a, Eigen::Index b) { return mean(a) < mean(b); });
  std::vector<std::vector<double>> elite;
  for (size_t k = 0; k < std::min<size_t>(5, idx.size()); ++k) elite.push_back(done_u[static_cast<size_t>(idx[k])]);

  // Kriging believer: fantasies for pending trials, then for each point this batch picks.
  Eigen::MatrixXd Xa = X;
  Eigen::VectorXd ya = y;
  auto add_fantasy = [&](const std::vector<double>& u) -> Status {
    Eigen::MatrixXd row = Features(u).transpose();
    Eigen::VectorXd mu;
    gp_.Predict(row, &mu, nullptr);
    Xa.conservativeResize(Xa.rows() + 1, Eigen::NoChange);
    Xa.row(Xa.rows() - 1) = row.row(0);
    ya.conservativeResize(ya.size() + 1);
    ya(ya.size() - 1) = mu(0);
    // A believed observation is an observation: it moves the incumbent too, otherwise EI would
    // still reward the fantasy point itself by (best - mu).
    best = std::min(best, mu(0));
    return gp_.Condition(Xa, ya);
  };
  for (const auto& u : pending_u) RETURN_IF_ERROR(add_fantasy(u));
  for (int k = 0; k < n; ++k) {
    std::vector<double> u = MaximizeAcquisition(best, elite);
    ASSIGN_OR_RETURN(Configuration c, space_.FromUnit(u));
    out.push_back(std::move(c));
    if (k + 1 < n) RETURN_IF_ERROR(add_fantasy(u));
  }
  return out;
}

}  // namespace loam::tuning
