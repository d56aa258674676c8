// A thin, exception-free wrapper over the SQLite C API: connections with Loam's pragmas,
// cached prepared statements and RAII transactions. Not thread-safe: one thread uses a
// Connection at a time (the store's pool hands them out).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "common/status.h"

namespace loam::sqlite {

enum class Durability {
  kNormal,  // WAL + synchronous=NORMAL: survives a crash or kill of the process
  kFull,    // WAL + synchronous=FULL: also survives power loss, at an fsync per commit
};

class Statement {
 public:
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement() { Reset(); }

  Statement& Bind(int index, int64_t v) { sqlite3_bind_int64(stmt_, index, v); return *this; }
  Statement& Bind(int index, int v) { sqlite3_bind_int64(stmt_, index, v); return *this; }
  Statement& Bind(int index, double v) { sqlite3_bind_double(stmt_, index, v); return *this; }
  Statement& Bind(int index, std::string_view v) {
    sqlite3_bind_text(stmt_, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Statement& Bind(int index, const std::string& v) { return Bind(index, std::string_view(v)); }
  Statement& Bind(int index, const char* v) { return Bind(index, std::string_view(v)); }
  Statement& BindNull(int index) { sqlite3_bind_null(stmt_, index); return *this; }
  template <typename T>
  Statement& Bind(int index, const std::optional<T>& v) {
    if (v) return Bind(index, *v);
    return BindNull(index);
  }

  // Returns true while a row is available; false when done. Errors become a Status.
  StatusOr<bool> Step();
  // Runs to completion, ignoring rows.
  Status Exec();

  int64_t Int(int col) const { return sqlite3_column_int64(stmt_, col); }
  double Double(int col) const { return sqlite3_column_double(stmt_, col); }
  bool IsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string Text(int col) const {
    auto p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
    return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
  }
  std::optional<int64_t> OptInt(int col) const { return IsNull(col) ? std::nullopt : std::optional<int64_t>(Int(col)); }

  void Reset() {
    if (stmt_) {
      sqlite3_reset(stmt_);
      sqlite3_clear_bindings(stmt_);
    }
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  static StatusOr<std::unique_ptr<Connection>> Open(const std::filesystem::path& path, Durability durability,
                                                    bool read_only);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // A cached prepared statement, reset and unbound. One user of a given SQL text at a time.
  StatusOr<Statement*> Prepare(const std::string& sql);
  Status Exec(const std::string& sql);  // for scripts without parameters
  int64_t Changes() const { return sqlite3_changes64(db_); }
  sqlite3* raw() { return db_; }
  Status Error(const std::string& context) const;

 private:
  explicit Connection(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::unordered_map<std::string, std::pair<sqlite3_stmt*, std::unique_ptr<Statement>>> cache_;
};

// BEGIN IMMEDIATE on construction; ROLLBACK on destruction unless Commit() succeeded.
class Transaction {
 public:
  explicit Transaction(Connection& c);
  ~Transaction();
  Status begin_status() const { return begin_; }
  Status Commit();

 private:
  Connection& c_;
  Status begin_;
  bool done_ = false;
};

}  // namespace loam::sqlite
