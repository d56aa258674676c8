// JSONata's number, array, object and higher-order functions, called directly: the semantics
// that are easy to get subtly wrong next to jsonata-js 2.0.6 (rounding half to even through
// the decimal text, $number's hex/octal/binary forms, a stable $sort with a JavaScript-truthy
// comparator, $reduce's start value, $single's errors, sequences versus plain arrays).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workflows/jsonata/functions.h"

namespace loam::jsonata {
namespace {

using Body = std::function<StatusOr<Value>(std::vector<Value>&, CallContext&)>;

// A callback as a JSONata function value: a native impl (or any lambda) with a declared arity.
class NativeAdapter : public Function {
 public:
  NativeAdapter(size_t arity, Body body) : arity_(arity), body_(std::move(body)) {}
  size_t Arity() const override { return arity_; }
  StatusOr<Value> Call(std::vector<Value> args, const Value&, CallContext& call) const override {
    return body_(args, call);
  }

 private:
  size_t arity_;
  Body body_;
};

Value Callback(size_t arity, Body body) {
  auto function = std::make_shared<const NativeAdapter>(arity, std::move(body));
  return Value(std::shared_ptr<const Function>(std::move(function)));
}

class TestCallContext : public CallContext {
 public:
  StatusOr<Value> Apply(const Value& function, std::vector<Value> args) override {
    if (!function.is_function()) return InvalidArgument("not a function");
    return function.function().Call(std::move(args), Value(), *this);
  }
  int64_t NowMillis() const override { return 1'700'000'000'000; }
  std::mt19937_64& Random() override { return random_; }

 private:
  std::mt19937_64 random_{20240601};
};

const NativeFunction& Find(std::string_view name) {
  static const std::vector<NativeFunction> library = [] {
    std::vector<NativeFunction> out;
    AddNumericFunctions(out);
    AddCollectionFunctions(out);
    return out;
  }();
  for (const NativeFunction& function : library) {
    if (name == function.name) return function;
  }
  static const NativeFunction kMissing{"missing", "<:x>", nullptr};
  ADD_FAILURE() << "no function $" << name;
  return kMissing;
}

StatusOr<Value> Call(std::string_view name, std::vector<Value> args) {
  TestCallContext call;
  return Find(name).impl(args, call);
}

Value Json(const char* text) { return FromJson(nlohmann::json::parse(text)); }

nlohmann::json ToJsonOrDie(const Value& value) {
  StatusOr<nlohmann::json> json = ToJson(value);
  EXPECT_TRUE(json.ok()) << json.status().message();
  return json.ok() ? *json : nlohmann::json();
}

std::string CodeOf(const StatusOr<Value>& result) {
  return result.ok() ? "ok" : result.status().message().substr(0, 5);
}

double NumberOf(const StatusOr<Value>& result) {
  EXPECT_TRUE(result.ok()) << result.status().message();
  EXPECT_TRUE(result.ok() && result->is_number());
  return result.ok() && result->is_number() ? result->number() : -12345;
}

TEST(JsonataCollections, SignaturesAreTheReferencesOwn) {
  EXPECT_STREQ(Find("reduce").signature, "<afj?:j>");
  EXPECT_STREQ(Find("number").signature, "<(nsb)-:n>");
  EXPECT_STREQ(Find("sift").signature, "<o-f?:o>");
  EXPECT_STREQ(Find("clone").signature, "<(oa)-:o>");
  EXPECT_STREQ(Find("zip").signature, "<a+>");
}

TEST(JsonataCollections, RoundGoesHalfToEvenThroughTheDecimalText) {
  auto round = [](double n, Value precision = Value()) {
    return NumberOf(Call("round", {n, precision}));
  };
  EXPECT_EQ(round(2.5), 2);
  EXPECT_EQ(round(3.5), 4);
  EXPECT_EQ(round(-2.5), -2);
  EXPECT_EQ(round(-1.5), -2);
  EXPECT_FALSE(std::signbit(round(-0.4)));  // no -0 in JSON
  EXPECT_EQ(round(1.005, 2), 1);            // 100.5 after the shift, then to even
  EXPECT_EQ(round(2.675, 2), 2.68);         // not 2.67, as multiplying by 100 would give
  EXPECT_EQ(round(0.125, 2), 0.12);
  EXPECT_EQ(round(0.135, 2), 0.14);
  EXPECT_EQ(round(-1.25, 1), -1.2);
  EXPECT_EQ(round(125, -1), 120);
  EXPECT_EQ(round(135, -1), 140);
  EXPECT_EQ(round(4.5, 0), 4);
  EXPECT_EQ(round(1.23456e-7, 9), 1.23e-7);
  EXPECT_EQ(round(1e21, 2), 1e21);
  EXPECT_TRUE(std::isnan(round(1e300, 10)));  // shifted past Infinity: the reference gives NaN
  EXPECT_TRUE(Call("round", {Value(), Value()})->undefined());
}

TEST(JsonataCollections, NumberReadsJsonNumbersAndPrefixedIntegers) {
  auto number = [](Value text) { return Call("number", {std::move(text)}); };
  EXPECT_EQ(NumberOf(number("1E5")), 100000);
  EXPECT_EQ(NumberOf(number("-1.5e-3")), -0.0015);
  EXPECT_EQ(NumberOf(number("007")), 7);
  EXPECT_EQ(NumberOf(number("0x1F")), 31);
  EXPECT_EQ(NumberOf(number("0XAb")), 171);
  EXPECT_EQ(NumberOf(number("0o17")), 15);
  EXPECT_EQ(NumberOf(number("0b101")), 5);
  EXPECT_EQ(NumberOf(number("\n0b101")), 5);  // Number() trims what the pattern let through
  EXPECT_EQ(NumberOf(number("0x10 ")), 16);
  EXPECT_EQ(NumberOf(number("0x20000000000003")), 9007199254740996);  // rounded half to even
  EXPECT_EQ(NumberOf(number(true)), 1);
  EXPECT_EQ(NumberOf(number(false)), 0);
  // The reference's pattern matches these, and Number() makes them NaN.
  EXPECT_TRUE(std::isnan(NumberOf(number("0x1Fzz"))));
  EXPECT_TRUE(std::isnan(NumberOf(number("abc0o17"))));
  for (const char* bad : {"", " 0x10", "1e400", ".5", "5.", "0o", "0b1e", "abc", "+1"}) {
    EXPECT_EQ(CodeOf(number(bad)), "D3030") << bad;
  }
  EXPECT_TRUE(number(Value())->undefined());
}

TEST(JsonataCollections, PowerAndSqrtRefuseWhatJsonCannotHold) {
  EXPECT_EQ(CodeOf(Call("power", {10, 400})), "D3061");
  EXPECT_EQ(CodeOf(Call("power", {-8, 1.0 / 3})), "D3061");  // NaN
  EXPECT_EQ(NumberOf(Call("power", {2, 10})), 1024);
  EXPECT_EQ(CodeOf(Call("sqrt", {-1})), "D3060");
  EXPECT_EQ(NumberOf(Call("sqrt", {4})), 2);
}

TEST(JsonataCollections, AggregatesOfNothing) {
  EXPECT_TRUE(Call("sum", {Value()})->undefined());
  EXPECT_EQ(NumberOf(Call("sum", {Json("[]")})), 0);
  EXPECT_EQ(NumberOf(Call("count", {Value()})), 0);
  EXPECT_TRUE(Call("max", {Json("[]")})->undefined());
  EXPECT_TRUE(Call("average", {Json("[]")})->undefined());
  EXPECT_EQ(NumberOf(Call("average", {Json("[1, 2]")})), 1.5);
}

TEST(JsonataCollections, SortIsStableAndTakesAJavaScriptTruthyComparator) {
  auto by_k = Callback(2, [](std::vector<Value>& a, CallContext&) -> StatusOr<Value> {
    return Value(a[0].object().Find("k")->number() > a[1].object().Find("k")->number());
  });
  Value records = Json(R"([{"k":1,"i":1},{"k":0,"i":2},{"k":1,"i":3},{"k":0,"i":4}])");
  StatusOr<Value> sorted = Call("sort", {records, by_k});
  ASSERT_TRUE(sorted.ok());
  std::vector<double> order;
  for (const Value& record : sorted->items()) order.push_back(record.object().Find("i")->number());
  EXPECT_EQ(order, (std::vector<double>{2, 4, 1, 3}));

  // An empty array is truthy in JavaScript: "swap" every time, so the order reverses.
  auto empty_array = Callback(2, [](std::vector<Value>&, CallContext&) -> StatusOr<Value> {
    return Value::Array({});
  });
  EXPECT_EQ(ToJsonOrDie(*Call("sort", {Json("[1, 2, 3]"), empty_array})),
            nlohmann::json({3, 2, 1}));
  auto empty_string = Callback(2, [](std::vector<Value>&, CallContext&) -> StatusOr<Value> {
    return Value("");
  });
  EXPECT_EQ(ToJsonOrDie(*Call("sort", {Json("[1, 2, 3]"), empty_string})),
            nlohmann::json({1, 2, 3}));

  auto failing = Callback(2, [](std::vector<Value>&, CallContext&) -> StatusOr<Value> {
    return Error("D1234", "comparator failed");
  });
  EXPECT_EQ(CodeOf(Call("sort", {Json("[2, 1]"), failing})), "D1234");
}

TEST(JsonataCollections, SortWithoutComparatorTakesNumbersOrStrings) {
  EXPECT_EQ(ToJsonOrDie(*Call("sort", {Json("[10, 9, 100]"), Value()})),
            nlohmann::json({9, 10, 100}));
  // JavaScript orders strings by UTF-16 unit: U+1F600 (a surrogate pair) before U+E000.
  Value unsorted = Value::Array({"\xEE\x80\x80", "\xF0\x9F\x98\x80", "a"});
  StatusOr<Value> strings = Call("sort", {unsorted, Value()});
  ASSERT_TRUE(strings.ok());
  EXPECT_EQ(ToJsonOrDie(*strings), nlohmann::json({"a", "\xF0\x9F\x98\x80", "\xEE\x80\x80"}));
  EXPECT_EQ(CodeOf(Call("sort", {Json(R"([1, "a"])"), Value()})), "D3070");
  EXPECT_FALSE(Call("sort", {Value::Sequence({3, 1}), Value()})->is_sequence());
}

TEST(JsonataCollections, ReduceStartsFromTheFirstItemWithoutAnInitialValue) {
  auto add = Callback(2, [](std::vector<Value>& a, CallContext&) -> StatusOr<Value> {
    return Value(a[0].number() + a[1].number());
  });
  EXPECT_EQ(NumberOf(Call("reduce", {Json("[1, 2, 3]"), add, Value()})), 6);
  EXPECT_EQ(NumberOf(Call("reduce", {Json("[1, 2, 3]"), add, 10})), 16);
  EXPECT_EQ(NumberOf(Call("reduce", {Json("[1]"), add, Value()})), 1);
  EXPECT_TRUE(Call("reduce", {Json("[]"), add, Value()})->undefined());
  EXPECT_EQ(NumberOf(Call("reduce", {Json("[]"), add, 5})), 5);
  EXPECT_TRUE(Call("reduce", {Value(), add, 5})->undefined());

  auto one_parameter = Callback(1, [](std::vector<Value>& a, CallContext&) -> StatusOr<Value> {
    return a[0];
  });
  EXPECT_EQ(CodeOf(Call("reduce", {Json("[1, 2]"), one_parameter, Value()})), "D3050");

  // Three parameters get the index too, four the whole array.
  auto index_and_size = Callback(4, [](std::vector<Value>& a, CallContext&) -> StatusOr<Value> {
    EXPECT_EQ(a.size(), 4u);
    return Value(a[0].number() + a[2].number() + static_cast<double>(a[3].items().size()));
  });
  EXPECT_EQ(NumberOf(Call("reduce", {Json("[1, 2, 3]"), index_and_size, 0})), 12);
}

TEST(JsonataCollections, SingleWantsExactlyOneMatch) {
  auto above = [](double limit) {
    return Callback(1, [limit](std::vector<Value>& a, CallContext&) -> StatusOr<Value> {
      return Value(a[0].number() > limit);
    });
  };
  EXPECT_EQ(NumberOf(Call("single", {Json("[1, 2, 3]"), above(2)})), 3);
  EXPECT_EQ(CodeOf(Call("single", {Json("[1, 2, 3]"), above(1)})), "D3138");
  EXPECT_EQ(CodeOf(Call("single", {Json("[1, 2, 3]"), above(5)})), "D3139");
  EXPECT_EQ(NumberOf(Call("single", {Json("[7]"), Value()})), 7);
  EXPECT_EQ(CodeOf(Call("single", {Json("[7, 8]"), Value()})), "D3138");
  EXPECT_EQ(CodeOf(Call("single", {Json("[]"), Value()})), "D3139");
  EXPECT_TRUE(Call("single", {Value(), Value()})->undefined());
}

TEST(JsonataCollections, CallbacksGetOnlyTheArgumentsTheyDeclare) {
  auto count_args = [](size_t arity) {
    return Callback(arity, [](std::vector<Value>& a, CallContext&) -> StatusOr<Value> {
      return Value(a.size());
    });
  };
  StatusOr<Value> one = Call("map", {Json("[5, 6]"), count_args(1)});
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(one->is_sequence());
  EXPECT_EQ(ToJsonOrDie(*one), nlohmann::json({1, 1}));
  EXPECT_EQ(ToJsonOrDie(*Call("map", {Json("[5, 6]"), count_args(3)})), nlohmann::json({3, 3}));

  auto key_is_b = Callback(2, [](std::vector<Value>& a, CallContext&) -> StatusOr<Value> {
    return Value(a[1].string() == "b");
  });
  EXPECT_EQ(ToJsonOrDie(*Call("sift", {Json(R"({"a": 1, "b": 2})"), key_is_b})),
            nlohmann::json({{"b", 2}}));
  EXPECT_TRUE(Call("sift", {Json(R"({"a": 1})"), key_is_b})->undefined());
}

TEST(JsonataCollections, SequencesWhereTheReferenceMakesThem) {
  // $append's concat makes a plain array, so a one-item result stays an array.
  StatusOr<Value> appended = Call("append", {1, Json("[]")});
  ASSERT_TRUE(appended.ok());
  EXPECT_TRUE(appended->is_array());
  EXPECT_FALSE(appended->is_sequence());
  // $lookup over an array flattens one level into a sequence; over an object it is the value.
  StatusOr<Value> looked_up = Call("lookup", {Json(R"([{"a": [1, 2]}, {"a": 3}, {"b": 4}])"), "a"});
  EXPECT_TRUE(looked_up->is_sequence());
  EXPECT_EQ(ToJsonOrDie(*looked_up), nlohmann::json({1, 2, 3}));
  EXPECT_FALSE(Call("lookup", {Json(R"({"a": [1]})"), "a"})->is_sequence());
  // $keys merges the keys of an array's objects, first seen first.
  StatusOr<Value> keys = Call("keys", {Json(R"([{"a": 1}, [{"b": 1}], {"a": 2, "c": 3}])")});
  EXPECT_TRUE(keys->is_sequence());
  EXPECT_EQ(ToJsonOrDie(*keys), nlohmann::json({"a", "b", "c"}));
  // $spread of an array is plain once something was joined; of an object, a sequence.
  EXPECT_FALSE(Call("spread", {Json(R"([{"a": 1}])")})->is_sequence());
  EXPECT_TRUE(Call("spread", {Json(R"({"a": 1, "b": 2})")})->is_sequence());
  EXPECT_EQ(ToJsonOrDie(*Call("spread", {Json("[{}]")})), nlohmann::json::array());
  // $distinct keeps a sequence a sequence and an array an array.
  EXPECT_TRUE(Call("distinct", {Value::Sequence({1, 1, 2})})->is_sequence());
  EXPECT_EQ(ToJsonOrDie(*Call("distinct", {Json(R"([1, "1", [1], [1]])")})),
            nlohmann::json::parse(R"([1, "1", [1]])"));
}

TEST(JsonataCollections, ShufflePermutesWithTheContextsRandomSource) {
  StatusOr<Value> shuffled = Call("shuffle", {Json("[1, 2, 3, 4, 5, 6, 7, 8]")});
  ASSERT_TRUE(shuffled.ok());
  std::vector<double> items;
  for (const Value& item : shuffled->items()) items.push_back(item.number());
  std::sort(items.begin(), items.end());
  EXPECT_EQ(items, (std::vector<double>{1, 2, 3, 4, 5, 6, 7, 8}));
  StatusOr<Value> again = Call("shuffle", {Json("[1, 2, 3, 4, 5, 6, 7, 8]")});
  EXPECT_EQ(ToJsonOrDie(*shuffled), ToJsonOrDie(*again));  // same seed, same order
}

TEST(JsonataCollections, ErrorsAssertsAndClones) {
  EXPECT_NE(Call("error", {Value()}).status().message().find("$error() function evaluated"),
            std::string::npos);
  EXPECT_NE(Call("error", {"boom"}).status().message().find("boom"), std::string::npos);
  EXPECT_EQ(CodeOf(Call("assert", {false, Value()})), "D3141");
  EXPECT_TRUE(Call("assert", {true, Value()})->undefined());
  // $clone goes through $string: numbers at 15 significant digits, functions as "".
  ObjectData object;
  object.Set("n", 0.1 + 0.2);
  object.Set("f", Callback(0, [](std::vector<Value>&, CallContext&) -> StatusOr<Value> {
    return Value();
  }));
  EXPECT_EQ(ToJsonOrDie(*Call("clone", {Value::Object(std::move(object))})),
            nlohmann::json::parse(R"({"n": 0.3, "f": ""})"));
}

}  // namespace
}  // namespace loam::jsonata
