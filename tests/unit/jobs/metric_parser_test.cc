// MetricDefinitions regexes over log lines, and the line splitter feeding them.
#include "jobs/metric_parser.h"

#include <gtest/gtest.h>

namespace loam::jobs {
namespace {

std::vector<std::string> Names(const std::vector<MetricSample>& samples) {
  std::vector<std::string> out;
  for (const auto& s : samples) out.push_back(s.name);
  return out;
}

TEST(MetricParserTest, RegexWithoutCaptureGroupIsRejected) {
  auto p = MetricParser::Create({{"loss", "loss: [0-9.]+"}});
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("loss"), std::string::npos);
  EXPECT_EQ(MetricParser::Create({{"loss", "loss: (?:[0-9.]+)"}}).status().code(), StatusCode::kInvalidArgument);
}

TEST(MetricParserTest, InvalidRegexIsRejected) {
  auto p = MetricParser::Create({{"ok", "acc=([0-9.]+)"}, {"broken", "loss: ([0-9.]+"}});
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("broken"), std::string::npos);
  // RE2 has no backreferences.
  EXPECT_EQ(MetricParser::Create({{"x", "(a)\\1"}}).status().code(), StatusCode::kInvalidArgument);
}

TEST(MetricParserTest, EmptyDefinitions) {
  auto p = MetricParser::Create({});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->empty());
  EXPECT_TRUE(p->ParseLine("loss: 1").empty());
}

TEST(MetricParserTest, SeveralDefinitionsOnOneLineInDefinitionOrder) {
  auto p = MetricParser::Create({{"train:loss", "loss=([0-9.]+)"},
                                 {"train:acc", "acc=([0-9.]+)"},
                                 {"epoch", "epoch (\\d+)"},
                                 {"val:loss", "val_loss=([0-9.]+)"}});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_FALSE(p->empty());
  auto samples = p->ParseLine("acc=0.91 epoch 3 loss=0.25");
  ASSERT_EQ(samples.size(), 3u);
  EXPECT_EQ(Names(samples), (std::vector<std::string>{"train:loss", "train:acc", "epoch"}));
  EXPECT_DOUBLE_EQ(samples[0].value, 0.25);
  EXPECT_DOUBLE_EQ(samples[1].value, 0.91);
  EXPECT_DOUBLE_EQ(samples[2].value, 3);
  EXPECT_TRUE(p->ParseLine("nothing to see here").empty());
}

TEST(MetricParserTest, UsesTheFirstCaptureGroup) {
  auto p = MetricParser::Create({{"loss", "(train|valid) loss: ([0-9.]+)"}, {"lr", "lr (?:is|=) ([0-9.]+)"}});
  ASSERT_TRUE(p.ok());
  // The first group is not a number here: SageMaker's rule (first group) drops the sample.
  EXPECT_TRUE(p->ParseLine("train loss: 0.5").empty());
  auto samples = p->ParseLine("lr is 0.01");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_DOUBLE_EQ(samples[0].value, 0.01);
}

TEST(MetricParserTest, NonNumericCapturesAreIgnored) {
  auto p = MetricParser::Create({{"loss", "loss=(\\S+)"}, {"acc", "acc=(\\S*)"}});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->ParseLine("loss=abc").empty());
  EXPECT_TRUE(p->ParseLine("loss=nan").empty());
  EXPECT_TRUE(p->ParseLine("loss=inf").empty());
  EXPECT_TRUE(p->ParseLine("acc= loss=-").empty());
  auto samples = p->ParseLine("loss=abc acc=0.5");
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].name, "acc");
}

TEST(MetricParserTest, ScientificNotationAndSigns) {
  auto p = MetricParser::Create({{"loss", "loss=([-+0-9.eE]+)"}});
  ASSERT_TRUE(p.ok());
  auto s = p->ParseLine("step 10 loss=1.5e-03");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].value, 0.0015);
  s = p->ParseLine("loss=2E+2");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].value, 200);
  s = p->ParseLine("loss=-0.75");
  ASSERT_EQ(s.size(), 1u);
  EXPECT_DOUBLE_EQ(s[0].value, -0.75);
}

TEST(LineSplitterTest, KeepsPartialLinesUntilTheirNewline) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) { lines.emplace_back(l); };
  splitter.Feed("abc", collect);
  EXPECT_TRUE(lines.empty());
  splitter.Feed("def\nghi", collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"abcdef"}));
  splitter.Feed("\n\nj", collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"abcdef", "ghi", ""}));
  splitter.Feed("k\r\n", collect);
  EXPECT_EQ(lines.back(), "jk\r");
  lines.clear();
  splitter.Flush(collect);
  EXPECT_TRUE(lines.empty());  // nothing pending
}

TEST(LineSplitterTest, FlushEmitsTheLastPartialLineOnce) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) { lines.emplace_back(l); };
  splitter.Feed("one\ntwo", collect);
  splitter.Flush(collect);
  splitter.Flush(collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"one", "two"}));
  splitter.Feed("three\n", collect);
  EXPECT_EQ(lines.back(), "three");
}

TEST(LineSplitterTest, DropsARunawayLine) {
  LineSplitter splitter;
  std::vector<std::string> lines;
  auto collect = [&](std::string_view l) { lines.emplace_back(l); };
  splitter.Feed(std::string((1 << 20) + 1, 'x'), collect);
  splitter.Feed("tail\n", collect);
  EXPECT_EQ(lines, (std::vector<std::string>{"tail"}));
}

}  // namespace
}  // namespace loam::jobs
