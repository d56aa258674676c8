// LocalBucketStore: objects as plain files, metadata beside the tree, S3's listing and
// multipart semantics.
#include "objects/local_bucket_store.h"

#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "common/base64.h"
#include "objects/digests.h"
#include "test_util.h"

namespace loam::objects {
namespace {

namespace fs = std::filesystem;

using testing::FileContent;

std::string Reason(const Status& s) { return std::string(SplitBucketError(s).reason); }

class LocalBucketStoreTest : public ::testing::Test {
 protected:
  LocalBucketStoreTest() : store_(Options()) {}

  LocalBucketStoreOptions Options(uint64_t min_part = 5 * 1024 * 1024) {
    return {.root = dir_.path() / "objects", .state_root = dir_.path() / "objects-meta", .min_part_size = min_part};
  }

  // A file the store takes over, as the HTTP server's spooled upload.
  fs::path Spool(std::string_view data) {
    fs::path p = dir_.path() / ("spool-" + std::to_string(spooled_++));
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }

  StatusOr<ObjectInfo> Put(std::string_view bucket, std::string_view key, std::string_view data,
                           ObjectAttributes attributes = {}, ExpectedDigests expected = {}) {
    return store_.PutObject(bucket, key, Spool(data), attributes, expected);
  }

  std::vector<std::string> Keys(const ListObjectsResult& r) {
    std::vector<std::string> out;
    for (const auto& o : r.objects) out.push_back(o.key);
    return out;
  }

  testing::ScratchDir dir_;
  int spooled_ = 0;
  LocalBucketStore store_;
};

std::string QuotedMd5(std::string_view data) { return "\"" + HexEncode(Md5(data)) + "\""; }

TEST(BucketNames, FollowS3Rules) {
  for (std::string ok : {std::string("abc"), std::string("my-bucket.data"), std::string("a1b"), std::string("123"),
                         std::string(63, 'a')}) {
    EXPECT_TRUE(ValidateBucketName(ok).ok()) << ok;
  }
  for (const std::string& bad : std::vector<std::string>{"ab", std::string(64, 'a'), "Abc", "my_bucket", "-abc", "abc-", ".abc", "a..b",
                          "192.168.5.4", "xn--abc", "sthree-abc", "abc-s3alias", "abc--ol-s3", "a b c", "a/b"}) {
    Status s = ValidateBucketName(bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(Reason(s), reason::kInvalidBucketName) << bad;
  }
}

TEST(ObjectKeys, AreStrictAboutTheFileTree) {
  for (const char* ok : {"a", "a/b/c.txt", "spaces and+plus", "ünïcödé/ключ", "a\\b", ".hidden", "a/..b/c.."}) {
    EXPECT_TRUE(ValidateKey(ok).ok()) << ok;
  }
  for (const std::string& bad : std::vector<std::string>{std::string(""), std::string("/abs"), std::string("a//b"), std::string("a/"),
                          std::string("a/./b"), std::string("../x"), std::string("a/.."), std::string("."),
                          std::string("a\0b", 3), std::string("\xff\xfe"), std::string(256, 'x')}) {
    Status s = ValidateKey(bad);
    EXPECT_FALSE(s.ok()) << bad;
    EXPECT_EQ(Reason(s), reason::kInvalidArgument) << bad;
  }
  Status too_long = ValidateKey(std::string(1025, 'k'));
  EXPECT_EQ(Reason(too_long), reason::kKeyTooLongError);
  std::string max_key;
  while (max_key.size() + 100 <= 1024) max_key += std::string(99, 'k') + "/";
  max_key += std::string(1024 - max_key.size(), 'k');
  EXPECT_EQ(max_key.size(), 1024u);
  EXPECT_TRUE(ValidateKey(max_key).ok());
}

TEST_F(LocalBucketStoreTest, BucketsLifecycle) {
  ASSERT_TRUE(store_.CreateBucket("alpha", "").ok());
  ASSERT_TRUE(store_.CreateBucket("beta", "eu-west-1").ok());
  EXPECT_EQ(Reason(store_.CreateBucket("alpha", "")), reason::kBucketAlreadyOwnedByYou);
  EXPECT_EQ(Reason(store_.CreateBucket("Bad_Name", "")), reason::kInvalidBucketName);
  auto list = store_.ListBuckets();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "alpha");
  EXPECT_EQ((*list)[1].region, "eu-west-1");
  EXPECT_GT((*list)[0].created_ms, 0);
  EXPECT_TRUE(fs::is_directory(dir_.path() / "objects" / "alpha"));

  ASSERT_TRUE(Put("alpha", "k", "x").ok());
  EXPECT_EQ(Reason(store_.DeleteBucket("alpha")), reason::kBucketNotEmpty);
  ASSERT_TRUE(store_.DeleteObject("alpha", "k").ok());
  EXPECT_TRUE(store_.DeleteBucket("alpha").ok());
  EXPECT_EQ(Reason(store_.DeleteBucket("alpha")), reason::kNoSuchBucket);
  EXPECT_EQ(Reason(store_.GetBucket("alpha").status()), reason::kNoSuchBucket);
  EXPECT_EQ(Reason(Put("nope", "k", "x").status()), reason::kNoSuchBucket);
}

TEST_F(LocalBucketStoreTest, PutGetKeepsThePlainFileAndMetadata) {
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  ObjectAttributes attrs;
  attrs.content_type = "text/csv";
  attrs.headers = {{"content-disposition", "attachment"}};
  attrs.user_metadata = {{"owner", "ana"}};
  auto put = Put("bkt", "data/train/part-0.csv", "x,y\n1,2\n", attrs);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, QuotedMd5("x,y\n1,2\n"));
  // Exactly where jobs resolve s3://b/data/train/part-0.csv.
  EXPECT_EQ(FileContent(dir_.path() / "objects" / "bkt" / "data" / "train" / "part-0.csv"), "x,y\n1,2\n");

  auto got = store_.GetObject("bkt", "data/train/part-0.csv");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(FileContent(got->file), "x,y\n1,2\n");
  EXPECT_EQ(got->info.size, 8u);
  EXPECT_EQ(got->info.etag, put->etag);
  EXPECT_EQ(got->info.attributes.content_type, "text/csv");
  EXPECT_EQ(got->info.attributes.user_metadata.at("owner"), "ana");
  ASSERT_EQ(got->info.attributes.headers.size(), 1u);
  EXPECT_GT(got->info.last_modified_ms, 0);

  // Overwrite replaces content and metadata.
  ASSERT_TRUE(Put("bkt", "data/train/part-0.csv", "new").ok());
  auto head = store_.HeadObject("bkt", "data/train/part-0.csv");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->etag, QuotedMd5("new"));
  EXPECT_TRUE(head->attributes.content_type.empty());
  EXPECT_TRUE(head->attributes.user_metadata.empty());

  EXPECT_EQ(Reason(store_.GetObject("bkt", "missing").status()), reason::kNoSuchKey);
  EXPECT_EQ(Reason(store_.GetObject("bkt", "data").status()), reason::kNoSuchKey);  // a folder is no object
  // Nothing but the object under the bucket's directory.
  int files = 0;
  for (auto& e : fs::recursive_directory_iterator(dir_.path() / "objects")) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST_F(LocalBucketStoreTest, DigestsAreCheckedAndChecksumsKept) {
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  ExpectedDigests good;
  good.md5 = Md5("payload");
  good.checksums["CRC32"] = Base64Encode(DigestBytes("payload", {"CRC32"})["CRC32"]);
  good.checksums["SHA256"] = "";  // compute and keep
  auto put = Put("bkt", "k", "payload", {}, good);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->checksums.at("CRC32"), good.checksums["CRC32"]);
  EXPECT_EQ(put->checksums.at("SHA256"), Base64Encode(DigestBytes("payload", {"SHA256"})["SHA256"]));
  EXPECT_EQ(store_.HeadObject("bkt", "k")->checksums.size(), 2u);

  ExpectedDigests bad_md5;
  bad_md5.md5 = Md5("other");
  EXPECT_EQ(Reason(Put("bkt", "k2", "payload", {}, bad_md5).status()), reason::kBadDigest);
  ExpectedDigests bad_crc;
  bad_crc.checksums["CRC32C"] = Base64Encode(DigestBytes("other", {"CRC32C"})["CRC32C"]);
  EXPECT_EQ(Reason(Put("bkt", "k2", "payload", {}, bad_crc).status()), reason::kBadDigest);
  ExpectedDigests bad_sha;
  bad_sha.payload_sha256 = DigestBytes("other", {"SHA256"})["SHA256"];
  EXPECT_EQ(Reason(Put("bkt", "k2", "payload", {}, bad_sha).status()), reason::kContentSha256Mismatch);
  EXPECT_EQ(Reason(store_.HeadObject("bkt", "k2").status()), reason::kNoSuchKey);
}

TEST(Digests, KnownVectors) {
  // Check values of the standard test string.
  auto d = DigestBytes("123456789", {"CRC32", "CRC32C", "MD5", "SHA1"});
  EXPECT_EQ(HexEncode(d["CRC32"]), "cbf43926");
  EXPECT_EQ(HexEncode(d["CRC32C"]), "e3069283");
  EXPECT_EQ(HexEncode(d["MD5"]), "25f9e794323b453885f5181f1b624d0b");
  EXPECT_EQ(HexEncode(d["SHA1"]), "f7c3bc1d808e04732adf679965ccc34ca7ae3441");
  std::string big(100003, 'q');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 31 + 7);
  Digests incremental({"CRC32C"});
  incremental.Update(big.data(), 5);
  incremental.Update(big.data() + 5, big.size() - 5);
  EXPECT_EQ(incremental.Finish()["CRC32C"], DigestBytes(big, {"CRC32C"})["CRC32C"]);
}

TEST_F(LocalBucketStoreTest, FileAndFolderAtOnePathAreRefused) {
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  ASSERT_TRUE(Put("bkt", "a/b", "file").ok());
  auto under_file = Put("bkt", "a/b/c", "x");
  EXPECT_EQ(Reason(under_file.status()), reason::kParentIsObject);
  EXPECT_NE(under_file.status().message().find("'a/b' is an object"), std::string::npos);
  ASSERT_TRUE(Put("bkt", "x/y/z", "deep").ok());
  EXPECT_EQ(Reason(Put("bkt", "x/y", "x").status()), reason::kObjectExistsAsDirectory);
  EXPECT_EQ(Reason(Put("bkt", "x", "x").status()), reason::kObjectExistsAsDirectory);
  // The refused uploads left nothing behind, and the existing objects are intact.
  EXPECT_EQ(FileContent(store_.GetObject("bkt", "a/b")->file), "file");
  EXPECT_EQ(FileContent(store_.GetObject("bkt", "x/y/z")->file), "deep");
  // Once the folder is gone, the key can be a file.
  ASSERT_TRUE(store_.DeleteObject("bkt", "x/y/z").ok());
  EXPECT_FALSE(fs::exists(dir_.path() / "objects" / "bkt" / "x"));  // emptied folders are pruned
  EXPECT_TRUE(Put("bkt", "x/y", "now a file").ok());
}

TEST_F(LocalBucketStoreTest, DeleteIsIdempotent) {
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  ASSERT_TRUE(Put("bkt", "k", "x").ok());
  EXPECT_TRUE(store_.DeleteObject("bkt", "k").ok());
  EXPECT_TRUE(store_.DeleteObject("bkt", "k").ok());
  EXPECT_TRUE(store_.DeleteObject("bkt", "never/was").ok());
  EXPECT_EQ(Reason(store_.DeleteObject("bkt", "../escape")), reason::kInvalidArgument);
  EXPECT_EQ(Reason(store_.DeleteObject("nope", "k")), reason::kNoSuchBucket);
}

TEST_F(LocalBucketStoreTest, FilesWrittenByJobsAreObjectsWithLazyEtags) {
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  fs::path out = dir_.path() / "objects" / "bkt" / "out" / "job-1" / "output";
  fs::create_directories(out);
  std::ofstream(out / "model.tar.gz", std::ios::binary) << "tarball";
  auto head = store_.HeadObject("bkt", "out/job-1/output/model.tar.gz");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->etag, QuotedMd5("tarball"));
  EXPECT_EQ(head->size, 7u);
  auto list = store_.ListObjects("bkt", {.prefix = "out/"});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(Keys(*list), std::vector<std::string>{"out/job-1/output/model.tar.gz"});
  EXPECT_EQ(list->objects[0].etag, QuotedMd5("tarball"));

  // An object PUT through S3, then rewritten by a job: its stale metadata is not used.
  ObjectAttributes attrs;
  attrs.content_type = "text/plain";
  ASSERT_TRUE(Put("bkt", "shared.txt", "v1", attrs).ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  std::ofstream(dir_.path() / "objects" / "bkt" / "shared.txt", std::ios::binary | std::ios::trunc) << "version two";
  auto changed = store_.HeadObject("bkt", "shared.txt");
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->etag, QuotedMd5("version two"));
  EXPECT_EQ(changed->size, 11u);
  EXPECT_TRUE(changed->attributes.content_type.empty());

  // Symbolic links in the tree are never objects.
  fs::create_symlink("/etc/hostname", dir_.path() / "objects" / "bkt" / "link");
  EXPECT_EQ(Reason(store_.GetObject("bkt", "link").status()), reason::kNoSuchKey);
  fs::create_directory_symlink("/etc", dir_.path() / "objects" / "bkt" / "etc");
  EXPECT_EQ(Reason(store_.GetObject("bkt", "etc/hostname").status()), reason::kNoSuchKey);
  auto all = store_.ListObjects("bkt", {});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(Keys(*all), (std::vector<std::string>{"out/job-1/output/model.tar.gz", "shared.txt"}));
}

TEST_F(LocalBucketStoreTest, ListingOrderPrefixDelimiterAndPages) {
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  // '-' (0x2D) sorts before '/' (0x2F): "a-b" comes before everything under "a/".
  std::vector<std::string> keys = {"a/x", "a/y/z", "a-b", "bkt", "c/d/e", "c/f", "photos/2024/jan.jpg",
                                   "photos/2024/feb.jpg", "photos/2025/mar.jpg", "photos/index.html"};
  for (const auto& k : keys) ASSERT_TRUE(Put("bkt", k, k).ok()) << k;
  // An empty folder left by a job is not a prefix.
  fs::create_directories(dir_.path() / "objects" / "bkt" / "empty" / "inside");

  auto all = store_.ListObjects("bkt", {});
  ASSERT_TRUE(all.ok());
  std::vector<std::string> sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_EQ(Keys(*all), sorted);
  EXPECT_FALSE(all->truncated);

  auto top = store_.ListObjects("bkt", {.delimiter = "/"});
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(Keys(*top), (std::vector<std::string>{"a-b", "bkt"}));
  EXPECT_EQ(top->common_prefixes, (std::vector<std::string>{"a/", "c/", "photos/"}));

  auto photos = store_.ListObjects("bkt", {.prefix = "photos/", .delimiter = "/"});
  ASSERT_TRUE(photos.ok());
  EXPECT_EQ(Keys(*photos), std::vector<std::string>{"photos/index.html"});
  EXPECT_EQ(photos->common_prefixes, (std::vector<std::string>{"photos/2024/", "photos/2025/"}));

  auto partial = store_.ListObjects("bkt", {.prefix = "photos/20"});
  ASSERT_TRUE(partial.ok());
  EXPECT_EQ(Keys(*partial),
            (std::vector<std::string>{"photos/2024/feb.jpg", "photos/2024/jan.jpg", "photos/2025/mar.jpg"}));

  auto other_delim = store_.ListObjects("bkt", {.prefix = "photos/", .delimiter = "2"});
  ASSERT_TRUE(other_delim.ok());
  EXPECT_EQ(Keys(*other_delim), std::vector<std::string>{"photos/index.html"});
  EXPECT_EQ(other_delim->common_prefixes, std::vector<std::string>{"photos/2"});

  EXPECT_TRUE(store_.ListObjects("bkt", {.prefix = "../"})->objects.empty());
  EXPECT_TRUE(store_.ListObjects("bkt", {.prefix = "zzz/"})->objects.empty());

  // Pages of 3, keys and common prefixes counted together, each page resuming after the last.
  std::vector<std::string> seen;
  std::string marker;
  int pages = 0;
  for (;;) {
    auto page = store_.ListObjects("bkt", {.delimiter = "/", .marker = marker, .max_keys = 2});
    ASSERT_TRUE(page.ok());
    ++pages;
    for (const auto& o : page->objects) seen.push_back(o.key);
    for (const auto& p : page->common_prefixes) seen.push_back(p);
    if (!page->truncated) break;
    marker = page->last;
  }
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, (std::vector<std::string>{"a-b", "a/", "bkt", "c/", "photos/"}));
  EXPECT_EQ(pages, 3);

  // start-after in the middle of a folder.
  auto after = store_.ListObjects("bkt", {.marker = "c/d/e", .max_keys = 2});
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(Keys(*after), (std::vector<std::string>{"c/f", "photos/2024/feb.jpg"}));
  EXPECT_TRUE(after->truncated);
  EXPECT_EQ(after->last, "photos/2024/feb.jpg");
  EXPECT_TRUE(store_.ListObjects("bkt", {.max_keys = 0})->objects.empty());
}

TEST_F(LocalBucketStoreTest, CopyKeepsOrReplacesMetadata) {
  ASSERT_TRUE(store_.CreateBucket("src", "").ok());
  ASSERT_TRUE(store_.CreateBucket("dst", "").ok());
  ObjectAttributes attrs;
  attrs.content_type = "application/json";
  attrs.user_metadata = {{"a", "1"}};
  ExpectedDigests with_crc;
  with_crc.checksums["CRC32"] = "";
  ASSERT_TRUE(Put("src", "doc.json", "{}", attrs, with_crc).ok());

  auto copy = store_.CopyObject("src", "doc.json", "dst", "copies/doc.json", false, {});
  ASSERT_TRUE(copy.ok()) << copy.status().ToString();
  EXPECT_EQ(copy->etag, QuotedMd5("{}"));
  auto head = store_.HeadObject("dst", "copies/doc.json");
  EXPECT_EQ(head->attributes.content_type, "application/json");
  EXPECT_EQ(head->attributes.user_metadata.at("a"), "1");
  EXPECT_TRUE(head->checksums.contains("CRC32"));

  ObjectAttributes replaced;
  replaced.user_metadata = {{"b", "2"}};
  ASSERT_TRUE(store_.CopyObject("src", "doc.json", "dst", "copies/doc.json", true, replaced).ok());
  head = store_.HeadObject("dst", "copies/doc.json");
  EXPECT_TRUE(head->attributes.content_type.empty());
  EXPECT_EQ(head->attributes.user_metadata, (std::map<std::string, std::string>{{"b", "2"}}));

  EXPECT_EQ(Reason(store_.CopyObject("src", "doc.json", "src", "doc.json", false, {}).status()),
            reason::kInvalidRequest);
  EXPECT_TRUE(store_.CopyObject("src", "doc.json", "src", "doc.json", true, replaced).ok());
  EXPECT_EQ(Reason(store_.CopyObject("src", "nope", "dst", "x", false, {}).status()), reason::kNoSuchKey);
  EXPECT_EQ(Reason(store_.CopyObject("src", "doc.json", "nope", "x", false, {}).status()), reason::kNoSuchBucket);
}

TEST_F(LocalBucketStoreTest, MultipartUploadEtagAndValidation) {
  LocalBucketStore store(Options(/*min_part=*/1024));
  ASSERT_TRUE(store.CreateBucket("bkt", "").ok());
  std::string p1(1500, 'a'), p2(1024, 'b'), p3(10, 'c');
  ObjectAttributes attrs;
  attrs.content_type = "application/x-tar";
  auto upload = store.CreateMultipartUpload("bkt", "big/model.tar", attrs, "CRC32");
  ASSERT_TRUE(upload.ok());
  EXPECT_EQ(upload->upload_id.size(), 32u);
  auto part = [&](int n, const std::string& data) { return store.UploadPart("bkt", "big/model.tar", upload->upload_id, n, Spool(data), {}); };
  auto r2 = part(2, p2);
  auto r1 = part(1, p1);
  auto r3 = part(3, p3);
  ASSERT_TRUE(r1.ok() && r2.ok() && r3.ok());
  EXPECT_EQ(r1->etag, QuotedMd5(p1));
  EXPECT_TRUE(r1->checksums.contains("CRC32"));
  EXPECT_EQ(Reason(part(0, "x").status()), reason::kInvalidArgument);
  EXPECT_EQ(Reason(part(10001, "x").status()), reason::kInvalidArgument);

  auto listed = store.ListParts("bkt", "big/model.tar", upload->upload_id, 0, 2);
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->parts.size(), 2u);
  EXPECT_EQ(listed->parts[0].number, 1);
  EXPECT_TRUE(listed->truncated);
  EXPECT_EQ(listed->next_marker, 2);
  auto uploads = store.ListMultipartUploads("bkt", {});
  ASSERT_TRUE(uploads.ok());
  ASSERT_EQ(uploads->uploads.size(), 1u);
  EXPECT_EQ(uploads->uploads[0].key, "big/model.tar");

  std::vector<CompletedPart> parts = {{1, r1->etag}, {2, r2->etag}, {3, r3->etag}};
  EXPECT_EQ(Reason(store.CompleteMultipartUpload("bkt", "big/model.tar", upload->upload_id,
                                                 {{2, r2->etag}, {1, r1->etag}})
                       .status()),
            reason::kInvalidPartOrder);
  EXPECT_EQ(Reason(store.CompleteMultipartUpload("bkt", "big/model.tar", upload->upload_id,
                                                 {{1, r1->etag}, {2, "\"00000000000000000000000000000000\""}})
                       .status()),
            reason::kInvalidPart);
  EXPECT_EQ(Reason(store.CompleteMultipartUpload("bkt", "big/model.tar", upload->upload_id, {{1, r1->etag}, {4, "x"}})
                       .status()),
            reason::kInvalidPart);
  EXPECT_EQ(Reason(store.CompleteMultipartUpload("bkt", "big/model.tar", upload->upload_id,
                                                 {{1, r1->etag}, {3, r3->etag}, {4, r3->etag}})
                       .status()),
            reason::kInvalidPart);
  EXPECT_EQ(Reason(store.CompleteMultipartUpload("bkt", "big/model.tar", upload->upload_id, {{3, r3->etag}, {4, "x"}})
                       .status()),
            reason::kInvalidPart);

  auto done = store.CompleteMultipartUpload("bkt", "big/model.tar", upload->upload_id, parts);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  // S3's multipart ETag: MD5 of the concatenated binary part MD5s, then "-<parts>".
  std::string expected_etag = "\"" + HexEncode(Md5(Md5(p1) + Md5(p2) + Md5(p3))) + "-3\"";
  EXPECT_EQ(done->etag, expected_etag);
  EXPECT_EQ(done->parts_count, 3);
  auto crc = [](const std::string& s) { return DigestBytes(s, {"CRC32"})["CRC32"]; };
  EXPECT_EQ(done->checksums.at("CRC32"), Base64Encode(crc(crc(p1) + crc(p2) + crc(p3))) + "-3");
  auto got = store.GetObject("bkt", "big/model.tar");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(FileContent(got->file), p1 + p2 + p3);
  EXPECT_EQ(got->info.etag, expected_etag);
  EXPECT_EQ(got->info.attributes.content_type, "application/x-tar");
  // The upload is gone once completed.
  EXPECT_EQ(Reason(store.ListParts("bkt", "big/model.tar", upload->upload_id, 0, 10).status()), reason::kNoSuchUpload);
  EXPECT_TRUE(store.ListMultipartUploads("bkt", {})->uploads.empty());
}

TEST_F(LocalBucketStoreTest, MultipartPartsBelowTheMinimumAndAbort) {
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  auto upload = store_.CreateMultipartUpload("bkt", "k", {}, "");
  ASSERT_TRUE(upload.ok());
  auto r1 = store_.UploadPart("bkt", "k", upload->upload_id, 1, Spool("small"), {});
  auto r2 = store_.UploadPart("bkt", "k", upload->upload_id, 2, Spool("last"), {});
  ASSERT_TRUE(r1.ok() && r2.ok());
  EXPECT_EQ(Reason(store_.CompleteMultipartUpload("bkt", "k", upload->upload_id, {{1, r1->etag}, {2, r2->etag}}).status()),
            reason::kEntityTooSmall);
  // A single small part is fine: it is the last one.
  EXPECT_EQ(Reason(store_.UploadPart("bkt", "other", upload->upload_id, 1, Spool("x"), {}).status()),
            reason::kNoSuchUpload);
  EXPECT_EQ(Reason(store_.UploadPart("bkt", "k", "../../etc", 1, Spool("x"), {}).status()), reason::kNoSuchUpload);
  EXPECT_TRUE(store_.AbortMultipartUpload("bkt", "k", upload->upload_id).ok());
  EXPECT_EQ(Reason(store_.AbortMultipartUpload("bkt", "k", upload->upload_id)), reason::kNoSuchUpload);
  EXPECT_EQ(Reason(store_.UploadPart("bkt", "k", upload->upload_id, 3, Spool("x"), {}).status()), reason::kNoSuchUpload);

  auto single = store_.CreateMultipartUpload("bkt", "one", {}, "");
  auto only = store_.UploadPart("bkt", "one", single->upload_id, 1, Spool("tiny"), {});
  auto done = store_.CompleteMultipartUpload("bkt", "one", single->upload_id, {{1, only->etag}});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->etag, "\"" + HexEncode(Md5(Md5("tiny"))) + "-1\"");
}

TEST_F(LocalBucketStoreTest, UploadPartCopyTakesARange) {
  LocalBucketStore store(Options(/*min_part=*/4));
  ASSERT_TRUE(store.CreateBucket("bkt", "").ok());
  ASSERT_TRUE(store.PutObject("bkt", "src", Spool("0123456789"), {}, {}).ok());
  auto upload = store.CreateMultipartUpload("bkt", "dst", {}, "");
  auto p1 = store.UploadPartCopy("bkt", "dst", upload->upload_id, 1, "bkt", "src", ByteRange{2, 5});
  auto p2 = store.UploadPartCopy("bkt", "dst", upload->upload_id, 2, "bkt", "src", std::nullopt);
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_EQ(p1->size, 5u);
  EXPECT_EQ(Reason(store.UploadPartCopy("bkt", "dst", upload->upload_id, 3, "bkt", "src", ByteRange{8, 5}).status()),
            reason::kInvalidArgument);
  ASSERT_TRUE(store.CompleteMultipartUpload("bkt", "dst", upload->upload_id, {{1, p1->etag}, {2, p2->etag}}).ok());
  EXPECT_EQ(FileContent(store.GetObject("bkt", "dst")->file), "234560123456789");
}

TEST_F(LocalBucketStoreTest, DeletingABucketAbandonsItsUploads) {
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  auto upload = store_.CreateMultipartUpload("bkt", "k", {}, "");
  ASSERT_TRUE(upload.ok());
  EXPECT_TRUE(store_.DeleteBucket("bkt").ok());
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  EXPECT_EQ(Reason(store_.ListParts("bkt", "k", upload->upload_id, 0, 10).status()), reason::kNoSuchUpload);
}

TEST_F(LocalBucketStoreTest, ConcurrentPutsOfOneKeyLeaveOneConsistentObject) {
  ASSERT_TRUE(store_.CreateBucket("bkt", "").ok());
  std::vector<std::thread> threads;
  std::vector<fs::path> spools;
  for (int i = 0; i < 8; ++i) spools.push_back(Spool(std::string(10000 + i, static_cast<char>('a' + i))));
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      ObjectAttributes a;
      a.user_metadata["writer"] = std::to_string(i);
      (void)store_.PutObject("bkt", "hot", spools[i], a, {});
      (void)store_.HeadObject("bkt", "hot");
    });
  }
  for (auto& t : threads) t.join();
  auto got = store_.GetObject("bkt", "hot");
  ASSERT_TRUE(got.ok());
  std::string data = FileContent(got->file);
  EXPECT_EQ(got->info.etag, QuotedMd5(data));
  EXPECT_EQ(got->info.size, data.size());
  // The metadata is the one written with these bytes.
  EXPECT_EQ(got->info.attributes.user_metadata.at("writer"), std::to_string(data[0] - 'a'));
}

}  // namespace
}  // namespace loam::objects
