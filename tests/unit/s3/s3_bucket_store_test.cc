// S3BucketStore against a real S3-compatible server (s3rver): every port method, errors
// mapped to S3's reasons, digests checked before anything is sent, multipart PutObject, and
// the client's retries (against a scripted HTTP server and a port with nobody listening).
#include "objects/s3_bucket_store.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>

#include "common/base64.h"
#include "common/strings.h"
#include "objects/digests.h"
#include "objects/s3_wire.h"
#include "s3rver_process.h"
#include "test_util.h"

namespace loam::objects {
namespace {

namespace fs = std::filesystem;

using testing::FileContent;

std::string Reason(const Status& s) { return std::string(SplitBucketError(s).reason); }

std::string Bytes(size_t n) {
  std::string data(n, '\0');
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>((i * 7919 + i / 1000) & 0xFF);
  return data;
}

// s3rver knows one key pair.
S3ClientOptions S3rverClient(const std::string& endpoint) {
  S3ClientOptions client;
  client.endpoint = endpoint;
  client.access_key_id = "S3RVER";
  client.secret_access_key = "S3RVER";
  client.first_backoff = std::chrono::milliseconds(10);
  return client;
}

class S3BucketStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!testing::S3rverProcess::Unavailable().empty()) return;
    data_ = new testing::ScratchDir();
    s3rver_ = new testing::S3rverProcess(data_->path());
  }
  static void TearDownTestSuite() {
    delete s3rver_;
    delete data_;
    s3rver_ = nullptr;
    data_ = nullptr;
  }

  void SetUp() override {
    if (std::string why = testing::S3rverProcess::Unavailable(); !why.empty()) {
      GTEST_SKIP() << "needs s3rver: " << why << " (scripts/setup.sh installs it)";
    }
    ASSERT_GT(s3rver_->port(), 0) << "s3rver did not start";
    S3BucketStoreOptions options;
    options.client = S3rverClient(s3rver_->endpoint());
    options.temp_dir = dir_.path() / "downloads";
    options.multipart_threshold = 512 * 1024;
    options.part_size = 200 * 1024;
    store_ = std::make_unique<S3BucketStore>(options);
    bucket_ = "b-" + NewUuidHex().substr(0, 12);
    ASSERT_TRUE(store_->CreateBucket(bucket_, "").ok());
  }

  fs::path Spool(std::string_view data) {
    fs::path p = dir_.path() / ("spool-" + std::to_string(spooled_++));
    std::ofstream(p, std::ios::binary) << data;
    return p;
  }

  StatusOr<ObjectInfo> Put(std::string_view key, std::string_view data, ObjectAttributes attributes = {},
                           ExpectedDigests expected = {}) {
    return store_->PutObject(bucket_, key, Spool(data), attributes, expected);
  }

  std::string Get(std::string_view key) {
    auto data = store_->GetObject(bucket_, key);
    EXPECT_TRUE(data.ok()) << data.status().ToString();
    if (!data.ok()) return "";
    EXPECT_TRUE(data->temporary);
    std::string bytes = FileContent(data->file);
    fs::remove(data->file);
    return bytes;
  }

  static inline testing::ScratchDir* data_ = nullptr;
  static inline testing::S3rverProcess* s3rver_ = nullptr;
  testing::ScratchDir dir_;
  int spooled_ = 0;
  std::unique_ptr<S3BucketStore> store_;
  std::string bucket_;
};

TEST_F(S3BucketStoreTest, Buckets) {
  EXPECT_TRUE(store_->CheckReachable().ok());
  auto listed = store_->ListBuckets();
  ASSERT_TRUE(listed.ok()) << listed.status().ToString();
  bool found = false;
  for (const auto& b : *listed) found = found || (b.name == bucket_ && b.created_ms > 0);
  EXPECT_TRUE(found);
  auto info = store_->GetBucket(bucket_);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->name, bucket_);

  Status again = store_->CreateBucket(bucket_, "");
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(Reason(again), "BucketAlreadyExists");  // s3rver's word; S3 and MinIO say ...OwnedByYou
  EXPECT_EQ(Reason(store_->CreateBucket("Not_Valid", "")), reason::kInvalidBucketName);  // refused locally

  ASSERT_TRUE(Put("k", "x").ok());
  Status not_empty = store_->DeleteBucket(bucket_);
  EXPECT_EQ(not_empty.code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(Reason(not_empty), reason::kBucketNotEmpty);
  ASSERT_TRUE(store_->DeleteObject(bucket_, "k").ok());
  ASSERT_TRUE(store_->DeleteBucket(bucket_).ok());
  EXPECT_EQ(Reason(store_->GetBucket(bucket_).status()), reason::kNoSuchBucket);
  EXPECT_EQ(Reason(store_->DeleteBucket(bucket_)), reason::kNoSuchBucket);
  EXPECT_EQ(store_->ListObjects(bucket_, {}).status().code(), StatusCode::kNotFound);
}

TEST_F(S3BucketStoreTest, ObjectsWithMetadata) {
  ObjectAttributes attributes;
  attributes.content_type = "text/csv";
  attributes.headers = {{"cache-control", "no-cache"}, {"content-disposition", "attachment; filename=\"a.csv\""}};
  attributes.user_metadata = {{"source", "unit-test"}, {"run", "42"}};
  std::string body = "col1,col2\n1,2\n";
  fs::path spooled = Spool(body);
  auto put = store_->PutObject(bucket_, "data/train.csv", spooled, attributes, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_FALSE(fs::exists(spooled)) << "the store takes the source over";
  EXPECT_EQ(put->etag, "\"" + HexEncode(Md5(body)) + "\"");
  EXPECT_EQ(put->size, body.size());

  auto head = store_->HeadObject(bucket_, "data/train.csv");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, body.size());
  EXPECT_EQ(head->etag, put->etag);
  EXPECT_EQ(head->attributes.content_type, "text/csv");
  EXPECT_EQ(head->attributes.user_metadata, attributes.user_metadata);
  EXPECT_GT(head->last_modified_ms, 1'600'000'000'000);
  bool cache_control = false;
  for (const auto& [name, value] : head->attributes.headers) cache_control |= name == "cache-control" && value == "no-cache";
  EXPECT_TRUE(cache_control);

  auto data = store_->GetObject(bucket_, "data/train.csv");
  ASSERT_TRUE(data.ok()) << data.status().ToString();
  EXPECT_TRUE(data->temporary);
  EXPECT_EQ(data->file.parent_path(), dir_.path() / "downloads");
  EXPECT_EQ(FileContent(data->file), body);
  EXPECT_EQ(data->info.attributes.user_metadata, attributes.user_metadata);
  fs::remove(data->file);

  ASSERT_TRUE(Put("empty", "").ok());
  EXPECT_EQ(Get("empty"), "");
  EXPECT_EQ(Get("data/train.csv"), body);

  EXPECT_EQ(Reason(store_->HeadObject(bucket_, "missing").status()), reason::kNoSuchKey);
  Status missing = store_->GetObject(bucket_, "missing").status();
  EXPECT_EQ(missing.code(), StatusCode::kNotFound);
  EXPECT_EQ(Reason(missing), reason::kNoSuchKey);
  EXPECT_TRUE(fs::is_empty(dir_.path() / "downloads")) << "a failed download leaves no file";
  EXPECT_EQ(Reason(store_->GetObject("no-such-bucket-xyz", "k").status()), reason::kNoSuchBucket);

  ASSERT_TRUE(store_->DeleteObject(bucket_, "data/train.csv").ok());
  EXPECT_TRUE(store_->DeleteObject(bucket_, "data/train.csv").ok()) << "deleting nothing succeeds, as in S3";
  EXPECT_EQ(Reason(store_->HeadObject(bucket_, "data/train.csv").status()), reason::kNoSuchKey);
}

TEST_F(S3BucketStoreTest, KeysThatNeedEncoding) {
  for (std::string key : {"with space/and+plus.txt", "ünïcödé/ключ.bin", "percent%20literal", "q?uery#hash&amp;",
                          "a/../b", "tilde~'quote\""}) {
    ASSERT_TRUE(Put(key, key).ok()) << key;
    EXPECT_EQ(Get(key), key);
  }
  auto list = store_->ListObjects(bucket_, {});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->objects.size(), 6u);
}

TEST_F(S3BucketStoreTest, DigestsAreCheckedBeforeAnythingIsSent) {
  std::string body = Bytes(100'000);
  ExpectedDigests good;
  good.md5 = Md5(body);
  good.checksums = {{"SHA256", Base64Encode(DigestBytes(body, {"SHA256"})["SHA256"])}, {"CRC32", ""}};
  auto put = Put("good", body, {}, good);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->checksums.at("SHA256"), good.checksums["SHA256"]);
  EXPECT_EQ(put->checksums.at("CRC32"), Base64Encode(DigestBytes(body, {"CRC32"})["CRC32"]));

  ExpectedDigests bad_md5;
  bad_md5.md5 = Md5("other");
  ExpectedDigests bad_checksum;
  bad_checksum.checksums = {{"CRC32", Base64Encode(std::string(4, '\0'))}};
  ExpectedDigests bad_payload;
  bad_payload.payload_sha256 = DigestBytes("other", {"SHA256"})["SHA256"];
  for (const auto& [expected, why] : {std::pair{bad_md5, reason::kBadDigest}, {bad_checksum, reason::kBadDigest},
                                      {bad_payload, reason::kContentSha256Mismatch}}) {
    fs::path source = Spool(body);
    Status s = store_->PutObject(bucket_, "refused", source, {}, expected).status();
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
    EXPECT_EQ(Reason(s), why);
    EXPECT_FALSE(fs::exists(source));
    EXPECT_EQ(Reason(store_->HeadObject(bucket_, "refused").status()), reason::kNoSuchKey) << "nothing stored remotely";
  }
  // Large files are checked before the multipart upload starts.
  fs::path large = Spool(Bytes(600 * 1024));
  EXPECT_EQ(Reason(store_->PutObject(bucket_, "refused", large, {}, bad_md5).status()), reason::kBadDigest);
  EXPECT_EQ(Reason(store_->HeadObject(bucket_, "refused").status()), reason::kNoSuchKey);
}

TEST_F(S3BucketStoreTest, LargePutObjectGoesUpInParts) {
  std::string body = Bytes(1'100'000);  // above the 512 KiB threshold: 200 KiB parts, 6 of them
  ObjectAttributes attributes;
  attributes.content_type = "application/x-test";
  attributes.user_metadata = {{"kind", "multipart"}};
  ExpectedDigests expected;
  expected.md5 = Md5(body);
  auto put = Put("big/object.bin", body, attributes, expected);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->size, body.size());
  EXPECT_EQ(put->parts_count, 6);
  EXPECT_EQ(Get("big/object.bin"), body);
  auto head = store_->HeadObject(bucket_, "big/object.bin");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->attributes.content_type, "application/x-test");
  EXPECT_EQ(head->attributes.user_metadata, attributes.user_metadata);
}

TEST_F(S3BucketStoreTest, CopyObject) {
  ObjectAttributes attributes;
  attributes.content_type = "application/json";
  attributes.user_metadata = {{"origin", "src"}};
  // (No '+' in the source key: s3rver reads x-amz-copy-source with decodeURI, which keeps %2B.)
  ASSERT_TRUE(Put("src dir/ünï file.json", "{\"a\": 1}", attributes).ok());
  auto copied = store_->CopyObject(bucket_, "src dir/ünï file.json", bucket_, "copied.json", false, {});
  ASSERT_TRUE(copied.ok()) << copied.status().ToString();
  EXPECT_EQ(copied->etag, "\"" + HexEncode(Md5("{\"a\": 1}")) + "\"");
  EXPECT_EQ(copied->size, 8u);
  EXPECT_EQ(copied->attributes.user_metadata, attributes.user_metadata);
  EXPECT_EQ(Get("copied.json"), "{\"a\": 1}");

  ObjectAttributes replaced;
  replaced.content_type = "text/plain";
  replaced.user_metadata = {{"new", "yes"}};
  auto re = store_->CopyObject(bucket_, "copied.json", bucket_, "copied.json", true, replaced);
  ASSERT_TRUE(re.ok()) << re.status().ToString();
  EXPECT_EQ(re->attributes.content_type, "text/plain");
  EXPECT_EQ(re->attributes.user_metadata, replaced.user_metadata);

  EXPECT_EQ(Reason(store_->CopyObject(bucket_, "copied.json", bucket_, "copied.json", false, {}).status()),
            reason::kInvalidRequest);
  EXPECT_EQ(Reason(store_->CopyObject(bucket_, "missing", bucket_, "x", false, {}).status()), reason::kNoSuchKey);
}

TEST_F(S3BucketStoreTest, ListObjectsPagesWithPrefixesAndMarkers) {
  std::vector<std::string> keys;
  for (int m = 1; m <= 12; ++m) keys.push_back(fmt::format("logs/2024/{:02d}/app.log", m));
  // (models/readme.txt: s3rver finds a common prefix only through a key directly under it.)
  for (std::string k : {"logs/readme.txt", "logs-old.txt", "models/a/model.tar.gz", "models/readme.txt", "top.txt"}) {
    keys.push_back(k);
  }
  std::sort(keys.begin(), keys.end());
  for (const auto& k : keys) ASSERT_TRUE(Put(k, k).ok());

  auto all = store_->ListObjects(bucket_, {});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->objects.size(), keys.size());
  for (size_t i = 0; i < keys.size(); ++i) {
    EXPECT_EQ(all->objects[i].key, keys[i]);
    EXPECT_EQ(all->objects[i].size, keys[i].size());
    EXPECT_EQ(all->objects[i].etag, "\"" + HexEncode(Md5(keys[i])) + "\"");
  }
  EXPECT_FALSE(all->truncated);

  auto top = store_->ListObjects(bucket_, {.delimiter = "/"});
  ASSERT_TRUE(top.ok());
  EXPECT_EQ(top->common_prefixes, (std::vector<std::string>{"logs/", "models/"}));
  ASSERT_EQ(top->objects.size(), 2u);
  EXPECT_EQ(top->objects[0].key, "logs-old.txt");

  // Pages of common prefixes: each starts after the last prefix, past every key under it.
  std::vector<std::string> months;
  std::string marker;
  int pages = 0;
  for (;;) {
    auto page = store_->ListObjects(bucket_, {.prefix = "logs/2024/", .delimiter = "/", .marker = marker, .max_keys = 5});
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const auto& p : page->common_prefixes) months.push_back(p);
    if (!page->truncated) break;
    marker = page->last;
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(months.size(), 12u);
  EXPECT_EQ(months.front(), "logs/2024/01/");
  EXPECT_EQ(months.back(), "logs/2024/12/");

  auto after = store_->ListObjects(bucket_, {.marker = "logs/2024/12/app.log", .max_keys = 2});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->objects.size(), 2u);
  EXPECT_EQ(after->objects[0].key, "logs/readme.txt");
  EXPECT_TRUE(after->truncated);
  EXPECT_EQ(after->last, "models/a/model.tar.gz");
  auto none = store_->ListObjects(bucket_, {.max_keys = 0});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->objects.empty());
}

TEST_F(S3BucketStoreTest, MultipartUploadOperations) {
  ObjectAttributes attributes;
  attributes.content_type = "application/x-test";
  auto upload = store_->CreateMultipartUpload(bucket_, "mp/object.bin", attributes, "");
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  EXPECT_FALSE(upload->upload_id.empty());
  std::vector<std::string> data = {Bytes(300'000), Bytes(1000)};
  std::vector<CompletedPart> parts;
  for (int n = 1; n <= 2; ++n) {
    ExpectedDigests expected;
    expected.md5 = Md5(data[n - 1]);
    fs::path source = Spool(data[n - 1]);
    auto part = store_->UploadPart(bucket_, "mp/object.bin", upload->upload_id, n, source, expected);
    ASSERT_TRUE(part.ok()) << part.status().ToString();
    EXPECT_FALSE(fs::exists(source));
    EXPECT_EQ(part->etag, "\"" + HexEncode(Md5(data[n - 1])) + "\"");
    EXPECT_EQ(part->size, data[n - 1].size());
    parts.push_back({n, part->etag});
  }
  ExpectedDigests wrong;
  wrong.md5 = Md5("x");
  EXPECT_EQ(Reason(store_->UploadPart(bucket_, "mp/object.bin", upload->upload_id, 3, Spool("y"), wrong).status()),
            reason::kBadDigest);
  auto done = store_->CompleteMultipartUpload(bucket_, "mp/object.bin", upload->upload_id, parts);
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->size, data[0].size() + data[1].size());
  EXPECT_EQ(done->attributes.content_type, "application/x-test");
  EXPECT_EQ(Get("mp/object.bin"), data[0] + data[1]);

  // s3rver implements none of these four: the store still sends them, and carries s3rver's
  // refusal back as the reason (S3, MinIO and Ceph implement them; see S3WireTest below).
  auto other = store_->CreateMultipartUpload(bucket_, "mp/other", {}, "");
  ASSERT_TRUE(other.ok());
  Status list_parts = store_->ListParts(bucket_, "mp/other", other->upload_id, 0, 1000).status();
  EXPECT_EQ(Reason(list_parts), "MethodNotAllowed");
  Status list_uploads = store_->ListMultipartUploads(bucket_, {}).status();
  EXPECT_EQ(list_uploads.code(), StatusCode::kUnimplemented);
  EXPECT_EQ(Reason(list_uploads), "NotImplemented");
  Status copy = store_->UploadPartCopy(bucket_, "mp/other", other->upload_id, 1, bucket_, "mp/object.bin",
                                       ByteRange{0, 100})
                    .status();
  EXPECT_EQ(Reason(copy), "NotImplemented");
  EXPECT_EQ(Reason(store_->AbortMultipartUpload(bucket_, "mp/other", other->upload_id)), "MethodNotAllowed");
}

TEST_F(S3BucketStoreTest, RefusedCredentialsAreAccessDenied) {
  S3BucketStoreOptions options;
  options.client = S3rverClient(s3rver_->endpoint());
  options.client.access_key_id = "NOT-A-KEY";
  S3BucketStore stranger(options);
  Status s = stranger.CheckReachable();
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(s.message().find("refused Loam's credentials (InvalidAccessKeyId"), std::string::npos) << s.message();
  // An object that exists (a HEAD of a missing key would fail whatever the credentials).
  ASSERT_TRUE(Put("k", "v").ok());
  ASSERT_TRUE(store_->HeadObject(bucket_, "k").ok());
  Status head = stranger.HeadObject(bucket_, "k").status();
  EXPECT_EQ(head.code(), StatusCode::kFailedPrecondition) << head.ToString();  // 403, not a missing key
  EXPECT_NE(Reason(head), reason::kNoSuchKey);
  Status get = stranger.GetObject(bucket_, "k").status();
  EXPECT_EQ(get.code(), StatusCode::kFailedPrecondition) << get.ToString();
  EXPECT_EQ(Reason(get), "AccessDenied");
  EXPECT_NE(get.message().find("refused Loam's credentials"), std::string::npos) << get.message();
}

// ---------------------------------------------------------------------------
// Retries, against a server that answers from a script, and a port nobody listens on
// ---------------------------------------------------------------------------

// Answers each request with the next canned response (the last one repeats), one request
// per connection, and records what it received.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::vector<std::string> responses) : responses_(std::move(responses)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::vector<std::string> bodies() {
    std::lock_guard lock(mu_);
    return bodies_;
  }

 private:
  void Serve() {
    for (size_t served = 0;; ++served) {
      int conn = ::accept(fd_, nullptr, nullptr);
      if (conn < 0) return;
      std::string request;
      char buffer[65536];
      size_t header_end = std::string::npos, length = 0;
      while (header_end == std::string::npos || request.size() < header_end + 4 + length) {
        ssize_t n = ::read(conn, buffer, sizeof buffer);
        if (n <= 0) break;
        request.append(buffer, static_cast<size_t>(n));
        if (header_end == std::string::npos && (header_end = request.find("\r\n\r\n")) != std::string::npos) {
          auto at = ToLower(request.substr(0, header_end)).find("content-length:");
          if (at != std::string::npos) length = std::stoul(request.substr(at + 15));
        }
      }
      {
        std::lock_guard lock(mu_);
        bodies_.push_back(header_end == std::string::npos ? "" : request.substr(header_end + 4));
      }
      const std::string& response = responses_[std::min(served, responses_.size() - 1)];
      (void)!::write(conn, response.data(), response.size());
      ::close(conn);
    }
  }

  std::vector<std::string> responses_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<std::string> bodies_;  // guarded by mu_
};

std::string Answer(int status, std::string_view reason_phrase, std::string_view body, std::string_view extra = "") {
  return fmt::format("HTTP/1.1 {} {}\r\nContent-Length: {}\r\nConnection: close\r\n{}\r\n{}", status, reason_phrase,
                     body.size(), extra, body);
}

constexpr std::string_view kSlowDown =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please reduce your request "
    "rate.</Message></Error>";

S3BucketStore ScriptedStore(const std::string& endpoint, const fs::path& temp) {
  S3BucketStoreOptions options;
  options.client.endpoint = endpoint;
  options.client.access_key_id = "key";
  options.client.secret_access_key = "secret";
  options.client.max_attempts = 3;
  options.client.first_backoff = std::chrono::milliseconds(5);
  options.temp_dir = temp;
  return S3BucketStore(options);
}

TEST(S3ClientRetries, ThrottledAndFailingAnswersAreRetriedWithTheBodyReplayed) {
  testing::ScratchDir dir;
  ScriptedServer server({Answer(503, "Slow Down", kSlowDown), Answer(500, "Internal Server Error", ""),
                         Answer(200, "OK", "", "ETag: \"abc\"\r\n")});
  S3BucketStore store = ScriptedStore(server.endpoint(), dir.path());
  std::string body = Bytes(70'000);
  fs::path source = dir.path() / "source";
  std::ofstream(source, std::ios::binary) << body;
  auto put = store.PutObject("bucket", "key", source, {}, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->etag, "\"abc\"");
  EXPECT_EQ(server.bodies(), (std::vector<std::string>{body, body, body})) << "each attempt sends the whole file";
}

TEST(S3ClientRetries, AStoreThatKeepsFailingIsUnavailable) {
  testing::ScratchDir dir;
  ScriptedServer server({Answer(503, "Slow Down", kSlowDown)});
  S3BucketStore store = ScriptedStore(server.endpoint(), dir.path());
  Status s = store.DeleteObject("bucket", "key");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(Reason(s), "SlowDown");
  EXPECT_NE(s.message().find(server.endpoint()), std::string::npos) << s.message();
  EXPECT_EQ(server.bodies().size(), 3u) << "max_attempts in all";

  ScriptedServer refusing({Answer(404, "Not Found",
                                  "<Error><Code>NoSuchBucket</Code><Message>gone</Message></Error>")});
  S3BucketStore other = ScriptedStore(refusing.endpoint(), dir.path());
  EXPECT_EQ(Reason(other.DeleteObject("bucket", "key")), reason::kNoSuchBucket);
  EXPECT_EQ(refusing.bodies().size(), 1u) << "a client error is not retried";
}

TEST(S3ClientRetries, NobodyListeningIsUnavailableAfterBoundedAttempts) {
  testing::ScratchDir dir;
  int port;
  {
    ScriptedServer gone({Answer(200, "OK", "")});
    port = std::stoi(gone.endpoint().substr(gone.endpoint().rfind(':') + 1));
  }
  S3BucketStore store = ScriptedStore("http://127.0.0.1:" + std::to_string(port), dir.path());
  auto started = std::chrono::steady_clock::now();
  Status s = store.CheckReachable();
  auto took = std::chrono::steady_clock::now() - started;
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_NE(s.message().find("127.0.0.1:" + std::to_string(port)), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("after 3 attempts"), std::string::npos) << s.message();
  EXPECT_LT(took, std::chrono::seconds(2));

  S3BucketStoreOptions bad;
  bad.client.endpoint = "127.0.0.1:9000";  // no scheme
  EXPECT_EQ(S3BucketStore(bad).CheckReachable().code(), StatusCode::kUnavailable);
}

// ---------------------------------------------------------------------------
// The XML of the operations s3rver does not implement, as S3's documentation shows it
// ---------------------------------------------------------------------------

TEST(S3WireTest, ReadsListPartsListUploadsAndCopyResults) {
  auto parts = s3wire::ParseListParts(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<ListPartsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>example-bucket</Bucket>"
      "<Key>example-object</Key><UploadId>XXBsb2FkIElEIGZvciBlbHZpbmcncyVcdS1tb3ZpZS5tMnRzEEEwbG9hZA</UploadId>"
      "<PartNumberMarker>1</PartNumberMarker><NextPartNumberMarker>3</NextPartNumberMarker><MaxParts>2</MaxParts>"
      "<IsTruncated>true</IsTruncated><Part><PartNumber>2</PartNumber>"
      "<LastModified>2010-11-10T20:48:34.000Z</LastModified><ETag>\"7778aef83f66abc1fa1e8477f296d394\"</ETag>"
      "<Size>10485760</Size><ChecksumCRC32>AAAAAA==</ChecksumCRC32></Part><Part><PartNumber>3</PartNumber>"
      "<LastModified>2010-11-10T20:48:33.000Z</LastModified><ETag>&quot;aaaa18db4cc2f85cedef654fccc4a4x8&quot;</ETag>"
      "<Size>10485760</Size></Part><ChecksumAlgorithm>CRC32</ChecksumAlgorithm></ListPartsResult>");
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_TRUE(parts->truncated);
  EXPECT_EQ(parts->next_marker, 3);
  EXPECT_EQ(parts->upload.checksum_algorithm, "CRC32");
  ASSERT_EQ(parts->parts.size(), 2u);
  EXPECT_EQ(parts->parts[0].number, 2);
  EXPECT_EQ(parts->parts[0].size, 10485760u);
  EXPECT_EQ(parts->parts[0].last_modified_ms, 1289422114000);
  EXPECT_EQ(parts->parts[0].checksums.at("CRC32"), "AAAAAA==");
  EXPECT_EQ(parts->parts[1].etag, "\"aaaa18db4cc2f85cedef654fccc4a4x8\"");

  auto uploads = s3wire::ParseListUploads(
      "<ListMultipartUploadsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Bucket>bucket</Bucket>"
      "<KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker>my+movie.m2ts</NextKeyMarker>"
      "<NextUploadIdMarker>YW55IGlkZWEgd2h5</NextUploadIdMarker><EncodingType>url</EncodingType>"
      "<MaxUploads>3</MaxUploads><IsTruncated>true</IsTruncated><Upload><Key>my%2Bdivisor+a</Key>"
      "<UploadId>XMgbGlrZSBlbHZpbmcncyBub3QgaGF2aW5nIG11Y2ggbHVjaw</UploadId>"
      "<Initiated>2010-11-10T20:48:33.000Z</Initiated></Upload></ListMultipartUploadsResult>");
  ASSERT_TRUE(uploads.ok()) << uploads.status().ToString();
  EXPECT_TRUE(uploads->truncated);
  EXPECT_EQ(uploads->next_key_marker, "my movie.m2ts");
  EXPECT_EQ(uploads->next_upload_id_marker, "YW55IGlkZWEgd2h5");
  ASSERT_EQ(uploads->uploads.size(), 1u);
  EXPECT_EQ(uploads->uploads[0].key, "my+divisor a");
  EXPECT_EQ(uploads->uploads[0].bucket, "bucket");
  EXPECT_EQ(uploads->uploads[0].initiated_ms, 1289422113000);

  auto copy = s3wire::ParseCopyResult(
      "<CopyPartResult><LastModified>2011-04-11T20:34:56.000Z</LastModified>"
      "<ETag>\"9b2cf535f27731c974343645a3985328\"</ETag></CopyPartResult>");
  ASSERT_TRUE(copy.ok());
  EXPECT_EQ(copy->etag, "\"9b2cf535f27731c974343645a3985328\"");
  EXPECT_EQ(s3wire::ParseListObjects("<Error/>").status().code(), StatusCode::kInternal);
  EXPECT_EQ(s3wire::ParseLocation("<LocationConstraint>eu-west-1</LocationConstraint>").value(), "eu-west-1");
  EXPECT_EQ(s3wire::ParseLocation("<LocationConstraint/>").value(), "");
}

}  // namespace
}  // namespace loam::objects
