// The port through which job services persist SageMaker-style jobs and AWS resource tags.
// A job is a JSON document (its Describe state plus Loam's private bookkeeping); the store
// indexes the few fields List calls filter and sort on.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loam::jobs {

struct JobRecord {
  std::string kind;  // "training", "processing", "transform", "tuning", "model", "endpoint-config", "endpoint"
  std::string name;
  std::string arn;
  std::string status;
  int64_t creation_time_ms = 0;
  int64_t last_modified_time_ms = 0;
  std::string parent;  // e.g. the tuning job a training job belongs to
  nlohmann::json doc;
};

enum class JobSortBy { kCreationTime, kName, kStatus };

struct JobListQuery {
  std::string kind;
  std::optional<std::string> name_contains;
  std::optional<std::string> status_equals;
  std::optional<std::string> parent;
  std::optional<int64_t> created_after_ms, created_before_ms;          // exclusive bounds
  std::optional<int64_t> modified_after_ms, modified_before_ms;        // exclusive bounds
  JobSortBy sort_by = JobSortBy::kCreationTime;
  bool descending = true;
  size_t offset = 0;
  size_t limit = 100;
};

struct Tag {
  std::string key;
  std::string value;
};

// An AWS tag list ([{"Key": k, "Value": v}, ...], as requests carry it) as Tags.
inline std::vector<Tag> TagsOf(const nlohmann::json& tag_list) {
  std::vector<Tag> tags;
  if (!tag_list.is_array()) return tags;
  for (const auto& t : tag_list) tags.push_back({t.value("Key", ""), t.value("Value", "")});
  return tags;
}

class JobStore {
 public:
  virtual ~JobStore() = default;

  // AlreadyExists when a job of that kind and name exists.
  virtual Status CreateJob(const JobRecord& job) = 0;
  virtual StatusOr<JobRecord> GetJob(const std::string& kind, const std::string& name) = 0;
  // Replaces the stored document and indexed fields of an existing job.
  virtual Status UpdateJob(const JobRecord& job) = 0;
  // Removes a resource (models, endpoint configs and endpoints are deleted; jobs never are)
  // with its tags. NotFound when there is none.
  virtual Status DeleteJob(const std::string& kind, const std::string& name) = 0;
  // One page plus whether more rows follow.
  virtual StatusOr<std::pair<std::vector<JobRecord>, bool>> ListJobs(const JobListQuery& query) = 0;
  // Jobs of a kind whose status is one of `statuses`, oldest first (restart reconciliation).
  virtual StatusOr<std::vector<JobRecord>> JobsWithStatus(const std::string& kind,
                                                         const std::vector<std::string>& statuses) = 0;

  virtual Status AddTags(const std::string& arn, const std::vector<Tag>& tags) = 0;
  virtual StatusOr<std::vector<Tag>> ListTags(const std::string& arn) = 0;
  virtual Status DeleteTags(const std::string& arn, const std::vector<std::string>& keys) = 0;
  // Whether any job carries this ARN (tags may only be attached to existing resources).
  virtual StatusOr<bool> JobArnExists(const std::string& arn) = 0;
};

}  // namespace loam::jobs
