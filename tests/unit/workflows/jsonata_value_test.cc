// JSONata values, their text and JSON forms, and function signatures. Expected results are what
// jsonata-js 2.0.6 (the version Step Functions runs) gives.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "workflows/jsonata/functions.h"
#include "workflows/jsonata/signature.h"
#include "workflows/jsonata/value.h"

namespace loam::jsonata {
namespace {

using nlohmann::json;

Value Parse(const char* text) { return FromJson(json::parse(text)); }

// A function value for tests that only need one to exist.
class Identity : public Function {
 public:
  size_t Arity() const override { return 1; }
  StatusOr<Value> Call(std::vector<Value> args, const Value&, CallContext&) const override {
    return args.empty() ? Value() : args[0];
  }
};

Value AFunction() { return Value(std::shared_ptr<const Function>(std::make_shared<Identity>())); }

bool HasCode(const Status& status, std::string_view code) {
  return status.message().rfind(std::string(code) + ":", 0) == 0;
}

// ---- FormatNumber ----------------------------------------------------------------------------

TEST(JsonataFormatNumberTest, MatchesJavaScriptNumberToString) {
  EXPECT_EQ(FormatNumber(0.1 + 0.2), "0.30000000000000004");
  EXPECT_EQ(FormatNumber(1), "1");
  EXPECT_EQ(FormatNumber(-42.5), "-42.5");
  EXPECT_EQ(FormatNumber(1e21), "1e+21");
  EXPECT_EQ(FormatNumber(1e20), "100000000000000000000");
  EXPECT_EQ(FormatNumber(123456789012345680000.0), "123456789012345680000");
  EXPECT_EQ(FormatNumber(1e-7), "1e-7");
  EXPECT_EQ(FormatNumber(1.5e-7), "1.5e-7");
  EXPECT_EQ(FormatNumber(0.000001), "0.000001");
  EXPECT_EQ(FormatNumber(0.000001234), "0.000001234");
  EXPECT_EQ(FormatNumber(-2.5e300), "-2.5e+300");
  EXPECT_EQ(FormatNumber(5e-324), "5e-324");
  EXPECT_EQ(FormatNumber(-0.0), "0");
  EXPECT_EQ(FormatNumber(0), "0");
}

// ---- Stringify and ToText --------------------------------------------------------------------

TEST(JsonataStringifyTest, RoundsNumbersToFifteenDigits) {
  EXPECT_EQ(Stringify(Value(0.1 + 0.2)), "0.3");
  EXPECT_EQ(Stringify(Value(1.0 / 3)), "0.333333333333333");
  EXPECT_EQ(Stringify(Value(123456789012345678.0)), "123456789012346000");
  EXPECT_EQ(Stringify(Value(123456789012345680000.0)), "123456789012346000000");
  EXPECT_EQ(Stringify(Value(1e21)), "1e+21");
  // toPrecision rounds exact ties away from zero.
  EXPECT_EQ(Stringify(Value(100000000000000.5)), "100000000000001");
  EXPECT_EQ(Stringify(Value(-100000000000000.5)), "-100000000000001");
  EXPECT_EQ(Stringify(Value(1.0000000000000005)), "1");
  EXPECT_EQ(Stringify(Value(999999999999999.9)), "1000000000000000");
}

TEST(JsonataStringifyTest, CompactNestedValues) {
  EXPECT_EQ(Stringify(Parse(R"({"a":[1,{}],"b":[],"c":null,"d":true})")),
            R"({"a":[1,{}],"b":[],"c":null,"d":true})");
  EXPECT_EQ(Stringify(Value::Array({Value(1), AFunction(), Value()})), R"([1,"",null])");
  ObjectData object;
  object.Set("x", Value());
  object.Set("f", AFunction());
  object.Set("y", Value(2));
  EXPECT_EQ(Stringify(Value::Object(object)), R"({"f":"","y":2})");
  ObjectData only_undefined;
  only_undefined.Set("x", Value());
  EXPECT_EQ(Stringify(Value::Object(only_undefined)), "{}");
  EXPECT_EQ(Stringify(Value()), "");
}

TEST(JsonataStringifyTest, EscapesLikeJavaScript) {
  EXPECT_EQ(Stringify(Value(std::string("q\"b\\\b\f\n\r\t\x01\x1f\x7f") + "é€")),
            "\"q\\\"b\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7fé€\"");
  ObjectData object;
  object.Set("a\"b", Value(1));
  EXPECT_EQ(Stringify(Value::Object(object)), R"({"a\"b":1})");
}

TEST(JsonataStringifyTest, PrettyPrintsWithTwoSpaces) {
  EXPECT_EQ(Stringify(Parse(R"({"a":[1,{}],"b":[]})"), 2),
            "{\n  \"a\": [\n    1,\n    {}\n  ],\n  \"b\": []\n}");
  EXPECT_EQ(Stringify(Parse("[]"), 2), "[]");
  EXPECT_EQ(Stringify(Parse("{}"), 2), "{}");
  EXPECT_EQ(Stringify(Parse(R"([{"x":{"y":"z"}}])"), 2),
            "[\n  {\n    \"x\": {\n      \"y\": \"z\"\n    }\n  }\n]");
}

TEST(JsonataToTextTest, StringsAsTheyAreOthersStringified) {
  EXPECT_EQ(ToText(Value("plain")).value(), "plain");
  EXPECT_EQ(ToText(Value()).value(), "");
  EXPECT_EQ(ToText(AFunction()).value(), "");
  EXPECT_EQ(ToText(Value(true)).value(), "true");
  EXPECT_EQ(ToText(Value::Null()).value(), "null");
  EXPECT_EQ(ToText(Value(0.1 + 0.2)).value(), "0.3");
  EXPECT_EQ(ToText(Parse("[1,2]")).value(), "[1,2]");

  auto wrapper = std::make_shared<ArrayData>();
  wrapper->items = {Parse("[1,2]")};
  wrapper->outer_wrapper = true;
  EXPECT_EQ(ToText(Value(std::shared_ptr<const ArrayData>(wrapper))).value(), "[1,2]");
}

TEST(JsonataToTextTest, NonFiniteNumbersAreErrors) {
  const double infinity = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(HasCode(ToText(Value(infinity)).status(), "D3001"));
  EXPECT_TRUE(HasCode(ToText(Value(std::nan(""))).status(), "D3001"));
  EXPECT_TRUE(HasCode(ToText(Value::Array({Value(infinity)})).status(), "D1001"));
}

// ---- DeepEqual, Truthy, TypeName -------------------------------------------------------------

TEST(JsonataDeepEqualTest, ComparesStructurally) {
  EXPECT_TRUE(DeepEqual(Parse(R"({"a":1,"b":[1,"x",null]})"),
                        Parse(R"({"b":[1,"x",null],"a":1.0})")));
  EXPECT_FALSE(DeepEqual(Parse(R"({"a":1})"), Parse(R"({"a":1,"b":2})")));
  EXPECT_FALSE(DeepEqual(Parse(R"({"a":1})"), Parse(R"({"b":1})")));
  EXPECT_FALSE(DeepEqual(Parse("[1,2]"), Parse("[2,1]")));
  EXPECT_TRUE(DeepEqual(Parse("[1,2]"), Value::Sequence({Value(1), Value(2)})));
  EXPECT_FALSE(DeepEqual(Parse("[]"), Parse("{}")));
  EXPECT_FALSE(DeepEqual(Value(1), Value("1")));
  EXPECT_FALSE(DeepEqual(Value::Null(), Value()));
  EXPECT_TRUE(DeepEqual(Value(), Value()));
  EXPECT_FALSE(DeepEqual(Value(std::nan("")), Value(std::nan(""))));
  Value function = AFunction();
  EXPECT_TRUE(DeepEqual(function, function));
  EXPECT_FALSE(DeepEqual(function, AFunction()));
}

TEST(JsonataTruthyTest, FollowsBooleanFunction) {
  EXPECT_FALSE(Truthy(Value()));
  EXPECT_FALSE(Truthy(Value::Null()));
  EXPECT_FALSE(Truthy(Value(false)));
  EXPECT_TRUE(Truthy(Value(true)));
  EXPECT_FALSE(Truthy(Value(0)));
  EXPECT_FALSE(Truthy(Value(std::nan(""))));
  EXPECT_TRUE(Truthy(Value(-0.5)));
  EXPECT_FALSE(Truthy(Value("")));
  EXPECT_TRUE(Truthy(Value("false")));
  EXPECT_FALSE(Truthy(Parse("[]")));
  EXPECT_FALSE(Truthy(Parse("[0]")));
  EXPECT_FALSE(Truthy(Parse("[[]]")));
  EXPECT_FALSE(Truthy(Parse("[0,[],\"\"]")));
  EXPECT_TRUE(Truthy(Parse("[0,1]")));
  EXPECT_FALSE(Truthy(Parse("{}")));
  EXPECT_TRUE(Truthy(Parse(R"({"a":0})")));
  EXPECT_FALSE(Truthy(AFunction()));
  // Inside an array a function is a (non-empty) function object: $boolean([$sum]) is true.
  EXPECT_TRUE(Truthy(Value::Array({AFunction()})));
}

TEST(JsonataTypeNameTest, NamesEveryType) {
  EXPECT_STREQ(TypeName(Value()), "");
  EXPECT_STREQ(TypeName(Value::Null()), "null");
  EXPECT_STREQ(TypeName(Value(false)), "boolean");
  EXPECT_STREQ(TypeName(Value(1)), "number");
  EXPECT_STREQ(TypeName(Value("")), "string");
  EXPECT_STREQ(TypeName(Parse("[]")), "array");
  EXPECT_STREQ(TypeName(Parse("{}")), "object");
  EXPECT_STREQ(TypeName(AFunction()), "function");
}

// ---- Values and JSON -------------------------------------------------------------------------

TEST(JsonataValueTest, ObjectsKeepInsertionOrderPastTheIndexThreshold) {
  ObjectData object;
  for (int i = 20; i > 0; --i) object.Set("k" + std::to_string(i), Value(i));
  object.Set("k15", Value("replaced"));
  ASSERT_EQ(object.size(), 20u);
  EXPECT_EQ(object.entries()[0].first, "k20");
  EXPECT_EQ(object.entries()[5].first, "k15");
  EXPECT_EQ(object.Find("k15")->string(), "replaced");
  EXPECT_EQ(object.Find("k1")->number(), 1);
  EXPECT_EQ(object.Find("k21"), nullptr);
  object.Set("late", Value(true));
  EXPECT_EQ(object.entries().back().first, "late");
  EXPECT_TRUE(object.Find("late")->boolean());
}

TEST(JsonataValueTest, ConstructorsAndAccessors) {
  EXPECT_TRUE(Value().undefined());
  EXPECT_EQ(Value("s").string(), "s");
  Value sequence = Value::Sequence({Value(1)}, true);
  EXPECT_TRUE(sequence.is_sequence());
  EXPECT_TRUE(sequence.array().keep_singleton);
  EXPECT_FALSE(Value::Array({Value(1)}).is_sequence());
  EXPECT_TRUE(Value(3.0).is_integer());
  EXPECT_FALSE(Value(3.5).is_integer());
  EXPECT_FALSE(Value(std::numeric_limits<double>::infinity()).is_integer());
  EXPECT_FALSE(Value("3").is_integer());
}

TEST(JsonataJsonTest, RoundTripsDocuments) {
  json document = json::parse(R"({"z":1,"a":[true,null,"x",2.5,-3],"m":{"n":{}}})");
  Value value = FromJson(document);
  // nlohmann::json iterates its (sorted) keys; FromJson keeps that order.
  EXPECT_EQ(value.object().entries()[0].first, "a");
  EXPECT_TRUE(value.object().Find("z")->is_number());
  auto back = ToJson(value);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, document);
  EXPECT_TRUE((*back)["a"][4].is_number_integer());
  EXPECT_TRUE((*back)["a"][3].is_number_float());
}

TEST(JsonataJsonTest, DropsUndefinedAndEmptiesFunctions) {
  ObjectData object;
  object.Set("gone", Value());
  object.Set("list", Value::Array({Value(1), Value(), Value(2)}));
  object.Set("f", AFunction());
  auto converted = ToJson(Value::Object(object));
  ASSERT_TRUE(converted.ok());
  EXPECT_EQ(*converted, json::parse(R"({"list":[1,2],"f":""})"));
  auto nothing = ToJson(Value());
  ASSERT_TRUE(nothing.ok());
  EXPECT_TRUE(nothing->is_discarded());
}

TEST(JsonataJsonTest, NumbersBecomeIntegersOnlyWhenSafe) {
  EXPECT_TRUE(ToJson(Value(9007199254740992.0))->is_number_integer());
  EXPECT_TRUE(ToJson(Value(1e21))->is_number_float());
  EXPECT_TRUE(ToJson(Value(-0.0))->is_number_integer());
  EXPECT_TRUE(HasCode(ToJson(Value(std::numeric_limits<double>::infinity())).status(), "D1001"));
}

TEST(JsonataUnicodeTest, SplitsByCodePoint) {
  auto points = CodePoints("aé€😀");
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(points[3], "😀");
  EXPECT_EQ(CodePointCount("aé€😀"), 4u);
  EXPECT_EQ(CodePointCount("\xff\xc3"), 2u);  // malformed bytes count one each
  EXPECT_EQ(CodePointCount(""), 0u);
}

TEST(JsonataErrorTest, PrefixesTheCode) {
  Status status = Error("T2001", "left side is not a number");
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(status.message(), "T2001: left side is not a number");
}

// ---- Signatures ------------------------------------------------------------------------------

std::vector<Value> MustValidate(const char* text, std::vector<Value> args, const Value& context) {
  auto signature = Signature::Parse(text);
  EXPECT_TRUE(signature.ok()) << signature.status().message();
  auto validated = signature->Validate(std::move(args), context, "f");
  EXPECT_TRUE(validated.ok()) << validated.status().message();
  return validated.ok() ? *validated : std::vector<Value>{};
}

Status ValidationError(const char* text, std::vector<Value> args, const Value& context,
                       std::string_view name) {
  auto signature = Signature::Parse(text);
  EXPECT_TRUE(signature.ok()) << signature.status().message();
  return signature->Validate(std::move(args), context, name).status();
}

TEST(JsonataSignatureTest, ParsesParameters) {
  auto signature = Signature::Parse("<s-(sf)n?a<s>f<s:o>:a<o>>");
  ASSERT_TRUE(signature.ok());
  const auto& parameters = signature->parameters();
  ASSERT_EQ(signature->ParameterCount(), 5u);
  EXPECT_TRUE(parameters[0].context);
  EXPECT_EQ(parameters[0].regex, "[sm]?");
  EXPECT_EQ(parameters[1].type, '(');
  EXPECT_EQ(parameters[1].types, "sf");
  EXPECT_EQ(parameters[1].regex, "[sfm]");
  EXPECT_TRUE(parameters[2].optional);
  EXPECT_EQ(parameters[2].regex, "[nm]?");
  EXPECT_EQ(parameters[3].subtype, "s");
  EXPECT_EQ(parameters[4].subtype, "s:o");
  EXPECT_TRUE(Signature::Parse("<a+>")->parameters()[0].one_or_more);
}

TEST(JsonataSignatureTest, RejectsMalformedSignatures) {
  EXPECT_TRUE(HasCode(Signature::Parse("<s<n>>").status(), "S0401"));
  EXPECT_TRUE(HasCode(Signature::Parse("<(a<n>s)>").status(), "S0402"));
}

TEST(JsonataSignatureTest, SubstitutesTheContextForAMissingDashParameter) {
  // $substring: "<s-nn?:s>"
  auto args = MustValidate("<s-nn?:s>", {Value(1)}, Value("context"));
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[0].string(), "context");
  EXPECT_EQ(args[1].number(), 1);
  EXPECT_TRUE(args[2].undefined());

  args = MustValidate("<s-nn?:s>", {Value("abcd"), Value(1), Value(2)}, Value());
  ASSERT_EQ(args.size(), 3u);
  EXPECT_EQ(args[0].string(), "abcd");
  EXPECT_EQ(args[2].number(), 2);

  Status status = ValidationError("<s-nn?:s>", {Value(1)}, Value(5), "substring");
  EXPECT_EQ(status.message(),
            "T0411: Context value is not a compatible type with argument 1 of function "
            "\"substring\"");

  // $string: "<x-b?:s>" takes any context, and an undefined one as it is.
  args = MustValidate("<x-b?:s>", {}, Parse(R"({"a":1})"));
  ASSERT_EQ(args.size(), 2u);
  EXPECT_TRUE(args[0].is_object());
  EXPECT_TRUE(args[1].undefined());
  args = MustValidate("<x-b?:s>", {Value(1), Value(true)}, Value());
  EXPECT_EQ(args[0].number(), 1);
  EXPECT_TRUE(args[1].boolean());
  args = MustValidate("<x-b?:s>", {}, Value());
  EXPECT_TRUE(args[0].undefined());
}

TEST(JsonataSignatureTest, WrapsSingleValuesForArrayParameters) {
  auto args = MustValidate("<a<n>:n>", {Value(5)}, Value());
  ASSERT_EQ(args.size(), 1u);
  ASSERT_TRUE(args[0].is_array());
  EXPECT_FALSE(args[0].is_sequence());
  ASSERT_EQ(args[0].items().size(), 1u);
  EXPECT_EQ(args[0].items()[0].number(), 5);

  args = MustValidate("<a<n>:n>", {Parse("[1,2]")}, Value());
  EXPECT_EQ(args[0].items().size(), 2u);
  args = MustValidate("<a<n>:n>", {Parse("[]")}, Value());
  EXPECT_TRUE(args[0].items().empty());
  args = MustValidate("<a<n>:n>", {Value()}, Value());
  EXPECT_TRUE(args[0].undefined());

  // $zip: "<a+>" wraps each argument on its own.
  args = MustValidate("<a+>", {Parse("[1]"), Value(2), Parse("[3]")}, Value());
  ASSERT_EQ(args.size(), 3u);
  EXPECT_TRUE(args[1].is_array());
  EXPECT_EQ(args[1].items()[0].number(), 2);
}

TEST(JsonataSignatureTest, ChecksArrayItemTypes) {
  EXPECT_EQ(ValidationError("<a<n>:n>", {Parse(R"([1,"a"])")}, Value(), "sum").message(),
            "T0412: Argument 1 of function \"sum\" must be an array of \"numbers\"");
  EXPECT_EQ(ValidationError("<a<n>:n>", {Value("a")}, Value(), "sum").message(),
            "T0412: Argument 1 of function \"sum\" must be an array of \"numbers\"");
  EXPECT_TRUE(HasCode(ValidationError("<a<s>s?:s>", {Parse(R"(["a",1])")}, Value(), "join"),
                      "T0412"));
  EXPECT_EQ(MustValidate("<a<s>s?:s>", {Value("a")}, Value())[0].items()[0].string(), "a");
}

TEST(JsonataSignatureTest, ReportsTheFirstArgumentThatDoesNotFit) {
  EXPECT_EQ(ValidationError("<s-nn?:s>", {Value("a"), Value("b")}, Value(), "substring").message(),
            "T0410: Argument 2 of function \"substring\" does not match function signature");
  EXPECT_EQ(ValidationError("<a:n>", {Value(1), Value(2)}, Value(), "count").message(),
            "T0410: Argument 2 of function \"count\" does not match function signature");
  EXPECT_EQ(ValidationError("<s-nn?:s>", {}, Value(), "substring").message(),
            "T0410: Argument 1 of function \"substring\" does not match function signature");
  EXPECT_EQ(ValidationError("<s-:s>", {Value(1)}, Value(), "").message(),
            "T0410: Argument 1 of function undefined does not match function signature");
  EXPECT_TRUE(HasCode(ValidationError("<f:x>", {Value(1)}, Value(), "f"), "T0410"));
}

TEST(JsonataSignatureTest, KeepsTheReferenceQuirks) {
  // A `+` parameter of a single type repeats its first argument, as jsonata-js does.
  auto args = MustValidate("<n+>", {Value(1), Value(2)}, Value());
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[1].number(), 1);
  // An optional parameter that matched nothing still takes the argument in its position.
  args = MustValidate("<n?s>", {Value("x")}, Value());
  ASSERT_EQ(args.size(), 2u);
  EXPECT_EQ(args[0].string(), "x");
  EXPECT_TRUE(args[1].undefined());
}

TEST(JsonataSignatureTest, SymbolsOfValues) {
  EXPECT_EQ(SymbolOf(Value()), 'm');
  EXPECT_EQ(SymbolOf(Value::Null()), 'l');
  EXPECT_EQ(SymbolOf(Value(true)), 'b');
  EXPECT_EQ(SymbolOf(Value(1)), 'n');
  EXPECT_EQ(SymbolOf(Value("")), 's');
  EXPECT_EQ(SymbolOf(Parse("[]")), 'a');
  EXPECT_EQ(SymbolOf(Parse("{}")), 'o');
  EXPECT_EQ(SymbolOf(AFunction()), 'f');
}

}  // namespace
}  // namespace loam::jsonata
