// The CloudWatch Logs view of job logs that the SageMaker Python SDK reads to follow a job:
// log groups /aws/sagemaker/TrainingJobs, /aws/sagemaker/ProcessingJobs and /aws/sagemaker/TransformJobs, one stream per
// instance (`<job>/algo-N-<creation epoch seconds>`), one event per line of its output.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>

#include "common/status.h"
#include "jobs/job_runner.h"

namespace loam::jobs {

class JobLogStreams {
 public:
  // log group name -> the runner of that kind of job
  explicit JobLogStreams(std::map<std::string, std::shared_ptr<JobRunner>> groups) : groups_(std::move(groups)) {}
  // Adds a group; only while the server is being set up (the map is read without a lock).
  void AddGroup(const std::string& name, std::shared_ptr<JobRunner> runner) { groups_[name] = std::move(runner); }

  // DescribeLogStreams / GetLogEvents request and response shapes; NotFound for an unknown
  // group or stream.
  StatusOr<nlohmann::json> DescribeLogStreams(const nlohmann::json& request);
  StatusOr<nlohmann::json> GetLogEvents(const nlohmann::json& request);

 private:
  StatusOr<JobRunner*> Group(const nlohmann::json& request);
  std::map<std::string, std::shared_ptr<JobRunner>> groups_;
};

}  // namespace loam::jobs
