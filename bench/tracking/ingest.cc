// 1. log-batch ingest: N clients, each on its own keep-alive connection and its own run,
// POST /runs/log-batch with batch_size metrics per request; against the floor of the same
// rows inserted straight into SQLite (one transaction per batch).
#include <charconv>
#include <fmt/format.h>
#include <latch>
#include <nlohmann/json.hpp>
#include <thread>

#include "bench.h"
#include "common/ids.h"
#include "http_client.h"
#include "server_process.h"
#include "store/sqlite/sqlite_tracking_store.h"

namespace loam::bench {

namespace {

constexpr std::string_view kApi = "/api/2.0/mlflow";
constexpr int64_t kT0 = 1'700'000'000'000;  // ms; timestamps of logged points

int64_t StepsPerBatch(const Options& o) { return o.batch_size / kKeys; }
int64_t Timestamp(int client, int64_t step) { return kT0 + step * 250 + client; }

void AppendNumber(std::string& out, auto v) {
  char buf[32];
  auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, p);
}

// The log-batch body of batch `b` of `client`: steps in order, every key at every step,
// as a training loop flushing its metric buffer would send them.
std::string BatchBody(const Options& o, int client, const std::string& run_id, int b) {
  std::string out;
  out.reserve(static_cast<size_t>(o.batch_size) * 80 + 64);
  out += R"({"run_id":")" + run_id + R"(","metrics":[)";
  int64_t first = b * StepsPerBatch(o);
  bool comma = false;
  for (int64_t s = first; s < first + StepsPerBatch(o); ++s) {
    for (int k = 0; k < kKeys; ++k) {
      if (comma) out += ',';
      comma = true;
      out += R"({"key":")" + MetricKey(k) + R"(","value":)";
      AppendNumber(out, CurveValue(static_cast<uint64_t>(client), k, s));
      out += R"(,"timestamp":)";
      AppendNumber(out, Timestamp(client, s));
      out += R"(,"step":)";
      AppendNumber(out, s);
      out += '}';
    }
  }
  out += "]}";
  return out;
}

struct IngestResult {
  double seconds = 0;
  int64_t metrics = 0;
  Latency request_ms;
  double server_cpu_s = -1;
  double server_rss_mib = -1;
};

IngestResult IngestOverHttp(const Options& o) {
  auto dir = FreshDir(o.scratch / "ingest-loam");
  ServerProcess server(o.loam_binary, dir, o.server_threads);
  HttpClient setup("127.0.0.1", server.port());
  auto exp = nlohmann::json::parse(setup.PostOk(std::string(kApi) + "/experiments/create", R"({"name":"bench-ingest"})"));
  std::string experiment_id = exp.at("experiment_id").get<std::string>();
  std::vector<std::string> run_ids;
  for (int c = 0; c < o.clients; ++c) {
    nlohmann::json req = {{"experiment_id", experiment_id}, {"run_name", fmt::format("ingest-client-{}", c)},
                          {"start_time", kT0}};
    auto run = nlohmann::json::parse(setup.PostOk(std::string(kApi) + "/runs/create", req.dump()));
    run_ids.push_back(run.at("run").at("info").at("run_id").get<std::string>());
  }

  // Bodies are built before the clock starts: the client's JSON encoding is not Loam's cost.
  std::vector<std::vector<std::string>> bodies(static_cast<size_t>(o.clients));
  for (int c = 0; c < o.clients; ++c) {
    for (int b = 0; b < o.batches; ++b) bodies[c].push_back(BatchBody(o, c, run_ids[c], b));
  }

  std::latch ready(o.clients), go(1);
  std::vector<std::string> errors(static_cast<size_t>(o.clients));
  std::vector<std::vector<double>> latencies(static_cast<size_t>(o.clients));
  std::vector<std::thread> threads;
  const std::string target = std::string(kApi) + "/runs/log-batch";
  for (int c = 0; c < o.clients; ++c) {
    threads.emplace_back([&, c] {
      std::unique_ptr<HttpClient> client;
      try {
        client = std::make_unique<HttpClient>("127.0.0.1", server.port());
      } catch (const std::exception& e) {
        errors[c] = e.what();
      }
      ready.count_down();
      go.wait();
      if (!client) return;
      try {
        for (auto& body : bodies[c]) {
          auto start = Clock::now();
          HttpResponse r = client->Post(target, body);
          latencies[c].push_back(SecondsSince(start) * 1000);
          if (r.status != 200) throw BenchError("log-batch -> " + std::to_string(r.status) + ": " + r.body.substr(0, 300));
        }
      } catch (const std::exception& e) {
        errors[c] = e.what();
      }
    });
  }
  ready.wait();
  double cpu_before = ProcessCpuSeconds(server.pid());
  auto start = Clock::now();
  go.count_down();
  for (auto& t : threads) t.join();
  IngestResult res;
  res.seconds = SecondsSince(start);
  double cpu_after = ProcessCpuSeconds(server.pid());
  if (cpu_before >= 0 && cpu_after >= 0) res.server_cpu_s = cpu_after - cpu_before;
  res.server_rss_mib = ProcessPeakRssMiB(server.pid());
  for (const auto& e : errors) {
    if (!e.empty()) throw BenchError("ingest client failed: " + e);
  }
  res.metrics = static_cast<int64_t>(o.clients) * o.batches * o.batch_size;
  std::vector<double> all;
  for (const auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  res.request_ms = Latency::Of(std::move(all));

  // Everything landed: one key's full history of the last client has every step.
  std::string history = setup.GetOk(fmt::format("{}/metrics/get-history?run_id={}&metric_key={}", kApi,
                                                run_ids.back(), MetricKey(kKeys - 1)));
  int64_t points = 0;
  for (size_t p = history.find("\"step\""); p != std::string::npos; p = history.find("\"step\"", p + 1)) ++points;
  if (points != static_cast<int64_t>(o.batches) * StepsPerBatch(o)) {
    throw BenchError(fmt::format("ingest check: expected {} points, got {}", o.batches * StepsPerBatch(o), points));
  }
  server.Stop();
  return res;
}

IngestResult IngestRawSqlite(const Options& o) {
  auto dir = FreshDir(o.scratch / "ingest-raw");
  auto path = dir / "loam.db";
  std::vector<std::string> run_ids;
  {
    // Loam's schema, applied by Loam's migrations; the runs exist for the foreign keys.
    auto store = Check(sqlite::SqliteTrackingStore::Open({.path = path}), "open store");
    std::string exp = Check(store->CreateExperiment({.name = "bench-ingest-raw", .now = kT0}), "create experiment");
    for (int c = 0; c < o.clients; ++c) {
      run_ids.push_back(NewUuidHex());
      Check(store->CreateRun({.experiment_id = exp, .run_name = fmt::format("raw-{}", c), .start_time = kT0},
                             run_ids.back()),
            "create run");
    }
  }
  RawDb db(path, false);
  // The same statements as SqliteTrackingStore::LogBatch.
  sqlite3_stmt* ins = db.Prepare(
      "INSERT INTO metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, ?)");
  sqlite3_stmt* up = db.Prepare(
      "INSERT INTO latest_metrics (run_uuid, key, value, timestamp, step, is_nan) VALUES (?, ?, ?, ?, ?, ?) "
      "ON CONFLICT (run_uuid, key) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp, "
      "step = excluded.step, is_nan = excluded.is_nan "
      "WHERE (excluded.step, excluded.timestamp, excluded.value) >= (latest_metrics.step, latest_metrics.timestamp, "
      "latest_metrics.value)");
  auto bind = [](sqlite3_stmt* s, const std::string& run, int k, double v, int64_t ts, int64_t step) {
    sqlite3_bind_text(s, 1, run.data(), static_cast<int>(run.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, MetricKey(k).data(), static_cast<int>(MetricKey(k).size()), SQLITE_STATIC);
    sqlite3_bind_double(s, 3, v);
    sqlite3_bind_int64(s, 4, ts);
    sqlite3_bind_int64(s, 5, step);
    sqlite3_bind_int64(s, 6, 0);
  };

  auto start = Clock::now();
  // Batches in the order the server sees them with all clients busy: round robin.
  for (int b = 0; b < o.batches; ++b) {
    for (int c = 0; c < o.clients; ++c) {
      const std::string& run = run_ids[c];
      db.Exec("BEGIN IMMEDIATE");
      int64_t first = b * StepsPerBatch(o), last = first + StepsPerBatch(o) - 1;
      for (int64_t s = first; s <= last; ++s) {
        for (int k = 0; k < kKeys; ++k) {
          bind(ins, run, k, CurveValue(static_cast<uint64_t>(c), k, s), Timestamp(c, s), s);
          db.Done(ins, sqlite3_step(ins));
        }
      }
      for (int k = 0; k < kKeys; ++k) {
        bind(up, run, k, CurveValue(static_cast<uint64_t>(c), k, last), Timestamp(c, last), last);
        db.Done(up, sqlite3_step(up));
      }
      db.Exec("COMMIT");
    }
  }
  IngestResult res;
  res.seconds = SecondsSince(start);
  res.metrics = static_cast<int64_t>(o.clients) * o.batches * o.batch_size;

  sqlite3_stmt* count = db.Prepare("SELECT COUNT(*) FROM metrics");
  if (sqlite3_step(count) != SQLITE_ROW || sqlite3_column_int64(count, 0) != res.metrics) {
    throw BenchError("raw ingest check: wrong row count");
  }
  sqlite3_reset(count);
  return res;
}

}  // namespace

void RunIngest(const Options& o, Report& report) {
  if (o.batch_size % kKeys != 0) throw BenchError("--batch-size must be a multiple of 10");
  fmt::print("[ingest] raw SQLite floor: {} rows...\n", Count(double(o.clients) * o.batches * o.batch_size));
  std::fflush(stdout);
  IngestResult raw = IngestRawSqlite(o);
  fmt::print("[ingest] raw: {:.2f} s, {} metrics/s\n", raw.seconds, Count(raw.metrics / raw.seconds));
  fmt::print("[ingest] loam over HTTP: {} clients x {} batches x {} metrics...\n", o.clients, o.batches, o.batch_size);
  std::fflush(stdout);
  IngestResult loam = IngestOverHttp(o);
  fmt::print("[ingest] loam: {:.2f} s, {} metrics/s\n", loam.seconds, Count(loam.metrics / loam.seconds));

  double loam_rate = loam.metrics / loam.seconds, raw_rate = raw.metrics / raw.seconds;
  double ratio = loam_rate / raw_rate;
  auto& t = report.AddTable("1. log-batch ingest",
                            {"Path", "Metrics", "Seconds", "Metrics/s", "Details"});
  t.rows.push_back({fmt::format("Loam, HTTP log-batch, {} clients x {} batches x {}", o.clients, o.batches,
                                o.batch_size),
                    Count(loam.metrics), Fixed(loam.seconds, 2), Count(loam_rate),
                    fmt::format("request p50 {:.1f} ms, p99 {:.1f} ms; server CPU {:.1f} s ({:.1f} µs/metric), "
                                "peak RSS {:.0f} MiB",
                                loam.request_ms.p50, loam.request_ms.p99, loam.server_cpu_s,
                                loam.server_cpu_s * 1e6 / static_cast<double>(loam.metrics), loam.server_rss_mib)});
  t.rows.push_back({"Raw SQLite floor, 1 thread, 1 transaction per batch", Count(raw.metrics), Fixed(raw.seconds, 2),
                    Count(raw_rate), "prepared INSERT per row + latest_metrics upsert per key"});
  t.rows.push_back({"**Ratio Loam / raw**", "", "", "**" + Percent(ratio) + "**", ""});
  t.notes.push_back(
      "Request bodies are built before the clock starts; the clients run on the same machine as the server.");
  report.AddGoal("log-batch ingest, Loam / raw SQLite", ">= 30%", Percent(ratio), ratio >= 0.30);
}

}  // namespace loam::bench
