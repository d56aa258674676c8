// HistoryStore on SQLite: the same database file as tracking and jobs, its own connection.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>

#include "store/sqlite/sqlite_db.h"
#include "workflows/history_store.h"

namespace loam::sqlite {

class SqliteHistoryStore final : public workflows::HistoryStore {
 public:
  // The schema must already be migrated (SqliteTrackingStore::Open does it).
  static StatusOr<std::unique_ptr<SqliteHistoryStore>> Open(const std::filesystem::path& path, Durability durability);

  Status Append(const std::string& execution_arn, const std::vector<workflows::HistoryEvent>& events) override;
  StatusOr<std::vector<workflows::HistoryEvent>> Read(const std::string& execution_arn, int64_t after_id, size_t limit,
                                                      bool reverse) override;

 private:
  explicit SqliteHistoryStore(std::unique_ptr<Connection> c) : conn_(std::move(c)) {}
  std::mutex mu_;
  std::unique_ptr<Connection> conn_;  // guarded by mu_
};

}  // namespace loam::sqlite
