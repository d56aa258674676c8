#include "jobs/tuning_request.h"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <set>

namespace loam::jobs {

using nlohmann::json;
using tuning::ParameterRange;
using tuning::ScalingType;

namespace {

std::optional<double> ParseDouble(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

std::optional<int64_t> ParseInt(const std::string& s) {
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

// Checks shared by integer and continuous ranges, worded as SageMaker words them.
Status CheckBounds(const std::string& name, double min, double max, ScalingType scaling) {
  if (!(min < max)) {
    return InvalidArgument(fmt::format(
        "The MinValue ({}) of hyperparameter '{}' must be less than its MaxValue ({}).", min, name, max));
  }
  if (scaling == ScalingType::kLogarithmic && min <= 0) {
    return InvalidArgument(fmt::format(
        "Hyperparameter '{}' uses Logarithmic scaling, which requires a MinValue greater than 0 (got {}).",
        name, min));
  }
  if (scaling == ScalingType::kReverseLogarithmic && !(min >= 0 && max < 1)) {
    return InvalidArgument(fmt::format(
        "Hyperparameter '{}' uses ReverseLogarithmic scaling, which requires 0 <= MinValue and MaxValue < 1 "
        "(got [{}, {}]).",
        name, min, max));
  }
  return Status::Ok();
}

// MinValue and MaxValue of a numeric range, parsed as the range's kind (`what` they must be).
template <typename Parse>
auto Bounds(const json& r, const char* kind, const char* what, Parse parse)
    -> StatusOr<std::pair<typename decltype(parse(""))::value_type, typename decltype(parse(""))::value_type>> {
  const std::string lo = r.value("MinValue", ""), hi = r.value("MaxValue", "");
  auto min = parse(lo), max = parse(hi);
  if (!min || !max) {
    return InvalidArgument(
        fmt::format("The MinValue and MaxValue of {} hyperparameter '{}' must be {} (got '{}' and '{}').", kind,
                    r.value("Name", ""), what, lo, hi));
  }
  return std::pair{*min, *max};
}

StatusOr<ScalingType> ScalingOf(const json& range) {
  return tuning::ParseScalingType(range.value("ScalingType", "Auto"));
}

StatusOr<tuning::SearchSpace> ParseRanges(const json& ranges, const std::string& strategy) {
  std::vector<ParameterRange> out;
  for (const auto& r : ranges.value("ContinuousParameterRanges", json::array())) {
    const std::string name = r.value("Name", "");
    if (strategy == "Grid") {
      return InvalidArgument(fmt::format(
          "The Grid strategy does not support ContinuousParameterRanges (hyperparameter '{}'): grid search needs "
          "a finite set of values; use CategoricalParameterRanges or IntegerParameterRanges.",
          name));
    }
    ASSIGN_OR_RETURN(auto bounds, Bounds(r, "continuous", "numbers", ParseDouble));
    ASSIGN_OR_RETURN(ScalingType scaling, ScalingOf(r));
    RETURN_IF_ERROR(CheckBounds(name, bounds.first, bounds.second, scaling));
    out.push_back(ParameterRange::Continuous(name, bounds.first, bounds.second, scaling));
  }
  for (const auto& r : ranges.value("IntegerParameterRanges", json::array())) {
    const std::string name = r.value("Name", "");
    ASSIGN_OR_RETURN(auto bounds, Bounds(r, "integer", "integers", ParseInt));
    auto [min, max] = bounds;
    ASSIGN_OR_RETURN(ScalingType scaling, ScalingOf(r));
    if (scaling == ScalingType::kReverseLogarithmic) {
      return InvalidArgument(fmt::format(
          "Hyperparameter '{}': ReverseLogarithmic scaling is supported only for ContinuousParameterRanges.", name));
    }
    RETURN_IF_ERROR(CheckBounds(name, static_cast<double>(min), static_cast<double>(max), scaling));
    out.push_back(ParameterRange::Integer(name, min, max, scaling));
  }
  for (const auto& r : ranges.value("CategoricalParameterRanges", json::array())) {
    const std::string name = r.value("Name", "");
    auto values = r.value("Values", std::vector<std::string>{});
    std::set<std::string> distinct(values.begin(), values.end());
    if (distinct.size() != values.size()) {
      return InvalidArgument(fmt::format("The Values of categorical hyperparameter '{}' must be distinct.", name));
    }
    out.push_back(ParameterRange::Categorical(name, std::move(values)));
  }
  if (!ranges.value("AutoParameters", json::array()).empty()) {
    return InvalidArgument("Loam does not support AutoParameters; give the ranges explicitly.");
  }
  if (out.empty()) {
    return InvalidArgument("ParameterRanges must contain at least one ContinuousParameterRanges, "
                           "IntegerParameterRanges or CategoricalParameterRanges entry.");
  }
  std::set<std::string> names;
  for (const auto& r : out) {
    if (!names.insert(r.name).second) {
      return InvalidArgument(fmt::format("Hyperparameter '{}' appears in more than one parameter range.", r.name));
    }
  }
  auto space = tuning::SearchSpace::Create(std::move(out));
  if (!space.ok()) return InvalidArgument("Invalid ParameterRanges: " + space.status().message());
  return space;
}

StatusOr<TuningDefinition> ParseDefinition(const json& def, const json& ranges, const json& objective,
                                           const std::string& strategy) {
  TuningDefinition out;
  out.name = def.value("DefinitionName", "");
  out.training = def;
  const std::string where = out.name.empty() ? "" : fmt::format(" (training job definition '{}')", out.name);
  ASSIGN_OR_RETURN(out.space, ParseRanges(ranges, strategy));
  out.metric = objective.value("MetricName", "");
  std::set<std::string> metrics;
  for (const auto& m : def["AlgorithmSpecification"].value("MetricDefinitions", json::array())) {
    metrics.insert(m.value("Name", ""));
  }
  if (!metrics.count(out.metric)) {
    return InvalidArgument(fmt::format(
        "The objective metric '{}' is not defined in the MetricDefinitions of the AlgorithmSpecification{}. "
        "Define it with a Regex that finds its value in the training logs.",
        out.metric, where));
  }
  const json statics = def.value("StaticHyperParameters", json::object());
  for (const auto& [k, v] : statics.items()) out.static_hps[k] = v.get<std::string>();
  for (const auto& r : out.space.parameters()) {
    if (out.static_hps.count(r.name)) {
      return InvalidArgument(fmt::format(
          "Hyperparameter '{}' is both a static hyperparameter and a tunable hyperparameter{}. A hyperparameter "
          "must be either static or tunable.",
          r.name, where));
    }
  }
  if (!def.contains("ResourceConfig") && !def.contains("HyperParameterTuningResourceConfig")) {
    return InvalidArgument("A training job definition needs ResourceConfig or HyperParameterTuningResourceConfig" +
                           where + ".");
  }
  return out;
}

uint64_t GridSize(const tuning::SearchSpace& space) {
  uint64_t total = 1;
  for (const auto& r : space.parameters()) {
    total *= r.kind == tuning::ParameterKind::kCategorical ? r.values.size()
                                                           : static_cast<uint64_t>(r.max_value - r.min_value) + 1;
    if (total > (uint64_t{1} << 40)) break;
  }
  return total;
}

// MinResource defaults to 1; MaxResource to a static epochs, n_epochs or num_epochs
// hyperparameter, as SageMaker does.
StatusOr<tuning::HyperbandOptions> HyperbandOptionsOf(const json& config, const TuningSpec& spec) {
  if (spec.early_stopping) {
    return InvalidArgument("TrainingJobEarlyStoppingType must be Off with the Hyperband strategy: Hyperband "
                           "stops training jobs itself.");
  }
  const json hc = config.value("StrategyConfig", json::object()).value("HyperbandStrategyConfig", json::object());
  tuning::HyperbandOptions h;
  h.min_resource = hc.value("MinResource", 1);
  std::optional<int64_t> max;
  if (hc.contains("MaxResource")) max = hc["MaxResource"].get<int64_t>();
  for (const char* key : {"epochs", "n_epochs", "num_epochs"}) {
    auto it = spec.definitions[0].static_hps.find(key);
    if (max || it == spec.definitions[0].static_hps.end()) continue;
    std::string v = it->second;
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') v = v.substr(1, v.size() - 2);
    max = ParseInt(v);
  }
  if (!max) {
    return InvalidArgument("The Hyperband strategy needs StrategyConfig.HyperbandStrategyConfig.MaxResource, or a "
                           "static hyperparameter epochs, n_epochs or num_epochs that gives it.");
  }
  h.max_resource = static_cast<int>(std::min<int64_t>(*max, 1'000'000));
  auto schedule = tuning::HyperbandSchedule::Create(h);
  if (!schedule.ok()) return InvalidArgument("HyperbandStrategyConfig: " + schedule.status().message());
  return h;
}

}  // namespace

StatusOr<TuningSpec> ParseTuningSpec(const json& request) {
  TuningSpec spec;
  spec.name = request.value("HyperParameterTuningJobName", "");
  const json& config = request["HyperParameterTuningJobConfig"];
  spec.strategy = config.value("Strategy", "Bayesian");
  if (spec.strategy != "Hyperband" && config.contains("StrategyConfig")) {
    return InvalidArgument("StrategyConfig applies only to the Hyperband strategy.");
  }
  if (request.contains("Autotune")) return InvalidArgument("Loam does not support Autotune.");

  const bool single = request.contains("TrainingJobDefinition");
  const bool several = request.contains("TrainingJobDefinitions");
  if (single == several) {
    return InvalidArgument(single ? "Specify either TrainingJobDefinition or TrainingJobDefinitions, not both."
                                  : "Either TrainingJobDefinition or TrainingJobDefinitions must be specified.");
  }
  const json& objective = config.value("HyperParameterTuningJobObjective", json::object());
  if (single) {
    if (objective.empty()) {
      return InvalidArgument("HyperParameterTuningJobObjective is required with a TrainingJobDefinition.");
    }
    if (!config.contains("ParameterRanges")) {
      return InvalidArgument("ParameterRanges is required with a TrainingJobDefinition.");
    }
    ASSIGN_OR_RETURN(auto def, ParseDefinition(request["TrainingJobDefinition"], config["ParameterRanges"], objective,
                                               spec.strategy));
    spec.objective =
        objective.value("Type", "Minimize") == "Maximize" ? tuning::ObjectiveType::kMaximize : tuning::ObjectiveType::kMinimize;
    spec.definitions.push_back(std::move(def));
  } else {
    if (config.contains("ParameterRanges")) {
      return InvalidArgument("With TrainingJobDefinitions, give each definition its HyperParameterRanges instead "
                             "of HyperParameterTuningJobConfig.ParameterRanges.");
    }
    std::set<std::string> names;
    std::optional<std::string> type;
    for (const auto& d : request["TrainingJobDefinitions"]) {
      const std::string name = d.value("DefinitionName", "");
      if (name.empty()) return InvalidArgument("Every entry of TrainingJobDefinitions needs a DefinitionName.");
      if (!names.insert(name).second) {
        return InvalidArgument(fmt::format("DefinitionName '{}' is used by more than one training job definition.", name));
      }
      const json& own = d.value("TuningObjective", objective);
      if (own.empty()) {
        return InvalidArgument(fmt::format("Training job definition '{}' needs a TuningObjective.", name));
      }
      if (!d.contains("HyperParameterRanges")) {
        return InvalidArgument(fmt::format("Training job definition '{}' needs HyperParameterRanges.", name));
      }
      const std::string t = own.value("Type", "Minimize");
      if (type && *type != t) {
        return InvalidArgument("Every TuningObjective of TrainingJobDefinitions must have the same Type, so that "
                               "their training jobs can be compared.");
      }
      type = t;
      ASSIGN_OR_RETURN(auto def, ParseDefinition(d, d["HyperParameterRanges"], own, spec.strategy));
      spec.definitions.push_back(std::move(def));
    }
    spec.objective = type == "Maximize" ? tuning::ObjectiveType::kMaximize : tuning::ObjectiveType::kMinimize;
  }

  const json& limits = config["ResourceLimits"];
  spec.max_parallel = limits.value("MaxParallelTrainingJobs", 1);
  if (limits.contains("MaxNumberOfTrainingJobs")) {
    spec.max_jobs = limits["MaxNumberOfTrainingJobs"].get<int>();
  } else if (spec.strategy == "Grid") {
    uint64_t total = 0;
    for (const auto& d : spec.definitions) total += GridSize(d.space);
    spec.max_jobs = static_cast<int>(std::min<uint64_t>(total, 10000));
  } else {
    return InvalidArgument(fmt::format(
        "ResourceLimits.MaxNumberOfTrainingJobs is required for the {} strategy.", spec.strategy));
  }
  if (spec.max_jobs > 10000) {
    return InvalidArgument("ResourceLimits.MaxNumberOfTrainingJobs must be at most 10000.");
  }
  if (limits.contains("MaxRuntimeInSeconds")) spec.max_runtime_seconds = limits["MaxRuntimeInSeconds"].get<int64_t>();
  spec.early_stopping = config.value("TrainingJobEarlyStoppingType", "Off") == "Auto";
  if (spec.strategy == "Hyperband") {
    ASSIGN_OR_RETURN(spec.hyperband, HyperbandOptionsOf(config, spec));
  }
  if (config.contains("TuningJobCompletionCriteria")) {
    const json& c = config["TuningJobCompletionCriteria"];
    if (c.contains("TargetObjectiveMetricValue")) spec.criteria.target = c["TargetObjectiveMetricValue"].get<double>();
    if (c.contains("BestObjectiveNotImproving") &&
        c["BestObjectiveNotImproving"].contains("MaxNumberOfTrainingJobsNotImproving")) {
      spec.criteria.max_not_improving = c["BestObjectiveNotImproving"]["MaxNumberOfTrainingJobsNotImproving"].get<int>();
    }
    if (c.contains("ConvergenceDetected")) {
      spec.criteria.complete_on_convergence =
          c["ConvergenceDetected"].value("CompleteOnConvergence", "Disabled") == "Enabled";
    }
  }
  // Without a RandomSeed, the job's name seeds it: a restarted loop continues the same sequence.
  spec.seed = config.contains("RandomSeed") ? config["RandomSeed"].get<uint64_t>()
                                            : static_cast<uint64_t>(std::hash<std::string>{}(spec.name));
  if (request.contains("WarmStartConfig")) {
    const json& w = request["WarmStartConfig"];
    spec.warm_start_type = w.value("WarmStartType", "");
    for (const auto& p : w["ParentHyperParameterTuningJobs"]) {
      std::string parent = p.value("HyperParameterTuningJobName", "");
      if (parent.empty()) {
        return InvalidArgument("Every ParentHyperParameterTuningJobs entry needs a HyperParameterTuningJobName.");
      }
      if (parent == spec.name) return InvalidArgument("A tuning job cannot warm start from itself.");
      spec.warm_start_parents.push_back(parent);
    }
  }
  return spec;
}

std::optional<tuning::Configuration> ConfigurationFromHyperParameters(const tuning::SearchSpace& space,
                                                                      const std::map<std::string, std::string>& tuned) {
  tuning::Configuration c;
  for (const auto& r : space.parameters()) {
    auto it = tuned.find(r.name);
    if (it == tuned.end()) return std::nullopt;
    switch (r.kind) {
      case tuning::ParameterKind::kCategorical: c[r.name] = it->second; break;
      case tuning::ParameterKind::kInteger: {
        auto v = ParseInt(it->second);
        if (!v) return std::nullopt;
        c[r.name] = *v;
        break;
      }
      case tuning::ParameterKind::kContinuous: {
        auto v = ParseDouble(it->second);
        if (!v) return std::nullopt;
        c[r.name] = *v;
        break;
      }
    }
  }
  if (!space.Validate(c).ok()) return std::nullopt;
  return c;
}

std::string TrialJobName(const std::string& tuning_name, int number, const std::string& hex8) {
  return fmt::format("{}-{:03d}-{}", tuning_name, number, hex8);
}

StatusOr<json> TrialTrainingRequest(const TuningDefinition& definition, const std::string& job_name,
                                    const std::map<std::string, std::string>& tuned) {
  json r = definition.training;
  for (const char* field : {"DefinitionName", "TuningObjective", "HyperParameterRanges", "StaticHyperParameters",
                            "HyperParameterTuningResourceConfig"}) {
    r.erase(field);
  }
  if (!r.contains("ResourceConfig")) {
    const json& t = definition.training["HyperParameterTuningResourceConfig"];
    json instance = t.contains("InstanceConfigs") && !t["InstanceConfigs"].empty() ? t["InstanceConfigs"][0] : t;
    r["ResourceConfig"] = {{"InstanceType", instance.value("InstanceType", "ml.m5.large")},
                           {"InstanceCount", instance.value("InstanceCount", 1)},
                           {"VolumeSizeInGB", std::max(1, instance.value("VolumeSizeInGB", 30))}};
  }
  json hps = json::object();
  for (const auto& [k, v] : definition.static_hps) hps[k] = v;
  for (const auto& [k, v] : tuned) hps[k] = v;
  hps[kTuningObjectiveHyperParameter] = definition.metric;
  r["HyperParameters"] = hps;
  r["TrainingJobName"] = job_name;
  return r;
}

}  // namespace loam::jobs
