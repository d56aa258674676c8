// A CreateHyperParameterTuningJob request turned into what the tuning loop needs: one search
// space, objective and static hyperparameters per training job definition, the resource
// limits, early stopping, completion criteria and warm start. Parsing is also how a stored
// tuning job is read back after a restart, so everything derives from the request alone.
//
// Everything the service model cannot express is checked here, with SageMaker-style
// messages (InvalidArgument): ranges (bounds that are not numbers, MinValue >= MaxValue,
// Logarithmic scaling with MinValue <= 0, ...), Grid with a continuous range, a hyperparameter
// both static and tuned, an objective metric missing from MetricDefinitions, Hyperband without
// a MaxResource or with TrainingJobEarlyStoppingType Auto.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "tuning/hyperband.h"
#include "tuning/search_space.h"
#include "tuning/strategy.h"

namespace loam::jobs {

// The hyperparameter through which SageMaker tells a training job its tuning objective.
inline constexpr const char* kTuningObjectiveHyperParameter = "_tuning_objective_metric";

struct TuningDefinition {
  std::string name;                // DefinitionName; empty for TrainingJobDefinition
  nlohmann::json training;         // the HyperParameterTrainingJobDefinition as given
  tuning::SearchSpace space;
  std::string metric;              // the objective metric's name
  std::map<std::string, std::string> static_hps;
};

struct CompletionCriteria {
  std::optional<double> target;              // TargetObjectiveMetricValue
  std::optional<int> max_not_improving;      // BestObjectiveNotImproving
  bool complete_on_convergence = false;      // ConvergenceDetected.CompleteOnConvergence
};

struct TuningSpec {
  std::string name;
  std::string strategy;  // Bayesian | Random | Grid | Hyperband
  std::optional<tuning::HyperbandOptions> hyperband;  // with Hyperband
  tuning::ObjectiveType objective = tuning::ObjectiveType::kMinimize;
  std::vector<TuningDefinition> definitions;
  int max_jobs = 1;
  int max_parallel = 1;
  std::optional<int64_t> max_runtime_seconds;
  bool early_stopping = false;
  CompletionCriteria criteria;
  uint64_t seed = 0;
  std::vector<std::string> warm_start_parents;
  std::string warm_start_type;
};

StatusOr<TuningSpec> ParseTuningSpec(const nlohmann::json& request);

// Parses a tuned hyperparameter's string (as FormatValue wrote it) back into a value of the
// range's kind; nullopt when it does not parse or the name is not a parameter of the space.
std::optional<tuning::Configuration> ConfigurationFromHyperParameters(
    const tuning::SearchSpace& space, const std::map<std::string, std::string>& tuned);

// <tuning-name>-<NNN>-<8 hex>, as SageMaker names the training jobs of a tuning job
// (NNN counts from 001 and grows past 999 when needed).
std::string TrialJobName(const std::string& tuning_name, int number, const std::string& hex8);

// The CreateTrainingJob request of one trial: the definition's training fields, the static
// hyperparameters, the tuned ones and _tuning_objective_metric.
StatusOr<nlohmann::json> TrialTrainingRequest(const TuningDefinition& definition, const std::string& job_name,
                                              const std::map<std::string, std::string>& tuned);

}  // namespace loam::jobs
