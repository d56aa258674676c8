// loam_bench_tracking: the tracking benchmark (docs/benchmarks.md). Runs the three phases
// side by side against the real `loam server` and the raw-SQLite floor, prints markdown.
//   loam_bench_tracking --loam build/loam --scratch build/bench-data [--quick] [--markdown-out F]
#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <fstream>
#include <iostream>

#include "bench.h"
#include "common/strings.h"

namespace lb = loam::bench;

int main(int argc, char** argv) {
  lb::Options o;
  std::string only = "ingest,search,history";
  CLI::App app{"Loam tracking benchmark: log-batch ingest, search-runs and get-history, against raw SQLite"};
  app.add_option("--loam", o.loam_binary, "Path of the loam binary to start")->check(CLI::ExistingFile);
  app.add_option("--scratch", o.scratch, "Scratch directory for data dirs (emptied per phase)");
  app.add_option("--markdown-out", o.markdown_out, "Also write the results tables (markdown) to this file");
  app.add_flag("--quick", o.quick, "Smoke run with tiny sizes (explicit size flags still win)");
  app.add_option("--only", only, "Comma-separated phases to run: ingest, search, history");
  app.add_option("--server-threads", o.server_threads, "--threads for loam server (default: its own default)");
  app.add_option("--clients", o.clients, "Ingest: concurrent clients, one run and one connection each")
      ->check(CLI::Range(1, 256));
  app.add_option("--batches", o.batches, "Ingest: log-batch requests per client")->check(CLI::Range(1, 1'000'000));
  app.add_option("--batch-size", o.batch_size, "Ingest: metrics per request (multiple of 10, at most 1000)")
      ->check(CLI::Range(10, 1000));
  app.add_option("--runs", o.runs, "Search: runs in the experiment")->check(CLI::Range(1, 10'000'000));
  app.add_option("--queries", o.queries, "Search: timed queries per variant")->check(CLI::Range(1, 1'000'000));
  app.add_option("--warmup", o.warmup, "Search: untimed warm-up queries per variant")->check(CLI::Range(0, 1'000'000));
  app.add_option("--points", o.points, "History: points of the long metric")->check(CLI::Range(int64_t{1}, int64_t{1} << 40));
  app.add_option("--page-size", o.page_size, "History: max_results per page of the paginated read")
      ->check(CLI::Range(1, 1'000'000));
  app.add_option("--reps", o.reps, "History: repetitions of each read (median reported)")->check(CLI::Range(1, 100));
  CLI11_PARSE(app, argc, argv);

  if (o.quick) {
    auto quick = [&](const char* flag, auto& field, auto value) {
      if (app.count(flag) == 0) field = value;
    };
    quick("--batches", o.batches, 5);
    quick("--runs", o.runs, 2000);
    quick("--queries", o.queries, 20);
    quick("--warmup", o.warmup, 3);
    quick("--points", o.points, int64_t{20'000});
    quick("--page-size", o.page_size, 5000);
    quick("--reps", o.reps, 1);
  }
  o.run_ingest = o.run_search = o.run_history = false;
  for (const auto& phase : loam::Split(only, ',')) {
    if (phase == "ingest") o.run_ingest = true;
    else if (phase == "search") o.run_search = true;
    else if (phase == "history") o.run_history = true;
    else {
      std::cerr << "unknown phase '" << phase << "' in --only\n";
      return 2;
    }
  }
  o.loam_binary = std::filesystem::absolute(o.loam_binary).string();
  o.scratch = std::filesystem::absolute(o.scratch);

  lb::Report report;
  auto start = lb::Clock::now();
  try {
    if (o.run_ingest) lb::RunIngest(o, report);
    if (o.run_search) lb::RunSearch(o, report);
    if (o.run_history) lb::RunHistory(o, report);
  } catch (const std::exception& e) {
    std::cerr << "benchmark failed: " << e.what() << "\n";
    return 1;
  }
  report.AddNote(fmt::format(
      "Sizes: ingest {} clients x {} batches x {} metrics; search {} runs, {} queries per variant after {} warm-up; "
      "history {} points, page size {}, {} repetitions{}. SQLite {}. Benchmark wall time {:.0f} s.",
      o.clients, o.batches, o.batch_size, lb::Count(o.runs), o.queries, o.warmup, lb::Count(double(o.points)),
      o.page_size, o.reps, o.quick ? " (--quick)" : "", sqlite3_libversion(), lb::SecondsSince(start)));

  std::string md = report.Markdown();
  std::cout << "\n" << md;
  if (!o.markdown_out.empty()) {
    std::ofstream out(o.markdown_out);
    out << md;
    if (!out) {
      std::cerr << "cannot write " << o.markdown_out << "\n";
      return 1;
    }
  }
  return 0;
}
