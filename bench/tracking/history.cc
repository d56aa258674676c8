// 3. get-history of one long metric: the whole history in one response and the paginated
// form the MLflow client uses, against reading the same rows straight from SQLite.
#include <algorithm>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "bench.h"
#include "common/ids.h"
#include "common/strings.h"
#include "http_client.h"
#include "server_process.h"
#include "store/sqlite/sqlite_tracking_store.h"

namespace loam::bench {

namespace {

constexpr int64_t kT0 = 1'700'000'000'000;
const std::string kKey = "loss";

int64_t CountOccurrences(const std::string& s, std::string_view what) {
  int64_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

// The next_page_token of a get-history answer, or "" on the last page.
std::string NextPageToken(const std::string& body) {
  static constexpr std::string_view kField = "\"next_page_token\":\"";
  size_t p = body.rfind(kField);
  if (p == std::string::npos) return "";
  p += kField.size();
  size_t end = body.find('"', p);
  return body.substr(p, end - p);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Read {
  double seconds = 0;  // median over the repetitions
  int64_t points = 0;
  int64_t bytes = 0;
  int64_t pages = 0;
};

std::string Populate(const Options& o, const std::filesystem::path& db_path, Report::Table& t) {
  auto store = Check(sqlite::SqliteTrackingStore::Open({.path = db_path}), "open store");
  std::string exp = Check(store->CreateExperiment({.name = "bench-history", .now = kT0}), "create experiment");
  std::string run_id = NewUuidHex();
  Check(store->CreateRun({.experiment_id = exp, .run_name = "long-run", .start_time = kT0}, run_id), "create run");
  auto start = Clock::now();
  std::vector<tracking::Metric> batch;
  for (int64_t s = 0; s < o.points; ++s) {
    batch.push_back({kKey, CurveValue(7, 0, s), kT0 + s * 250, s});
    if (static_cast<int>(batch.size()) == 1000 || s + 1 == o.points) {
      Check(store->LogBatch(run_id, batch, {}, {}), "log batch");
      batch.clear();
    }
  }
  double seconds = SecondsSince(start);
  t.rows.push_back({"Populate in-process (LogBatch, 1000 points per call)", Count(o.points), Fixed(seconds, 2),
                    Count(o.points / seconds), "", ""});
  return run_id;
}

Read RawRead(const Options& o, const std::filesystem::path& db_path, const std::string& run_id) {
  RawDb db(db_path, true);
  sqlite3_stmt* s = db.Prepare(
      "SELECT value, timestamp, step, is_nan FROM metrics WHERE run_uuid = ? AND key = ? ORDER BY step, timestamp");
  struct Point {
    double value;
    int64_t timestamp, step;
    bool nan;
  };
  std::vector<double> times;
  Read r;
  for (int rep = 0; rep < o.reps; ++rep) {
    auto start = Clock::now();
    std::vector<Point> points;
    sqlite3_bind_text(s, 1, run_id.data(), static_cast<int>(run_id.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, kKey.data(), static_cast<int>(kKey.size()), SQLITE_STATIC);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      points.push_back({sqlite3_column_double(s, 0), sqlite3_column_int64(s, 1), sqlite3_column_int64(s, 2),
                        sqlite3_column_int64(s, 3) != 0});
    }
    db.Done(s, rc);
    times.push_back(SecondsSince(start));
    r.points = static_cast<int64_t>(points.size());
  }
  r.seconds = Median(times);
  return r;
}

Read FullOverHttp(const Options& o, HttpClient& client, const std::string& run_id) {
  std::string target = fmt::format("/api/2.0/mlflow/metrics/get-history?run_id={}&metric_key={}", run_id, kKey);
  std::vector<double> times;
  Read r;
  for (int rep = 0; rep < o.reps; ++rep) {
    auto start = Clock::now();
    std::string body = client.GetOk(target);
    times.push_back(SecondsSince(start));
    r.points = CountOccurrences(body, "\"step\"");
    r.bytes = static_cast<int64_t>(body.size());
    r.pages = 1;
  }
  r.seconds = Median(times);
  return r;
}

Read PagedOverHttp(const Options& o, HttpClient& client, const std::string& run_id) {
  std::string base = fmt::format("/api/2.0/mlflow/metrics/get-history?run_id={}&metric_key={}&max_results={}", run_id,
                                 kKey, o.page_size);
  std::vector<double> times;
  Read r;
  for (int rep = 0; rep < o.reps; ++rep) {
    double seconds = 0;  // requests only; counting points is the benchmark's own work
    r = Read{};
    std::string token;
    do {
      std::string target = token.empty() ? base : base + "&page_token=" + PercentEncode(token, /*keep_slash=*/false);
      auto start = Clock::now();
      std::string body = client.GetOk(target);
      token = NextPageToken(body);
      seconds += SecondsSince(start);
      r.points += CountOccurrences(body, "\"step\"");
      r.bytes += static_cast<int64_t>(body.size());
      ++r.pages;
      if (r.pages > o.points / std::max(1, o.page_size) + 2) throw BenchError("get-history pagination does not end");
    } while (!token.empty());
    times.push_back(seconds);
  }
  r.seconds = Median(times);
  return r;
}

}  // namespace

void RunHistory(const Options& o, Report& report) {
  auto dir = FreshDir(o.scratch / "history");
  auto& t = report.AddTable(fmt::format("3. get-history of one metric with {} points", Count(o.points)),
                            {"Path", "Points", "Seconds", "Points/s", "vs raw", "Details"});
  fmt::print("[history] logging {} points in-process...\n", Count(o.points));
  std::fflush(stdout);
  std::string run_id = Populate(o, dir / "loam.db", t);

  Read raw = RawRead(o, dir / "loam.db", run_id);
  fmt::print("[history] raw SQLite read: {:.3f} s\n", raw.seconds);
  Read full, paged;
  double rss = -1;
  {
    ServerProcess server(o.loam_binary, dir, o.server_threads);
    HttpClient client("127.0.0.1", server.port());
    full = FullOverHttp(o, client, run_id);
    fmt::print("[history] loam full history: {:.3f} s\n", full.seconds);
    std::fflush(stdout);
    paged = PagedOverHttp(o, client, run_id);
    fmt::print("[history] loam paginated ({} per page): {:.3f} s\n", o.page_size, paged.seconds);
    rss = ProcessPeakRssMiB(server.pid());
    server.Stop();
  }
  for (const Read* r : {&raw, &full, &paged}) {
    if (r->points != o.points) {
      throw BenchError(fmt::format("get-history check: expected {} points, got {}", o.points, r->points));
    }
  }
  double raw_rate = raw.points / raw.seconds;
  double full_rate = full.points / full.seconds, paged_rate = paged.points / paged.seconds;
  t.rows.push_back({"Loam, HTTP, whole history in one response", Count(full.points), Fixed(full.seconds, 3),
                    Count(full_rate), Percent(full_rate / raw_rate),
                    fmt::format("{:.1f} MB of JSON; server peak RSS {:.0f} MiB", full.bytes / 1e6, rss)});
  t.rows.push_back({fmt::format("Loam, HTTP, paginated (max_results={}, following next_page_token)", o.page_size),
                    Count(paged.points), Fixed(paged.seconds, 3), Count(paged_rate), Percent(paged_rate / raw_rate),
                    fmt::format("{} pages, {:.1f} MB of JSON", paged.pages, paged.bytes / 1e6)});
  t.rows.push_back({"Raw SQLite floor: SELECT ... ORDER BY step into a vector", Count(raw.points),
                    Fixed(raw.seconds, 3), Count(raw_rate), "100%", "same pragmas, read-only connection"});
  t.notes.push_back(fmt::format(
      "Median of {} repetitions. HTTP times run from sending the request to the last byte of the body; the client "
      "does not decode the JSON.",
      o.reps));
  report.AddGoal("get-history, whole history, Loam / raw SQLite", "(reported)", Percent(full_rate / raw_rate), std::nullopt);
  report.AddGoal("get-history, paginated, Loam / raw SQLite", "(reported)", Percent(paged_rate / raw_rate), std::nullopt);
}

}  // namespace loam::bench
