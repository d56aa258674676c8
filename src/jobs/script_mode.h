// SageMaker script mode, as the sagemaker-training toolkit implements it: hyperparameters
// arrive JSON-encoded (the SageMaker Python SDK encodes every value), are decoded, split into
// the toolkit's own `sagemaker_*` settings and the user's, and become `--name value`
// arguments and SM_* environment variables.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace loam::jobs {

// A hyperparameter value as the toolkit sees it: JSON-decoded when it parses, else the string.
nlohmann::json DecodeHyperparameter(const std::string& raw);

// Python's str() of a decoded value (True, 1.0, [1, 2], {'a': 1}), as the toolkit formats
// command-line arguments.
std::string PythonStr(const nlohmann::json& value);

struct Hyperparameters {
  nlohmann::json user = nlohmann::json::object();       // decoded, without sagemaker_*
  // decoded sagemaker_* settings, and a tuning job's _tuning_objective_metric
  nlohmann::json sagemaker = nlohmann::json::object();
};
Hyperparameters SplitHyperparameters(const nlohmann::json& raw_map);

// The toolkit's to_cmd_args: keys sorted, `--key` (`-k` for one letter), dict values as
// "k=v,k2=v2", everything else str().
std::vector<std::string> ToCommandLineArgs(const nlohmann::json& user_hps);

// Upper-cases a name for an environment variable, keeping other characters (SM_HP_<NAME>
// keeps dashes, as the toolkit does).
std::string EnvName(const std::string& name);

// The toolkit's value formatting for SM_* variables: strings bare, everything else as JSON.
std::string EnvValue(const nlohmann::json& value);

}  // namespace loam::jobs
