#include "tuning/search_space.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

namespace loam::tuning {
namespace {

// Half-open integer cells: each integer owns [v - 0.5, v + 0.5).
double Lo(const ParameterRange& r) {
  return r.kind == ParameterKind::kInteger ? r.min_value - 0.5 : r.min_value;
}
double Hi(const ParameterRange& r) {
  return r.kind == ParameterKind::kInteger ? r.max_value + 0.5 : r.max_value;
}

std::string TypeName(const ParameterValue& v) {
  if (std::holds_alternative<std::string>(v)) return "string";
  if (std::holds_alternative<double>(v)) return "double";
  return "integer";
}

}  // namespace

StatusOr<ScalingType> ParseScalingType(const std::string& s) {
  if (s == "Auto") return ScalingType::kAuto;
  if (s == "Linear") return ScalingType::kLinear;
  if (s == "Logarithmic") return ScalingType::kLogarithmic;
  if (s == "ReverseLogarithmic") return ScalingType::kReverseLogarithmic;
  return InvalidArgument("unknown ScalingType '" + s + "'");
}

const char* ScalingTypeName(ScalingType t) {
  switch (t) {
    case ScalingType::kAuto: return "Auto";
    case ScalingType::kLinear: return "Linear";
    case ScalingType::kLogarithmic: return "Logarithmic";
    case ScalingType::kReverseLogarithmic: return "ReverseLogarithmic";
  }
  return "?";
}

ParameterRange ParameterRange::Continuous(std::string name, double min, double max,
                                          ScalingType scaling) {
  return {.name = std::move(name), .kind = ParameterKind::kContinuous, .min_value = min,
          .max_value = max, .scaling = scaling};
}

ParameterRange ParameterRange::Integer(std::string name, int64_t min, int64_t max,
                                       ScalingType scaling) {
  return {.name = std::move(name), .kind = ParameterKind::kInteger,
          .min_value = static_cast<double>(min), .max_value = static_cast<double>(max),
          .scaling = scaling};
}

ParameterRange ParameterRange::Categorical(std::string name, std::vector<std::string> values) {
  return {.name = std::move(name), .kind = ParameterKind::kCategorical,
          .scaling = ScalingType::kLinear, .values = std::move(values)};
}

std::string FormatValue(const ParameterValue& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  if (const auto* i = std::get_if<int64_t>(&v)) return std::to_string(*i);
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), std::get<double>(v));
  return std::string(buf, res.ptr);
}

std::string ConfigurationKey(const Configuration& c) {
  std::string key;
  for (const auto& [name, value] : c) {
    if (!key.empty()) key += ',';
    key += name + "=" + FormatValue(value);
  }
  return key;
}

StatusOr<SearchSpace> SearchSpace::Create(std::vector<ParameterRange> ranges) {
  if (ranges.empty()) return InvalidArgument("a search space needs at least one parameter range");
  SearchSpace space;
  std::set<std::string> names;
  for (const ParameterRange& r : ranges) {
    const std::string where = "parameter '" + r.name + "': ";
    if (r.name.empty()) return InvalidArgument("parameter name must not be empty");
    if (!names.insert(r.name).second) return InvalidArgument(where + "duplicate name");
    if (r.kind == ParameterKind::kCategorical) {
      if (r.values.empty()) return InvalidArgument(where + "categorical values must not be empty");
      std::set<std::string> distinct(r.values.begin(), r.values.end());
      if (distinct.size() != r.values.size()) {
        return InvalidArgument(where + "categorical values must be distinct");
      }
      space.scaling_.push_back(ScalingType::kLinear);
      continue;
    }
    if (!std::isfinite(r.min_value) || !std::isfinite(r.max_value)) {
      return InvalidArgument(where + "bounds must be finite");
    }
    if (!(r.min_value < r.max_value)) return InvalidArgument(where + "MinValue must be < MaxValue");
    ScalingType s = r.scaling;
    if (s == ScalingType::kAuto) {
      s = (r.min_value > 0 && r.max_value / r.min_value >= 1000.0) ? ScalingType::kLogarithmic
                                                                   : ScalingType::kLinear;
    }
    if (s == ScalingType::kLogarithmic && !(r.min_value > 0)) {
      return InvalidArgument(where + "Logarithmic scaling needs MinValue > 0");
    }
    if (s == ScalingType::kReverseLogarithmic) {
      if (r.kind == ParameterKind::kInteger) {
        return InvalidArgument(where + "ReverseLogarithmic scaling is for continuous ranges only");
      }
      if (!(r.min_value >= 0 && r.max_value < 1)) {
        return InvalidArgument(where + "ReverseLogarithmic scaling needs 0 <= MinValue and MaxValue < 1");
      }
    }
    space.scaling_.push_back(s);
  }
  space.ranges_ = std::move(ranges);
  return space;
}

bool SearchSpace::HasContinuous() const {
  return std::any_of(ranges_.begin(), ranges_.end(),
                     [](const ParameterRange& r) { return r.kind == ParameterKind::kContinuous; });
}

double SearchSpace::NumericToUnit(int i, double x) const {
  const ParameterRange& r = ranges_[i];
  const double lo = Lo(r), hi = Hi(r);
  x = std::clamp(x, lo, hi);
  double u = 0;
  switch (scaling_[i]) {
    case ScalingType::kLogarithmic:
      u = (std::log(x) - std::log(lo)) / (std::log(hi) - std::log(lo));
      break;
    case ScalingType::kReverseLogarithmic:
      u = (std::log1p(-lo) - std::log1p(-x)) / (std::log1p(-lo) - std::log1p(-hi));
      break;
    default:
      u = (x - lo) / (hi - lo);
  }
  return std::clamp(u, 0.0, 1.0);
}

double SearchSpace::NumericFromUnit(int i, double u) const {
  const ParameterRange& r = ranges_[i];
  const double lo = Lo(r), hi = Hi(r);
  u = std::clamp(u, 0.0, 1.0);
  double x = 0;
  switch (scaling_[i]) {
    case ScalingType::kLogarithmic:
      x = std::exp(std::log(lo) + u * (std::log(hi) - std::log(lo)));
      break;
    case ScalingType::kReverseLogarithmic:
      x = -std::expm1(std::log1p(-lo) - u * (std::log1p(-lo) - std::log1p(-hi)));
      break;
    default:
      x = lo + u * (hi - lo);
  }
  // Rounding (exp/log) may step a hair outside the interval; the bounds are part of the contract.
  return std::clamp(x, r.min_value - (r.kind == ParameterKind::kInteger ? 0.5 : 0.0),
                    r.max_value + (r.kind == ParameterKind::kInteger ? 0.5 : 0.0));
}

StatusOr<Configuration> SearchSpace::FromUnit(const std::vector<double>& u) const {
  if (static_cast<int>(u.size()) != dims()) {
    return InvalidArgument("unit point has " + std::to_string(u.size()) + " coordinates, expected " +
                           std::to_string(dims()));
  }
  Configuration c;
  for (int i = 0; i < dims(); ++i) {
    const ParameterRange& r = ranges_[i];
    const double ui = std::isfinite(u[i]) ? std::clamp(u[i], 0.0, 1.0) : 0.5;
    switch (r.kind) {
      case ParameterKind::kCategorical: {
        const int k = static_cast<int>(r.values.size());
        c[r.name] = r.values[std::min(k - 1, static_cast<int>(ui * k))];
        break;
      }
      case ParameterKind::kInteger: {
        const double v = std::round(NumericFromUnit(i, ui));
        c[r.name] = static_cast<int64_t>(std::clamp(v, r.min_value, r.max_value));
        break;
      }
      case ParameterKind::kContinuous:
        c[r.name] = NumericFromUnit(i, ui);
        break;
    }
  }
  return c;
}

StatusOr<std::vector<double>> SearchSpace::ToUnit(const Configuration& c) const {
  RETURN_IF_ERROR(Validate(c));
  std::vector<double> u(dims());
  for (int i = 0; i < dims(); ++i) {
    const ParameterRange& r = ranges_[i];
    const ParameterValue& v = c.at(r.name);
    switch (r.kind) {
      case ParameterKind::kCategorical: {
        const auto it = std::find(r.values.begin(), r.values.end(), std::get<std::string>(v));
        u[i] = (static_cast<double>(it - r.values.begin()) + 0.5) / static_cast<double>(r.values.size());
        break;
      }
      case ParameterKind::kInteger:
        u[i] = NumericToUnit(i, static_cast<double>(std::get<int64_t>(v)));
        break;
      case ParameterKind::kContinuous:
        u[i] = NumericToUnit(i, std::get<double>(v));
        break;
    }
  }
  return u;
}

Status SearchSpace::Validate(const Configuration& c) const {
  if (c.size() != ranges_.size()) {
    for (const auto& [name, value] : c) {
      const bool known = std::any_of(ranges_.begin(), ranges_.end(),
                                     [&](const ParameterRange& r) { return r.name == name; });
      if (!known) return InvalidArgument("unknown parameter '" + name + "'");
    }
  }
  for (const ParameterRange& r : ranges_) {
    const auto it = c.find(r.name);
    if (it == c.end()) return InvalidArgument("missing parameter '" + r.name + "'");
    const ParameterValue& v = it->second;
    const std::string where = "parameter '" + r.name + "': ";
    switch (r.kind) {
      case ParameterKind::kCategorical: {
        const auto* s = std::get_if<std::string>(&v);
        if (s == nullptr) return InvalidArgument(where + "expected string, got " + TypeName(v));
        if (std::find(r.values.begin(), r.values.end(), *s) == r.values.end()) {
          return InvalidArgument(where + "'" + *s + "' is not one of the categorical values");
        }
        break;
      }
      case ParameterKind::kInteger: {
        const auto* i = std::get_if<int64_t>(&v);
        if (i == nullptr) return InvalidArgument(where + "expected integer, got " + TypeName(v));
        if (*i < r.min_value || *i > r.max_value) return InvalidArgument(where + "out of range");
        break;
      }
      case ParameterKind::kContinuous: {
        const auto* d = std::get_if<double>(&v);
        if (d == nullptr) return InvalidArgument(where + "expected double, got " + TypeName(v));
        if (!(*d >= r.min_value && *d <= r.max_value)) return InvalidArgument(where + "out of range");
        break;
      }
    }
  }
  return Status::Ok();
}

std::map<std::string, std::string> SearchSpace::ToHyperParameters(const Configuration& c) const {
  std::map<std::string, std::string> out;
  for (const auto& [name, value] : c) out[name] = FormatValue(value);
  return out;
}

}  // namespace loam::tuning
