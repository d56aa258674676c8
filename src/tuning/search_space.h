// Search space of a hyperparameter tuning job, with SageMaker Automatic Model Tuning semantics:
// ContinuousParameterRanges, IntegerParameterRanges and CategoricalParameterRanges, each numeric
// range with a ScalingType. Every strategy works in the unit cube [0,1]^d (one coordinate per
// parameter) and converts through this class, so scaling is defined in exactly one place.
//
// Scaling (u in [0,1], x the parameter value):
//   Linear:             u = (x - min) / (max - min)
//   Logarithmic:        u = (log x - log min) / (log max - log min)            (needs min > 0)
//   ReverseLogarithmic: u = (log(1-min) - log(1-x)) / (log(1-min) - log(1-max)) (needs 0 <= min, max < 1)
//   Auto:               Logarithmic when min > 0 and max / min >= 1000 (the range spans at least
//                       three orders of magnitude), Linear otherwise. Auto never picks
//                       ReverseLogarithmic: nothing in a plain [min, max] says the values cluster near 1.
// Integers are mapped as the continuous interval [min - 0.5, max + 0.5] (so every integer owns an
// equal share of the unit interval under Linear scaling) and rounded; ReverseLogarithmic is
// rejected for integers because no integer range satisfies 0 <= min < max < 1.
// Categoricals with k values split [0,1] into k equal cells; value i maps to the cell centre.
//
// Thread-safety: a SearchSpace is immutable after Create and may be shared across threads.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "common/status.h"

namespace loam::tuning {

enum class ScalingType { kAuto, kLinear, kLogarithmic, kReverseLogarithmic };
enum class ParameterKind { kContinuous, kInteger, kCategorical };

// Parses/prints the SageMaker spellings "Auto", "Linear", "Logarithmic", "ReverseLogarithmic".
StatusOr<ScalingType> ParseScalingType(const std::string& s);
const char* ScalingTypeName(ScalingType t);

struct ParameterRange {
  std::string name;
  ParameterKind kind = ParameterKind::kContinuous;
  double min_value = 0;  // continuous and integer only
  double max_value = 0;
  ScalingType scaling = ScalingType::kAuto;
  std::vector<std::string> values;  // categorical only

  static ParameterRange Continuous(std::string name, double min, double max,
                                   ScalingType scaling = ScalingType::kAuto);
  static ParameterRange Integer(std::string name, int64_t min, int64_t max,
                                ScalingType scaling = ScalingType::kAuto);
  static ParameterRange Categorical(std::string name, std::vector<std::string> values);
};

// Continuous -> double, Integer -> int64_t, Categorical -> std::string.
using ParameterValue = std::variant<std::string, double, int64_t>;
using Configuration = std::map<std::string, ParameterValue>;

// The string SageMaker passes to the training container: integers in decimal, doubles in the
// shortest form that round-trips, categoricals verbatim.
std::string FormatValue(const ParameterValue& v);
// A stable one-line rendering ("a=1,b=x"), used to detect repeated configurations.
std::string ConfigurationKey(const Configuration& c);

class SearchSpace {
 public:
  // Validates every range (unique non-empty names, min < max, finite bounds, scaling constraints,
  // non-empty distinct categorical values) and resolves Auto scaling.
  static StatusOr<SearchSpace> Create(std::vector<ParameterRange> ranges);

  const std::vector<ParameterRange>& parameters() const { return ranges_; }
  int dims() const { return static_cast<int>(ranges_.size()); }
  // The scaling after resolving Auto; kLinear for categoricals.
  ScalingType EffectiveScaling(int i) const { return scaling_[i]; }
  bool HasContinuous() const;

  // Unit coordinate of one numeric value (integers are not rounded here) and back. Out-of-range
  // inputs are clamped, so a strategy's unit point always yields an in-range value.
  double NumericToUnit(int i, double x) const;
  double NumericFromUnit(int i, double u) const;

  // u must have dims() entries; each is clamped to [0,1].
  StatusOr<Configuration> FromUnit(const std::vector<double>& u) const;
  // Fails when a parameter is missing, has the wrong type, is out of range or unknown.
  StatusOr<std::vector<double>> ToUnit(const Configuration& c) const;
  Status Validate(const Configuration& c) const;
  // name -> string, the HyperParameters map of a training job.
  std::map<std::string, std::string> ToHyperParameters(const Configuration& c) const;

 private:
  std::vector<ParameterRange> ranges_;
  std::vector<ScalingType> scaling_;
};

}  // namespace loam::tuning
