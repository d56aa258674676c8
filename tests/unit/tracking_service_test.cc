// The tracking service over the real SQLite store and local object store.
#include "tracking/tracking_service.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "objects/local_object_store.h"
#include "store/sqlite/sqlite_tracking_store.h"
#include "test_util.h"

namespace loam::tracking {
namespace {

class TrackingServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = sqlite::SqliteTrackingStore::Open({.path = dir_.path() / "loam.db"});
    ASSERT_TRUE(store.ok());
    service_ = std::make_unique<TrackingService>(std::shared_ptr<TrackingStore>(std::move(store).value()),
                                                 std::make_shared<objects::LocalObjectStore>(dir_.path() / "artifacts"),
                                                 [this] { return now_; });
  }
  testing::ScratchDir dir_;
  int64_t now_ = 1000;
  std::unique_ptr<TrackingService> service_;
};

TEST_F(TrackingServiceTest, CreateRunNamesAndTimesTheRun) {
  auto run = service_->CreateRun({"0", "bob", "", std::nullopt, {}});
  ASSERT_TRUE(run.ok());
  EXPECT_FALSE(run->info.run_name.empty());
  EXPECT_EQ(*run->info.start_time, 1000);
  auto conflict = service_->CreateRun({"0", "", "a", 5, {{"mlflow.runName", "b"}}});
  EXPECT_EQ(conflict.status().code(), StatusCode::kInvalidArgument);
  auto from_tag = service_->CreateRun({"0", "", "", 5, {{"mlflow.runName", "tagged"}}});
  EXPECT_EQ(from_tag->info.run_name, "tagged");
}

TEST_F(TrackingServiceTest, SearchPageTokensAreOpaqueAndValidated) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(service_->CreateRun({"0", "", "", i, {}}).ok());
  SearchRunsRequest req{{"0"}, "", {}, ViewType::kActiveOnly, 2, ""};
  int total = 0;
  while (true) {
    auto page = service_->SearchRuns(req);
    ASSERT_TRUE(page.ok());
    total += static_cast<int>(page->items.size());
    if (page->next_page_token.empty()) break;
    req.page_token = page->next_page_token;
  }
  EXPECT_EQ(total, 5);
  req.page_token = "not-a-token!";
  EXPECT_EQ(service_->SearchRuns(req).status().code(), StatusCode::kInvalidArgument);
  req.page_token = "";
  req.max_results = 50001;
  EXPECT_EQ(service_->SearchRuns(req).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(TrackingServiceTest, LogBatchRejectsOversizedAndDuplicateBatchesBeforeWriting) {
  auto run = service_->CreateRun({"0", "", "", 1, {}});
  std::string id = run->info.run_id;
  std::vector<Metric> many(1001, Metric{"m", 1, 1, 0});
  EXPECT_EQ(service_->LogBatch(id, many, {}, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->LogBatch(id, {}, {{"p", "1"}, {"p", "2"}}, {}).code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(service_->GetRun(id)->params.empty());
}

TEST_F(TrackingServiceTest, LogModelAppendsToTheHistoryTag) {
  auto run = service_->CreateRun({"0", "", "", 1, {}});
  std::string id = run->info.run_id;
  std::string model = R"({"artifact_path":"model","flavors":{},"utc_time_created":"t","run_id":")" + id + "\"}";
  ASSERT_TRUE(service_->LogModel(id, model).ok());
  ASSERT_TRUE(service_->LogModel(id, model).ok());
  std::string history;
  auto logged = service_->GetRun(id);
  for (const auto& t : logged->tags)
    if (t.key == kLoggedModelsTag) history = t.value;
  EXPECT_EQ(nlohmann::json::parse(history).size(), 2u);
  EXPECT_EQ(service_->LogModel(id, "{\"flavors\":{}}").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->LogModel(id, "not json").code(), StatusCode::kInvalidArgument);
}

TEST_F(TrackingServiceTest, BulkIntervalSamplesStepsKeepingTheEnds) {
  std::vector<std::string> ids;
  for (int r = 0; r < 2; ++r) {
    auto run = service_->CreateRun({"0", "", "", 1, {}});
    ids.push_back(run->info.run_id);
    std::vector<Metric> points;
    for (int s = 0; s < 100; ++s) points.push_back({"loss", 100.0 - s, s, s});
    ASSERT_TRUE(service_->LogBatch(ids.back(), points, {}, {}).ok());
  }
  auto sampled = service_->GetMetricHistoryBulkInterval(ids, "loss", std::nullopt, std::nullopt, 10);
  ASSERT_TRUE(sampled.ok()) << sampled.status().ToString();
  ASSERT_EQ(sampled->size(), 22u);  // 10 evenly spaced steps plus the last, per run
  EXPECT_EQ((*sampled)[0].run_id, ids[0]);
  EXPECT_EQ((*sampled)[0].metric.step, 0);
  EXPECT_EQ((*sampled)[1].metric.step, 10);
  EXPECT_EQ((*sampled)[10].metric.step, 99);
  auto ranged = service_->GetMetricHistoryBulkInterval({ids[0]}, "loss", 10, 19, std::nullopt);
  ASSERT_EQ(ranged->size(), 10u);
  EXPECT_EQ(service_->GetMetricHistoryBulkInterval({}, "loss", {}, {}, {}).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(service_->GetMetricHistoryBulkInterval(ids, "loss", 5, std::nullopt, {}).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(TrackingServiceTest, ArtifactsRoundTripAndListPerRun) {
  auto run = service_->CreateRun({"0", "", "", 1, {}});
  std::string id = run->info.run_id;
  auto upload = dir_.path() / "upload";
  std::ofstream(upload) << "weights";
  ASSERT_TRUE(service_->PutArtifact("0/" + id + "/artifacts/model/w.bin", upload).ok());
  auto listing = service_->ListRunArtifacts(id, "");
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->files.size(), 1u);
  EXPECT_EQ(listing->files[0].name, "model");
  EXPECT_TRUE(listing->files[0].is_dir);
  listing = service_->ListRunArtifacts(id, "model");
  EXPECT_EQ(listing->files[0].name, "model/w.bin");
  EXPECT_EQ(listing->files[0].size, 7u);
  EXPECT_EQ(service_->GetArtifact("0/../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(service_->DeleteArtifact("0/" + id + "/artifacts/model").ok());
  EXPECT_EQ(service_->GetArtifact("0/" + id + "/artifacts/model/w.bin").status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace loam::tracking
