#include "jobs/script_mode.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>

namespace loam::jobs {

nlohmann::json DecodeHyperparameter(const std::string& raw) {
  auto j = nlohmann::json::parse(raw, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return raw;
  return j;
}

namespace {

// Python's repr() of a float: shortest round-trip digits, always with a '.' or exponent.
std::string PythonFloat(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  // fmt's shortest form switches to an exponent where Python's repr does (exp < -4 or >= 16).
  std::string s = fmt::format("{}", v);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

std::string PythonRepr(const nlohmann::json& v) {
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    bool has_single = s.find('\'') != std::string::npos, has_double = s.find('"') != std::string::npos;
    char quote = has_single && !has_double ? '"' : '\'';
    std::string out(1, quote);
    for (char c : s) {
      if (c == '\\') out += "\\\\";
      else if (c == quote) out += std::string("\\") + c;
      else if (c == '\n') out += "\\n";
      else if (c == '\t') out += "\\t";
      else out += c;
    }
    return out + quote;
  }
  return PythonStr(v);
}

}  // namespace

std::string PythonStr(const nlohmann::json& v) {
  switch (v.type()) {
    case nlohmann::json::value_t::null: return "None";
    case nlohmann::json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case nlohmann::json::value_t::string: return v.get<std::string>();
    case nlohmann::json::value_t::number_float: return PythonFloat(v.get<double>());
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned: return v.dump();
    case nlohmann::json::value_t::array: {
      std::string out = "[";
      for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + PythonRepr(v[i]);
      return out + "]";
    }
    case nlohmann::json::value_t::object: {
      std::string out = "{";
      bool first = true;
      for (const auto& [k, item] : v.items()) {
        out += (first ? "" : ", ") + PythonRepr(k) + ": " + PythonRepr(item);
        first = false;
      }
      return out + "}";
    }
    default: return v.dump();
  }
}

Hyperparameters SplitHyperparameters(const nlohmann::json& raw_map) {
  Hyperparameters out;
  if (!raw_map.is_object()) return out;
  for (const auto& [k, v] : raw_map.items()) {
    nlohmann::json decoded = v.is_string() ? DecodeHyperparameter(v.get<std::string>()) : v;
    // _tuning_objective_metric is the tuning job's note to built-in algorithms, not an argument
    // for a script.
    if (k.rfind("sagemaker_", 0) == 0 || k == "_tuning_objective_metric") {
      out.sagemaker[k] = decoded;
    } else {
      out.user[k] = decoded;
    }
  }
  return out;
}

std::vector<std::string> ToCommandLineArgs(const nlohmann::json& user_hps) {
  std::vector<std::string> keys;
  for (const auto& [k, v] : user_hps.items()) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  std::vector<std::string> args;
  for (const auto& k : keys) {
    args.push_back(k.size() > 1 ? "--" + k : "-" + k);
    const auto& v = user_hps[k];
    if (v.is_object()) {
      std::vector<std::string> items;
      for (const auto& [ik, iv] : v.items()) items.push_back(ik + "=" + PythonStr(iv));  // key order
      std::string joined;
      for (size_t i = 0; i < items.size(); ++i) joined += (i ? "," : "") + items[i];
      args.push_back(joined);
    } else {
      args.push_back(v.is_null() ? "" : PythonStr(v));  // the toolkit's _decode(None) is ""
    }
  }
  return args;
}

std::string EnvName(const std::string& name) {
  std::string out = name;
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string EnvValue(const nlohmann::json& value) {
  if (value.is_null()) return "";
  // json.dumps(ensure_ascii=True), as the toolkit writes them.
  return value.is_string() ? value.get<std::string>() : value.dump(-1, ' ', /*ensure_ascii=*/true);
}

}  // namespace loam::jobs
