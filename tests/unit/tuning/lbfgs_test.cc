#include "tuning/lbfgs.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>

namespace loam::tuning {
namespace {

double Rosenbrock(const Eigen::VectorXd& x, Eigen::VectorXd* g) {
  g->setZero(x.size());
  double f = 0.0;
  for (Eigen::Index i = 0; i + 1 < x.size(); ++i) {
    const double a = x(i + 1) - x(i) * x(i), b = 1.0 - x(i);
    f += 100.0 * a * a + b * b;
    (*g)(i) += -400.0 * a * x(i) - 2.0 * b;
    (*g)(i + 1) += 200.0 * a;
  }
  return f;
}

TEST(LbfgsTest, FindsTheRosenbrockMinimumInsideTheBox) {
  const Eigen::VectorXd lo = Eigen::VectorXd::Constant(4, -5.0), hi = Eigen::VectorXd::Constant(4, 5.0);
  Eigen::VectorXd x0(4);
  x0 << -1.2, 1.0, -1.2, 1.0;
  const LbfgsResult r = MinimizeLbfgsBox(Rosenbrock, x0, lo, hi, {.max_iterations = 500, .max_evaluations = 2000});
  EXPECT_LT(r.value, 1e-8);
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(r.x(i), 1.0, 1e-3);
}

TEST(LbfgsTest, StopsOnAnActiveBoundWithTheConstrainedOptimum) {
  // min (x - 3)^2 + (y + 1)^2 over [0, 2] x [0, 2]: the corner (2, 0).
  const Objective f = [](const Eigen::VectorXd& x, Eigen::VectorXd* g) {
    *g = Eigen::Vector2d(2 * (x(0) - 3), 2 * (x(1) + 1));
    return (x(0) - 3) * (x(0) - 3) + (x(1) + 1) * (x(1) + 1);
  };
  const LbfgsResult r = MinimizeLbfgsBox(f, Eigen::Vector2d(1.0, 1.5), Eigen::Vector2d(0, 0), Eigen::Vector2d(2, 2), {});
  EXPECT_DOUBLE_EQ(r.x(0), 2.0);
  EXPECT_DOUBLE_EQ(r.x(1), 0.0);
  EXPECT_NEAR(r.value, 2.0, 1e-12);
  EXPECT_LT(r.evaluations, 20);
}

TEST(LbfgsTest, ShortensStepsAwayFromInfeasiblePoints) {
  // f = x^2 for x > -0.5 and infeasible below: starting at 3 the first full step overshoots into
  // the infeasible region, and the line search must come back.
  const Objective f = [](const Eigen::VectorXd& x, Eigen::VectorXd* g) {
    *g = Eigen::VectorXd::Constant(1, 2 * x(0));
    return x(0) < -0.5 ? std::numeric_limits<double>::quiet_NaN() : x(0) * x(0);
  };
  const LbfgsResult r = MinimizeLbfgsBox(f, Eigen::VectorXd::Constant(1, 3.0), Eigen::VectorXd::Constant(1, -10),
                                         Eigen::VectorXd::Constant(1, 10), {});
  EXPECT_NEAR(r.x(0), 0.0, 1e-6);
}

TEST(LbfgsTest, AnInfeasibleStartReturnsInfinityWithoutIterating) {
  const Objective f = [](const Eigen::VectorXd&, Eigen::VectorXd*) { return std::numeric_limits<double>::infinity(); };
  const LbfgsResult r = MinimizeLbfgsBox(f, Eigen::VectorXd::Zero(2), Eigen::VectorXd::Constant(2, -1),
                                         Eigen::VectorXd::Constant(2, 1), {});
  EXPECT_TRUE(std::isinf(r.value));
  EXPECT_EQ(r.evaluations, 1);
  EXPECT_EQ(r.iterations, 0);
}

TEST(LbfgsTest, RespectsTheEvaluationBudget) {
  Eigen::VectorXd x0(4);
  x0 << -1.2, 1.0, -1.2, 1.0;
  const LbfgsResult r = MinimizeLbfgsBox(Rosenbrock, x0, Eigen::VectorXd::Constant(4, -5.0), Eigen::VectorXd::Constant(4, 5.0),
                                         {.max_iterations = 1000, .max_evaluations = 7});
  EXPECT_LE(r.evaluations, 7);
  Eigen::VectorXd g;
  EXPECT_LT(r.value, Rosenbrock(x0, &g));
}

}  // namespace
}  // namespace loam::tuning
