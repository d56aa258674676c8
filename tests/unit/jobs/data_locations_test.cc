// Data locations: URIs to local paths, S3 prefix listing, staging files into a channel.
#include "jobs/data_locations.h"

#include <gtest/gtest.h>

#include <map>

#include "jobs_test_util.h"
#include "objects/local_bucket_store.h"
#include "test_util.h"

namespace loam::jobs {
namespace {

namespace fs = std::filesystem;
using loam::testing::FilesUnder;
using loam::testing::ReadFile;
using loam::testing::WriteFile;

class DataLocationsTest : public ::testing::Test {
 protected:
  DataLocationsTest()
      : root_(dir_.path() / "objects"),
        store_(std::make_shared<objects::LocalBucketStore>(
            objects::LocalBucketStoreOptions{.root = root_, .state_root = dir_.path() / "objects-meta"})),
        locations_(store_, dir_.path() / "staging") {
    fs::create_directories(root_ / "bucket");
  }

  // Relative names of a listing, in order.
  std::vector<std::string> Relatives(const std::string& uri) {
    auto files = locations_.ListPrefix(uri);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    std::vector<std::string> out;
    if (!files.ok()) return out;
    for (const auto& f : *files) out.push_back(f.relative.string());
    return out;
  }

  loam::testing::ScratchDir dir_;
  fs::path root_;
  std::shared_ptr<objects::LocalBucketStore> store_;
  DataLocations locations_;
};

TEST_F(DataLocationsTest, S3UrisNameABucketAndAKey) {
  auto loc = locations_.Parse("s3://bucket/a/b/c.csv");
  ASSERT_TRUE(loc.ok());
  EXPECT_TRUE(loc->s3);
  EXPECT_EQ(loc->bucket, "bucket");
  EXPECT_EQ(loc->key, "a/b/c.csv");
  EXPECT_EQ(locations_.Parse("s3://bucket")->key, "");
  EXPECT_EQ(locations_.Parse("s3://bucket/dir/")->key, "dir/");
}

TEST_F(DataLocationsTest, FileUrisAndAbsolutePaths) {
  EXPECT_EQ(locations_.Parse("file:///data/train")->path, fs::path("/data/train"));
  EXPECT_EQ(locations_.Parse("/data/train")->path, fs::path("/data/train"));
  EXPECT_EQ(locations_.Parse("/data/x/../train")->path, fs::path("/data/train"));
  EXPECT_EQ(locations_.Parse("file:///data/./x")->path, fs::path("/data/x"));
  EXPECT_FALSE(locations_.Parse("/data/x")->s3);
}

TEST_F(DataLocationsTest, RejectsRelativePathsOtherSchemesAndEscapingKeys) {
  for (const char* uri : {"relative/path", "./x", "", "file://relative/x", "http://host/x", "https://host/x",
                          "gs://bucket/key", "hdfs:///x", "s3://", "s3:///key", "s3://bucket/../other/key",
                          "s3://bucket/a/../../x", "s3://bucket/./x", "s3://bucket/a/..", "s3://Bucket/x",
                          "s3://b/x"}) {
    EXPECT_EQ(locations_.Parse(uri).status().code(), StatusCode::kInvalidArgument) << uri;
  }
}

TEST_F(DataLocationsTest, BucketNamedDotDotDoesNotEscapeTheObjectRoot) {
  EXPECT_EQ(locations_.Parse("s3://../secret").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(locations_.Parse("s3://../objects/../../etc/passwd").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DataLocationsTest, JoinAddsOneSlash) {
  EXPECT_EQ(DataLocations::Join("s3://b/a", "c"), "s3://b/a/c");
  EXPECT_EQ(DataLocations::Join("s3://b/a/", "c"), "s3://b/a/c");
  EXPECT_EQ(DataLocations::Join("", "c"), "c");
}

TEST_F(DataLocationsTest, DirectoryListsNestedFilesRelativeToIt) {
  WriteFile(root_ / "bucket/data/train/a.csv", "a");
  WriteFile(root_ / "bucket/data/train/part/b.csv", "b");
  WriteFile(root_ / "bucket/data/train/part/deeper/c.csv", "c");
  fs::create_directories(root_ / "bucket/data/train/empty");
  std::vector<std::string> expected = {"a.csv", "part/b.csv", "part/deeper/c.csv"};
  EXPECT_EQ(Relatives("s3://bucket/data/train"), expected);
  EXPECT_EQ(Relatives("s3://bucket/data/train/"), expected);
  auto files = locations_.ListPrefix("s3://bucket/data/train");
  ASSERT_TRUE(files.ok());
  EXPECT_EQ((*files)[1].key, "data/train/part/b.csv");
  EXPECT_EQ((*files)[1].size, 1u);
  // The same through a file:// URI and a plain path.
  EXPECT_EQ(Relatives("file://" + (root_ / "bucket/data/train").string()), expected);
  EXPECT_EQ(Relatives((root_ / "bucket/data/train").string()), expected);
}

TEST_F(DataLocationsTest, SingleFileIsItsBasename) {
  WriteFile(root_ / "bucket/data/train.csv", "x");
  auto files = locations_.ListPrefix("s3://bucket/data/train.csv");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  ASSERT_EQ(files->size(), 1u);
  EXPECT_EQ((*files)[0].relative, fs::path("train.csv"));
  EXPECT_EQ((*files)[0].key, "data/train.csv");
}

TEST_F(DataLocationsTest, PartialPrefixGivesKeysMinusThePrefix) {
  WriteFile(root_ / "bucket/dir/train.csv", "1");
  WriteFile(root_ / "bucket/dir/train/a.csv", "2");
  WriteFile(root_ / "bucket/dir/train/sub/b.csv", "3");
  WriteFile(root_ / "bucket/dir/test.csv", "4");  // does not match "tr"
  WriteFile(root_ / "bucket/dir/other/tr.csv", "5");  // nor does a deeper key
  auto files = locations_.ListPrefix("s3://bucket/dir/tr");
  ASSERT_TRUE(files.ok()) << files.status().ToString();
  std::map<std::string, std::string> by_name;
  for (const auto& f : *files) by_name[f.relative.string()] = f.key;
  EXPECT_EQ(by_name, (std::map<std::string, std::string>{{"ain.csv", "dir/train.csv"},
                                                         {"ain/a.csv", "dir/train/a.csv"},
                                                         {"ain/sub/b.csv", "dir/train/sub/b.csv"}}));
  // The same through the local file system.
  auto local = locations_.ListPrefix((root_ / "bucket/dir/tr").string());
  ASSERT_TRUE(local.ok());
  std::vector<std::string> names;
  for (const auto& f : *local) names.push_back(f.relative.string());
  EXPECT_EQ(names, (std::vector<std::string>{"ain.csv", "ain/a.csv", "ain/sub/b.csv"}));
}

TEST_F(DataLocationsTest, SymlinkedFilesKeepTheirNamesInsideTheChannel) {
  // BUG: src/jobs/data_locations.cc:45 names listed files fs::relative(path, base), which
  // resolves symlinks: in a file:// data directory, "latest.csv -> v2.csv" is listed as
  // "v2.csv" (twice, latest.csv never staged), and a link to a file outside the directory
  // gets a "../.." name, so PlaceFiles writes outside the channel directory. Fix:
  // it->path().lexically_relative(base).
  fs::path data = dir_.path() / "userdata/train";
  WriteFile(data / "v2.csv", "v2");
  WriteFile(dir_.path() / "elsewhere/shared.csv", "shared");
  fs::create_symlink("v2.csv", data / "latest.csv");
  fs::create_symlink(dir_.path() / "elsewhere/shared.csv", data / "shared.csv");
  EXPECT_EQ(Relatives("file://" + data.string()), (std::vector<std::string>{"latest.csv", "shared.csv", "v2.csv"}));
}

TEST_F(DataLocationsTest, NothingThereIsNoDataFound) {
  fs::create_directories(root_ / "bucket/empty");
  for (const char* uri : {"s3://bucket/empty", "s3://bucket/missing", "s3://bucket/empty/x", "s3://nobucket/k"}) {
    EXPECT_TRUE(locations_.ListPrefix(uri)->empty()) << uri;
    auto files = locations_.ListInputs(uri);
    EXPECT_EQ(files.status().code(), StatusCode::kInvalidArgument) << uri;
    EXPECT_NE(files.status().message().find("No data found"), std::string::npos) << files.status().message();
  }
  EXPECT_EQ(locations_.ListInputs("ftp://x/y").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DataLocationsTest, PlaceFilesCopies) {
  WriteFile(root_ / "bucket/d/a.csv", "A");
  WriteFile(root_ / "bucket/d/sub/b.csv", "B");
  auto files = locations_.ListPrefix("s3://bucket/d");
  ASSERT_TRUE(files.ok());
  fs::path dest = dir_.path() / "channel";
  WriteFile(dest / "a.csv", "stale");  // replaced
  ASSERT_TRUE(locations_.PlaceFiles(*files, dest, /*link=*/false).ok());
  EXPECT_EQ(FilesUnder(dest), (std::set<std::string>{"a.csv", "sub/b.csv"}));
  EXPECT_FALSE(fs::is_symlink(dest / "a.csv"));
  EXPECT_EQ(ReadFile(dest / "a.csv"), "A");
  EXPECT_EQ(ReadFile(dest / "sub/b.csv"), "B");
  // A copy: changing it leaves the source alone.
  WriteFile(dest / "a.csv", "changed");
  EXPECT_EQ(ReadFile(root_ / "bucket/d/a.csv"), "A");
}

TEST_F(DataLocationsTest, PlaceFilesLinks) {
  WriteFile(root_ / "bucket/d/a.csv", "A");
  WriteFile(root_ / "bucket/d/sub/b.csv", "B");
  auto files = locations_.ListPrefix("s3://bucket/d");
  ASSERT_TRUE(files.ok());
  fs::path dest = dir_.path() / "channel";
  WriteFile(dest / "a.csv", "stale");  // replaced by the link
  std::vector<fs::path> linked;
  ASSERT_TRUE(locations_.PlaceFiles(*files, dest, /*link=*/true, &linked).ok());
  EXPECT_EQ(linked.size(), 2u);
  ASSERT_TRUE(fs::is_symlink(dest / "a.csv"));
  ASSERT_TRUE(fs::is_symlink(dest / "sub/b.csv"));
  EXPECT_EQ(fs::read_symlink(dest / "sub/b.csv"), root_ / "bucket/d/sub/b.csv");
  EXPECT_TRUE(fs::read_symlink(dest / "a.csv").is_absolute());
  EXPECT_EQ(ReadFile(dest / "a.csv"), "A");
}

TEST_F(DataLocationsTest, PlaceFilesReportsAMissingSource) {
  std::vector<DataLocations::InputFile> files = {{"nope.csv", 0, "", "", dir_.path() / "nope.csv"}};
  EXPECT_EQ(locations_.PlaceFiles(files, dir_.path() / "channel", false).code(), StatusCode::kInternal);
  std::vector<DataLocations::InputFile> gone = {{"gone.csv", 1, "bucket", "gone.csv", {}}};
  EXPECT_EQ(locations_.PlaceFiles(gone, dir_.path() / "channel", false).code(), StatusCode::kInternal);
}

TEST_F(DataLocationsTest, PlaceFilesRefusesNamesLeavingTheDirectory) {
  // "../x.csv" from the channel is <dir>/x.csv: a file that must stay as it is, and that is not
  // the source (copying a file onto itself would change nothing either way).
  WriteFile(dir_.path() / "x.csv", "outside");
  WriteFile(dir_.path() / "src/x.csv", "x");
  std::vector<DataLocations::InputFile> files = {{"../x.csv", 1, "", "", dir_.path() / "src/x.csv"}};
  for (bool link : {false, true}) {
    EXPECT_EQ(locations_.PlaceFiles(files, dir_.path() / "channel", link).code(), StatusCode::kInvalidArgument)
        << "link=" << link;
    EXPECT_FALSE(fs::is_symlink(dir_.path() / "x.csv")) << "link=" << link;
    EXPECT_EQ(ReadFile(dir_.path() / "x.csv"), "outside") << "link=" << link;
  }
}

TEST_F(DataLocationsTest, UploadsGoThroughTheStoreWithETags) {
  WriteFile(dir_.path() / "job/model.tar.gz", "model");
  ASSERT_TRUE(locations_.UploadFile(dir_.path() / "job/model.tar.gz", "s3://bucket/out/model.tar.gz").ok());
  EXPECT_EQ(ReadFile(dir_.path() / "job/model.tar.gz"), "model");  // the job keeps its file
  auto head = store_->HeadObject("bucket", "out/model.tar.gz");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->etag, "\"20f35e630daf44dbfa4c3f68f5399d8c\"");  // MD5, as S3 computes it
  EXPECT_EQ(head->size, 5u);
  EXPECT_EQ(ReadFile(root_ / "bucket/out/model.tar.gz"), "model");

  // consume: the file moves.
  WriteFile(dir_.path() / "job/out.tar.gz", "out");
  ASSERT_TRUE(locations_.UploadFile(dir_.path() / "job/out.tar.gz", "s3://bucket/out/out.tar.gz", true).ok());
  EXPECT_FALSE(fs::exists(dir_.path() / "job/out.tar.gz"));

  // A tree: relative names joined to the prefix; links are not followed.
  WriteFile(dir_.path() / "job/ckpt/step-1.pt", "1");
  WriteFile(dir_.path() / "job/ckpt/sub/step-2.pt", "2");
  WriteFile(dir_.path() / "private/secret.txt", "secret");
  fs::create_symlink(dir_.path() / "private/secret.txt", dir_.path() / "job/ckpt/x");
  ASSERT_TRUE(locations_.UploadTree(dir_.path() / "job/ckpt", "s3://bucket/ckpt/").ok());
  EXPECT_EQ(Relatives("s3://bucket/ckpt/"), (std::vector<std::string>{"step-1.pt", "sub/step-2.pt"}));

  // A missing bucket is an error, not a bucket made on the fly.
  EXPECT_FALSE(locations_.UploadFile(dir_.path() / "job/model.tar.gz", "s3://nobucket/m").ok());
  EXPECT_TRUE(fs::exists(dir_.path() / "job/model.tar.gz"));
  EXPECT_TRUE(fs::is_empty(dir_.path() / "staging"));

  // file:// destinations are plain copies.
  ASSERT_TRUE(locations_.UploadFile(dir_.path() / "job/model.tar.gz", (dir_.path() / "local/m.tgz").string()).ok());
  EXPECT_EQ(ReadFile(dir_.path() / "local/m.tgz"), "model");
}

TEST_F(DataLocationsTest, FetchFileCopiesOneObject) {
  WriteFile(root_ / "bucket/code/sourcedir.tar.gz", "tgz");
  ASSERT_TRUE(locations_.FetchFile("s3://bucket/code/sourcedir.tar.gz", dir_.path() / "got/a.tgz").ok());
  EXPECT_EQ(ReadFile(dir_.path() / "got/a.tgz"), "tgz");
  EXPECT_EQ(locations_.FetchFile("s3://bucket/code/none", dir_.path() / "got/b").code(), StatusCode::kNotFound);
  EXPECT_EQ(locations_.FetchFile("s3://bucket/code", dir_.path() / "got/b").code(), StatusCode::kNotFound);
  EXPECT_EQ(locations_.FetchFile("s3://nobucket/x", dir_.path() / "got/b").code(), StatusCode::kNotFound);
}

TEST_F(DataLocationsTest, CopyTreeCopiesContents) {
  WriteFile(dir_.path() / "src/x.py", "x");
  WriteFile(dir_.path() / "src/pkg/y.py", "y");
  ASSERT_TRUE(CopyTree(dir_.path() / "src", dir_.path() / "code").ok());
  EXPECT_EQ(FilesUnder(dir_.path() / "code"), (std::set<std::string>{"x.py", "pkg/y.py"}));
}

TEST_F(DataLocationsTest, CopyTreeKeepsSymlinksAsSymlinks) {
  // BUG: src/jobs/data_locations.cc CopyTree() calls fs::copy(recursive | overwrite_existing)
  // without copy_symlinks, so symlinks are followed and their targets' contents copied. The
  // runner (src/jobs/training_runner.cc, CheckpointConfig upload) copies the job-written
  // /opt/ml/checkpoints with it, outside any sandbox: a job that leaves
  // "checkpoints/x -> <Loam data dir>/loam.db" (hidden from it by the sandbox) gets that file
  // copied into its checkpoint S3 location. Fix: add fs::copy_options::copy_symlinks (or skip
  // symlinks) at least for the checkpoint upload.
  WriteFile(dir_.path() / "private/secret.txt", "secret");
  WriteFile(dir_.path() / "ckpt/step-1.pt", "weights");
  fs::create_symlink(dir_.path() / "private/secret.txt", dir_.path() / "ckpt/x");
  ASSERT_TRUE(CopyTree(dir_.path() / "ckpt", dir_.path() / "uploaded").ok());
  EXPECT_EQ(ReadFile(dir_.path() / "uploaded/step-1.pt"), "weights");
  EXPECT_TRUE(!fs::exists(dir_.path() / "uploaded/x") || fs::is_symlink(dir_.path() / "uploaded/x"));
}

}  // namespace
}  // namespace loam::jobs
