#include "tuning/gaussian_process.h"

#include <cmath>

#include <gtest/gtest.h>

namespace loam::tuning {
namespace {

TEST(GaussianProcessTest, InterpolatesAndVarianceShrinksNearData) {
  Eigen::MatrixXd X(6, 1);
  X << 0.05, 0.2, 0.4, 0.6, 0.8, 0.95;
  Eigen::VectorXd y = (X.col(0).array() * 6.0).sin().matrix() * 3.0 + Eigen::VectorXd::Constant(6, 10.0);
  GaussianProcess gp;
  std::mt19937_64 rng(1);
  ASSERT_TRUE(gp.Fit(X, y, {}, rng).ok());
  Eigen::VectorXd mean, var;
  gp.Predict(X, &mean, &var);
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(mean(i), y(i), 0.05 * 3.0);

  Eigen::MatrixXd probe(3, 1);
  probe << 0.4, 0.41, 0.5;  // on a point, next to it, between points
  gp.Predict(probe, &mean, &var);
  EXPECT_LT(var(0), var(1));
  EXPECT_LT(var(1), var(2));
  Eigen::MatrixXd far(1, 1);
  far << 3.0;
  Eigen::VectorXd mf, vf;
  gp.Predict(far, &mf, &vf);
  EXPECT_GT(vf(0), 10 * var(2));
}

TEST(GaussianProcessTest, GradientMatchesFiniteDifferences) {
  Eigen::MatrixXd X = Eigen::MatrixXd::Random(8, 2).array() * 0.5 + 0.5;
  Eigen::VectorXd y = X.col(0).array().square().matrix() - X.col(1);
  GaussianProcess gp;
  std::mt19937_64 rng(3);
  ASSERT_TRUE(gp.Fit(X, y, {.num_restarts = 1, .max_evaluations = 5}, rng).ok());
  Eigen::VectorXd theta(4);
  theta << -1.0, -0.5, 0.2, -4.0;
  Eigen::VectorXd grad;
  const double f0 = gp.LogPosterior(theta, &grad);
  ASSERT_TRUE(std::isfinite(f0));
  for (int i = 0; i < 4; ++i) {
    Eigen::VectorXd tp = theta, tm = theta;
    tp(i) += 1e-5;
    tm(i) -= 1e-5;
    const double fd = (gp.LogPosterior(tp, nullptr) - gp.LogPosterior(tm, nullptr)) / 2e-5;
    EXPECT_NEAR(grad(i), fd, 1e-4 * std::max(1.0, std::abs(fd))) << i;
  }
}

TEST(GaussianProcessTest, DuplicatePointsAreHandledByJitter) {
  Eigen::MatrixXd X(4, 2);
  X << 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.1, 0.9;
  Eigen::VectorXd y(4);
  y << 1.0, 1.0, 1.0, 2.0;
  GaussianProcess gp;
  std::mt19937_64 rng(1);
  ASSERT_TRUE(gp.Fit(X, y, {}, rng).ok());
  Eigen::VectorXd mean, var;
  gp.Predict(X, &mean, &var);
  EXPECT_TRUE(mean.allFinite());
  EXPECT_TRUE(var.allFinite());
}

TEST(GaussianProcessTest, MaternKernelValues) {
  Eigen::VectorXd a(2), b(2), l(2);
  a << 0, 0;
  b << 0.3, 0.4;
  l << 1, 1;
  EXPECT_DOUBLE_EQ(Matern52(a, a, l, 2.0), 2.0);
  const double r = 0.5;
  EXPECT_NEAR(Matern52(a, b, l, 1.0), (1 + std::sqrt(5.0) * r + 5.0 / 3 * r * r) * std::exp(-std::sqrt(5.0) * r), 1e-14);
}

}  // namespace
}  // namespace loam::tuning
