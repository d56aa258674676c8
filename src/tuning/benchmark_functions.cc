#include "tuning/benchmark_functions.h"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <random>

namespace loam::tuning {
namespace {

double D(const Configuration& c, const std::string& name) {
  const ParameterValue& v = c.at(name);
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}

double BraninAt(double x1, double x2) {
  const double b = 5.1 / (4 * std::numbers::pi * std::numbers::pi), c = 5 / std::numbers::pi, t = 1 / (8 * std::numbers::pi);
  const double a = x2 - b * x1 * x1 + c * x1 - 6;
  return a * a + 10 * (1 - t) * std::cos(x1) + 10;
}

template <int N>
double Hartmann(const Configuration& cfg, const double (&A)[4][N], const double (&P)[4][N]) {
  static constexpr double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < N; ++j) {
      const double diff = D(cfg, "x" + std::to_string(j)) - P[i][j];
      inner += A[i][j] * diff * diff;
    }
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

std::vector<ParameterRange> UnitCube(int d) {
  std::vector<ParameterRange> r;
  for (int j = 0; j < d; ++j) r.push_back(ParameterRange::Continuous("x" + std::to_string(j), 0, 1, ScalingType::kLinear));
  return r;
}

}  // namespace

TestProblem Branin() {
  return {.name = "Branin",
          .ranges = {ParameterRange::Continuous("x0", -5, 10, ScalingType::kLinear),
                     ParameterRange::Continuous("x1", 0, 15, ScalingType::kLinear)},
          .f = [](const Configuration& c) { return BraninAt(D(c, "x0"), D(c, "x1")); },
          .optimum = 0.397887};
}

TestProblem BraninLattice(int k) {
  const double step = 15.0 / (k - 1);
  double optimum = BraninAt(-5, 0);
  for (int i = 0; i < k; ++i) {
    for (int j = 0; j < k; ++j) optimum = std::min(optimum, BraninAt(-5 + step * i, step * j));
  }
  return {.name = "Branin-lattice",
          .ranges = {ParameterRange::Integer("x0", 0, k - 1, ScalingType::kLinear),
                     ParameterRange::Integer("x1", 0, k - 1, ScalingType::kLinear)},
          .f = [step](const Configuration& c) {
            return BraninAt(-5 + step * D(c, "x0"), step * D(c, "x1"));
          },
          .optimum = optimum};
}

TestProblem Hartmann3() {
  static constexpr double A[4][3] = {{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}};
  static constexpr double P[4][3] = {{0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470},
                                     {0.1091, 0.8732, 0.5547}, {0.0381, 0.5743, 0.8828}};
  return {.name = "Hartmann-3", .ranges = UnitCube(3),
          .f = [](const Configuration& c) { return Hartmann<3>(c, A, P); }, .optimum = -3.86278};
}

TestProblem Hartmann6() {
  static constexpr double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14},
                                     {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
  static constexpr double P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                     {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                     {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                     {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
  return {.name = "Hartmann-6", .ranges = UnitCube(6),
          .f = [](const Configuration& c) { return Hartmann<6>(c, A, P); }, .optimum = -3.32237};
}

StatusOr<RunResult> RunOptimization(const std::string& strategy, const TestProblem& problem,
                                    int budget, int batch_size, double noise_sd,
                                    const StrategyOptions& options) {
  ASSIGN_OR_RETURN(SearchSpace space, SearchSpace::Create(problem.ranges));
  ASSIGN_OR_RETURN(std::unique_ptr<Strategy> s, MakeStrategy(strategy, space, options));
  std::mt19937_64 noise_rng(options.seed ^ 0x9E3779B97F4A7C15ULL);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<Trial> history;
  RunResult result;
  double best_observed = 0, best_true = 0;
  while (static_cast<int>(history.size()) < budget) {
    const int n = std::min(batch_size, budget - static_cast<int>(history.size()));
    auto suggested = s->Suggest(n, history);
    if (!suggested.ok()) {
      if (suggested.status().code() == StatusCode::kResourceExhausted) break;
      return suggested.status();
    }
    for (Configuration& c : *suggested) {
      const double truth = problem.f(c);
      const double observed = truth + (noise_sd > 0 ? noise_sd * noise(noise_rng) : 0.0);
      if (history.empty() || observed < best_observed) {
        best_observed = observed;
        best_true = truth;
      }
      history.push_back({.config = std::move(c), .status = TrialStatus::kCompleted, .objective = observed});
      result.best_true.push_back(best_true);
    }
  }
  return result;
}

}  // namespace loam::tuning
