// The SQLite job store against a real, migrated database file.
#include "store/sqlite/sqlite_job_store.h"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "store/sqlite/sqlite_tracking_store.h"
#include "test_util.h"

namespace loam::sqlite {
namespace {

using jobs::JobListQuery;
using jobs::JobRecord;
using jobs::JobSortBy;
using jobs::Tag;

std::string ArnOf(const std::string& name) { return "arn:aws:sagemaker:us-east-1:000000000000:training-job/" + name; }

JobRecord MakeJob(const std::string& name, const std::string& status, int64_t created, std::string kind = "training") {
  JobRecord j;
  j.kind = std::move(kind);
  j.name = name;
  j.arn = j.kind == "training" ? ArnOf(name) : "arn:aws:sagemaker:us-east-1:000000000000:" + j.kind + "-job/" + name;
  j.status = status;
  j.creation_time_ms = created;
  j.last_modified_time_ms = created + 1;
  j.doc = {{"TrainingJobName", name}, {"TrainingJobStatus", status}};
  return j;
}

class SqliteJobStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tracking = SqliteTrackingStore::Open({.path = dir_.path() / "loam.db"});  // migrates
    ASSERT_TRUE(tracking.ok()) << tracking.status().ToString();
    tracking_ = std::move(tracking).value();
    auto s = SqliteJobStore::Open(dir_.path() / "loam.db", Durability::kNormal);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(s).value();
  }

  void Create(const JobRecord& j) {
    Status s = store_->CreateJob(j);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  std::vector<std::string> Names(const JobListQuery& q, bool* more = nullptr) {
    auto r = store_->ListJobs(q);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (!r.ok()) return out;
    for (const auto& j : r->first) out.push_back(j.name);
    if (more) *more = r->second;
    return out;
  }

  static JobListQuery Query() {
    JobListQuery q;
    q.kind = "training";
    return q;
  }

  loam::testing::ScratchDir dir_;
  std::unique_ptr<SqliteTrackingStore> tracking_;
  std::unique_ptr<SqliteJobStore> store_;
};

TEST_F(SqliteJobStoreTest, CreateGetAndDuplicate) {
  JobRecord j = MakeJob("job-a", "InProgress", 1000);
  j.parent = "tuning-1";
  j.doc["Nested"] = {{"x", {1, 2, 3}}};
  Create(j);
  auto got = store_->GetJob("training", "job-a");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->kind, "training");
  EXPECT_EQ(got->name, "job-a");
  EXPECT_EQ(got->arn, ArnOf("job-a"));
  EXPECT_EQ(got->status, "InProgress");
  EXPECT_EQ(got->creation_time_ms, 1000);
  EXPECT_EQ(got->last_modified_time_ms, 1001);
  EXPECT_EQ(got->parent, "tuning-1");
  EXPECT_EQ(got->doc, j.doc);

  Status dup = store_->CreateJob(MakeJob("job-a", "Completed", 2000));
  EXPECT_EQ(dup.code(), StatusCode::kAlreadyExists) << dup.ToString();
  EXPECT_EQ(store_->GetJob("training", "job-a")->status, "InProgress");  // untouched

  // The same name under another kind is another job.
  Create(MakeJob("job-a", "InProgress", 1000, "processing"));
  EXPECT_TRUE(store_->GetJob("processing", "job-a").ok());
}

TEST_F(SqliteJobStoreTest, GetMissingIsNotFound) {
  EXPECT_EQ(store_->GetJob("training", "nope").status().code(), StatusCode::kNotFound);
  Create(MakeJob("x", "InProgress", 1, "processing"));
  EXPECT_EQ(store_->GetJob("training", "x").status().code(), StatusCode::kNotFound);
}

TEST_F(SqliteJobStoreTest, UpdateReplacesStatusTimesAndDocument) {
  Create(MakeJob("job", "InProgress", 1000));
  JobRecord j = *store_->GetJob("training", "job");
  j.status = "Completed";
  j.last_modified_time_ms = 5000;
  j.doc = {{"TrainingJobName", "job"}, {"TrainingJobStatus", "Completed"}, {"ModelArtifacts", {{"S3ModelArtifacts", "s3://b/m"}}}};
  ASSERT_TRUE(store_->UpdateJob(j).ok());
  auto got = store_->GetJob("training", "job");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->status, "Completed");
  EXPECT_EQ(got->last_modified_time_ms, 5000);
  EXPECT_EQ(got->creation_time_ms, 1000);
  EXPECT_EQ(got->doc, j.doc);
  EXPECT_EQ(store_->UpdateJob(MakeJob("missing", "Failed", 1)).code(), StatusCode::kNotFound);
}

TEST_F(SqliteJobStoreTest, NameContainsTakesPercentAndUnderscoreLiterally) {
  for (const char* name : {"a%b", "axb", "a_b", "ayb", "backslash\\x", "plain"}) Create(MakeJob(name, "Completed", 1));
  Create(MakeJob("a%b-processing", "Completed", 1, "processing"));
  auto q = Query();
  q.sort_by = JobSortBy::kName;
  q.descending = false;
  q.name_contains = "%";
  EXPECT_EQ(Names(q), (std::vector<std::string>{"a%b"}));
  q.name_contains = "_";
  EXPECT_EQ(Names(q), (std::vector<std::string>{"a_b"}));
  q.name_contains = "\\";
  EXPECT_EQ(Names(q), (std::vector<std::string>{"backslash\\x"}));
  q.name_contains = "a";
  EXPECT_EQ(Names(q), (std::vector<std::string>{"a%b", "a_b", "axb", "ayb", "backslash\\x", "plain"}));
  q.name_contains = "b";
  EXPECT_EQ(Names(q).size(), 5u);
  q.name_contains = "zzz";
  EXPECT_TRUE(Names(q).empty());
}

TEST_F(SqliteJobStoreTest, FiltersByStatusTimesAndParent) {
  Create(MakeJob("j1", "Completed", 1000));
  Create(MakeJob("j2", "InProgress", 2000));
  Create(MakeJob("j3", "Completed", 3000));
  JobRecord child = MakeJob("j4", "Failed", 4000);
  child.parent = "tuner";
  Create(child);
  auto q = Query();
  q.descending = false;
  q.status_equals = "Completed";
  EXPECT_EQ(Names(q), (std::vector<std::string>{"j1", "j3"}));

  q = Query();
  q.descending = false;
  q.created_after_ms = 1000;  // exclusive
  q.created_before_ms = 4000;  // exclusive
  EXPECT_EQ(Names(q), (std::vector<std::string>{"j2", "j3"}));

  q = Query();
  q.descending = false;
  q.modified_after_ms = 2001;  // last_modified = creation + 1
  EXPECT_EQ(Names(q), (std::vector<std::string>{"j3", "j4"}));
  q.modified_before_ms = 4001;
  EXPECT_EQ(Names(q), (std::vector<std::string>{"j3"}));

  q = Query();
  q.parent = "tuner";
  EXPECT_EQ(Names(q), (std::vector<std::string>{"j4"}));

  q = Query();
  q.kind = "processing";
  EXPECT_TRUE(Names(q).empty());
}

TEST_F(SqliteJobStoreTest, SortsByCreationNameAndStatus) {
  Create(MakeJob("charlie", "InProgress", 1000));
  Create(MakeJob("alpha", "Failed", 3000));
  Create(MakeJob("bravo", "Completed", 2000));
  Create(MakeJob("delta", "Completed", 2000));  // same time as bravo: name breaks the tie
  auto q = Query();
  EXPECT_EQ(Names(q), (std::vector<std::string>{"alpha", "delta", "bravo", "charlie"}));  // default: newest first
  q.descending = false;
  EXPECT_EQ(Names(q), (std::vector<std::string>{"charlie", "bravo", "delta", "alpha"}));
  q.sort_by = JobSortBy::kName;
  EXPECT_EQ(Names(q), (std::vector<std::string>{"alpha", "bravo", "charlie", "delta"}));
  q.descending = true;
  EXPECT_EQ(Names(q), (std::vector<std::string>{"delta", "charlie", "bravo", "alpha"}));
  q.sort_by = JobSortBy::kStatus;
  q.descending = false;
  EXPECT_EQ(Names(q), (std::vector<std::string>{"bravo", "delta", "alpha", "charlie"}));
  q.descending = true;
  EXPECT_EQ(Names(q), (std::vector<std::string>{"charlie", "alpha", "delta", "bravo"}));
}

TEST_F(SqliteJobStoreTest, PaginatesWithMoreFlag) {
  for (int i = 0; i < 7; ++i) Create(MakeJob(fmt::format("job-{}", i), "Completed", 1000 + i));
  auto q = Query();
  q.descending = false;
  q.limit = 3;
  bool more = false;
  EXPECT_EQ(Names(q, &more), (std::vector<std::string>{"job-0", "job-1", "job-2"}));
  EXPECT_TRUE(more);
  q.offset = 3;
  EXPECT_EQ(Names(q, &more), (std::vector<std::string>{"job-3", "job-4", "job-5"}));
  EXPECT_TRUE(more);
  q.offset = 6;
  EXPECT_EQ(Names(q, &more), (std::vector<std::string>{"job-6"}));
  EXPECT_FALSE(more);
  q.offset = 4;
  EXPECT_EQ(Names(q, &more), (std::vector<std::string>{"job-4", "job-5", "job-6"}));
  EXPECT_FALSE(more);  // exactly the rest
  q.offset = 10;
  EXPECT_TRUE(Names(q, &more).empty());
  EXPECT_FALSE(more);
  q.offset = 0;
  q.limit = 7;
  EXPECT_EQ(Names(q, &more).size(), 7u);
  EXPECT_FALSE(more);
}

TEST_F(SqliteJobStoreTest, JobsWithStatusOldestFirstAcrossStatuses) {
  Create(MakeJob("stopping-old", "Stopping", 1000));
  Create(MakeJob("done", "Completed", 1500));
  Create(MakeJob("running-new", "InProgress", 3000));
  Create(MakeJob("running-old", "InProgress", 2000));
  Create(MakeJob("other-kind", "InProgress", 500, "processing"));
  auto r = store_->JobsWithStatus("training", {"InProgress", "Stopping"});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> names;
  for (const auto& j : *r) names.push_back(j.name);
  EXPECT_EQ(names, (std::vector<std::string>{"stopping-old", "running-old", "running-new"}));
  EXPECT_TRUE(store_->JobsWithStatus("training", {})->empty());
  EXPECT_TRUE(store_->JobsWithStatus("training", {"Failed"})->empty());
}

TEST_F(SqliteJobStoreTest, TagsAddListUpsertDelete) {
  std::string arn = ArnOf("tagged");
  Create(MakeJob("tagged", "Completed", 1));
  ASSERT_TRUE(store_->AddTags(arn, {{"team", "ml"}, {"env", "dev"}}).ok());
  auto tags = store_->ListTags(arn);
  ASSERT_TRUE(tags.ok());
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ((*tags)[0].key, "env");  // sorted by key
  EXPECT_EQ((*tags)[0].value, "dev");
  EXPECT_EQ((*tags)[1].key, "team");

  ASSERT_TRUE(store_->AddTags(arn, {{"env", "prod"}}).ok());  // upsert
  tags = store_->ListTags(arn);
  ASSERT_EQ(tags->size(), 2u);
  EXPECT_EQ((*tags)[0].value, "prod");

  ASSERT_TRUE(store_->DeleteTags(arn, {"env", "not-there"}).ok());
  tags = store_->ListTags(arn);
  ASSERT_EQ(tags->size(), 1u);
  EXPECT_EQ((*tags)[0].key, "team");
  EXPECT_TRUE(store_->ListTags(ArnOf("other"))->empty());
}

TEST_F(SqliteJobStoreTest, DeleteRemovesTheResourceAndItsTagsOnly) {
  Create(MakeJob("model-a", "Created", 1, "model"));
  Create(MakeJob("model-a", "InProgress", 1, "processing"));
  const std::string arn = store_->GetJob("model", "model-a")->arn;
  ASSERT_TRUE(store_->AddTags(arn, {{"team", "ml"}}).ok());
  ASSERT_TRUE(store_->DeleteJob("model", "model-a").ok());
  EXPECT_EQ(store_->GetJob("model", "model-a").status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(store_->GetJob("processing", "model-a").ok());  // same name, other kind: kept
  EXPECT_TRUE(store_->ListTags(arn)->empty());
  EXPECT_FALSE(*store_->JobArnExists(arn));
  EXPECT_EQ(store_->DeleteJob("model", "model-a").code(), StatusCode::kNotFound);
}

TEST_F(SqliteJobStoreTest, FiftyOneTagsIsResourceExhausted) {
  std::string arn = ArnOf("many");
  std::vector<Tag> fifty;
  for (int i = 0; i < 50; ++i) fifty.push_back({fmt::format("k{:02}", i), "v"});
  ASSERT_TRUE(store_->AddTags(arn, fifty).ok());
  ASSERT_TRUE(store_->AddTags(arn, {{"k00", "updated"}}).ok());  // replacing keeps 50
  Status s = store_->AddTags(arn, {{"k50", "v"}});
  EXPECT_EQ(s.code(), StatusCode::kResourceExhausted) << s.ToString();
  auto tags = store_->ListTags(arn);
  ASSERT_TRUE(tags.ok());
  EXPECT_EQ(tags->size(), 50u);  // rolled back
  EXPECT_EQ((*tags)[0].value, "updated");

  std::string arn2 = ArnOf("many2");
  std::vector<Tag> fifty_one = fifty;
  fifty_one.push_back({"k50", "v"});
  EXPECT_EQ(store_->AddTags(arn2, fifty_one).code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(store_->ListTags(arn2)->empty());
}

TEST_F(SqliteJobStoreTest, JobArnExists) {
  Create(MakeJob("exists", "Completed", 1));
  EXPECT_TRUE(*store_->JobArnExists(ArnOf("exists")));
  EXPECT_FALSE(*store_->JobArnExists(ArnOf("missing")));
  EXPECT_FALSE(*store_->JobArnExists(""));
}

}  // namespace
}  // namespace loam::sqlite
