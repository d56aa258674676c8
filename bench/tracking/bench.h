// The tracking benchmark: options, the report it fills, the three phases and the helpers
// they share (deterministic data, timing, SQLite access that bypasses Loam).
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/status.h"

namespace loam::bench {

struct Options {
  std::string loam_binary = "build/loam";
  std::filesystem::path scratch = "build/bench-data";
  std::string markdown_out;  // where the results tables go (markdown); empty: stdout only
  bool quick = false;
  bool run_ingest = true, run_search = true, run_history = true;
  int server_threads = 0;  // 0: the server's default

  // 1. log-batch ingest
  int clients = 8;
  int batches = 200;       // per client
  int batch_size = 1000;   // metrics per log-batch request (10 keys x batch_size/10 steps)
  // 2. search-runs
  int runs = 100'000;
  int queries = 200;       // timed queries per variant
  int warmup = 20;         // untimed queries per variant
  // 3. get-history
  int64_t points = 1'000'000;
  int page_size = 25'000;  // what the MLflow client asks for per page
  int reps = 3;            // repetitions of each history read; the median is reported
};

// What the run found, rendered as markdown tables (stdout and docs/benchmarks.md).
class Report {
 public:
  struct Table {
    std::string title;
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
    std::vector<std::string> notes;
  };
  Table& AddTable(std::string title, std::vector<std::string> header);
  // met: nullopt for a figure the issue asks to report without a target.
  void AddGoal(std::string name, std::string target, std::string measured, std::optional<bool> met);
  void AddNote(std::string note) { notes_.push_back(std::move(note)); }
  std::string Markdown() const;

 private:
  struct Goal {
    std::string name, target, measured;
    std::optional<bool> met;
  };
  std::vector<Table> tables_;
  std::vector<Goal> goals_;
  std::vector<std::string> notes_;
};

void RunIngest(const Options& o, Report& report);
void RunSearch(const Options& o, Report& report);
void RunHistory(const Options& o, Report& report);

// ---- helpers ------------------------------------------------------------------------------

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(const Status& s, const std::string& what);
template <typename T>
T Check(StatusOr<T> s, const std::string& what) {
  Check(s.status(), what);
  return std::move(s).value();
}

using Clock = std::chrono::steady_clock;
inline double SecondsSince(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Latency distribution of a series of timings in milliseconds.
struct Latency {
  size_t n = 0;
  double p50 = 0, p90 = 0, p99 = 0, mean = 0, min = 0, max = 0;
  static Latency Of(std::vector<double> ms);
};

// Deterministic pseudo-random numbers: the same rows for the HTTP run and the SQLite floor.
uint64_t Mix(uint64_t x);
double Uniform01(uint64_t seed);  // [0, 1)
// A training-curve-like value for metric `key` (0..9) of `series` at `step`.
double CurveValue(uint64_t series, int key, int64_t step);
const std::string& MetricKey(int k);  // "m0".."m9"
inline constexpr int kKeys = 10;

// Formatting for the report.
std::string Fixed(double v, int decimals);
std::string Count(double v);  // 1234567 -> "1,234,567"
std::string Percent(double ratio);

// A connection with Loam's pragmas (sqlite_db.cc), outside Loam: the floor the server is
// compared against.
class RawDb {
 public:
  RawDb(const std::filesystem::path& path, bool read_only);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;
  sqlite3* get() const { return db_; }
  void Exec(const std::string& sql);
  sqlite3_stmt* Prepare(const std::string& sql);  // finalised by the destructor
  void Done(sqlite3_stmt* s, int rc);             // expects SQLITE_DONE, then resets

 private:
  sqlite3* db_ = nullptr;
  std::vector<sqlite3_stmt*> stmts_;
};

// User + system CPU seconds a process has used so far (from /proc), or -1.
double ProcessCpuSeconds(int pid);
// Peak resident set (VmHWM) of a process in MiB, or -1.
double ProcessPeakRssMiB(int pid);

// A fresh, empty directory (removed first when it exists).
std::filesystem::path FreshDir(const std::filesystem::path& p);

}  // namespace loam::bench
