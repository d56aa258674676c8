// Standard optimization test problems and a synchronous driver loop, shared by the unit tests and
// bench/tuning so both measure the same thing. Not used by the service.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tuning/strategy.h"

namespace loam::tuning {

struct TestProblem {
  std::string name;
  std::vector<ParameterRange> ranges;
  // Objective (minimized) of a configuration of this problem's space, noise-free.
  std::function<double(const Configuration&)> f;
  double optimum = 0;
};

TestProblem Branin();      // 2-d, [-5,10] x [0,15], minimum 0.397887
TestProblem Hartmann3();   // 3-d unit cube, minimum -3.86278
TestProblem Hartmann6();   // 6-d unit cube, minimum -3.32237
// Branin on an integer lattice (x1 = -5 + 15 i / (k-1), x2 = 15 j / (k-1)), so Grid can run;
// optimum is the lattice minimum (1.303465 for k = 8).
TestProblem BraninLattice(int k);

struct RunResult {
  std::vector<double> best_true;  // after each evaluation: true f at the incumbent
};

// Runs budget evaluations in synchronous batches of batch_size (each batch suggested with the
// previous ones completed). noise_sd > 0 adds Gaussian noise to the observed objective; the
// incumbent is the configuration with the best observed value, reported by its true value.
// Stops early (shorter trace) when the strategy is exhausted.
StatusOr<RunResult> RunOptimization(const std::string& strategy, const TestProblem& problem,
                                    int budget, int batch_size, double noise_sd,
                                    const StrategyOptions& options);

}  // namespace loam::tuning
