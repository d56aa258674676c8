// Usage: loam_bench_tuning [seeds=20] [batch=5]
// For each problem and strategy: runs 50 evaluations in synchronous batches (later points of a
// batch see the earlier ones as pending), over `seeds` seeds, and prints the median over seeds of
// the best true objective found after 15, 30 and 50 evaluations (lower is better).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tuning/benchmark_functions.h"

namespace {

using loam::tuning::TestProblem;

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct Case {
  std::string label;
  TestProblem problem;
  double noise_sd;
  std::vector<std::string> strategies;
};

}  // namespace

int main(int argc, char** argv) {
  const int seeds = argc > 1 ? std::atoi(argv[1]) : 20;
  const int batch = argc > 2 ? std::atoi(argv[2]) : 5;
  const int checkpoints[] = {15, 30, 50};
  std::vector<Case> cases = {
      {"Branin (2-d)", loam::tuning::Branin(), 0.0, {"Random", "Bayesian"}},
      {"Branin 8x8 integer lattice", loam::tuning::BraninLattice(8), 0.0, {"Grid", "Random", "Bayesian"}},
      {"Hartmann-6", loam::tuning::Hartmann6(), 0.0, {"Random", "Bayesian"}},
      {"Hartmann-6, noise sd 0.1", loam::tuning::Hartmann6(), 0.1, {"Random", "Bayesian"}},
  };
  std::printf("%d seeds, batches of %d, median over seeds of the best true value found (lower is better)\n\n",
              seeds, batch);
  std::printf("| problem (optimum) | strategy | after 15 | after 30 | after 50 | ms per run |\n");
  std::printf("|---|---|---|---|---|---|\n");
  for (const Case& c : cases) {
    for (const std::string& strategy : c.strategies) {
      std::vector<std::vector<double>> at(3);
      const auto start = std::chrono::steady_clock::now();
      for (int seed = 0; seed < seeds; ++seed) {
        auto r = loam::tuning::RunOptimization(strategy, c.problem, 50, batch, c.noise_sd,
                                               {.seed = static_cast<uint64_t>(seed + 1)});
        if (!r.ok()) {
          std::fprintf(stderr, "%s/%s: %s\n", c.label.c_str(), strategy.c_str(), r.status().ToString().c_str());
          return 1;
        }
        for (int k = 0; k < 3; ++k) {
          const auto& trace = r->best_true;
          at[k].push_back(trace[std::min<size_t>(trace.size(), checkpoints[k]) - 1]);
        }
      }
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      std::printf("| %s (%.4f) | %s | %.4f | %.4f | %.4f | %.0f |\n", c.label.c_str(), c.problem.optimum,
                  strategy.c_str(), Median(at[0]), Median(at[1]), Median(at[2]), ms / seeds);
    }
  }
  return 0;
}
