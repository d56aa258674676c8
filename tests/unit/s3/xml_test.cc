// The S3 XML writer and strict parser (objects/xml), and the aws-chunked decoder.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "api/s3/aws_chunked.h"
#include "objects/bucket_store.h"
#include "objects/xml.h"
#include "test_util.h"

namespace loam::api::s3 {

using objects::ParseXml;
using objects::XmlWriter;

namespace {

namespace fs = std::filesystem;

TEST(XmlWriter, WritesNamespacedDocumentsWithEscaping) {
  XmlWriter xml("ListBucketResult");
  xml.Element("Name", "b").Open("Contents").Element("Key", "a<b>&\"c'\r\x01").Element("ETag", "\"abc\"").Close();
  EXPECT_EQ(xml.Finish(),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>b</Name><Contents>"
            "<Key>a&lt;b&gt;&amp;&quot;c&apos;&#xD;\xEF\xBF\xBD</Key><ETag>&quot;abc&quot;</ETag></Contents>"
            "</ListBucketResult>");
  EXPECT_EQ(XmlWriter("Error", "").Finish(), "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error></Error>");
}

TEST(XmlParser, ReadsWhatClientsSend) {
  auto doc = ParseXml(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- a comment -->\n"
      "<s3:Delete xmlns:s3=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
      "  <s3:Quiet>true</s3:Quiet>\n"
      "  <s3:Object><s3:Key>a &amp; b &#x263A; &#65;</s3:Key></s3:Object>\n"
      "  <s3:Object><s3:Key><![CDATA[<raw>]]></s3:Key><VersionId/></s3:Object>\n"
      "</s3:Delete>\n");
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ(doc->name, "Delete");
  EXPECT_EQ(doc->Child("Quiet")->text, "true");
  ASSERT_EQ(doc->children.size(), 3u);
  EXPECT_EQ(doc->children[1].Child("Key")->text, "a & b \u263A A");
  EXPECT_EQ(doc->children[2].Child("Key")->text, "<raw>");
  EXPECT_EQ(doc->children[2].Child("VersionId")->text, "");
  EXPECT_EQ(doc->Child("Missing"), nullptr);
  // Whitespace inside a key is kept.
  EXPECT_EQ(ParseXml("<K>  spaced  </K>")->text, "  spaced  ");
}

TEST(XmlParser, RefusesMalformedDocuments) {
  for (const char* bad : {"", "   ", "<a>", "<a></b>", "<a><b></a></b>", "<a>x</a><b/>", "text",
                          "<a>&unknown;</a>", "<a>&#0;</a>", "<a>&#xD800;</a>", "<a b=c></a>", "<a b=\"<\"></a>",
                          "<!DOCTYPE a [<!ENTITY x \"y\">]><a>&x;</a>", "<a><![CDATA[x</a>", "<a>]]></a>",
                          "<a><!-- x</a>"}) {
    EXPECT_FALSE(ParseXml(bad).ok()) << bad;
  }
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "<a>";
  for (int i = 0; i < 40; ++i) deep += "</a>";
  EXPECT_FALSE(ParseXml(deep).ok());
}

class AwsChunkedTest : public ::testing::Test {
 protected:
  StatusOr<AwsChunkedBody> Decode(const std::string& framed) {
    fs::path in = dir_.path() / "in", out = dir_.path() / "out";
    std::ofstream(in, std::ios::binary) << framed;
    auto body = DecodeAwsChunked(in, out);
    std::ifstream f(out, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    decoded_ = ss.str();
    return body;
  }
  testing::ScratchDir dir_;
  std::string decoded_;
};

TEST_F(AwsChunkedTest, DecodesUnsignedChunksWithTrailers) {
  auto body = Decode("5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(decoded_, "hello world");
  EXPECT_EQ(body->decoded_size, 11u);
  ASSERT_EQ(body->trailers.size(), 1u);
  EXPECT_EQ(body->trailers[0].first, "x-amz-checksum-crc32");
  EXPECT_EQ(body->trailers[0].second, "DUoRhQ==");
}

TEST_F(AwsChunkedTest, DecodesSignedChunks) {
  std::string sig(64, 'f');
  auto body = Decode("a;chunk-signature=" + sig + "\r\n0123456789\r\n0;chunk-signature=" + sig + "\r\n\r\n");
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(decoded_, "0123456789");
  EXPECT_TRUE(body->trailers.empty());
  // Binary data with CR and LF inside a chunk is copied as is; big chunks too.
  std::string big(3 * 1024 * 1024 + 7, '\n');
  big[5] = '\r';
  auto large = Decode("300007\r\n" + big + "\r\n0\r\n\r\n");
  ASSERT_TRUE(large.ok()) << large.status().ToString();
  EXPECT_EQ(decoded_, big);
}

TEST_F(AwsChunkedTest, RefusesBrokenFraming) {
  for (const std::string& bad :
       {std::string("5\r\nhello"), std::string("5\r\nhello\r\n"), std::string("zz\r\nhello\r\n0\r\n\r\n"),
        std::string("5\r\nhelloXX\r\n0\r\n\r\n"), std::string("3\r\nhello\r\n0\r\n\r\n"),
        std::string("5\nhello\r\n0\r\n\r\n"), std::string("0\r\nno-colon\r\n\r\n"),
        std::string("0\r\n\r\ntrailing garbage")}) {
    auto body = Decode(bad);
    EXPECT_FALSE(body.ok()) << bad;
    if (!body.ok()) {
      EXPECT_EQ(objects::SplitBucketError(body.status()).reason, "IncompleteBody") << bad;
    }
  }
}

}  // namespace
}  // namespace loam::api::s3
