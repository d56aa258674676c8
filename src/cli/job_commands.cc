#include "cli/job_commands.h"

#include <yaml-cpp/yaml.h>

#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <regex>
#include <thread>

#include "cli/http_client.h"

namespace loam::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json ScalarToJson(const YAML::Node& node) {
  const std::string& text = node.Scalar();
  if (node.Tag() == "!") return text;  // quoted: always a string
  static const std::regex kInt(R"([-+]?\d+)"), kFloat(R"([-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?)");
  if (std::regex_match(text, kInt)) return std::stoll(text);
  if (std::regex_match(text, kFloat)) return std::stod(text);
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  if (text == "null" || text == "~" || text.empty()) return nullptr;
  return text;
}

json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: return ScalarToJson(node);
    default: return nullptr;
  }
}

// SageMaker takes string maps; YAML users write `epochs: 10`.
void StringifyValues(json& map) {
  if (!map.is_object()) return;
  for (auto& [k, v] : map.items()) {
    if (!v.is_string()) v = v.dump();
  }
}

std::string LocalUri(const std::string& value, const fs::path& base) {
  if (value.find("://") != std::string::npos || (!value.empty() && value[0] == '/')) return value;
  return "file://" + fs::weakly_canonical(base / value).string();
}

void ResolvePaths(json& j, const fs::path& base) {
  if (j.is_object()) {
    for (auto& [k, v] : j.items()) {
      if ((k == "S3Uri" || k == "S3OutputPath") && v.is_string()) v = LocalUri(v.get<std::string>(), base);
      else ResolvePaths(v, base);
    }
  } else if (j.is_array()) {
    for (auto& v : j) ResolvePaths(v, base);
  }
}

std::string TimestampSuffix() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return fmt::format("{:04}-{:02}-{:02}-{:02}-{:02}-{:02}-{:03}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
}

StatusOr<json> CallSageMaker(const HttpClient& client, const std::string& operation, const json& input) {
  return CallAwsJson(client, "SageMaker.", "application/x-amz-json-1.1", operation, input);
}

// Prints what is new in each host's log; returns false when the server could not be asked.
bool PrintNewLogs(const HttpClient& client, const std::string& job, int hosts, std::vector<uint64_t>& offsets) {
  for (int i = 0; i < hosts; ++i) {
    std::string host = fmt::format("algo-{}", i + 1);
    auto reply = client.Request("GET", fmt::format("/loam/v1/training-jobs/{}/logs?host={}&offset={}", job, host,
                                                   offsets[static_cast<size_t>(i)]), {}, "");
    if (!reply.ok() || reply->status != 200) return false;
    if (reply->body.empty()) continue;
    offsets[static_cast<size_t>(i)] += reply->body.size();
    if (hosts == 1) {
      std::cout << reply->body << std::flush;
    } else {
      size_t pos = 0;
      while (pos < reply->body.size()) {
        size_t nl = reply->body.find('\n', pos);
        std::cout << "[" << host << "] " << reply->body.substr(pos, nl == std::string::npos ? nl : nl - pos + 1);
        pos = nl == std::string::npos ? reply->body.size() : nl + 1;
      }
      std::cout << std::flush;
    }
  }
  return true;
}

bool Terminal(const std::string& status) { return status == "Completed" || status == "Failed" || status == "Stopped"; }

// Follows a job until it ends, printing its output; the exit code says how it ended.
int Follow(const HttpClient& client, const std::string& job, bool print_summary) {
  std::vector<uint64_t> offsets;
  std::string last_secondary;
  while (true) {
    auto d = CallSageMaker(client, "DescribeTrainingJob", {{"TrainingJobName", job}});
    if (!d.ok()) {
      std::cerr << "error: " << d.status().message() << "\n";
      return 1;
    }
    int hosts = (*d)["ResourceConfig"].value("InstanceCount", 1);
    offsets.resize(static_cast<size_t>(hosts), 0);
    std::string secondary = d->value("SecondaryStatus", "");
    if (print_summary && secondary != last_secondary) {
      std::cerr << fmt::format("[loam] {}: {}\n", job, secondary);
      last_secondary = secondary;
    }
    PrintNewLogs(client, job, hosts, offsets);
    std::string status = d->value("TrainingJobStatus", "");
    if (Terminal(status)) {
      PrintNewLogs(client, job, hosts, offsets);
      if (print_summary) {
        std::cerr << fmt::format("[loam] {} {}\n", job, status);
        if (d->contains("FailureReason")) std::cerr << "[loam] FailureReason: " << (*d)["FailureReason"].get<std::string>() << "\n";
        for (const auto& m : d->value("FinalMetricDataList", json::array())) {
          std::cerr << fmt::format("[loam] metric {} = {}\n", m.value("MetricName", ""), m.value("Value", 0.0));
        }
        if (d->contains("ModelArtifacts")) {
          std::cerr << "[loam] model: " << (*d)["ModelArtifacts"].value("S3ModelArtifacts", "") << "\n";
        }
      }
      return status == "Completed" ? 0 : 1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
}

}  // namespace

StatusOr<json> TrainingRequestFromYaml(const fs::path& file, const std::string& name_override) {
  json req;
  // yaml-cpp reports errors by exception; they stop here.
  try {
    req = YamlToJson(YAML::LoadFile(file.string()));
  } catch (const std::exception& e) {
    return InvalidArgument(fmt::format("{}: {}", file.string(), e.what()));
  }
  if (!req.is_object()) return InvalidArgument(fmt::format("{}: expected a mapping of CreateTrainingJob fields", file.string()));
  const fs::path base = fs::absolute(file).parent_path();
  StringifyValues(req["HyperParameters"]);
  if (req["HyperParameters"].is_null()) req.erase("HyperParameters");
  if (req.contains("Environment")) StringifyValues(req["Environment"]);
  // The SageMaker SDK's estimator arguments, as shorthands.
  if (req.contains("entry_point")) {
    req["HyperParameters"]["sagemaker_program"] = json(req["entry_point"].get<std::string>()).dump();
    req.erase("entry_point");
  }
  if (req.contains("source_dir")) {
    req["HyperParameters"]["sagemaker_submit_directory"] = json(LocalUri(req["source_dir"].get<std::string>(), base)).dump();
    req.erase("source_dir");
  }
  ResolvePaths(req, base);
  if (!name_override.empty()) req["TrainingJobName"] = name_override;
  if (!req.contains("TrainingJobName")) {
    std::string stem = file.stem().string();
    std::string base_name;
    for (char c : stem) base_name += std::isalnum(static_cast<unsigned char>(c)) ? c : '-';
    req["TrainingJobName"] = base_name.substr(0, 38) + "-" + TimestampSuffix();
  }
  if (!req.contains("RoleArn")) req["RoleArn"] = "arn:aws:iam::000000000000:role/loam";
  if (!req.contains("AlgorithmSpecification")) req["AlgorithmSpecification"] = json::object();
  auto& algo = req["AlgorithmSpecification"];
  if (!algo.contains("TrainingImage")) algo["TrainingImage"] = "loam/python";
  if (!algo.contains("TrainingInputMode")) algo["TrainingInputMode"] = "File";
  if (!req.contains("ResourceConfig")) req["ResourceConfig"] = {{"InstanceType", "local"}, {"InstanceCount", 1}};
  if (!req["ResourceConfig"].contains("VolumeSizeInGB")) req["ResourceConfig"]["VolumeSizeInGB"] = 1;
  if (!req.contains("StoppingCondition")) req["StoppingCondition"] = {{"MaxRuntimeInSeconds", 86400}};
  return req;
}

void AddJobCommands(CLI::App& app) {
  struct TrainFlags {
    std::string file, endpoint = DefaultEndpoint(), name;
    bool no_wait = false;
  };
  auto tf = std::make_shared<TrainFlags>();
  CLI::App* train = app.add_subcommand("train", "Submit a training job from a YAML file and follow it");
  train->add_option("-f,--file", tf->file, "Job file: CreateTrainingJob fields in YAML (plus entry_point, source_dir)")
      ->required()->check(CLI::ExistingFile);
  train->add_option("--endpoint", tf->endpoint, "Loam server (default $LOAM_ENDPOINT or http://127.0.0.1:7070)");
  train->add_option("--name", tf->name, "Training job name (default: from the file, else <file>-<timestamp>)");
  train->add_flag("--no-wait", tf->no_wait, "Submit and return without following the job");
  train->callback([tf] {
    auto client = HttpClient::Create(tf->endpoint);
    auto req = client.ok() ? TrainingRequestFromYaml(tf->file, tf->name) : StatusOr<json>(client.status());
    if (!req.ok()) {
      std::cerr << "error: " << req.status().message() << "\n";
      std::exit(2);
    }
    auto created = CallSageMaker(*client, "CreateTrainingJob", *req);
    if (!created.ok()) {
      std::cerr << "error: " << created.status().message() << "\n";
      std::exit(1);
    }
    std::string name = (*req)["TrainingJobName"].get<std::string>();
    std::cerr << fmt::format("[loam] created {} ({})\n", name, (*created).value("TrainingJobArn", ""));
    std::exit(tf->no_wait ? 0 : Follow(*client, name, /*print_summary=*/true));
  });

  struct LogsFlags {
    std::string job, endpoint = DefaultEndpoint();
    bool follow = false;
  };
  auto lf = std::make_shared<LogsFlags>();
  CLI::App* logs = app.add_subcommand("logs", "Print a training job's output (stdout and stderr of every instance)");
  logs->add_option("job", lf->job, "Training job name")->required();
  logs->add_flag("-f,--follow", lf->follow, "Keep following the output until the job ends");
  logs->add_option("--endpoint", lf->endpoint, "Loam server (default $LOAM_ENDPOINT or http://127.0.0.1:7070)");
  logs->callback([lf] {
    auto client = HttpClient::Create(lf->endpoint);
    if (!client.ok()) {
      std::cerr << "error: " << client.status().message() << "\n";
      std::exit(2);
    }
    if (lf->follow) std::exit(Follow(*client, lf->job, /*print_summary=*/false));
    auto d = CallSageMaker(*client, "DescribeTrainingJob", {{"TrainingJobName", lf->job}});
    if (!d.ok()) {
      std::cerr << "error: " << d.status().message() << "\n";
      std::exit(1);
    }
    int hosts = (*d)["ResourceConfig"].value("InstanceCount", 1);
    std::vector<uint64_t> offsets(static_cast<size_t>(hosts), 0);
    std::exit(PrintNewLogs(*client, lf->job, hosts, offsets) ? 0 : 1);
  });
}

}  // namespace loam::cli
