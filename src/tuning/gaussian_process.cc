#include "tuning/gaussian_process.h"

#include "tuning/lbfgs.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <limits>

namespace loam::tuning {
namespace {

constexpr double kSqrt5 = 2.23606797749979;

// Priors and boxes on the standardized scale: lengthscales around half the unit cube, signal
// variance around 1 (the data are standardized), noise small but free to grow for noisy objectives.
constexpr double kLengthPriorMean = -0.69, kLengthPriorSd = 1.0;
constexpr double kSignalPriorMean = 0.0, kSignalPriorSd = 1.0;
constexpr double kNoisePriorMean = -6.9, kNoisePriorSd = 2.5;
constexpr double kLogLengthMin = -4.6, kLogLengthMax = 3.0;   // 0.01 .. 20
constexpr double kLogSignalMin = -3.0, kLogSignalMax = 3.0;
constexpr double kLogNoiseMin = -13.8, kLogNoiseMax = 0.0;    // 1e-6 .. 1

Eigen::VectorXd Pack(const GpHyperparameters& h) {
  const auto d = h.log_lengthscales.size();
  Eigen::VectorXd t(d + 2);
  t.head(d) = h.log_lengthscales;
  t(d) = h.log_signal_variance;
  t(d + 1) = h.log_noise_variance;
  return t;
}

GpHyperparameters Unpack(const Eigen::VectorXd& t) {
  const auto d = t.size() - 2;
  return {.log_lengthscales = t.head(d), .log_signal_variance = t(d), .log_noise_variance = t(d + 1)};
}

// K(A, B) without noise, and optionally the Matérn "g" factor s2*5/3*(1+sqrt5 r)exp(-sqrt5 r) that
// the lengthscale gradient needs.
Eigen::MatrixXd KernelMatrix(const Eigen::MatrixXd& A, const Eigen::MatrixXd& B,
                             const Eigen::VectorXd& inv_l, double s2, Eigen::MatrixXd* g) {
  Eigen::MatrixXd K(A.rows(), B.rows());
  if (g != nullptr) g->resize(A.rows(), B.rows());
  const Eigen::MatrixXd As = A * inv_l.asDiagonal();
  const Eigen::MatrixXd Bs = B * inv_l.asDiagonal();
  for (Eigen::Index j = 0; j < B.rows(); ++j) {
    for (Eigen::Index i = 0; i < A.rows(); ++i) {
      const double r = std::sqrt(std::max(0.0, (As.row(i) - Bs.row(j)).squaredNorm()));
      const double e = std::exp(-kSqrt5 * r);
      K(i, j) = s2 * (1.0 + kSqrt5 * r + 5.0 / 3.0 * r * r) * e;
      if (g != nullptr) (*g)(i, j) = s2 * 5.0 / 3.0 * (1.0 + kSqrt5 * r) * e;
    }
  }
  return K;
}

// Factorises K + jitter*I, escalating jitter; false when even 1e-2 fails.
bool RobustCholesky(Eigen::MatrixXd K, Eigen::LLT<Eigen::MatrixXd>* llt) {
  llt->compute(K);
  if (llt->info() == Eigen::Success) return true;
  double added = 0.0;
  for (double jitter = 1e-9; jitter <= 1.01e-2; jitter *= 10.0) {
    K.diagonal().array() += jitter - added;
    added = jitter;
    llt->compute(K);
    if (llt->info() == Eigen::Success) return true;
  }
  return false;
}

double LogNormalPrior(double x, double mean, double sd, double* grad) {
  const double z = (x - mean) / sd;
  *grad = -z / sd;
  return -0.5 * z * z;
}

}  // namespace

double Matern52(const Eigen::VectorXd& a, const Eigen::VectorXd& b, const Eigen::VectorXd& lengthscales,
                double signal_variance) {
  const double r = ((a - b).array() / lengthscales.array()).matrix().norm();
  return signal_variance * (1.0 + kSqrt5 * r + 5.0 / 3.0 * r * r) * std::exp(-kSqrt5 * r);
}

double GaussianProcess::LogPosterior(const Eigen::VectorXd& theta, Eigen::VectorXd* gradient) const {
  const Eigen::Index n = X_.rows(), d = X_.cols();
  const GpHyperparameters h = Unpack(theta);
  const Eigen::VectorXd inv_l = (-h.log_lengthscales.array()).exp().matrix();
  const double s2 = std::exp(h.log_signal_variance), noise = std::exp(h.log_noise_variance);
  Eigen::MatrixXd g;
  const Eigen::MatrixXd Kf = KernelMatrix(X_, X_, inv_l, s2, gradient != nullptr ? &g : nullptr);
  Eigen::MatrixXd K = Kf;
  K.diagonal().array() += noise;
  Eigen::LLT<Eigen::MatrixXd> llt;
  if (!RobustCholesky(K, &llt)) return -std::numeric_limits<double>::infinity();
  const Eigen::VectorXd alpha = llt.solve(z_);
  const Eigen::MatrixXd L = llt.matrixL();
  double value = -0.5 * z_.dot(alpha) - L.diagonal().array().log().sum() -
                 0.5 * static_cast<double>(n) * std::log(2.0 * std::numbers::pi);
  Eigen::VectorXd prior_grad(d + 2);
  for (Eigen::Index i = 0; i < d; ++i) {
    value += LogNormalPrior(theta(i), kLengthPriorMean, kLengthPriorSd, &prior_grad(i));
  }
  value += LogNormalPrior(theta(d), kSignalPriorMean, kSignalPriorSd, &prior_grad(d));
  value += LogNormalPrior(theta(d + 1), kNoisePriorMean, kNoisePriorSd, &prior_grad(d + 1));
  if (gradient == nullptr) return value;

  // dLML/dtheta_j = 0.5 * sum(W .* dK/dtheta_j) with W = alpha alpha^T - K^-1.
  const Eigen::MatrixXd W =
      alpha * alpha.transpose() - llt.solve(Eigen::MatrixXd::Identity(n, n));
  const Eigen::MatrixXd Wg = W.cwiseProduct(g);
  gradient->resize(d + 2);
  for (Eigen::Index k = 0; k < d; ++k) {
    const Eigen::VectorXd xs = X_.col(k) * inv_l(k);
    double sum = 0.0;
    for (Eigen::Index j = 0; j < n; ++j) {
      for (Eigen::Index i = 0; i < n; ++i) {
        const double delta = xs(i) - xs(j);
        sum += Wg(i, j) * delta * delta;
      }
    }
    (*gradient)(k) = 0.5 * sum;
  }
  (*gradient)(d) = 0.5 * W.cwiseProduct(Kf).sum();
  (*gradient)(d + 1) = 0.5 * noise * W.trace();
  *gradient += prior_grad;
  return value;
}

Status GaussianProcess::Fit(const Eigen::MatrixXd& X, const Eigen::VectorXd& y,
                            const GpFitOptions& options, std::mt19937_64& rng) {
  if (X.rows() == 0 || X.rows() != y.size()) return InvalidArgument("GP fit needs matching, non-empty X and y");
  if (!y.allFinite()) return InvalidArgument("GP targets must be finite");
  X_ = X;
  y_mean_ = y.mean();
  const double var = (y.array() - y_mean_).square().mean();
  y_std_ = var > 1e-24 ? std::sqrt(var) : 1.0;
  z_ = (y.array() - y_mean_) / y_std_;

  const Eigen::Index d = X.cols();
  if (hyper_.log_lengthscales.size() != d) {
    hyper_ = GpHyperparameters{.log_lengthscales = Eigen::VectorXd::Constant(d, kLengthPriorMean)};
  }
  const Eigen::Index p = d + 2;
  Eigen::VectorXd lower(p), upper(p);
  lower.head(d).setConstant(kLogLengthMin);
  upper.head(d).setConstant(kLogLengthMax);
  lower(d) = kLogSignalMin;
  upper(d) = kLogSignalMax;
  lower(d + 1) = kLogNoiseMin;
  upper(d + 1) = kLogNoiseMax;
  const Objective negative_log_posterior = [this](const Eigen::VectorXd& theta, Eigen::VectorXd* grad) {
    const double value = LogPosterior(theta, grad);
    *grad = -*grad;
    return -value;
  };
  const LbfgsOptions lbfgs{.max_iterations = options.max_evaluations, .max_evaluations = options.max_evaluations};
  std::normal_distribution<double> normal(0.0, 1.0);
  Eigen::VectorXd best = Pack(hyper_);
  double best_value = std::numeric_limits<double>::infinity();  // of the negative log posterior
  for (int start = 0; start < std::max(1, options.num_restarts); ++start) {
    Eigen::VectorXd theta = Pack(hyper_);
    if (start > 0) {
      for (Eigen::Index i = 0; i < d; ++i) theta(i) = kLengthPriorMean + kLengthPriorSd * normal(rng);
      theta(d) = kSignalPriorMean + kSignalPriorSd * normal(rng);
      theta(d + 1) = kNoisePriorMean + kNoisePriorSd * normal(rng);
    }
    const LbfgsResult r = MinimizeLbfgsBox(negative_log_posterior, theta, lower, upper, lbfgs);
    if (r.value < best_value) {
      best_value = r.value;
      best = r.x;
    }
  }
  hyper_ = Unpack(best);
  return Factorize();
}

Status GaussianProcess::Condition(const Eigen::MatrixXd& X, const Eigen::VectorXd& y) {
  if (X.rows() == 0 || X.rows() != y.size()) return InvalidArgument("GP needs matching, non-empty X and y");
  if (hyper_.log_lengthscales.size() != X.cols()) return FailedPrecondition("GP is not fitted");
  X_ = X;
  z_ = (y.array() - y_mean_) / y_std_;
  return Factorize();
}

Status GaussianProcess::Factorize() {
  const Eigen::VectorXd inv_l = (-hyper_.log_lengthscales.array()).exp().matrix();
  Eigen::MatrixXd K = KernelMatrix(X_, X_, inv_l, std::exp(hyper_.log_signal_variance), nullptr);
  K.diagonal().array() += std::exp(hyper_.log_noise_variance);
  if (!RobustCholesky(K, &llt_)) return Internal("GP kernel matrix is not positive definite even with jitter 1e-2");
  alpha_ = llt_.solve(z_);
  return Status::Ok();
}

void GaussianProcess::Predict(const Eigen::MatrixXd& Xs, Eigen::VectorXd* mean,
                              Eigen::VectorXd* variance) const {
  const Eigen::VectorXd inv_l = (-hyper_.log_lengthscales.array()).exp().matrix();
  const double s2 = std::exp(hyper_.log_signal_variance);
  const Eigen::MatrixXd Ks = KernelMatrix(Xs, X_, inv_l, s2, nullptr);
  *mean = ((Ks * alpha_).array() * y_std_ + y_mean_).matrix();
  if (variance != nullptr) {
    const Eigen::MatrixXd V = llt_.matrixL().solve(Ks.transpose());
    *variance = ((s2 - V.colwise().squaredNorm().transpose().array()).max(1e-12 * s2) * y_std_ * y_std_)
                    .matrix();
  }
}

}  // namespace loam::tuning
