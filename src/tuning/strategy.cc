#include "tuning/strategy.h"

#include <functional>
#include <map>
#include <random>
#include <set>

#include "tuning/bayesian.h"

namespace loam::tuning {
namespace {

class RandomStrategy : public Strategy {
 public:
  RandomStrategy(const SearchSpace& space, uint64_t seed) : space_(space), rng_(seed) {}

  StatusOr<std::vector<Configuration>> Suggest(int n, const std::vector<Trial>&) override {
    if (n <= 0) return InvalidArgument("Suggest needs n > 0");
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<Configuration> out;
    for (int k = 0; k < n; ++k) {
      std::vector<double> u(space_.dims());
      for (double& x : u) x = unit(rng_);
      ASSIGN_OR_RETURN(Configuration c, space_.FromUnit(u));
      out.push_back(std::move(c));
    }
    return out;
  }

 private:
  SearchSpace space_;
  std::mt19937_64 rng_;
};

// Enumerates the grid as a mixed-radix counter, first parameter most significant, each parameter's
// values in declaration order (integers ascending), so the order is fixed and documented.
class GridStrategy : public Strategy {
 public:
  static StatusOr<std::unique_ptr<Strategy>> Create(const SearchSpace& space) {
    if (space.HasContinuous()) {
      return InvalidArgument("Grid search supports only categorical and integer parameter ranges");
    }
    std::vector<uint64_t> radix;
    uint64_t total = 1;
    for (const ParameterRange& r : space.parameters()) {
      const uint64_t k = r.kind == ParameterKind::kCategorical
                             ? r.values.size()
                             : static_cast<uint64_t>(r.max_value - r.min_value) + 1;
      if (total > kMaxGrid / k) return InvalidArgument("grid has more than 2^40 combinations");
      total *= k;
      radix.push_back(k);
    }
    return std::unique_ptr<Strategy>(new GridStrategy(space, std::move(radix), total));
  }

  StatusOr<std::vector<Configuration>> Suggest(int n, const std::vector<Trial>& history) override {
    if (n <= 0) return InvalidArgument("Suggest needs n > 0");
    std::set<std::string> seen;
    for (const Trial& t : history) seen.insert(ConfigurationKey(t.config));
    std::vector<Configuration> out;
    while (static_cast<int>(out.size()) < n && next_ < total_) {
      Configuration c = Decode(next_++);
      // Configurations the job already ran (e.g. after a restart) are never proposed again.
      if (seen.insert(ConfigurationKey(c)).second) out.push_back(std::move(c));
    }
    if (out.empty()) {
      return ResourceExhausted("grid exhausted: all " + std::to_string(total_) +
                               " combinations have been proposed");
    }
    return out;
  }

 private:
  static constexpr uint64_t kMaxGrid = uint64_t{1} << 40;

  GridStrategy(const SearchSpace& space, std::vector<uint64_t> radix, uint64_t total)
      : space_(space), radix_(std::move(radix)), total_(total) {}

  Configuration Decode(uint64_t index) const {
    Configuration c;
    for (int i = space_.dims() - 1; i >= 0; --i) {
      const ParameterRange& r = space_.parameters()[i];
      const uint64_t digit = index % radix_[i];
      index /= radix_[i];
      if (r.kind == ParameterKind::kCategorical) {
        c[r.name] = r.values[digit];
      } else {
        c[r.name] = static_cast<int64_t>(r.min_value) + static_cast<int64_t>(digit);
      }
    }
    return c;
  }

  SearchSpace space_;
  std::vector<uint64_t> radix_;
  uint64_t total_;
  uint64_t next_ = 0;
};

using Factory =
    std::function<StatusOr<std::unique_ptr<Strategy>>(const SearchSpace&, const StrategyOptions&)>;

const std::map<std::string, Factory>& Registry() {
  static const auto* registry = new std::map<std::string, Factory>{
      {"Random",
       [](const SearchSpace& s, const StrategyOptions& o) -> StatusOr<std::unique_ptr<Strategy>> {
         return std::unique_ptr<Strategy>(new RandomStrategy(s, o.seed));
       }},
      {"Grid", [](const SearchSpace& s, const StrategyOptions&) { return GridStrategy::Create(s); }},
      {"Bayesian",
       [](const SearchSpace& s, const StrategyOptions& o) -> StatusOr<std::unique_ptr<Strategy>> {
         return std::unique_ptr<Strategy>(new BayesianStrategy(s, o));
       }},
  };
  return *registry;
}

}  // namespace

StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name, const SearchSpace& space,
                                                 const StrategyOptions& options) {
  const auto it = Registry().find(name);
  if (it == Registry().end()) {
    // Hyperband is not a Strategy here: it is a schedule (tuning/hyperband.h) over Random.
    return InvalidArgument("unknown tuning strategy '" + name + "' (known: Bayesian, Random, Grid)");
  }
  return it->second(space, options);
}

std::vector<std::string> StrategyNames() {
  std::vector<std::string> names;
  for (const auto& [name, factory] : Registry()) names.push_back(name);
  return names;
}

}  // namespace loam::tuning
