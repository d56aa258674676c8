// loam_bench_hpo: the optimizer benchmark (docs/benchmarks.md, section "Tuning: optimizer quality
// and suggestion latency"). Runs loam_tuning's strategies on standard test functions whose
// optimum is moved per seed, in synchronous batches of q = 1 and q = 5 at the same budget, and
// reports median simple regret per function, a Bayesmark-style score (median regret / Random's
// median regret, averaged over functions) and the Bayesian strategy's suggestion latency.
//
// Usage: loam_bench_hpo [--quick] [--seeds N] [--threads N] [--markdown-out FILE]
//                       [--only NAME[,NAME...]]
//
// Shifted optimum. Every function f below is defined on all of R^d and its known minimum f* is
// global over R^d, attained at a known point x*. For seed k the benchmark draws a target t with
// t_j uniform in [lo_j + 0.1 w_j, hi_j - 0.1 w_j] (w_j = hi_j - lo_j; the inner 80% of every
// coordinate, drawn independently) and optimizes g(x) = f(x - s), s = t - x*, over the original
// box. The minimum of g over the box is exactly f*, attained at t, so simple regret
// g(best) - f* is exact. The mixed function moves its optimum the same way (integers drawn
// among the inner 80% of the integer values; the categorical's per-value offsets permuted).
//
// Protocol per (function, strategy, q, seed): a fresh strategy with StrategyOptions::seed =
// seed; while fewer than `budget` evaluations: Suggest(min(q, left), history) with every earlier
// trial completed (the strategy treats the earlier points of the batch as pending), evaluate,
// append. Budget: 50 evaluations for d <= 3, 100 above. Regret is noise-free.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <numbers>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tuning/search_space.h"
#include "tuning/strategy.h"

namespace {

using loam::tuning::Configuration;
using loam::tuning::ParameterRange;
using loam::tuning::ParameterValue;
using loam::tuning::ScalingType;
using loam::tuning::SearchSpace;
using loam::tuning::Strategy;
using loam::tuning::StrategyOptions;
using loam::tuning::Trial;
using loam::tuning::TrialStatus;

constexpr double kPi = std::numbers::pi;

// ----- Test functions on R^d (unshifted) ---------------------------------------------------------

double Branin(const std::vector<double>& x) {
  const double b = 5.1 / (4 * kPi * kPi), c = 5 / kPi, t = 1 / (8 * kPi);
  const double a = x[1] - b * x[0] * x[0] + c * x[0] - 6;
  return a * a + 10 * (1 - t) * std::cos(x[0]) + 10;
}

template <int N>
double Hartmann(const std::vector<double>& x, const double (&A)[4][N], const double (&P)[4][N]) {
  static constexpr double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  double sum = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < N; ++j) inner += A[i][j] * (x[j] - P[i][j]) * (x[j] - P[i][j]);
    sum += alpha[i] * std::exp(-inner);
  }
  return -sum;
}

constexpr double kH3A[4][3] = {{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}};
constexpr double kH3P[4][3] = {{0.3689, 0.1170, 0.2673}, {0.4699, 0.4387, 0.7470},
                               {0.1091, 0.8732, 0.5547}, {0.0381, 0.5743, 0.8828}};
constexpr double kH6A[4][6] = {{10, 3, 17, 3.5, 1.7, 8}, {0.05, 10, 17, 0.1, 8, 14},
                               {3, 3.5, 1.7, 10, 17, 8}, {17, 8, 0.05, 10, 0.1, 14}};
constexpr double kH6P[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                               {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                               {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                               {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};

double Rosenbrock(const std::vector<double>& x) {
  double s = 0;
  for (size_t i = 0; i + 1 < x.size(); ++i) {
    s += 100 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]) + (1 - x[i]) * (1 - x[i]);
  }
  return s;
}

double Ackley(const std::vector<double>& x) {
  const double d = static_cast<double>(x.size());
  double sq = 0, cs = 0;
  for (double v : x) {
    sq += v * v;
    cs += std::cos(2 * kPi * v);
  }
  return -20 * std::exp(-0.2 * std::sqrt(sq / d)) - std::exp(cs / d) + 20 + std::numbers::e;
}

double Levy(const std::vector<double>& x) {
  const size_t d = x.size();
  auto w = [&](size_t i) { return 1 + (x[i] - 1) / 4; };
  double s = std::pow(std::sin(kPi * w(0)), 2);
  for (size_t i = 0; i + 1 < d; ++i) {
    s += (w(i) - 1) * (w(i) - 1) * (1 + 10 * std::pow(std::sin(kPi * w(i) + 1), 2));
  }
  s += (w(d - 1) - 1) * (w(d - 1) - 1) * (1 + std::pow(std::sin(2 * kPi * w(d - 1)), 2));
  return s;
}

double StyblinskiTang(const std::vector<double>& x) {
  double s = 0;
  for (double v : x) s += v * v * v * v - 16 * v * v + 5 * v;
  return s / 2;
}

// ----- Problems ----------------------------------------------------------------------------------

// A continuous problem: f on R^d with a global minimum f* at x*, searched over a box.
struct Continuous {
  std::string name;
  std::vector<double> lo, hi;
  std::function<double(const std::vector<double>&)> f;
  std::vector<double> xstar;
  double fstar;
};

// One problem instance (a function with this seed's shift) as the strategies see it.
struct Instance {
  std::vector<ParameterRange> ranges;
  std::function<double(const Configuration&)> f;  // minimized
  double fstar = 0;
};

struct Problem {
  std::string name;
  int dims = 0;
  std::string domain;  // for the report
  double fstar = 0;
  std::function<Instance(uint64_t seed)> make;
};

double Num(const Configuration& c, const std::string& name) {
  const ParameterValue& v = c.at(name);
  if (const auto* i = std::get_if<int64_t>(&v)) return static_cast<double>(*i);
  return std::get<double>(v);
}

std::mt19937_64 ShiftRng(const std::string& name, uint64_t seed) {
  return std::mt19937_64(std::hash<std::string>{}(name) ^ (seed * 0x9E3779B97F4A7C15ULL));
}

Problem Shifted(Continuous p, std::string domain) {
  const int d = static_cast<int>(p.lo.size());
  Problem out{.name = p.name, .dims = d, .domain = std::move(domain), .fstar = p.fstar};
  out.make = [p, d](uint64_t seed) {
    std::mt19937_64 rng = ShiftRng(p.name, seed);
    std::vector<double> s(d);
    for (int j = 0; j < d; ++j) {
      const double w = p.hi[j] - p.lo[j];
      std::uniform_real_distribution<double> t(p.lo[j] + 0.1 * w, p.hi[j] - 0.1 * w);
      s[j] = t(rng) - p.xstar[j];
    }
    Instance inst;
    for (int j = 0; j < d; ++j) {
      inst.ranges.push_back(ParameterRange::Continuous("x" + std::to_string(j), p.lo[j], p.hi[j], ScalingType::kLinear));
    }
    inst.f = [f = p.f, s, d](const Configuration& c) {
      std::vector<double> x(d);
      for (int j = 0; j < d; ++j) x[j] = Num(c, "x" + std::to_string(j)) - s[j];
      return f(x);
    };
    inst.fstar = p.fstar;
    return inst;
  };
  return out;
}

// Mixed integer/categorical, 5 parameters: x0, x1 continuous in [-5, 5], k0, k1 integers in
// [0, 20], c categorical in {a, b, c, d}.
//   f = (x0 - t0 - o_c)^2 + (x1 - t1)^2 + 0.5 (x0 - t0 - o_c)(x1 - t1)
//       + 1 - cos(2 pi (x1 - t1) / 3)
//       + 0.05 (k0 - m0)^2 + 0.3 |k1 - m1| + p_c
// Per seed: t0, t1 uniform in [-4, 4]; m0, m1 uniform integers in [2, 18]; the offsets
// o = (0, 1.5, -1.5, 3) and penalties p = (0, 0.4, 0.8, 1.2) are permuted together over the
// four values. The minimum is 0, at the value with p_c = 0 (whose o_c = 0 keeps x0 = t0 inside
// the box): the quadratic form is positive definite and the cosine term is 0 only at x1 = t1.
Problem Mixed() {
  Problem out{.name = "Mixed int/cat", .dims = 5,
              .domain = "x0, x1 in [-5,5]; k0, k1 integers in [0,20]; c in {a,b,c,d}", .fstar = 0};
  out.make = [](uint64_t seed) {
    std::mt19937_64 rng = ShiftRng("Mixed", seed);
    std::uniform_real_distribution<double> t(-4, 4);
    std::uniform_int_distribution<int> m(2, 18);
    const double t0 = t(rng), t1 = t(rng);
    const int m0 = m(rng), m1 = m(rng);
    std::vector<int> perm = {0, 1, 2, 3};
    std::shuffle(perm.begin(), perm.end(), rng);
    static constexpr double kOffset[4] = {0, 1.5, -1.5, 3}, kPenalty[4] = {0, 0.4, 0.8, 1.2};
    Instance inst;
    inst.ranges = {ParameterRange::Continuous("x0", -5, 5, ScalingType::kLinear),
                   ParameterRange::Continuous("x1", -5, 5, ScalingType::kLinear),
                   ParameterRange::Integer("k0", 0, 20, ScalingType::kLinear),
                   ParameterRange::Integer("k1", 0, 20, ScalingType::kLinear),
                   ParameterRange::Categorical("c", {"a", "b", "c", "d"})};
    inst.f = [=](const Configuration& c) {
      const std::string& cat = std::get<std::string>(c.at("c"));
      const int v = perm[static_cast<size_t>(cat[0] - 'a')];
      const double a = Num(c, "x0") - t0 - kOffset[v], b = Num(c, "x1") - t1;
      const double k0 = Num(c, "k0") - m0, k1 = Num(c, "k1") - m1;
      return a * a + b * b + 0.5 * a * b + 1 - std::cos(2 * kPi * b / 3) + 0.05 * k0 * k0 +
             0.3 * std::abs(k1) + kPenalty[v];
    };
    inst.fstar = 0;
    return inst;
  };
  return out;
}

std::vector<Problem> Problems() {
  std::vector<Problem> v;
  v.push_back(Shifted({.name = "Branin", .lo = {-5, 0}, .hi = {10, 15}, .f = Branin,
                       .xstar = {kPi, 2.275}, .fstar = 10 / (8 * kPi)},
                      "[-5,10] x [0,15]"));
  v.push_back(Shifted({.name = "Hartmann-3", .lo = std::vector<double>(3, 0), .hi = std::vector<double>(3, 1),
                       .f = [](const std::vector<double>& x) { return Hartmann<3>(x, kH3A, kH3P); },
                       .xstar = {0.114614, 0.555649, 0.852547}, .fstar = -3.86278214782076},
                      "[0,1]^3"));
  v.push_back(Shifted({.name = "Hartmann-6", .lo = std::vector<double>(6, 0), .hi = std::vector<double>(6, 1),
                       .f = [](const std::vector<double>& x) { return Hartmann<6>(x, kH6A, kH6P); },
                       .xstar = {0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573},
                       .fstar = -3.32236801141551},
                      "[0,1]^6"));
  v.push_back(Shifted({.name = "Rosenbrock-4", .lo = std::vector<double>(4, -5), .hi = std::vector<double>(4, 10),
                       .f = Rosenbrock, .xstar = std::vector<double>(4, 1), .fstar = 0},
                      "[-5,10]^4"));
  v.push_back(Shifted({.name = "Ackley-5", .lo = std::vector<double>(5, -32.768), .hi = std::vector<double>(5, 32.768),
                       .f = Ackley, .xstar = std::vector<double>(5, 0), .fstar = 0},
                      "[-32.768,32.768]^5"));
  v.push_back(Shifted({.name = "Levy-4", .lo = std::vector<double>(4, -10), .hi = std::vector<double>(4, 10),
                       .f = Levy, .xstar = std::vector<double>(4, 1), .fstar = 0},
                      "[-10,10]^4"));
  v.push_back(Shifted({.name = "Styblinski-Tang-4", .lo = std::vector<double>(4, -5), .hi = std::vector<double>(4, 5),
                       .f = StyblinskiTang, .xstar = std::vector<double>(4, -2.903534),
                       .fstar = 4 * StyblinskiTang({-2.903534})},
                      "[-5,5]^4"));
  v.push_back(Mixed());
  return v;
}

// ----- Runs --------------------------------------------------------------------------------------

struct RunOut {
  double regret = 0;
  double seconds = 0;
  std::string error;
};

RunOut RunOne(const Problem& p, const std::string& strategy, int q, int budget, uint64_t seed) {
  RunOut out;
  const auto start = std::chrono::steady_clock::now();
  Instance inst = p.make(seed);
  auto space = SearchSpace::Create(inst.ranges);
  if (!space.ok()) return {.error = space.status().ToString()};
  auto s = loam::tuning::MakeStrategy(strategy, *space, StrategyOptions{.seed = seed});
  if (!s.ok()) return {.error = s.status().ToString()};
  std::vector<Trial> history;
  double best = 0;
  while (static_cast<int>(history.size()) < budget) {
    const int n = std::min(q, budget - static_cast<int>(history.size()));
    auto suggested = (*s)->Suggest(n, history);
    if (!suggested.ok()) return {.error = suggested.status().ToString()};
    for (Configuration& c : *suggested) {
      const double y = inst.f(c);
      if (history.empty() || y < best) best = y;
      history.push_back({.config = std::move(c), .status = TrialStatus::kCompleted, .objective = y});
    }
  }
  out.regret = std::max(0.0, best - inst.fstar);
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

double Median(std::vector<double> v) {
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::string Fmt(double x) {
  char buf[2048];
  if (!std::isfinite(x)) return "n/a";
  if (x == 0) return "0";
  if (std::abs(x) >= 1000 || std::abs(x) < 0.001) {
    std::snprintf(buf, sizeof buf, "%.2e", x);
  } else {
    std::snprintf(buf, sizeof buf, "%.3g", x);
  }
  return buf;
}

// Suggest(1) latency of the Bayesian strategy on a 6-d space (shifted Hartmann-6) with n
// completed observations: one strategy object, the history grown by evaluating its suggestions,
// `reps` timed calls at n, n + 1, ... completed observations; the median and the first call (a
// full hyperparameter fit) in milliseconds.
struct Latency {
  double median_ms = std::nan("");
  double full_fit_ms = std::nan("");
};
Latency LatencyMs(int n, int reps) {
  const Problem p = Problems()[2];
  Instance inst = p.make(1);
  auto space = SearchSpace::Create(inst.ranges);
  if (!space.ok()) return {};
  auto s = loam::tuning::MakeStrategy("Bayesian", *space, StrategyOptions{.seed = 7});
  auto r = loam::tuning::MakeStrategy("Random", *space, StrategyOptions{.seed = 7});
  if (!s.ok() || !r.ok()) return {};
  std::vector<Trial> history;
  auto add = [&](const std::vector<Configuration>& cs) {
    for (const Configuration& c : cs) history.push_back({.config = c, .status = TrialStatus::kCompleted, .objective = inst.f(c)});
  };
  // The observations before n: random points (what they are does not change the cost of a fit).
  auto pts = (*r)->Suggest(n, history);
  if (!pts.ok()) return {};
  add(*pts);
  std::vector<double> ms;
  for (int k = 0; k < reps; ++k) {
    const auto t0 = std::chrono::steady_clock::now();
    auto c = (*s)->Suggest(1, history);
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    if (!c.ok()) return {};
    add(*c);
  }
  return {.median_ms = Median(ms), .full_fit_ms = ms.front()};
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  int seeds = 20, threads = 2;
  std::string markdown_out, only;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--quick") {
      quick = true;
    } else if (a == "--seeds") {
      seeds = std::atoi(next().c_str());
    } else if (a == "--threads") {
      threads = std::max(1, std::atoi(next().c_str()));
    } else if (a == "--markdown-out") {
      markdown_out = next();
    } else if (a == "--only") {
      only = "," + next() + ",";
    } else {
      std::fprintf(stderr,
                   "usage: loam_bench_hpo [--quick] [--seeds N] [--threads N] [--markdown-out FILE] "
                   "[--only NAME,...]\n");
      return 2;
    }
  }
  bool seeds_given = false;
  for (int i = 1; i < argc; ++i) seeds_given |= std::string(argv[i]) == "--seeds";
  if (quick && !seeds_given) seeds = 2;
  const double budget_scale = quick ? 0.4 : 1.0;  // --quick: 20 / 40 evaluations

  std::vector<Problem> problems;
  for (Problem& p : Problems()) {
    if (only.empty() || only.find("," + p.name + ",") != std::string::npos) problems.push_back(std::move(p));
  }
  if (problems.empty()) {
    std::fprintf(stderr, "--only matched no function\n");
    return 2;
  }
  auto budget_of = [&](const Problem& p) {
    return static_cast<int>(std::lround((p.dims <= 3 ? 50 : 100) * budget_scale));
  };

  // Random ignores the history, so its q = 5 run is the q = 1 run (same seed, same draws): it is
  // run once and serves as the reference at both batch sizes.
  struct Task {
    size_t problem;
    std::string strategy;
    int q;
    int seed;
  };
  const std::vector<std::pair<std::string, int>> arms = {{"Random", 1}, {"Bayesian", 1}, {"Bayesian", 5}};
  std::vector<Task> tasks;
  // Expensive tasks first (Bayesian q = 1, larger budgets), so the workers finish together.
  for (const auto& [strategy, q] : {std::pair<std::string, int>{"Bayesian", 1}, {"Bayesian", 5}, {"Random", 1}}) {
    for (size_t i = 0; i < problems.size(); ++i) {
      for (int s = 1; s <= seeds; ++s) tasks.push_back({i, strategy, q, s});
    }
  }
  std::stable_sort(tasks.begin(), tasks.end(), [&](const Task& a, const Task& b) {
    auto cost = [&](const Task& t) { return (t.strategy == "Bayesian" ? (t.q == 1 ? 4 : 1) : 0) * budget_of(problems[t.problem]); };
    return cost(a) > cost(b);
  });
  std::map<std::tuple<size_t, std::string, int>, std::vector<double>> regrets, seconds;
  std::mutex mu;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  size_t done = 0;  // guarded by mu
  const auto wall0 = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w) {
    workers.emplace_back([&] {
      for (size_t k = next++; k < tasks.size() && !failed; k = next++) {
        const Task& t = tasks[k];
        RunOut r = RunOne(problems[t.problem], t.strategy, t.q, budget_of(problems[t.problem]),
                          static_cast<uint64_t>(t.seed));
        std::lock_guard<std::mutex> lock(mu);
        if (!r.error.empty()) {
          std::fprintf(stderr, "%s/%s q=%d seed %d: %s\n", problems[t.problem].name.c_str(), t.strategy.c_str(),
                       t.q, t.seed, r.error.c_str());
          failed = true;
          return;
        }
        regrets[{t.problem, t.strategy, t.q}].push_back(r.regret);
        seconds[{t.problem, t.strategy, t.q}].push_back(r.seconds);
        if (++done % std::max<size_t>(1, tasks.size() / 20) == 0 || done == tasks.size()) {
          std::fprintf(stderr, "%zu/%zu runs, %.0f s\n", done, tasks.size(),
                       std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count());
        }
      }
    });
  }
  for (std::thread& t : workers) t.join();
  if (failed) return 1;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();

  // Latency after the quality runs, with nothing else of this benchmark running.
  const std::vector<int> latency_at = {50, 100, 200};
  const int reps = quick ? 3 : 5;
  std::vector<Latency> latency;
  for (int n : latency_at) latency.push_back(LatencyMs(n, reps));

  std::ostringstream md;
  auto line = [&](const std::string& s) { md << s << "\n"; };
  double score_sum[2] = {0, 0};
  std::vector<std::string> rows;
  for (size_t i = 0; i < problems.size(); ++i) {
    const Problem& p = problems[i];
    const double rnd = Median(regrets[{i, "Random", 1}]);
    const double b1 = Median(regrets[{i, "Bayesian", 1}]);
    const double b5 = Median(regrets[{i, "Bayesian", 5}]);
    // A function Random solves exactly in every median run would divide by zero; none of these do.
    const double s1 = rnd > 0 ? b1 / rnd : std::nan("");
    const double s5 = rnd > 0 ? b5 / rnd : std::nan("");
    score_sum[0] += s1;
    score_sum[1] += s5;
    char buf[2048];
    std::snprintf(buf, sizeof buf, "| %s | %d | %d | %s | %s | %s | %s | %s | %s | %.1f / %.1f |", p.name.c_str(),
                  p.dims, budget_of(p), Fmt(p.fstar).c_str(), Fmt(rnd).c_str(), Fmt(b1).c_str(), Fmt(b5).c_str(),
                  Fmt(s1).c_str(), Fmt(s5).c_str(), Median(seconds[{i, "Bayesian", 1}]),
                  Median(seconds[{i, "Bayesian", 5}]));
    rows.push_back(buf);
  }
  const double score1 = score_sum[0] / static_cast<double>(problems.size());
  const double score5 = score_sum[1] / static_cast<double>(problems.size());
  const bool full = !quick && only.empty() && seeds == 20;
  char buf[2048];

  line("#### Goals");
  line("");
  line("| Goal | Target | Measured | Met |");
  line("| --- | --- | --- | --- |");
  std::snprintf(buf, sizeof buf, "| Score of Loam-Bayesian, q = 1 (Random = 1, lower is better) | <= 0.10 | %.3f | %s |",
                score1, score1 <= 0.10 ? "yes" : "**no**");
  line(buf);
  std::snprintf(buf, sizeof buf, "| Score of Loam-Bayesian, q = 5 | <= 0.15 | %.3f | %s |", score5,
                score5 <= 0.15 ? "yes" : "**no**");
  line(buf);
  std::snprintf(buf, sizeof buf, "| Bayesian Suggest(1) at 200 observations, d = 6 (median of %d) | < 100 ms | %.0f ms | %s |",
                reps, latency[2].median_ms, latency[2].median_ms < 100 ? "yes" : "**no**");
  line(buf);
  line("");
  if (!full) {
    std::snprintf(buf, sizeof buf,
                  "Reduced run (%s%d seeds%s): not the published protocol.", quick ? "--quick, budgets x0.4, " : "", seeds,
                  only.empty() ? "" : ", some functions only");
    line(buf);
    line("");
  }
  std::snprintf(buf, sizeof buf, "#### Median simple regret (%d seeds; optimum shifted per seed)", seeds);
  line(buf);
  line("");
  line("| Function | d | Evaluations | f* | Loam-Random | Loam-Bayesian q = 1 | Loam-Bayesian q = 5 | score q = 1 | score q = 5 | Bayesian s per run, q = 1 / q = 5 (median) |");
  line("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
  for (const std::string& r : rows) line(r);
  std::snprintf(buf, sizeof buf, "| **Score (mean over functions)** | | | | 1 | | | **%.3f** | **%.3f** | |", score1, score5);
  line(buf);
  line("");
  line("Regret: f(best evaluated point) − f*, noise-free, after the whole budget; median over seeds. "
       "Score of a function: the strategy's median regret ÷ Loam-Random's. Loam-Random is run once per seed "
       "(it ignores the history, so its q = 5 sequence is its q = 1 sequence) and is the reference at both "
       "batch sizes. Hyperband is not in the table: on a function without a resource dimension it samples "
       "uniformly at random and never stops anything, i.e. it is Loam-Random.");
  line("");
  line("#### Suggestion latency (Bayesian, Suggest(1), d = 6)");
  line("");
  line("| Completed observations | median ms | first call (full fit) ms |");
  line("| --- | --- | --- |");
  for (size_t k = 0; k < latency_at.size(); ++k) {
    std::snprintf(buf, sizeof buf, "| %d | %.0f | %.0f |", latency_at[k], latency[k].median_ms, latency[k].full_fit_ms);
    line(buf);
  }
  line("");
  std::snprintf(buf, sizeof buf,
                "Shifted Hartmann-6 with n random completed observations; one strategy object, %d calls at n, n + 1, ... "
                "(each suggestion evaluated and added); default StrategyOptions (2000 candidates, GP fits by L-BFGS: 3 starts of 60 evaluations on a full fit, 1 of 12 between full fits). "
                "The first call at n is a full fit (a fresh strategy); a full fit recurs whenever the completed trials "
                "have grown by 20%% since the last, so over a search the median is the typical cost. Quality runs: %d worker threads, %.0f s of wall time.",
                reps, threads, wall);
  line(buf);

  std::fputs(md.str().c_str(), stdout);
  if (!markdown_out.empty()) {
    std::ofstream f(markdown_out);
    f << md.str();
    if (!f) {
      std::fprintf(stderr, "cannot write %s\n", markdown_out.c_str());
      return 1;
    }
  }
  return 0;
}
