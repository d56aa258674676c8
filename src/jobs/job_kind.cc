#include "jobs/job_kind.h"

#include <fmt/format.h>

#include <cctype>
#include <cstdlib>
#include <functional>
#include <regex>
#include <fstream>

namespace loam::jobs {

namespace fs = std::filesystem;

std::vector<std::string> HostNames(int count) {
  std::vector<std::string> hosts;
  for (int i = 1; i <= count; ++i) hosts.push_back(fmt::format("algo-{}", i));
  return hosts;
}

fs::path InstanceRoot(const fs::path& job_dir, const std::string& host) { return job_dir / host; }
fs::path InstanceLog(const fs::path& job_dir, const std::string& host) { return job_dir / "logs" / (host + ".log"); }
fs::path InstanceExitFile(const fs::path& job_dir, const std::string& host) {
  return job_dir / "logs" / (host + ".exit");
}

std::string SageMakerArn(const std::string& region, const std::string& account, const std::string& resource,
                         const std::string& name) {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return fmt::format("arn:aws:sagemaker:{}:{}:{}/{}", region, account, resource, lower);
}

std::string BaseJobName(const std::string& name) {
  static const std::regex kSuffix(R"(-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-\d{3}$)");
  std::string base = std::regex_replace(name, kSuffix, "");
  return base.empty() ? name : base;
}

std::string ExperimentNameFor(const nlohmann::json& request, const std::string& job_name) {
  if (request.contains("ExperimentConfig") && request["ExperimentConfig"].contains("ExperimentName")) {
    return request["ExperimentConfig"]["ExperimentName"].get<std::string>();
  }
  return BaseJobName(job_name);
}

tracking::DatasetInput InputDataset(const std::string& name, const std::string& uri) {
  tracking::DatasetInput in;
  in.dataset.name = name;
  in.dataset.digest = fmt::format("{:08x}", static_cast<uint32_t>(std::hash<std::string>{}(uri)));
  in.dataset.source_type = uri.rfind("s3://", 0) == 0 ? "s3" : "local";
  in.dataset.source = nlohmann::json{{"uri", uri}}.dump();
  in.tags = {{"mlflow.data.context", name}};
  return in;
}

Environment BaseEnvironment() {
  Environment env;
  for (const char* name : {"PATH", "HOME", "LANG", "LC_ALL", "TZ", "USER", "LOGNAME", "TMPDIR", "LD_LIBRARY_PATH",
                           "CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES"}) {
    if (const char* v = std::getenv(name)) env.emplace_back(name, v);
  }
  if (!std::getenv("PATH")) env.emplace_back("PATH", "/usr/local/bin:/usr/bin:/bin");
  env.emplace_back("PYTHONUNBUFFERED", "1");
  env.emplace_back("PYTHONDONTWRITEBYTECODE", "1");
  return env;
}

void SetEnv(Environment& env, const std::string& name, const std::string& value) {
  for (auto& [k, v] : env) {
    if (k == name) {
      v = value;
      return;
    }
  }
  env.emplace_back(name, value);
}

Status WriteJsonFile(const fs::path& file, const nlohmann::json& value) {
  std::ofstream out(file);
  out << value.dump(2);
  if (!out) return Internal(fmt::format("cannot write {}", file.string()));
  return Status::Ok();
}

}  // namespace loam::jobs
