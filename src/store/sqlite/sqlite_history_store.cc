#include "store/sqlite/sqlite_history_store.h"

#include <fmt/format.h>

#include <limits>

namespace loam::sqlite {

using workflows::HistoryEvent;

StatusOr<std::unique_ptr<SqliteHistoryStore>> SqliteHistoryStore::Open(const std::filesystem::path& path,
                                                                       Durability durability) {
  ASSIGN_OR_RETURN(auto c, Connection::Open(path, durability, false));
  return std::unique_ptr<SqliteHistoryStore>(new SqliteHistoryStore(std::move(c)));
}

Status SqliteHistoryStore::Append(const std::string& execution_arn, const std::vector<HistoryEvent>& events) {
  if (events.empty()) return Status::Ok();
  std::lock_guard lock(mu_);
  Transaction tx(*conn_);
  RETURN_IF_ERROR(tx.begin_status());
  ASSIGN_OR_RETURN(Statement * ins, conn_->Prepare(
      "INSERT INTO execution_events (execution_arn, id, previous_id, timestamp, type, details) VALUES (?, ?, ?, ?, ?, ?)"));
  for (const HistoryEvent& e : events) {
    RETURN_IF_ERROR(ins->Bind(1, execution_arn).Bind(2, e.id).Bind(3, e.previous_event_id).Bind(4, e.timestamp_ms)
                        .Bind(5, e.type).Bind(6, e.details.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace))
                        .Exec());
  }
  return tx.Commit();
}

StatusOr<std::vector<HistoryEvent>> SqliteHistoryStore::Read(const std::string& execution_arn, int64_t after_id, size_t limit,
                                                             bool reverse) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(Statement * s, conn_->Prepare(reverse
      ? "SELECT id, previous_id, timestamp, type, details FROM execution_events WHERE execution_arn = ? AND id < ? "
        "ORDER BY id DESC LIMIT ?"
      : "SELECT id, previous_id, timestamp, type, details FROM execution_events WHERE execution_arn = ? AND id > ? "
        "ORDER BY id LIMIT ?"));
  const int64_t bound = reverse && after_id <= 0 ? std::numeric_limits<int64_t>::max() : after_id;
  s->Bind(1, execution_arn).Bind(2, bound).Bind(3, static_cast<int64_t>(std::min<size_t>(limit, std::numeric_limits<int64_t>::max())));
  std::vector<HistoryEvent> out;
  Status status = Status::Ok();
  while (true) {
    auto row = s->Step();
    if (!row.ok()) {
      status = row.status();
      break;
    }
    if (!*row) break;
    HistoryEvent e;
    e.id = s->Int(0);
    e.previous_event_id = s->Int(1);
    e.timestamp_ms = s->Int(2);
    e.type = s->Text(3);
    e.details = nlohmann::json::parse(s->Text(4), nullptr, /*allow_exceptions=*/false);
    if (e.details.is_discarded()) {
      status = Internal(fmt::format("execution {} has a corrupt event {}", execution_arn, e.id));
      break;
    }
    out.push_back(std::move(e));
  }
  s->Reset();
  if (!status.ok()) return status;
  return out;
}

}  // namespace loam::sqlite
