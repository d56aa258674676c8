// The CloudWatch Logs view of job logs that the SageMaker Python SDK reads to follow a job:
// log groups /aws/sagemaker/TrainingJobs and /aws/sagemaker/ProcessingJobs, one stream per
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

  // DescribeLogStreams / GetLogEvents request and response shapes; NotFound for an unknown
  // group or stream.
  StatusOr<nlohmann::json> DescribeLogStreams(const nlohmann::json& request);
  StatusOr<nlohmann::json> GetLogEvents(const nlohmann::json& request);

 private:
  StatusOr<JobRunner*> Group(const nlohmann::json& request);
  std::map<std::string, std::shared_ptr<JobRunner>> groups_;
};

}  // namespace loam::jobs
