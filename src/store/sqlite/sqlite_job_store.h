// JobStore on SQLite: the same database file as tracking, its own connection (job writes are
// few and small; SQLite's busy timeout serialises them with tracking's writer).
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "jobs/job_store.h"
#include "store/sqlite/sqlite_db.h"

namespace loam::sqlite {

class SqliteJobStore final : public jobs::JobStore {
 public:
  // The schema must already be migrated (SqliteTrackingStore::Open does it).
  static StatusOr<std::unique_ptr<SqliteJobStore>> Open(const std::filesystem::path& path, Durability durability);

  Status CreateJob(const jobs::JobRecord& job) override;
  StatusOr<jobs::JobRecord> GetJob(const std::string& kind, const std::string& name) override;
  Status UpdateJob(const jobs::JobRecord& job) override;
  Status DeleteJob(const std::string& kind, const std::string& name) override;
  StatusOr<std::pair<std::vector<jobs::JobRecord>, bool>> ListJobs(const jobs::JobListQuery& query) override;
  StatusOr<std::vector<jobs::JobRecord>> JobsWithStatus(const std::string& kind,
                                                       const std::vector<std::string>& statuses) override;
  Status AddTags(const std::string& arn, const std::vector<jobs::Tag>& tags) override;
  StatusOr<std::vector<jobs::Tag>> ListTags(const std::string& arn) override;
  Status DeleteTags(const std::string& arn, const std::vector<std::string>& keys) override;
  StatusOr<bool> JobArnExists(const std::string& arn) override;

 private:
  explicit SqliteJobStore(std::unique_ptr<Connection> c) : conn_(std::move(c)) {}
  std::mutex mu_;
  std::unique_ptr<Connection> conn_;  // guarded by mu_
};

}  // namespace loam::sqlite
