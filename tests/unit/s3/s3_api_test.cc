// The S3 adapter over a real LocalBucketStore, request by request (no sockets), and its
// routes beside the other protocols' on one router.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api/s3/s3_routes.h"
#include "common/base64.h"
#include "common/strings.h"
#include "objects/digests.h"
#include "objects/local_bucket_store.h"
#include "objects/xml.h"
#include "test_util.h"

namespace loam::api::s3 {

using objects::ParseXml;
namespace {

namespace fs = std::filesystem;

class S3ApiTest : public ::testing::Test {
 protected:
  S3ApiTest()
      : store_({.root = dir_.path() / "objects", .state_root = dir_.path() / "meta", .min_part_size = 5}) {}

  // method + target as sent on the wire; a body spooled to a file, as the server does for PUT.
  http::Response Call(std::string method, std::string target, std::string body = "",
                      std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Request req;
    req.method = std::move(method);
    req.target = target;
    auto q = target.find('?');
    req.raw_path = target.substr(0, q);
    req.path = PercentDecode(req.raw_path, false).value_or(req.raw_path);
    if (q != std::string::npos) req.query = http::ParseQuery(target.substr(q + 1));
    for (auto& [k, v] : headers) req.headers.emplace_back(ToLower(k), v);
    if (req.method == "PUT") {
      req.body_file = dir_.path() / ("upload-" + std::to_string(uploads_++));
      std::ofstream(req.body_file, std::ios::binary) << body;
      req.body_size = body.size();
    } else {
      req.body = body;
      req.body_size = body.size();
    }
    http::Response res = HandleS3Request(store_, req);
    std::error_code ec;
    fs::remove(req.body_file, ec);
    return res;
  }

  static std::string Body(const http::Response& res) {
    if (!res.file) return res.body;
    std::ifstream in(*res.file, std::ios::binary);
    in.seekg(static_cast<std::streamoff>(res.file_offset));
    std::string out(res.file_length.value_or(0), '\0');
    in.read(out.data(), static_cast<std::streamsize>(out.size()));
    return out;
  }

  static std::string Header(const http::Response& res, std::string_view name) {
    for (const auto& [k, v] : res.headers) {
      if (EqualsIgnoreCase(k, name)) return v;
    }
    return "";
  }

  static std::string ErrorCode(const http::Response& res) {
    auto doc = ParseXml(res.body);
    if (!doc.ok() || doc->name != "Error" || !doc->Child("Code")) return "<not an S3 error: " + res.body + ">";
    return doc->Child("Code")->text;
  }

  testing::ScratchDir dir_;
  objects::LocalBucketStore store_;
  int uploads_ = 0;
};

TEST_F(S3ApiTest, BucketsAndObjectsRoundTrip) {
  EXPECT_EQ(Call("PUT", "/data").status, 200);
  auto dup = Call("PUT", "/data");
  EXPECT_EQ(dup.status, 409);
  EXPECT_EQ(ErrorCode(dup), "BucketAlreadyOwnedByYou");
  EXPECT_EQ(Call("HEAD", "/data").status, 200);

  auto put = Call("PUT", "/data/dir/my%20file%2B1.txt", "hello world",
                  {{"Content-Type", "text/plain"}, {"x-amz-meta-Owner", "ana"}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Header(put, "ETag"), "\"5eb63bbbe01eeed093cb22bb8f5acdc3\"");
  EXPECT_TRUE(fs::is_regular_file(dir_.path() / "objects" / "data" / "dir" / "my file+1.txt"));

  auto get = Call("GET", "/data/dir/my%20file%2B1.txt");
  ASSERT_EQ(get.status, 200);
  EXPECT_EQ(Body(get), "hello world");
  EXPECT_EQ(get.content_type, "text/plain");
  EXPECT_EQ(Header(get, "x-amz-meta-owner"), "ana");
  EXPECT_EQ(Header(get, "Accept-Ranges"), "bytes");
  EXPECT_FALSE(Header(get, "Last-Modified").empty());
  EXPECT_FALSE(Header(get, "x-amz-request-id").empty());

  auto list = Call("GET", "/data?list-type=2&prefix=dir%2F&encoding-type=url");
  ASSERT_EQ(list.status, 200);
  EXPECT_NE(list.body.find("<Key>dir/my%20file%2B1.txt</Key>"), std::string::npos) << list.body;
  EXPECT_NE(list.body.find("<KeyCount>1</KeyCount>"), std::string::npos);
  EXPECT_NE(list.body.find("<ETag>&quot;5eb63bbbe01eeed093cb22bb8f5acdc3&quot;</ETag>"), std::string::npos);
  EXPECT_NE(list.body.find("xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\""), std::string::npos);

  auto buckets = Call("GET", "/");
  ASSERT_EQ(buckets.status, 200);
  EXPECT_NE(buckets.body.find("<Name>data</Name>"), std::string::npos);

  EXPECT_EQ(Call("DELETE", "/data/dir/my%20file%2B1.txt").status, 204);
  EXPECT_EQ(Call("DELETE", "/data/dir/my%20file%2B1.txt").status, 204);
  auto missing = Call("GET", "/data/dir/my%20file%2B1.txt");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCode(missing), "NoSuchKey");
  EXPECT_NE(missing.body.find("<Resource>/data/dir/my file+1.txt</Resource>"), std::string::npos);
  EXPECT_NE(missing.body.find("<RequestId>"), std::string::npos);
  auto head_missing = Call("HEAD", "/data/nope");
  EXPECT_EQ(head_missing.status, 404);
  EXPECT_TRUE(head_missing.body.empty());
  EXPECT_EQ(Call("DELETE", "/data").status, 204);
  EXPECT_EQ(ErrorCode(Call("GET", "/data?list-type=2")), "NoSuchBucket");
}

TEST_F(S3ApiTest, RangesAndConditions) {
  ASSERT_EQ(Call("PUT", "/bkt").status, 200);
  ASSERT_EQ(Call("PUT", "/bkt/k", "0123456789").status, 200);
  struct Case {
    std::string range;
    unsigned status;
    std::string body;
    std::string content_range;
  };
  for (const Case& c : std::vector<Case>{{"bytes=2-4", 206, "234", "bytes 2-4/10"},
                                         {"bytes=7-", 206, "789", "bytes 7-9/10"},
                                         {"bytes=-3", 206, "789", "bytes 7-9/10"},
                                         {"bytes=5-100", 206, "56789", "bytes 5-9/10"},
                                         {"bytes=-100", 206, "0123456789", "bytes 0-9/10"},
                                         {"bytes=0-0", 206, "0", "bytes 0-0/10"},
                                         {"bytes=1-2,4-5", 200, "0123456789", ""},
                                         {"items=1-2", 200, "0123456789", ""},
                                         {"bytes=5-2", 200, "0123456789", ""}}) {
    auto res = Call("GET", "/bkt/k", "", {{"Range", c.range}});
    EXPECT_EQ(res.status, c.status) << c.range;
    EXPECT_EQ(Body(res), c.body) << c.range;
    EXPECT_EQ(Header(res, "Content-Range"), c.content_range) << c.range;
  }
  for (const char* unsatisfiable : {"bytes=10-", "bytes=10-20", "bytes=-0"}) {
    auto res = Call("GET", "/bkt/k", "", {{"Range", unsatisfiable}});
    EXPECT_EQ(res.status, 416) << unsatisfiable;
    EXPECT_EQ(ErrorCode(res), "InvalidRange");
    EXPECT_EQ(Header(res, "Content-Range"), "bytes */10");
  }
  std::string etag = Header(Call("HEAD", "/bkt/k"), "ETag");
  EXPECT_EQ(Call("GET", "/bkt/k", "", {{"If-Match", etag}}).status, 200);
  EXPECT_EQ(ErrorCode(Call("GET", "/bkt/k", "", {{"If-Match", "\"other\""}})), "PreconditionFailed");
  EXPECT_EQ(Call("GET", "/bkt/k", "", {{"If-None-Match", etag}}).status, 304);
  EXPECT_EQ(Call("GET", "/bkt/k", "", {{"If-Modified-Since", "Fri, 01 Jan 2100 00:00:00 GMT"}}).status, 304);
  EXPECT_EQ(Call("GET", "/bkt/k", "", {{"If-Unmodified-Since", "Thu, 01 Jan 1970 00:00:00 GMT"}}).status, 412);
  auto overridden = Call("GET", "/bkt/k?response-content-type=text%2Fcsv&response-content-disposition=inline");
  EXPECT_EQ(overridden.content_type, "text/csv");
  EXPECT_EQ(Header(overridden, "content-disposition"), "inline");
}

TEST_F(S3ApiTest, AwsChunkedUploadsStoreThePayloadOnly) {
  ASSERT_EQ(Call("PUT", "/bkt").status, 200);
  std::string crc = Base64Encode(objects::DigestBytes("hello world", {"CRC32"})["CRC32"]);
  auto put = Call("PUT", "/bkt/chunked", "5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n",
                  {{"Content-Encoding", "aws-chunked"},
                   {"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"},
                   {"x-amz-decoded-content-length", "11"},
                   {"x-amz-trailer", "x-amz-checksum-crc32"}});
  ASSERT_EQ(put.status, 200) << put.body;
  EXPECT_EQ(Header(put, "x-amz-checksum-crc32"), crc);
  auto get = Call("GET", "/bkt/chunked", "", {{"x-amz-checksum-mode", "ENABLED"}});
  EXPECT_EQ(Body(get), "hello world");
  EXPECT_EQ(Header(get, "x-amz-checksum-crc32"), crc);
  EXPECT_EQ(Header(get, "content-encoding"), "");  // the framing is not the object's encoding

  auto bad_crc = Call("PUT", "/bkt/chunked2", "5\r\nhello\r\n0\r\nx-amz-checksum-crc32:" + crc + "\r\n\r\n",
                      {{"x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}});
  EXPECT_EQ(ErrorCode(bad_crc), "BadDigest");
  auto short_body = Call("PUT", "/bkt/chunked2", "5\r\nhello\r\n0\r\n\r\n",
                         {{"x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"},
                          {"x-amz-decoded-content-length", "6"}});
  EXPECT_EQ(ErrorCode(short_body), "IncompleteBody");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/chunked2", "zz\r\n", {{"Content-Encoding", "aws-chunked"}})), "IncompleteBody");
  EXPECT_EQ(ErrorCode(Call("GET", "/bkt/chunked2")), "NoSuchKey");
  // Nothing spooled is left behind.
  int left = 0;
  for (auto& e : fs::directory_iterator(dir_.path())) left += e.path().filename().string().starts_with("upload-");
  EXPECT_EQ(left, 0);
}

TEST_F(S3ApiTest, DigestHeadersAreChecked) {
  ASSERT_EQ(Call("PUT", "/bkt").status, 200);
  std::string md5 = Base64Encode(objects::Md5("data"));
  EXPECT_EQ(Call("PUT", "/bkt/k", "data", {{"Content-MD5", md5}}).status, 200);
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/k", "datA", {{"Content-MD5", md5}})), "BadDigest");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/k", "data", {{"Content-MD5", "nope"}})), "InvalidDigest");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/k", "data", {{"x-amz-checksum-sha256", "AAAA"}})), "BadDigest");
  std::string sha = objects::HexEncode(objects::DigestBytes("data", {"SHA256"})["SHA256"]);
  EXPECT_EQ(Call("PUT", "/bkt/k", "data", {{"x-amz-content-sha256", sha}}).status, 200);
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/k", "other", {{"x-amz-content-sha256", sha}})), "XAmzContentSHA256Mismatch");
  EXPECT_EQ(Call("PUT", "/bkt/k", "x", {{"x-amz-content-sha256", "UNSIGNED-PAYLOAD"}}).status, 200);
}

TEST_F(S3ApiTest, NamesAndKeysAreValidated) {
  for (const char* reserved : {"api", "ajax-api", "health", "metrics", "loam", "static-files"}) {
    auto res = Call("PUT", std::string("/") + reserved);
    EXPECT_EQ(res.status, 400) << reserved;
    EXPECT_EQ(ErrorCode(res), "InvalidBucketName") << reserved;
    EXPECT_NE(res.body.find("reserved"), std::string::npos);
  }
  EXPECT_EQ(ErrorCode(Call("PUT", "/Upper")), "InvalidBucketName");
  EXPECT_EQ(ErrorCode(Call("PUT", "/ab")), "InvalidBucketName");
  ASSERT_EQ(Call("PUT", "/bkt").status, 200);
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/" + std::string(1025, 'k'), "x")), "KeyTooLongError");
  for (const char* key : {"/bkt/a/../x", "/bkt/a/%2E%2E/x", "/bkt/./x", "/bkt//x", "/bkt/a%00b", "/bkt/dir/", "/bkt/%2Fabs"}) {
    EXPECT_EQ(ErrorCode(Call("PUT", key, "x")), "InvalidArgument") << key;
  }
  EXPECT_EQ(ErrorCode(Call("GET", "/bkt/%zz")), "InvalidArgument");
  ASSERT_EQ(Call("PUT", "/bkt/a/b", "x").status, 200);
  auto conflict = Call("PUT", "/bkt/a/b/c", "x");
  EXPECT_EQ(conflict.status, 409);
  EXPECT_EQ(ErrorCode(conflict), "XLoamParentIsObject");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/a", "x")), "XLoamObjectExistsAsDirectory");
  EXPECT_FALSE(fs::exists(dir_.path() / "x"));
}

TEST_F(S3ApiTest, DeleteObjectsAndCreateBucketBodies) {
  EXPECT_EQ(Call("PUT", "/eu-data",
                 "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
                 "<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>")
                .status,
            200);
  EXPECT_NE(Call("GET", "/eu-data?location").body.find(">eu-west-1</LocationConstraint>"), std::string::npos);
  EXPECT_EQ(ErrorCode(Call("PUT", "/bad-config", "<CreateBucketConfiguration>")), "MalformedXML");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bad-config", "<Other/>")), "MalformedXML");

  ASSERT_EQ(Call("PUT", "/eu-data/one", "1").status, 200);
  ASSERT_EQ(Call("PUT", "/eu-data/two", "2").status, 200);
  std::string body =
      "<Delete><Object><Key>one</Key></Object><Object><Key>never</Key></Object>"
      "<Object><Key>../bad</Key></Object></Delete>";
  auto res = Call("POST", "/eu-data?delete", body, {{"Content-MD5", Base64Encode(objects::Md5(body))}});
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_NE(res.body.find("<Deleted><Key>one</Key></Deleted>"), std::string::npos) << res.body;
  EXPECT_NE(res.body.find("<Deleted><Key>never</Key></Deleted>"), std::string::npos);
  EXPECT_NE(res.body.find("<Error><Key>../bad</Key><Code>InvalidArgument</Code>"), std::string::npos);
  auto quiet = Call("POST", "/eu-data?delete", "<Delete><Quiet>true</Quiet><Object><Key>two</Key></Object></Delete>");
  ASSERT_EQ(quiet.status, 200);
  EXPECT_EQ(quiet.body.find("<Deleted>"), std::string::npos);
  EXPECT_EQ(ErrorCode(Call("POST", "/eu-data?delete", "<Delete></Delete>")), "MalformedXML");
  EXPECT_EQ(ErrorCode(Call("POST", "/eu-data?delete", "not xml")), "MalformedXML");
  EXPECT_EQ(ErrorCode(Call("POST", "/eu-data?delete", body, {{"Content-MD5", Base64Encode(objects::Md5("x"))}})),
            "BadDigest");
  EXPECT_EQ(Call("DELETE", "/eu-data").status, 204);
}

TEST_F(S3ApiTest, MultipartOverTheWire) {
  ASSERT_EQ(Call("PUT", "/bkt").status, 200);
  auto init = Call("POST", "/bkt/big?uploads", "", {{"Content-Type", "application/zip"}});
  ASSERT_EQ(init.status, 200);
  auto doc = ParseXml(init.body);
  ASSERT_TRUE(doc.ok());
  std::string id = doc->Child("UploadId")->text;
  auto p1 = Call("PUT", "/bkt/big?partNumber=1&uploadId=" + id, "hello");
  auto p2 = Call("PUT", "/bkt/big?partNumber=2&uploadId=" + id, "world");
  ASSERT_EQ(p1.status, 200);
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/big?partNumber=0&uploadId=" + id, "x")), "InvalidArgument");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/big?partNumber=1&uploadId=nope", "x")), "NoSuchUpload");
  auto parts = Call("GET", "/bkt/big?uploadId=" + id);
  EXPECT_NE(parts.body.find("<PartNumber>2</PartNumber>"), std::string::npos);
  auto uploads = Call("GET", "/bkt?uploads");
  EXPECT_NE(uploads.body.find("<UploadId>" + id + "</UploadId>"), std::string::npos);
  std::string complete = "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>" + Header(p1, "ETag") +
                         "</ETag></Part><Part><PartNumber>2</PartNumber><ETag>" + Header(p2, "ETag") +
                         "</ETag></Part></CompleteMultipartUpload>";
  EXPECT_EQ(ErrorCode(Call("POST", "/bkt/big?uploadId=" + id, "<CompleteMultipartUpload/>")), "MalformedXML");
  auto done = Call("POST", "/bkt/big?uploadId=" + id, complete, {{"Host", "127.0.0.1:7070"}});
  ASSERT_EQ(done.status, 200) << done.body;
  std::string etag = "&quot;" + objects::HexEncode(objects::Md5(objects::Md5("hello") + objects::Md5("world"))) +
                     "-2&quot;";
  EXPECT_NE(done.body.find("<ETag>" + etag + "</ETag>"), std::string::npos) << done.body;
  EXPECT_NE(done.body.find("<Location>http://127.0.0.1:7070/bkt/big</Location>"), std::string::npos);
  auto get = Call("GET", "/bkt/big");
  EXPECT_EQ(Body(get), "helloworld");
  EXPECT_EQ(get.content_type, "application/zip");
  EXPECT_EQ(Header(get, "x-amz-mp-parts-count"), "2");
  EXPECT_EQ(ErrorCode(Call("DELETE", "/bkt/big?uploadId=" + id)), "NoSuchUpload");

  auto copy = Call("PUT", "/bkt/copy", "", {{"x-amz-copy-source", "/bkt/big"}});
  ASSERT_EQ(copy.status, 200) << copy.body;
  EXPECT_NE(copy.body.find("<CopyObjectResult"), std::string::npos);
  EXPECT_EQ(Body(Call("GET", "/bkt/copy")), "helloworld");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/copy", "", {{"x-amz-copy-source", "bkt"}})), "InvalidArgument");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/copy", "", {{"x-amz-copy-source", "bkt/big"}, {"x-amz-metadata-directive", "MOVE"}})),
            "InvalidArgument");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/copy", "", {{"x-amz-copy-source", "bkt/copy"}})), "InvalidRequest");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/copy", "", {{"x-amz-copy-source", "bkt/big"}, {"x-amz-copy-source-if-match", "\"x\""}})),
            "PreconditionFailed");
}

TEST_F(S3ApiTest, UnsupportedAndMisdirectedRequests) {
  ASSERT_EQ(Call("PUT", "/bkt").status, 200);
  auto acl = Call("GET", "/bkt?acl");
  EXPECT_EQ(acl.status, 501);
  EXPECT_EQ(ErrorCode(acl), "NotImplemented");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/k?tagging", "<Tagging/>")), "NotImplemented");
  auto post = Call("POST", "/bkt/k");
  EXPECT_EQ(post.status, 405);
  EXPECT_EQ(ErrorCode(post), "MethodNotAllowed");
  EXPECT_EQ(ErrorCode(Call("PUT", "/")), "MethodNotAllowed");
  auto target = Call("POST", "/", "{}", {{"X-Amz-Target", "Unknown_20200101.Op"}});
  EXPECT_EQ(target.status, 501);
  EXPECT_NE(target.body.find("Unknown_20200101.Op"), std::string::npos);
  EXPECT_EQ(ErrorCode(Call("GET", "/bkt?list-type=3")), "InvalidArgument");
  EXPECT_EQ(ErrorCode(Call("GET", "/bkt?list-type=2&max-keys=-1")), "InvalidArgument");
  EXPECT_EQ(ErrorCode(Call("GET", "/bkt?list-type=2&continuation-token=%21%21")), "InvalidArgument");
  EXPECT_EQ(ErrorCode(Call("GET", "/bkt?list-type=2&encoding-type=base64")), "InvalidArgument");
  EXPECT_NE(Call("GET", "/bkt?versioning").body.find("<VersioningConfiguration"), std::string::npos);
}

TEST_F(S3ApiTest, ExpectedBucketOwnerMustBeTheAccount) {
  ASSERT_EQ(Call("PUT", "/bkt").status, 200);
  ASSERT_EQ(Call("PUT", "/bkt/k", "v").status, 200);
  // The SageMaker SDK's default_bucket() probes with the account STS named.
  EXPECT_EQ(Call("HEAD", "/bkt", "", {{"x-amz-expected-bucket-owner", "000000000000"}}).status, 200);
  EXPECT_EQ(Body(Call("GET", "/bkt/k", "", {{"x-amz-expected-bucket-owner", "000000000000"}})), "v");
  auto head = Call("HEAD", "/bkt", "", {{"x-amz-expected-bucket-owner", "111122223333"}});
  EXPECT_EQ(head.status, 403);
  EXPECT_TRUE(head.body.empty());
  auto get = Call("GET", "/bkt/k", "", {{"x-amz-expected-bucket-owner", "111122223333"}});
  EXPECT_EQ(get.status, 403);
  EXPECT_EQ(ErrorCode(get), "AccessDenied");
  // A missing bucket answers the same: no hint that it does not exist.
  EXPECT_EQ(ErrorCode(Call("GET", "/nope/k", "", {{"x-amz-expected-bucket-owner", "111122223333"}})), "AccessDenied");
  EXPECT_EQ(ErrorCode(Call("PUT", "/bkt/copy", "", {{"x-amz-copy-source", "bkt/k"},
                                                    {"x-amz-source-expected-bucket-owner", "111122223333"}})),
            "AccessDenied");
  EXPECT_EQ(Call("PUT", "/bkt/copy", "", {{"x-amz-copy-source", "bkt/k"},
                                          {"x-amz-source-expected-bucket-owner", "000000000000"}}).status, 200);
}

TEST(S3Routes, ClaimOnlyWhatNoOtherRouteClaims) {
  http::Router router;
  auto ok = [](http::Request&) { return http::Response::Json(200, "{}"); };
  router.Add({.name = "health", .methods = {"GET"}, .path = "/health", .handler = ok});
  router.Add({.name = "mlflow.unknown", .methods = {"GET", "POST"}, .path = "/api/2.0/mlflow/", .prefix = true,
              .handler = ok});
  router.Add({.name = "sagemaker", .methods = {"POST"}, .amz_target_prefix = "SageMaker.", .handler = ok});
  testing::ScratchDir dir;
  AddRoutes(router, std::make_shared<objects::LocalBucketStore>(objects::LocalBucketStoreOptions{
                        .root = dir.path() / "o", .state_root = dir.path() / "m"}));
  auto name = [&](std::string_view method, std::string_view path, std::string_view target = "") {
    auto m = router.Match(method, path, target);
    return m.route ? m.route->name + (m.method_not_allowed ? "!405" : "") : "none";
  };
  EXPECT_EQ(name("POST", "/", "SageMaker.CreateTrainingJob"), "sagemaker");
  EXPECT_EQ(name("POST", "/", "Other.Op"), "s3.post");
  EXPECT_EQ(name("POST", "/"), "s3.post");
  EXPECT_EQ(name("GET", "/"), "s3.read");
  EXPECT_EQ(name("GET", "/health"), "health");
  EXPECT_EQ(name("PUT", "/health"), "s3.put");  // CreateBucket of a reserved name
  EXPECT_EQ(name("DELETE", "/health"), "health!405");
  EXPECT_EQ(name("GET", "/api/2.0/mlflow/runs/get"), "mlflow.unknown");
  EXPECT_EQ(name("PUT", "/api/2.0/mlflow/x"), "mlflow.unknown!405");
  EXPECT_EQ(name("GET", "/api/2.1/other"), "s3.read");
  EXPECT_EQ(name("PUT", "/bucket/key"), "s3.put");
  EXPECT_EQ(router.Match("PUT", "/bucket/key", "").route->body_mode, http::BodyMode::kStreamed);
  EXPECT_EQ(name("DELETE", "/bucket"), "s3.read");
  EXPECT_EQ(name("HEAD", "/bucket/key"), "s3.read");
  EXPECT_EQ(name("PATCH", "/bucket/key"), "s3.other");
}

}  // namespace
}  // namespace loam::api::s3
