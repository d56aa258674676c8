// The SQLite tracking store against a real database file.
#include "store/sqlite/sqlite_tracking_store.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <fmt/format.h>
#include <set>

#include "test_util.h"

namespace loam::sqlite {
namespace {

using namespace tracking;

class SqliteStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = SqliteTrackingStore::Open({.path = dir_.path() / "loam.db"});
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  std::string NewExperiment(const std::string& name) {
    auto id = store_->CreateExperiment({name, "", {}, 1000});
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return *id;
  }

  std::string NewRun(const std::string& experiment_id, const std::string& id, int64_t start = 1) {
    auto r = store_->CreateRun({experiment_id, "run-" + id, "alice", start, {}}, id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return id;
  }

  testing::ScratchDir dir_;
  std::unique_ptr<SqliteTrackingStore> store_;
};

TEST_F(SqliteStoreTest, DefaultExperimentExists) {
  auto e = store_->GetExperiment("0");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->name, "Default");
  EXPECT_EQ(e->artifact_location, "mlflow-artifacts:/0");
}

TEST_F(SqliteStoreTest, ExperimentNamesAreUniqueAndLocationsDerived) {
  std::string id = NewExperiment("exp");
  EXPECT_EQ(id, "1");
  EXPECT_EQ(store_->GetExperiment(id)->artifact_location, "mlflow-artifacts:/1");
  EXPECT_EQ(store_->CreateExperiment({"exp", "", {}, 1}).status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->GetExperiment("99").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetExperiment("abc").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->GetExperimentByName("exp")->experiment_id, id);
}

TEST_F(SqliteStoreTest, DeletingAnExperimentDeletesItsRunsAndRestoreBringsThemBack) {
  std::string e = NewExperiment("e");
  NewRun(e, "r1");
  ASSERT_TRUE(store_->SetExperimentLifecycle(e, LifecycleStage::kDeleted, 5).ok());
  EXPECT_EQ(store_->GetRun("r1")->info.lifecycle_stage, LifecycleStage::kDeleted);
  EXPECT_EQ(store_->SetExperimentLifecycle(e, LifecycleStage::kDeleted, 6).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->CreateRun({e, "x", "", 1, {}}, "r2").status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(store_->SetExperimentLifecycle(e, LifecycleStage::kActive, 7).ok());
  EXPECT_EQ(store_->GetRun("r1")->info.lifecycle_stage, LifecycleStage::kActive);
}

TEST_F(SqliteStoreTest, RunCarriesNameTagAndArtifactUri) {
  std::string e = NewExperiment("e");
  auto run = store_->GetRun(NewRun(e, "abc"));
  ASSERT_TRUE(run.ok());
  EXPECT_EQ(run->info.artifact_uri, "mlflow-artifacts:/1/abc/artifacts");
  ASSERT_EQ(run->tags.size(), 1u);
  EXPECT_EQ(run->tags[0].key, "mlflow.runName");
  EXPECT_EQ(run->tags[0].value, "run-abc");
  ASSERT_TRUE(store_->LogBatch("abc", {}, {}, {{"mlflow.runName", "renamed"}}).ok());
  EXPECT_EQ(store_->GetRun("abc")->info.run_name, "renamed");
}

TEST_F(SqliteStoreTest, LogBatchIsAtomicWhenAParamChanges) {
  std::string e = NewExperiment("e");
  NewRun(e, "r");
  ASSERT_TRUE(store_->LogBatch("r", {}, {{"lr", "0.1"}}, {}).ok());
  ASSERT_TRUE(store_->LogBatch("r", {}, {{"lr", "0.1"}}, {}).ok());  // same value again is fine
  auto s = store_->LogBatch("r", {{"loss", 1.0, 1, 0}}, {{"lr", "0.2"}}, {{"t", "v"}});
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("Changing param values is not allowed"), std::string::npos);
  auto run = store_->GetRun("r");
  EXPECT_TRUE(run->metrics.empty());
  EXPECT_EQ(run->tags.size(), 1u);  // only mlflow.runName
  EXPECT_EQ(run->params[0].value, "0.1");
}

TEST_F(SqliteStoreTest, LatestMetricIsOrderedByStepThenTimestampThenValue) {
  std::string e = NewExperiment("e");
  NewRun(e, "r");
  ASSERT_TRUE(store_->LogBatch("r", {{"m", 5.0, 10, 5}}, {}, {}).ok());
  ASSERT_TRUE(store_->LogBatch("r", {{"m", 3.0, 20, 3}}, {}, {}).ok());  // earlier step, later time
  EXPECT_DOUBLE_EQ(store_->GetRun("r")->metrics[0].value, 5.0);
  ASSERT_TRUE(store_->LogBatch("r", {{"m", 7.0, 5, 5}, {"m", 8.0, 11, 5}}, {}, {}).ok());
  EXPECT_DOUBLE_EQ(store_->GetRun("r")->metrics[0].value, 8.0);
  ASSERT_TRUE(store_->LogBatch("r", {{"nan", std::nan(""), 1, 0}}, {}, {}).ok());
  auto run = store_->GetRun("r");
  ASSERT_EQ(run->metrics.size(), 2u);
  EXPECT_TRUE(std::isnan(run->metrics[1].value));
}

TEST_F(SqliteStoreTest, WritesToADeletedRunAreRefused) {
  std::string e = NewExperiment("e");
  NewRun(e, "r");
  ASSERT_TRUE(store_->SetRunLifecycle("r", LifecycleStage::kDeleted, 9).ok());
  auto s = store_->LogBatch("r", {{"m", 1, 1, 0}}, {}, {});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("must be in the 'active' state"), std::string::npos);
  EXPECT_EQ(store_->LogBatch("missing", {}, {}, {}).code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, SearchFiltersOrdersAndPages) {
  std::string e = NewExperiment("e");
  for (int i = 0; i < 25; ++i) {
    std::string id = "run" + std::to_string(100 + i);
    NewRun(e, id, 1000 + i);
    std::vector<Metric> metrics = {{"loss", 1.0 / (i + 1), 1, 0}};
    std::vector<Param> params = {{"parity", i % 2 ? "odd" : "even"}};
    if (i % 5 == 0) metrics.clear();  // some runs lack the metric: they sort last
    ASSERT_TRUE(store_->LogBatch(id, metrics, params, {{"team", i < 10 ? "Vision" : "nlp"}}).ok());
  }
  RunQuery q;
  q.experiment_ids = {e};
  q.filter = *ParseRunFilter("params.parity = 'odd' AND metrics.loss < 0.5");
  q.order_by = {*ParseRunOrderBy("metrics.loss ASC")};
  q.max_results = 100;
  auto page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_FALSE(page->runs.empty());
  for (size_t i = 1; i < page->runs.size(); ++i) {
    EXPECT_LE(page->runs[i - 1].metrics[0].value, page->runs[i].metrics[0].value);
  }
  for (const auto& r : page->runs) EXPECT_EQ(r.params[0].value, "odd");

  q.filter = *ParseRunFilter("tags.team ILIKE 'vis%'");
  q.order_by = {*ParseRunOrderBy("metrics.loss DESC")};
  page = store_->SearchRuns(q);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->runs.size(), 10u);
  EXPECT_TRUE(page->runs.back().metrics.empty());  // missing metric sorts last

  q.filter = *ParseRunFilter("tags.team LIKE 'vis%'");  // LIKE is case-sensitive
  EXPECT_TRUE(store_->SearchRuns(q)->runs.empty());

  // Pages of 7 visit every run exactly once, default order start_time DESC.
  q.filter = {};
  q.order_by = {};
  q.max_results = 7;
  std::set<std::string> seen;
  int64_t last_start = std::numeric_limits<int64_t>::max();
  for (q.offset = 0;; q.offset += 7) {
    auto p = store_->SearchRuns(q);
    ASSERT_TRUE(p.ok());
    for (const auto& r : p->runs) {
      EXPECT_TRUE(seen.insert(r.info.run_id).second);
      EXPECT_LT(*r.info.start_time, last_start);
      last_start = *r.info.start_time;
    }
    if (!p->has_more) break;
  }
  EXPECT_EQ(seen.size(), 25u);
}

// Ordering by a metric with no filter walks the metric index; with a filter the planner
// joins. Both must give MLflow's order: numbers, then NaN, then missing, pages exact.
TEST_F(SqliteStoreTest, MetricOrderPutsNanThenMissingLastAcrossPages) {
  std::string e = NewExperiment("e");
  std::vector<std::string> numbers, nans, missing;  // expected order within each group
  for (int i = 0; i < 23; ++i) {
    std::string id = fmt::format("run{:02}", i);
    NewRun(e, id, 1000 + i);
    ASSERT_TRUE(store_->LogBatch(id, {}, {{"group", "all"}}, {}).ok());
    if (i % 4 == 1) {
      ASSERT_TRUE(store_->LogBatch(id, {{"acc", std::nan(""), 1, 0}}, {}, {}).ok());
    } else if (i % 4 != 3) {
      ASSERT_TRUE(store_->LogBatch(id, {{"acc", double((i * 7) % 23), 1, 0}}, {}, {}).ok());
    }
  }
  for (bool ascending : {true, false}) {
    for (bool filtered : {false, true}) {
      RunQuery q;
      q.experiment_ids = {e};
      q.order_by = {*ParseRunOrderBy(ascending ? "metrics.acc ASC" : "metrics.acc DESC")};
      if (filtered) q.filter = *ParseRunFilter("params.group = 'all'");
      q.max_results = 5;
      std::vector<tracking::Run> all;
      for (q.offset = 0;; q.offset += 5) {
        auto page = store_->SearchRuns(q);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        all.insert(all.end(), page->runs.begin(), page->runs.end());
        if (!page->has_more) break;
      }
      ASSERT_EQ(all.size(), 23u) << ascending << filtered;
      size_t i = 0;
      double last = ascending ? -1 : 1e9;
      for (; i < all.size() && !all[i].metrics.empty() && !std::isnan(all[i].metrics[0].value); ++i) {
        double v = all[i].metrics[0].value;
        EXPECT_TRUE(ascending ? v >= last : v <= last) << i;
        last = v;
      }
      EXPECT_EQ(i, 12u);
      int64_t start = std::numeric_limits<int64_t>::max();
      for (; i < 18; ++i) {
        ASSERT_FALSE(all[i].metrics.empty());
        EXPECT_TRUE(std::isnan(all[i].metrics[0].value)) << i;
        EXPECT_LT(*all[i].info.start_time, start);  // then start_time DESC
        start = *all[i].info.start_time;
      }
      for (; i < all.size(); ++i) EXPECT_TRUE(all[i].metrics.empty()) << i;
      q.offset = 20;  // a page that starts inside the runs without the metric
      auto tail = store_->SearchRuns(q);
      ASSERT_EQ(tail->runs.size(), 3u);
      EXPECT_EQ(tail->runs[0].info.run_id, all[20].info.run_id);
    }
  }
}

// Broad filters with small pages take the walking plans (runs by start_time, runs by a
// metric); later pages the sorting plan. Every page must match a brute-force order.
TEST_F(SqliteStoreTest, WalkingAndSortingPlansAgreeWithBruteForce) {
  std::string e = NewExperiment("e");
  struct Expected {
    std::string id;
    int64_t start;
    int kind;  // 0 number, 1 NaN, 2 missing
    double loss;
  };
  std::vector<Expected> odd;
  for (int i = 0; i < 150; ++i) {
    std::string id = fmt::format("r{:03}", (i * 37) % 150);  // ids not in start order
    NewRun(e, id, 5000 + i);
    std::vector<Metric> metrics;
    int kind = i % 10 == 3 ? 1 : i % 10 == 7 ? 2 : 0;
    double loss = double((i * 13) % 17);
    if (kind == 0) metrics.push_back({"loss", loss, 1, 0});
    if (kind == 1) metrics.push_back({"loss", std::nan(""), 1, 0});
    ASSERT_TRUE(store_->LogBatch(id, metrics, {{"parity", i % 2 ? "odd" : "even"}}, {}).ok());
    if (i % 2) odd.push_back({id, 5000 + i, kind, loss});
  }
  auto by_loss = odd;
  std::sort(by_loss.begin(), by_loss.end(), [](const Expected& a, const Expected& b) {
    if (a.kind != b.kind) return a.kind < b.kind;
    if (a.kind == 0 && a.loss != b.loss) return a.loss < b.loss;
    if (a.start != b.start) return a.start > b.start;
    return a.id < b.id;
  });
  auto by_start = odd;
  std::sort(by_start.begin(), by_start.end(), [](const Expected& a, const Expected& b) { return a.start > b.start; });
  for (bool metric_order : {true, false}) {
    const auto& expected = metric_order ? by_loss : by_start;
    RunQuery q;
    q.experiment_ids = {e};
    q.filter = *ParseRunFilter("params.parity = 'odd'");
    if (metric_order) {
      // A filter on the ordering metric itself (every numeric loss is below 100) bounds the walk.
      q.filter = *ParseRunFilter("params.parity = 'odd' AND metrics.loss < 100");
    }
    if (metric_order) q.order_by = {*ParseRunOrderBy("metrics.loss ASC")};
    q.max_results = 5;
    std::vector<std::string> got;
    for (q.offset = 0;; q.offset += 5) {
      auto page = store_->SearchRuns(q);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      for (const auto& r : page->runs) got.push_back(r.info.run_id);
      if (!page->has_more) break;
    }
    size_t expected_size = expected.size();
    if (metric_order) {  // the metric filter drops the runs where loss is NaN or missing
      expected_size = static_cast<size_t>(
          std::count_if(expected.begin(), expected.end(), [](const Expected& x) { return x.kind == 0; }));
    }
    ASSERT_EQ(got.size(), expected_size);
    for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i], expected[i].id) << "position " << i << " " << metric_order;
  }
}

TEST_F(SqliteStoreTest, SearchByViewTypeAndRunIdIn) {
  std::string e = NewExperiment("e");
  NewRun(e, "a");
  NewRun(e, "b");
  ASSERT_TRUE(store_->SetRunLifecycle("b", LifecycleStage::kDeleted, 1).ok());
  RunQuery q;
  q.experiment_ids = {e};
  EXPECT_EQ(store_->SearchRuns(q)->runs.size(), 1u);
  q.view_type = ViewType::kDeletedOnly;
  EXPECT_EQ(store_->SearchRuns(q)->runs[0].info.run_id, "b");
  q.view_type = ViewType::kAll;
  q.filter = *ParseRunFilter("attributes.run_id IN ('a', 'zzz')");
  auto page = store_->SearchRuns(q);
  ASSERT_EQ(page->runs.size(), 1u);
  EXPECT_EQ(page->runs[0].info.run_id, "a");
}

TEST_F(SqliteStoreTest, MetricHistoryPagesWithAKeysetCursor) {
  std::string e = NewExperiment("e");
  NewRun(e, "r");
  std::vector<Metric> points;
  for (int i = 0; i < 250; ++i) points.push_back({"m", i * 0.5, 1000 + i, i / 2});  // repeated steps
  for (size_t i = 0; i < points.size(); i += 100) {
    std::vector<Metric> chunk(points.begin() + i, points.begin() + std::min(points.size(), i + 100));
    ASSERT_TRUE(store_->LogBatch("r", chunk, {}, {}).ok());
  }
  std::vector<Metric> all;
  std::optional<HistoryCursor> cursor;
  int pages = 0;
  do {
    auto page = store_->GetMetricHistory("r", "m", 40, cursor);
    ASSERT_TRUE(page.ok());
    all.insert(all.end(), page->metrics.begin(), page->metrics.end());
    cursor = page->next;
    ++pages;
  } while (cursor);
  EXPECT_EQ(pages, 7);
  ASSERT_EQ(all.size(), 250u);
  for (size_t i = 0; i < all.size(); ++i) EXPECT_DOUBLE_EQ(all[i].value, i * 0.5);
  ASSERT_TRUE(store_->LogBatch("r", {points[7]}, {}, {}).ok());  // the very same point again is kept once
  auto whole = store_->GetMetricHistory("r", "m", std::nullopt, std::nullopt);
  EXPECT_EQ(whole->metrics.size(), 250u);
  EXPECT_FALSE(whole->next.has_value());
  EXPECT_EQ(store_->GetMetricHistory("nope", "m", std::nullopt, std::nullopt).status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteStoreTest, DatasetInputsAreDedupedPerExperiment) {
  std::string e = NewExperiment("e");
  NewRun(e, "r1");
  NewRun(e, "r2");
  DatasetInput in{{{"mlflow.data.context", "train"}}, {"ds", "abc123", "local", "{}", "{\"x\":1}", ""}};
  ASSERT_TRUE(store_->LogInputs("r1", {in}).ok());
  ASSERT_TRUE(store_->LogInputs("r2", {in}).ok());
  ASSERT_TRUE(store_->LogInputs("r2", {in}).ok());
  auto r2 = store_->GetRun("r2");
  ASSERT_EQ(r2->inputs.size(), 1u);
  EXPECT_EQ(r2->inputs[0].dataset.schema, "{\"x\":1}");
  ASSERT_EQ(r2->inputs[0].tags.size(), 1u);
  EXPECT_EQ(r2->inputs[0].tags[0].value, "train");
  RunQuery q;
  q.experiment_ids = {e};
  q.filter = *ParseRunFilter("datasets.context = 'train' AND datasets.name = 'ds'");
  EXPECT_EQ(store_->SearchRuns(q)->runs.size(), 2u);
}

TEST_F(SqliteStoreTest, SurvivesReopening) {
  std::string e = NewExperiment("persisted");
  NewRun(e, "r");
  ASSERT_TRUE(store_->LogBatch("r", {{"m", 2.5, 3, 1}}, {{"p", "v"}}, {}).ok());
  store_.reset();
  auto reopened = SqliteTrackingStore::Open({.path = dir_.path() / "loam.db"});
  ASSERT_TRUE(reopened.ok());
  auto run = (*reopened)->GetRun("r");
  ASSERT_TRUE(run.ok());
  EXPECT_DOUBLE_EQ(run->metrics[0].value, 2.5);
  EXPECT_EQ((*reopened)->GetExperimentByName("persisted")->experiment_id, e);
}

TEST_F(SqliteStoreTest, SearchExperimentsFiltersAndOrders) {
  NewExperiment("alpha");
  NewExperiment("beta");
  std::string g = NewExperiment("gamma");
  ASSERT_TRUE(store_->SetExperimentTag(g, {"team", "ml"}).ok());
  ExperimentQuery q;
  q.filter = *ParseExperimentFilter("name LIKE '%a'");
  q.order_by = {*ParseExperimentOrderBy("name DESC")};
  auto page = store_->SearchExperiments(q);
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  ASSERT_EQ(page->experiments.size(), 3u);
  EXPECT_EQ(page->experiments[0].name, "gamma");
  q.filter = *ParseExperimentFilter("tags.team = 'ml'");
  EXPECT_EQ(store_->SearchExperiments(q)->experiments.size(), 1u);
}

}  // namespace
}  // namespace loam::sqlite

namespace loam::sqlite {
namespace {

using namespace tracking;

class LoggedModelStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = std::move(SqliteTrackingStore::Open({.path = dir_.path() / "loam.db"})).value();
    experiment_ = *store_->CreateExperiment({"models", "", {}, 1});
    ASSERT_TRUE(store_->CreateRun({experiment_, "r", "", 1, {}}, "run1").ok());
  }

  LoggedModel Create(const std::string& id, const std::string& name, int64_t created) {
    LoggedModel m;
    m.model_id = id;
    m.experiment_id = experiment_;
    m.name = name;
    m.source_run_id = "run1";
    m.creation_timestamp_ms = created;
    m.params = {{"depth", "3"}};
    auto made = store_->CreateLoggedModel(m);
    EXPECT_TRUE(made.ok()) << made.status().ToString();
    return *made;
  }

  testing::ScratchDir dir_;
  std::unique_ptr<SqliteTrackingStore> store_;
  std::string experiment_;
};

TEST_F(LoggedModelStoreTest, LifecycleFromPendingToReadyToDeleted) {
  LoggedModel m = Create("m-1", "model", 10);
  EXPECT_EQ(m.status, LoggedModelStatus::kPending);
  EXPECT_EQ(m.artifact_uri, "mlflow-artifacts:/1/models/m-1/artifacts");
  ASSERT_EQ(m.params.size(), 1u);
  auto ready = store_->FinalizeLoggedModel("m-1", LoggedModelStatus::kReady, 20);
  ASSERT_TRUE(ready.ok());
  EXPECT_EQ(ready->status, LoggedModelStatus::kReady);
  EXPECT_EQ(ready->last_updated_timestamp_ms, 20);
  ASSERT_TRUE(store_->DeleteLoggedModel("m-1", 30).ok());
  EXPECT_EQ(store_->GetLoggedModel("m-1", false).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetLoggedModel("m-1", true).ok());
  EXPECT_EQ(store_->SetLoggedModelTags("m-1", {{"a", "b"}}, 40).code(), StatusCode::kNotFound);
}

TEST_F(LoggedModelStoreTest, SearchFiltersByNameTagsAndOrders) {
  Create("m-a", "alpha", 1);
  Create("m-b", "beta", 2);
  ASSERT_TRUE(store_->SetLoggedModelTags("m-b", {{"stage", "prod"}}, 3).ok());
  LoggedModelQuery q;
  q.experiment_ids = {experiment_};
  auto all = store_->SearchLoggedModels(q);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->models.size(), 2u);
  EXPECT_EQ(all->models[0].model_id, "m-b");  // newest first by default
  q.filter = *ParseLoggedModelFilter("tags.stage = 'prod' AND source_run_id = 'run1'");
  auto tagged = store_->SearchLoggedModels(q);
  ASSERT_EQ(tagged->models.size(), 1u);
  EXPECT_EQ(tagged->models[0].name, "beta");
  q.filter = *ParseLoggedModelFilter("name LIKE 'a%'");
  EXPECT_EQ(store_->SearchLoggedModels(q)->models[0].model_id, "m-a");
}

TEST_F(LoggedModelStoreTest, RunsListTheirModelOutputs) {
  Create("m-out", "model", 1);
  ASSERT_TRUE(store_->LinkRunModels("run1", {{"m-out", 7}}, false).ok());
  auto run = store_->GetRun("run1");
  ASSERT_EQ(run->model_outputs.size(), 1u);
  EXPECT_EQ(run->model_outputs[0].step, 7);
  EXPECT_EQ(store_->LinkRunModels("run1", {{"m-missing", 0}}, false).code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->LinkRunModels("nope", {{"m-out", 0}}, false).code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace loam::sqlite
