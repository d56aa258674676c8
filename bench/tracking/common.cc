#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fstream>
#include <numeric>
#include <sstream>

#include "bench.h"

namespace loam::bench {

void Check(const Status& s, const std::string& what) {
  if (!s.ok()) throw BenchError(what + ": " + s.ToString());
}

Latency Latency::Of(std::vector<double> ms) {
  Latency l;
  l.n = ms.size();
  if (ms.empty()) return l;
  std::sort(ms.begin(), ms.end());
  // Nearest-rank percentiles.
  auto rank = [&](double p) {
    size_t i = static_cast<size_t>(std::ceil(p * static_cast<double>(ms.size())));
    return ms[std::clamp<size_t>(i, 1, ms.size()) - 1];
  };
  l.p50 = rank(0.50);
  l.p90 = rank(0.90);
  l.p99 = rank(0.99);
  l.mean = std::accumulate(ms.begin(), ms.end(), 0.0) / static_cast<double>(ms.size());
  l.min = ms.front();
  l.max = ms.back();
  return l;
}

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

double Uniform01(uint64_t seed) { return static_cast<double>(Mix(seed) >> 11) * 0x1.0p-53; }

double CurveValue(uint64_t series, int key, int64_t step) {
  // A decaying loss with a per-key scale and a little noise: full-precision doubles, as
  // real training code logs them.
  double scale = 0.5 + 0.25 * key;
  double noise = Uniform01(Mix(series * 1315423911ULL + static_cast<uint64_t>(key)) ^ static_cast<uint64_t>(step)) - 0.5;
  return scale * std::exp(-static_cast<double>(step) / 20000.0) + 0.02 * noise;
}

const std::string& MetricKey(int k) {
  static const std::vector<std::string> kNames = [] {
    std::vector<std::string> v;
    for (int i = 0; i < kKeys; ++i) v.push_back("m" + std::to_string(i));
    return v;
  }();
  return kNames.at(static_cast<size_t>(k));
}

std::string Fixed(double v, int decimals) { return fmt::format("{:.{}f}", v, decimals); }

std::string Count(double v) {
  std::string digits = fmt::format("{:.0f}", v);
  std::string out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n && n % 3 == 0 && *it != '-') out += ',';
    out += *it;
    ++n;
  }
  return {out.rbegin(), out.rend()};
}

std::string Percent(double ratio) { return fmt::format("{:.0f}%", ratio * 100); }

// ---- raw SQLite --------------------------------------------------------------------------

RawDb::RawDb(const std::filesystem::path& path, bool read_only) {
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE) | SQLITE_OPEN_NOMUTEX;
  if (sqlite3_open_v2(path.c_str(), &db_, flags, nullptr) != SQLITE_OK) {
    std::string msg = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw BenchError("open " + path.string() + ": " + msg);
  }
  sqlite3_busy_timeout(db_, 10000);
  // The same pragmas as Loam's connections (src/store/sqlite/sqlite_db.cc).
  Exec("PRAGMA foreign_keys=ON; PRAGMA case_sensitive_like=ON; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;");
  if (!read_only) Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
}

RawDb::~RawDb() {
  for (auto* s : stmts_) sqlite3_finalize(s);
  sqlite3_close(db_);
}

void RawDb::Exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    throw BenchError("sqlite: " + msg + " in: " + sql);
  }
}

sqlite3_stmt* RawDb::Prepare(const std::string& sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
    throw BenchError("sqlite prepare: " + std::string(sqlite3_errmsg(db_)) + " in: " + sql);
  }
  stmts_.push_back(s);
  return s;
}

void RawDb::Done(sqlite3_stmt* s, int rc) {
  if (rc != SQLITE_DONE) throw BenchError("sqlite step: " + std::string(sqlite3_errmsg(db_)));
  sqlite3_reset(s);
}

// ---- processes and files -----------------------------------------------------------------

double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return -1;
  // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
  auto close = line.rfind(')');
  if (close == std::string::npos) return -1;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  double utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stod(field);
    if (i == 15) stime = std::stod(field);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double ProcessPeakRssMiB(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;  // kB
  }
  return -1;
}

std::filesystem::path FreshDir(const std::filesystem::path& p) {
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return std::filesystem::absolute(p);
}

// ---- report ------------------------------------------------------------------------------

Report::Table& Report::AddTable(std::string title, std::vector<std::string> header) {
  tables_.push_back({std::move(title), std::move(header), {}, {}});
  return tables_.back();
}

void Report::AddGoal(std::string name, std::string target, std::string measured, std::optional<bool> met) {
  goals_.push_back({std::move(name), std::move(target), std::move(measured), met});
}

std::string Report::Markdown() const {
  std::string out;
  auto row = [&](const std::vector<std::string>& cells) {
    out += '|';
    for (const auto& c : cells) out += " " + c + " |";
    out += '\n';
  };
  if (!goals_.empty()) {
    out += "### Goals\n\n";
    row({"Goal", "Target", "Measured", "Met"});
    row({"---", "---", "---", "---"});
    for (const auto& g : goals_) row({g.name, g.target, g.measured, !g.met ? "n/a" : *g.met ? "yes" : "**no**"});
    out += '\n';
  }
  for (const auto& t : tables_) {
    out += "### " + t.title + "\n\n";
    row(t.header);
    row(std::vector<std::string>(t.header.size(), "---"));
    for (const auto& r : t.rows) row(r);
    out += '\n';
    for (const auto& n : t.notes) out += n + "\n";
    if (!t.notes.empty()) out += '\n';
  }
  for (const auto& n : notes_) out += n + "\n";
  return out;
}

}  // namespace loam::bench
