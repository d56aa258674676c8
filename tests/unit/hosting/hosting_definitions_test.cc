// Models and endpoint configs over a real SQLite job store: SageMaker's checks and messages.
#include "hosting/hosting_definitions.h"

#include <gtest/gtest.h>

#include "objects/local_bucket_store.h"
#include "store/sqlite/sqlite_job_store.h"
#include "store/sqlite/sqlite_tracking_store.h"
#include "test_util.h"

namespace loam::hosting {
namespace {

using nlohmann::json;

class HostingDefinitionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tracking = sqlite::SqliteTrackingStore::Open({.path = dir_.path() / "loam.db"});  // migrates
    ASSERT_TRUE(tracking.ok()) << tracking.status().ToString();
    tracking_ = std::move(tracking).value();
    auto s = sqlite::SqliteJobStore::Open(dir_.path() / "loam.db", sqlite::Durability::kNormal);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::shared_ptr<jobs::JobStore>(std::move(s).value());
    auto buckets = std::make_shared<objects::LocalBucketStore>(
        objects::LocalBucketStoreOptions{.root = dir_.path() / "objects", .state_root = dir_.path() / "objects-meta"});
    auto locations = std::make_shared<jobs::DataLocations>(buckets, dir_.path() / "staging");
    defs_ = std::make_unique<HostingDefinitions>(HostingOptions{}, store_, locations, [this] { return now_ms_; });
  }

  static json Model(const std::string& name) {
    return {{"ModelName", name},
            {"PrimaryContainer", {{"Image", "sklearn"}, {"ModelDataUrl", "s3://models/m/model.tar.gz"},
                                  {"Environment", {{"SAGEMAKER_PROGRAM", "inference.py"}}}}},
            {"ExecutionRoleArn", "arn:aws:iam::000000000000:role/x"}};
  }
  static json Config(const std::string& name, const std::vector<std::pair<std::string, std::string>>& variants) {
    json pv = json::array();
    for (const auto& [variant, model] : variants) {
      pv.push_back({{"VariantName", variant}, {"ModelName", model}, {"InitialInstanceCount", 1},
                    {"InstanceType", "ml.m5.large"}});
    }
    return {{"EndpointConfigName", name}, {"ProductionVariants", pv}};
  }

  loam::testing::ScratchDir dir_;
  std::unique_ptr<sqlite::SqliteTrackingStore> tracking_;
  std::shared_ptr<jobs::JobStore> store_;
  std::unique_ptr<HostingDefinitions> defs_;
  int64_t now_ms_ = 1'700'000'000'000;
};

TEST_F(HostingDefinitionsTest, ArnsLowerCaseTheName) {
  EXPECT_EQ(HostingArn({}, "endpoint", "My-Endpoint"), "arn:aws:sagemaker:us-east-1:000000000000:endpoint/my-endpoint");
}

TEST_F(HostingDefinitionsTest, ModelRoundTripsAndDuplicatesAreRefusedWithTheArn) {
  auto created = defs_->CreateModel(Model("Model-A"));
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ((*created)["ModelArn"], "arn:aws:sagemaker:us-east-1:000000000000:model/model-a");
  auto described = defs_->DescribeModel("Model-A");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ((*described)["PrimaryContainer"]["Environment"]["SAGEMAKER_PROGRAM"], "inference.py");
  EXPECT_DOUBLE_EQ((*described)["CreationTime"].get<double>(), 1'700'000'000.0);
  EXPECT_EQ((*described)["EnableNetworkIsolation"], false);

  Status dup = defs_->CreateModel(Model("Model-A")).status();
  EXPECT_EQ(dup.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(dup.message(), "Cannot create already existing model \"arn:aws:sagemaker:us-east-1:000000000000:model/model-a\".");
}

TEST_F(HostingDefinitionsTest, ModelContainersAreChecked) {
  json both = Model("m");
  both["Containers"] = json::array({both["PrimaryContainer"]});
  EXPECT_EQ(defs_->CreateModel(both).status().code(), StatusCode::kInvalidArgument);
  json none = Model("m");
  none.erase("PrimaryContainer");
  EXPECT_EQ(defs_->CreateModel(none).status().code(), StatusCode::kInvalidArgument);
  json pipeline = Model("m");
  pipeline["Containers"] = json::array({pipeline["PrimaryContainer"], pipeline["PrimaryContainer"]});
  pipeline.erase("PrimaryContainer");
  EXPECT_EQ(defs_->CreateModel(pipeline).status().code(), StatusCode::kInvalidArgument);
  json bad_url = Model("m");
  bad_url["PrimaryContainer"]["ModelDataUrl"] = "ftp://x/y";
  Status st = defs_->CreateModel(bad_url).status();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("ModelDataUrl"), std::string::npos) << st.message();
  json single = Model("single");
  single["Containers"] = json::array({single["PrimaryContainer"]});
  single.erase("PrimaryContainer");
  ASSERT_TRUE(defs_->CreateModel(single).ok());
  EXPECT_EQ(HostingDefinitions::ContainerOf(*defs_->DescribeModel("single"))["Image"], "sklearn");
  EXPECT_EQ(defs_->DescribeModel("m").status().code(), StatusCode::kInvalidArgument);  // nothing was stored
}

TEST_F(HostingDefinitionsTest, EndpointConfigNeedsExistingModelsAndUniqueVariants) {
  ASSERT_TRUE(defs_->CreateModel(Model("a")).ok());
  Status missing = defs_->CreateEndpointConfig(Config("c", {{"v1", "a"}, {"v2", "nope"}})).status();
  EXPECT_EQ(missing.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(missing.message(), "Could not find model \"arn:aws:sagemaker:us-east-1:000000000000:model/nope\".");
  EXPECT_EQ(defs_->CreateEndpointConfig(Config("c", {{"v1", "a"}, {"v1", "a"}})).status().code(),
            StatusCode::kInvalidArgument);

  ASSERT_TRUE(defs_->CreateEndpointConfig(Config("c", {{"v1", "a"}, {"v2", "a"}})).ok());
  auto described = defs_->DescribeEndpointConfig("c");
  ASSERT_TRUE(described.ok());
  EXPECT_EQ((*described)["ProductionVariants"][1]["InitialVariantWeight"], 1.0);  // the default, filled in
  EXPECT_EQ((*described)["EndpointConfigArn"], "arn:aws:sagemaker:us-east-1:000000000000:endpoint-config/c");
}

TEST_F(HostingDefinitionsTest, VariantsNeedCapacityOrServerlessAndSomeWeight) {
  ASSERT_TRUE(defs_->CreateModel(Model("a")).ok());
  json no_count = Config("c", {{"v1", "a"}});
  no_count["ProductionVariants"][0].erase("InitialInstanceCount");
  EXPECT_EQ(defs_->CreateEndpointConfig(no_count).status().code(), StatusCode::kInvalidArgument);
  json zero = Config("c", {{"v1", "a"}});
  zero["ProductionVariants"][0]["InitialVariantWeight"] = 0.0;
  EXPECT_EQ(defs_->CreateEndpointConfig(zero).status().code(), StatusCode::kInvalidArgument);
  json serverless = Config("s", {{"v1", "a"}});
  serverless["ProductionVariants"][0].erase("InitialInstanceCount");
  serverless["ProductionVariants"][0].erase("InstanceType");
  serverless["ProductionVariants"][0]["ServerlessConfig"] = {{"MemorySizeInMB", 2048}, {"MaxConcurrency", 5}};
  EXPECT_TRUE(defs_->CreateEndpointConfig(serverless).ok());
}

TEST_F(HostingDefinitionsTest, FeaturesNotBuiltYetAreRefusedNotIgnored) {
  json isolated = Model("iso");
  isolated["EnableNetworkIsolation"] = true;
  EXPECT_EQ(defs_->CreateModel(isolated).status().code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(defs_->CreateModel(Model("a")).ok());
  json capture = Config("cap", {{"v1", "a"}});
  capture["DataCaptureConfig"] = {{"InitialSamplingPercentage", 50}, {"DestinationS3Uri", "s3://capture-bucket/capture"},
                                  {"CaptureOptions", json::array()}};
  Status refused = defs_->CreateEndpointConfig(capture).status();  // capture of nothing
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.message().find("CaptureMode"), std::string::npos) << refused.message();
  capture["DataCaptureConfig"]["CaptureOptions"] = json::array({{{"CaptureMode", "Input"}}});
  auto stored = defs_->CreateEndpointConfig(capture);
  EXPECT_TRUE(stored.ok()) << stored.status().ToString();
  json shadow = Config("shadow", {{"v1", "a"}});
  shadow["ShadowProductionVariants"] = Config("x", {{"s1", "a"}})["ProductionVariants"];
  EXPECT_EQ(defs_->CreateEndpointConfig(shadow).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HostingDefinitionsTest, ListFiltersSortsAndDeleteRemoves) {
  for (const char* name : {"beta", "alpha", "gamma-x"}) {
    ++now_ms_;
    ASSERT_TRUE(defs_->CreateModel(Model(name)).ok());
  }
  auto listed = defs_->ListModels({{"SortBy", "Name"}, {"SortOrder", "Ascending"}});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ((*listed)["Models"].size(), 3u);
  EXPECT_EQ((*listed)["Models"][0]["ModelName"], "alpha");
  auto filtered = defs_->ListModels({{"NameContains", "mm"}});
  ASSERT_TRUE(filtered.ok());
  ASSERT_EQ((*filtered)["Models"].size(), 1u);
  EXPECT_EQ((*filtered)["Models"][0]["ModelName"], "gamma-x");

  ASSERT_TRUE(defs_->DeleteModel("alpha").ok());
  EXPECT_EQ(defs_->DescribeModel("alpha").status().message(),
            "Could not find model \"arn:aws:sagemaker:us-east-1:000000000000:model/alpha\".");
  EXPECT_EQ(defs_->DeleteModel("alpha").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace loam::hosting
