#include "store/sqlite/sqlite_db.h"

namespace loam::sqlite {

StatusOr<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if (rc == SQLITE_CONSTRAINT) return AlreadyExists(sqlite3_errmsg(db_));
  return Internal(std::string("sqlite: ") + sqlite3_errmsg(db_));
}

Status Statement::Exec() {
  while (true) {
    ASSIGN_OR_RETURN(bool row, Step());
    if (!row) break;
  }
  Reset();
  return Status::Ok();
}

StatusOr<std::unique_ptr<Connection>> Connection::Open(const std::filesystem::path& path, Durability durability,
                                                       bool read_only) {
  sqlite3* db = nullptr;
  int flags = (read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)) | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    if (db) sqlite3_close(db);
    return Internal("cannot open database " + path.string() + ": " + msg);
  }
  std::unique_ptr<Connection> conn(new Connection(db));
  sqlite3_busy_timeout(db, 10000);
  std::string pragmas = "PRAGMA foreign_keys=ON; PRAGMA case_sensitive_like=ON; PRAGMA temp_store=MEMORY;"
                        "PRAGMA cache_size=-65536; PRAGMA mmap_size=1073741824; PRAGMA analysis_limit=1000;";
  if (!read_only) {
    pragmas += "PRAGMA journal_mode=WAL;";
    pragmas += durability == Durability::kFull ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=NORMAL;";
  }
  RETURN_IF_ERROR(conn->Exec(pragmas));
  return conn;
}

Connection::~Connection() {
  cache_.clear();
  sqlite3_stmt* s = nullptr;
  while ((s = sqlite3_next_stmt(db_, nullptr)) != nullptr) sqlite3_finalize(s);
  sqlite3_close(db_);
}

StatusOr<Statement*> Connection::Prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) {
    it->second.second->Reset();
    return it->second.second.get();
  }
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) return Internal("sqlite prepare: " + std::string(sqlite3_errmsg(db_)) + " in: " + sql);
  auto wrapper = std::make_unique<Statement>(db_, stmt);
  Statement* raw = wrapper.get();
  cache_.emplace(sql, std::make_pair(stmt, std::move(wrapper)));
  return raw;
}

Status Connection::Exec(const std::string& sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Internal("sqlite: " + msg);
  }
  return Status::Ok();
}

Status Connection::Error(const std::string& context) const {
  return Internal(context + ": " + sqlite3_errmsg(db_));
}

Transaction::Transaction(Connection& c) : c_(c) { begin_ = c_.Exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
  if (begin_.ok() && !done_) (void)c_.Exec("ROLLBACK");
}

Status Transaction::Commit() {
  RETURN_IF_ERROR(begin_);
  Status s = c_.Exec("COMMIT");
  if (s.ok()) done_ = true;
  return s;
}

}  // namespace loam::sqlite
