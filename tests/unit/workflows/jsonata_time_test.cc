// JSONata's date/time and integer-picture functions, and the functions Step Functions adds,
// called directly. Expected values are what jsonata-js 2.0.6 (and, for the Step Functions
// functions, AWS) answers.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>
#include <string>
#include <string_view>
#include <vector>

#include "workflows/jsonata/functions.h"

namespace loam::jsonata {
namespace {

using nlohmann::json;

constexpr int64_t kNow = 1733000000123;    // 2024-11-30T20:53:20.123Z
constexpr double kSample = 1521801216617;  // 2018-03-23T10:33:36.617Z, a Friday

class FixedContext : public CallContext {
 public:
  StatusOr<Value> Apply(const Value&, std::vector<Value>) override {
    return Internal("not callable here");
  }
  int64_t NowMillis() const override { return kNow; }
  std::mt19937_64& Random() override { return random_; }

 private:
  std::mt19937_64 random_{20241130};
};

class JsonataFunctionsTest : public ::testing::Test {
 protected:
  JsonataFunctionsTest() {
    AddTimeFunctions(functions_);
    AddStepFunctionsFunctions(functions_);
  }

  StatusOr<Value> Call(std::string_view name, std::vector<Value> args) {
    for (const NativeFunction& function : functions_) {
      if (name == function.name) return function.impl(args, context_);
    }
    return NotFound("no function $" + std::string(name));
  }

  std::string Text(std::string_view name, std::vector<Value> args) {
    StatusOr<Value> result = Call(name, std::move(args));
    if (!result.ok()) return "error: " + result.status().message();
    return result->is_string() ? result->string() : "not a string";
  }

  double Number(std::string_view name, std::vector<Value> args) {
    StatusOr<Value> result = Call(name, std::move(args));
    if (!result.ok() || !result->is_number()) return -0.5;  // no function here answers this
    return result->number();
  }

  json Json(std::string_view name, std::vector<Value> args) {
    StatusOr<Value> result = Call(name, std::move(args));
    if (!result.ok()) return "error: " + result.status().message();
    if (result->undefined()) return "undefined";
    StatusOr<json> converted = ToJson(*result);
    return converted.ok() ? *converted : json("unconvertible");
  }

  // The JSONata code an error starts with ("D3110"), or "ok".
  std::string Code(std::string_view name, std::vector<Value> args) {
    StatusOr<Value> result = Call(name, std::move(args));
    return result.ok() ? "ok" : result.status().message().substr(0, 5);
  }

  FixedContext context_;
  std::vector<NativeFunction> functions_;
};

TEST_F(JsonataFunctionsTest, RegistersTheReferenceSignatures) {
  auto signature_of = [&](std::string_view name) -> std::string {
    for (const auto& function : functions_) {
      if (name == function.name) return function.signature;
    }
    return "";
  };
  EXPECT_EQ(signature_of("now"), "<s?s?:s>");
  EXPECT_EQ(signature_of("millis"), "<:n>");
  EXPECT_EQ(signature_of("fromMillis"), "<n-s?s?:s>");
  EXPECT_EQ(signature_of("toMillis"), "<s-s?:n>");
  EXPECT_EQ(signature_of("formatInteger"), "<n-s:s>");
  EXPECT_EQ(signature_of("parseInteger"), "<s-s:n>");
  for (const char* name : {"partition", "range", "hash", "random", "uuid", "parse"}) {
    EXPECT_NE(signature_of(name), "") << name;
  }
}

TEST_F(JsonataFunctionsTest, NowAndMillisReadTheEvaluationClock) {
  EXPECT_EQ(Text("now", {Value(), Value()}), "2024-11-30T20:53:20.123Z");
  EXPECT_EQ(Text("now", {"[Y]-[M]-[D] [H]:[m]", "+0100"}), "2024-11-30 21:53");
  EXPECT_EQ(Number("millis", {}), static_cast<double>(kNow));
}

TEST_F(JsonataFunctionsTest, FromMillisFormatsPictures) {
  EXPECT_EQ(Text("fromMillis", {kSample, Value(), Value()}), "2018-03-23T10:33:36.617Z");
  EXPECT_EQ(Text("fromMillis", {kSample, "[Y0001]-[M01]-[D01]", Value()}), "2018-03-23");
  EXPECT_EQ(Text("fromMillis", {kSample, "[D1o] [MNn] [Y]", Value()}), "23rd March 2018");
  EXPECT_EQ(Text("fromMillis", {kSample, "[FNn], [D1o] [MNn,3-3] [Y]", Value()}),
            "Friday, 23rd Mar 2018");
  EXPECT_EQ(Text("fromMillis", {kSample, "[h]:[m01] [P]", Value()}), "10:33 am");
  EXPECT_EQ(Text("fromMillis", {kSample, "[YWw] [MNn] [Dwo]", Value()}),
            "Two Thousand and Eighteen March twenty-third");
  EXPECT_EQ(Text("fromMillis", {kSample, "[YI] [Mi] [Da]", Value()}), "MMXVIII iii w");
  EXPECT_EQ(Text("fromMillis", {kSample, "Week [W] of [X], day [d] [[ok]]", Value()}),
            "Week 12 of 2018, day 82 [ok]");
  // Saturday 1 January 2005 belongs to the 53rd ISO week of 2004.
  EXPECT_EQ(Text("fromMillis", {1104537600000.0, "[X]-W[W01]-[F]", Value()}), "2004-W53-saturday");
}

TEST_F(JsonataFunctionsTest, FromMillisAppliesTimezoneOffsets) {
  EXPECT_EQ(Text("fromMillis", {kSample, "[H01]:[m01]:[s01].[f001] [z]", "+0530"}),
            "16:03:36.617 GMT+05:30");
  EXPECT_EQ(Text("fromMillis", {0.0, Value(), "+0530"}), "1970-01-01T05:30:00.000+05:30");
  // The reference floors the whole "-0530" offset, so it lands on -6:30; Step Functions agrees.
  EXPECT_EQ(Text("fromMillis", {kSample, "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01][Z]", "-0530"}),
            "2018-03-23T04:03:36-06:30");
}

TEST_F(JsonataFunctionsTest, FromMillisOutOfRangeFormatsNaNAsTheReferenceDoes) {
  EXPECT_EQ(Text("fromMillis", {1e20, "[Y0001]", Value()}), "0NaN");
  EXPECT_EQ(Text("fromMillis", {Value(), Value(), Value()}), "not a string");  // undefined in, out
}

TEST_F(JsonataFunctionsTest, FormattedTimestampsParseBack) {
  const std::vector<std::string> pictures = {
      "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01]",
      "[D1o] [MNn] [Y] [h]:[m01]:[s01].[f001] [P]",
      "[FNn], [Dwo] [MNn] [YWw] [H]:[m]:[s].[f]",
      "[Y0001]/[M01]/[D01] [H01]:[m01]:[s01].[f001]",
  };
  for (const std::string& picture : pictures) {
    for (double millis : {kSample, 0.0, 951782400000.0, 1735689599999.0}) {
      const std::string text = Text("fromMillis", {millis, picture, Value()});
      EXPECT_EQ(Number("toMillis", {text, picture}), millis) << picture << " wrote " << text;
    }
  }
  // As in the reference, some pictures do not read back: "Z" for a zero offset ([Z01:01t]) is
  // not an offset the parser knows, and a day-in-year date takes no time.
  EXPECT_TRUE(Call("toMillis", {"2018-03-23T10:33:36.617Z",
                                "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"})
                  ->undefined());
  EXPECT_EQ(Code("toMillis", {"2018-082 10:33", "[Y]-[d001] [H]:[m]"}), "D3136");
  // A positive offset is written and read back; the instant is unchanged.
  const std::string zoned =
      Text("fromMillis", {kSample, "[Y]-[M]-[D] [H]:[m]:[s].[f] [Z]", "+0530"});
  EXPECT_EQ(Number("toMillis", {zoned, "[Y]-[M]-[D] [H]:[m]:[s].[f] [Z]"}), kSample);
}

TEST_F(JsonataFunctionsTest, ToMillisWithPicturesDefaultsWhatIsMissing) {
  EXPECT_EQ(Number("toMillis", {"23 March 2018", "[D] [MNn] [Y]"}), 1521763200000.0);
  EXPECT_EQ(Number("toMillis",
                   {"Friday, 23rd March 2018, 10:33 am", "[FNn], [D1o] [MNn] [Y], [h]:[m01] [P]"}),
            1521801180000.0);
  EXPECT_EQ(Number("toMillis", {"2018-082", "[Y]-[d]"}), 1521763200000.0);
  EXPECT_EQ(Number("toMillis", {"MMXVIII", "[YI]"}), 1514764800000.0);
  // A time alone takes today's date from the evaluation clock.
  EXPECT_EQ(Number("toMillis", {"10:33", "[H01]:[m01]"}), 1732962780000.0);
  // "-05:30" reads as -4:30: the reference keeps no sign on the minutes.
  EXPECT_EQ(Number("toMillis", {"2018-03-23 10:33 -05:30", "[Y]-[M]-[D] [H]:[m] [Z]"}),
            1521817380000.0);
  EXPECT_TRUE(Call("toMillis", {"nothing like it", "[Y]-[M]-[D]"})->undefined());
  EXPECT_EQ(Code("toMillis", {"2018-03-23 10:33", "[Y]-[M]-[D] [h]:[m]"}),
            "D3136");  // a gap: no [P]
}

TEST_F(JsonataFunctionsTest, ToMillisReadsIso8601AsDateParseDoes) {
  EXPECT_EQ(Number("toMillis", {"2018-03-23T10:33:36.617Z", Value()}), kSample);
  EXPECT_EQ(Number("toMillis", {"2018-03-23T10:33:36.617+05:30", Value()}), 1521781416617.0);
  EXPECT_EQ(Number("toMillis", {"2018-03-23T10:33:36+0530", Value()}), 1521781416000.0);
  EXPECT_EQ(Number("toMillis", {"2018-03-23", Value()}), 1521763200000.0);
  EXPECT_EQ(Number("toMillis", {"2018-03", Value()}), 1519862400000.0);
  EXPECT_EQ(Number("toMillis", {"2018", Value()}), 1514764800000.0);
  EXPECT_EQ(Number("toMillis", {"2018-03-23T10:33:36", Value()}), 1521801216000.0);  // local is UTC
  EXPECT_EQ(Number("toMillis", {"2018-03-23T24:00:00Z", Value()}), 1521849600000.0);
  EXPECT_EQ(Number("toMillis", {"2018-02-30", Value()}), 1519948800000.0);  // rolls into March
  EXPECT_EQ(Number("toMillis", {"2018.5", Value()}), 1525132800000.0);      // V8's legacy reading
  EXPECT_EQ(Number("toMillis", {"1970-01-01T00:00:00.0001Z", Value()}), 0.0);
  // Text the pattern admits but Date.parse cannot read is NaN, not an error.
  StatusOr<Value> invalid = Call("toMillis", {"2018-13-01", Value()});
  ASSERT_TRUE(invalid.ok());
  EXPECT_TRUE(std::isnan(invalid->number()));
  EXPECT_EQ(Code("toMillis", {"2018-03-23T10:33", Value()}), "D3110");
  EXPECT_EQ(Code("toMillis", {"23/03/2018", Value()}), "D3110");
  EXPECT_EQ(Code("toMillis", {"2018-03-23T10:33:36.Z", Value()}), "D3110");
}

TEST_F(JsonataFunctionsTest, FormatIntegerWritesWordsNumeralsAndGroups) {
  EXPECT_EQ(Text("formatInteger", {1234567, "#,##0"}), "1,234,567");
  EXPECT_EQ(Text("formatInteger", {1234567, "0,00,000"}), "12,34,567");
  EXPECT_EQ(Text("formatInteger", {12476, "w"}), "twelve thousand, four hundred and seventy-six");
  EXPECT_EQ(Text("formatInteger", {12476, "Ww"}), "Twelve Thousand, Four Hundred and Seventy-Six");
  EXPECT_EQ(Text("formatInteger", {21, "W;o"}), "TWENTY-FIRST");
  EXPECT_EQ(Text("formatInteger", {1e18, "w"}), "one million trillion");
  EXPECT_EQ(Text("formatInteger", {1999, "I"}), "MCMXCIX");
  EXPECT_EQ(Text("formatInteger", {1999, "i"}), "mcmxcix");
  EXPECT_EQ(Text("formatInteger", {28, "A"}), "AB");
  EXPECT_EQ(Text("formatInteger", {3, "0;o"}), "3rd");
  EXPECT_EQ(Text("formatInteger", {112, "0;o"}), "112th");
  EXPECT_EQ(Text("formatInteger", {42, "000"}), "042");
  EXPECT_EQ(Text("formatInteger", {1234, "\u0660"}), "\u0661\u0662\u0663\u0664");  // Arabic-Indic
  EXPECT_EQ(Text("formatInteger", {-12.7, "0"}), "-13");
}

TEST_F(JsonataFunctionsTest, ParseIntegerReadsWhatFormatIntegerWrites) {
  EXPECT_EQ(Number("parseInteger", {"twelve thousand, four hundred and seventy-six", "w"}), 12476);
  EXPECT_EQ(Number("parseInteger", {"MCMXCIX", "I"}), 1999);
  EXPECT_EQ(Number("parseInteger", {"AB", "A"}), 28);
  EXPECT_EQ(Number("parseInteger", {"1,234,567", "#,##0"}), 1234567);
  EXPECT_EQ(Number("parseInteger", {"12th", "0;o"}), 12);
  EXPECT_EQ(Number("parseInteger", {"\u0661\u0662\u0663\u0664", "\u0660"}), 1234);
  EXPECT_TRUE(std::isnan(Call("parseInteger", {"abc", "0"})->number()));
  for (int n : {1, 19, 21, 99, 100, 101, 999, 1000, 1001, 123456, 2000000}) {
    for (const char* picture : {"w", "Ww", "W", "i", "I", "a", "A", "#,##0", "0;o", "w;o"}) {
      const std::string text = Text("formatInteger", {n, picture});
      EXPECT_EQ(Number("parseInteger", {text, picture}), n) << picture << " wrote " << text;
    }
  }
}

TEST_F(JsonataFunctionsTest, PictureErrorsCarryTheReferenceCodes) {
  EXPECT_EQ(Code("fromMillis", {0.0, "[q]", Value()}), "D3132");
  EXPECT_EQ(Code("fromMillis", {0.0, "[Y", Value()}), "D3135");
  EXPECT_EQ(Code("fromMillis", {0.0, "[DN]", Value()}), "D3133");
  EXPECT_EQ(Code("fromMillis", {0.0, "[M#]", Value()}), "D3130");
  EXPECT_EQ(Code("fromMillis", {0.0, "[Z00000]", Value()}), "D3134");
  EXPECT_EQ(Code("formatInteger", {5, "0\u0661"}), "D3131");
  EXPECT_EQ(Code("parseInteger", {"5", "#"}), "D3130");
  // The reference overflows its stack on roman numerals this long.
  EXPECT_EQ(Code("formatInteger", {1234567890, "I"}), "D3150");
}

TEST_F(JsonataFunctionsTest, PartitionChunksArrays) {
  auto array = [](json items) { return FromJson(items); };
  EXPECT_EQ(Json("partition", {array({1, 2, 3, 4, 5, 6, 7, 8, 9}), 3}),
            json::parse("[[1,2,3],[4,5,6],[7,8,9]]"));
  EXPECT_EQ(Json("partition", {array({1, 2, 3, 4, 5}), 2}), json::parse("[[1,2],[3,4],[5]]"));
  EXPECT_EQ(Json("partition", {array({1, 2, 3}), 5}), json::parse("[[1,2,3]]"));
  EXPECT_EQ(Json("partition", {array({1, 2, 3}), 2.9}), json::parse("[[1,2],[3]]"));  // truncated
  EXPECT_EQ(Json("partition", {array({1, 2}), Value()}), json::parse("[[1,2]]"));
  EXPECT_EQ(Json("partition", {array(json::array()), 2}), "undefined");
  EXPECT_EQ(Json("partition", {array({1, 2, 3}), -0.5}), "undefined");  // truncates to 0
  EXPECT_EQ(Code("partition", {array({1, 2, 3}), -2}), "D3137");
  EXPECT_EQ(Code("partition", {5, 2}), "T0412");
  EXPECT_EQ(Json("partition", {Value(), 2}), "undefined");
}

TEST_F(JsonataFunctionsTest, RangeCountsInclusively) {
  EXPECT_EQ(Json("range", {0, 10, 2}), json::parse("[0,2,4,6,8,10]"));
  EXPECT_EQ(Json("range", {0, 9, 3}), json::parse("[0,3,6,9]"));
  EXPECT_EQ(Json("range", {1, 9, 9}), json::parse("[1]"));
  EXPECT_EQ(Json("range", {10, 0, -3}), json::parse("[10,7,4,1]"));
  EXPECT_EQ(Json("range", {-1.7, 2, 1}), json::parse("[-1,0,1,2]"));  // towards zero
  EXPECT_EQ(Json("range", {5, 5, 1}), json(5));                       // a single value
  EXPECT_EQ(Json("range", {0, 5, 0}), "undefined");
  EXPECT_EQ(Json("range", {5, 0, 1}), "undefined");
  EXPECT_EQ(Json("range", {0, 5, Value()}), "undefined");
  EXPECT_EQ(Code("range", {Value(), 5, 1}), "T0410");
  // No 1000-item cap as States.ArrayRange has, only the evaluation memory limit.
  StatusOr<Value> large = Call("range", {1, 200000, 1});
  ASSERT_TRUE(large.ok());
  EXPECT_EQ(large->items().size(), 200000u);
  EXPECT_EQ(Code("range", {0, 1e15, 1}), "D3802");
}

TEST_F(JsonataFunctionsTest, HashGivesHexDigests) {
  EXPECT_EQ(Text("hash", {"input", "SHA-1"}), "140f86aae51ab9e1cda9b4254fe98a74eb54c1a1");
  EXPECT_EQ(Text("hash", {"", "MD5"}), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Text("hash", {"abc", "MD5"}), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Text("hash", {"abc", "SHA-256"}),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Text("hash", {"abc", "SHA-384"}),
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
            "8086072ba1e7cc2358baeca134c825a7");
  EXPECT_EQ(Text("hash", {"abc", "SHA-512"}),
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  EXPECT_EQ(Code("hash", {"abc", "sha-256"}), "D3137");
  EXPECT_EQ(Json("hash", {"abc", Value()}), "undefined");
  EXPECT_EQ(Code("hash", {Value(), "MD5"}), "T0410");
}

TEST_F(JsonataFunctionsTest, RandomIsReproducibleWithASeed) {
  // java.util.Random's first nextDouble, which is what Step Functions answers.
  EXPECT_EQ(Number("random", {42}), 0.7275636800328681);
  EXPECT_EQ(Number("random", {42.9}), 0.7275636800328681);
  EXPECT_EQ(Number("random", {-1}), 0.26894263088050496);
  EXPECT_EQ(Number("random", {0}), 0.730967787376657);
  for (int i = 0; i < 100; ++i) {
    const double value = Number("random", {Value()});
    EXPECT_GE(value, 0.0);
    EXPECT_LT(value, 1.0);
  }
  EXPECT_NE(Number("random", {Value()}), Number("random", {Value()}));
}

TEST_F(JsonataFunctionsTest, UuidIsVersion4) {
  const std::regex v4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  const std::string first = Text("uuid", {});
  EXPECT_TRUE(std::regex_match(first, v4)) << first;
  EXPECT_NE(Text("uuid", {}), first);
}

TEST_F(JsonataFunctionsTest, ParseReadsJsonKeepingKeyOrder) {
  StatusOr<Value> parsed = Call("parse", {R"({"b":1,"a":[1,2,{"c":null}],"t":true})"});
  ASSERT_TRUE(parsed.ok());
  ASSERT_TRUE(parsed->is_object());
  std::vector<std::string> keys;
  for (const auto& entry : parsed->object().entries()) keys.push_back(entry.first);
  EXPECT_EQ(keys, (std::vector<std::string>{"b", "a", "t"}));
  EXPECT_EQ(*ToJson(*parsed), json::parse(R"({"a":[1,2,{"c":null}],"b":1,"t":true})"));
  EXPECT_EQ(Number("parse", {" 12.5 "}), 12.5);
  EXPECT_EQ(Json("parse", {Value()}), "undefined");
  EXPECT_EQ(Code("parse", {R"({"a":1,"a":2})"}), "D3137");  // a repeated key
  EXPECT_EQ(Code("parse", {"[1] x"}), "D3137");
  EXPECT_EQ(Code("parse", {""}), "D3137");
  EXPECT_EQ(Code("parse", {"{'a':1}"}), "D3137");
}

}  // namespace
}  // namespace loam::jsonata
