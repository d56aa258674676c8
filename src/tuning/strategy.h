// Tuning strategies: given the history of a tuning job, propose the next configurations.
// Strategies are registered by name ("Random", "Grid", "Bayesian") and built through
// MakeStrategy; all randomness comes from StrategyOptions::seed, so a run is reproducible.
//
// Contract of Suggest(n, history):
//  * history holds every trial the job has started, in any order; pending trials are running,
//    failed trials are ignored by the model, completed trials carry an objective value.
//  * returns between 1 and n configurations, each valid for the search space; fewer than n only
//    when the strategy runs out (Grid). ResourceExhausted when nothing is left to propose.
//  * a Strategy object keeps state between calls (RNG position, design cursor): call it from one
//    thread at a time and always with the same job's history.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tuning/search_space.h"

namespace loam::tuning {

enum class ObjectiveType { kMinimize, kMaximize };
enum class TrialStatus { kPending, kCompleted, kFailed };

struct Trial {
  Configuration config;
  TrialStatus status = TrialStatus::kPending;
  std::optional<double> objective;  // set when completed
};

struct StrategyOptions {
  ObjectiveType objective = ObjectiveType::kMinimize;
  uint64_t seed = 0;
  // Bayesian only: the cost/quality knobs; tests turn them down.
  int num_candidates = 2000;     // random candidates scored by the acquisition function
  int num_local_refinements = 3; // best candidates refined by local search
  int num_restarts = 3;          // starts of a full GP hyperparameter fit
  int fit_evaluations = 60;      // likelihood evaluations per start of a full fit
  // Between full fits the GP refits from its previous optimum only, with this many evaluations;
  // a full fit comes again once the completed trials have grown by refit_growth (20%) since the
  // last one. A fit costs O(n^3) per evaluation, so this keeps suggestions fast at hundreds of
  // observations while the hyperparameters still follow the data.
  int warm_fit_evaluations = 12;
  double refit_growth = 0.2;
  int num_initial = 0;           // initial space-filling design; 0 = max(3, d + 1)
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual StatusOr<std::vector<Configuration>> Suggest(int n, const std::vector<Trial>& history) = 0;
};

// name is the SageMaker spelling ("Bayesian", "Random", "Grid"). Fails with InvalidArgument for an
// unknown name or a space the strategy cannot search (Grid with a continuous range).
StatusOr<std::unique_ptr<Strategy>> MakeStrategy(const std::string& name, const SearchSpace& space,
                                                 const StrategyOptions& options);
std::vector<std::string> StrategyNames();

}  // namespace loam::tuning
