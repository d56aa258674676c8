// JSONata's functions over arrays and objects, its higher-order functions ($map, $filter,
// $single, $reduce, $sift, $each, $sort) and $error, $assert, $type: a port of jsonata-js
// 2.0.6's functions.js. Where the reference returns a result sequence (createSequence) these
// return Value::Sequence, so that the evaluator unwraps a singleton exactly as it does there.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "workflows/jsonata/js_text.h"
#include "workflows/jsonata/functions.h"
#include "workflows/jsonata/merge_sort.h"

namespace loam::jsonata {
namespace {

using Args = std::vector<Value>;
using internal::ParseDecimal;

// ---------------------------------------------------------------------------------------------
// Text helpers: JavaScript's string ordering.

// JavaScript's `a < b` on strings: by UTF-16 code unit, so U+FFFF sorts after U+1F600.
bool Utf16Less(std::string_view a, std::string_view b) {
  auto [ia, ib] = std::mismatch(a.begin(), a.end(), b.begin(), b.end());
  if (ib == b.end()) return false;
  if (ia == a.end()) return true;
  size_t pos = static_cast<size_t>(ia - a.begin());
  while (pos > 0 && (static_cast<unsigned char>(a[pos]) & 0xC0) == 0x80) --pos;  // shared prefix
  size_t length = 0;
  char32_t ca = CodePointAt(a, pos, &length);
  char32_t cb = CodePointAt(b, pos, &length);
  auto first_unit = [](char32_t c) { return c < 0x10000 ? c : 0xD800 + ((c - 0x10000) >> 10); };
  if (first_unit(ca) != first_unit(cb)) return first_unit(ca) < first_unit(cb);
  return ca < cb;
}

// JavaScript truthiness, which $sort applies to a comparator's result ([] and {} are true).
bool JsTruthy(const Value& value) {
  switch (value.type()) {
    case Value::Type::kUndefined: case Value::Type::kNull: return false;
    case Value::Type::kBool: return value.boolean();
    case Value::Type::kNumber: return value.number() != 0 && !std::isnan(value.number());
    case Value::Type::kString: return !value.string().empty();
    default: return true;
  }
}

Status NotAFunction(std::string_view function_name, int position) {
  return Error("T0410", "Argument " + std::to_string(position) + " of function \"" +
                            std::string(function_name) + "\" does not match function signature");
}

// ---------------------------------------------------------------------------------------------
// Arrays.

StatusOr<Value> Append(Args& args, CallContext&) {
  const Value& first = Arg(args, 0);
  const Value& second = Arg(args, 1);
  if (first.undefined()) return second;
  if (second.undefined()) return first;
  std::vector<Value> items;
  for (const Value* part : {&first, &second}) {
    if (part->is_array()) {
      items.insert(items.end(), part->items().begin(), part->items().end());
    } else {
      items.push_back(*part);
    }
  }
  return Value::Array(std::move(items));  // concat makes a plain array, even of sequences
}

StatusOr<Value> Reverse(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (!arg.is_array() || arg.items().size() <= 1) return arg;
  return Value::Array(std::vector<Value>(arg.items().rbegin(), arg.items().rend()));
}

StatusOr<Value> Sort(Args& args, CallContext& call) {
  const Value& arg = Arg(args, 0);
  if (!arg.is_array() || arg.items().size() <= 1) return arg;
  const Value& comparator = Arg(args, 1);
  if (comparator.undefined()) {
    const auto& items = arg.items();
    auto all = [&](bool (Value::*is)() const) {
      return std::all_of(items.begin(), items.end(), [&](const Value& v) { return (v.*is)(); });
    };
    bool numbers = all(&Value::is_number);
    bool strings = all(&Value::is_string);
    if (!numbers && !strings) {
      return Error("D3070",
                   "The single argument form of the sort function can only be applied to an array "
                   "of strings or an array of numbers.  Use the second argument to specify a "
                   "comparison function");
    }
  } else if (!comparator.is_function()) {
    return NotAFunction("sort", 2);
  }
  // `after(a, b)`: whether `a` belongs after `b`.
  auto after = [&](const Value& a, const Value& b) -> StatusOr<bool> {
    if (comparator.undefined()) {
      return a.is_number() ? a.number() > b.number() : Utf16Less(b.string(), a.string());
    }
    StatusOr<Value> result = call.Apply(comparator, {a, b});
    if (!result.ok()) return result.status();
    return JsTruthy(*result);
  };
  std::vector<Value> items = arg.items();
  if (Status s = internal::MergeSort(items, after); !s.ok()) return s;
  return Value::Array(std::move(items));
}

StatusOr<Value> Shuffle(Args& args, CallContext& call) {
  const Value& arg = Arg(args, 0);
  if (!arg.is_array() || arg.items().size() <= 1) return arg;
  // The inside-out Fisher-Yates shuffle, as the reference does it.
  const auto& items = arg.items();
  std::vector<Value> result(items.size());
  for (size_t i = 0; i < items.size(); ++i) {
    size_t j = std::uniform_int_distribution<size_t>(0, i)(call.Random());
    if (i != j) result[i] = result[j];
    result[j] = items[i];
  }
  return Value::Array(std::move(result));
}

StatusOr<Value> Distinct(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (!arg.is_array() || arg.items().size() <= 1) return arg;
  std::vector<Value> result;
  // Scalars are told apart by a key (type and value); arrays and objects by deep comparison
  // with those kept, which is what makes the whole quadratic only for lists of structures.
  std::unordered_set<std::string> scalars;
  std::vector<Value> structures;
  for (const Value& item : arg.items()) {
    if (item.is_array() || item.is_object() || item.is_function()) {
      bool seen = std::any_of(structures.begin(), structures.end(),
                              [&](const Value& kept) { return DeepEqual(item, kept); });
      if (seen) continue;
      structures.push_back(item);
    } else {
      std::string key(1, static_cast<char>(item.type()));
      if (item.is_number()) {
        key += FormatNumber(item.number() == 0 ? 0.0 : item.number());  // -0 equals 0
      } else if (item.is_string()) {
        key += item.string();
      } else if (item.is_bool()) {
        key += item.boolean() ? "1" : "0";
      }
      if (!scalars.insert(std::move(key)).second) continue;
    }
    result.push_back(item);
  }
  return arg.is_sequence() ? Value::Sequence(std::move(result)) : Value::Array(std::move(result));
}

StatusOr<Value> Zip(Args& args, CallContext&) {
  size_t length = args.empty() ? 0 : std::numeric_limits<size_t>::max();
  for (const Value& arg : args) length = std::min(length, arg.is_array() ? arg.items().size() : 0);
  std::vector<Value> result;
  for (size_t i = 0; i < length; ++i) {
    std::vector<Value> tuple;
    for (const Value& arg : args) tuple.push_back(arg.items()[i]);
    result.push_back(Value::Array(std::move(tuple)));
  }
  return Value::Array(std::move(result));
}

// ---------------------------------------------------------------------------------------------
// Objects.

// Every key of an object, or of the objects in an array (nested arrays too), first seen first.
void CollectKeys(const Value& value, std::vector<Value>& keys,
                 std::unordered_set<std::string>& seen) {
  if (value.is_array()) {
    for (const Value& item : value.items()) CollectKeys(item, keys, seen);
  } else if (value.is_object()) {
    for (const auto& [key, unused] : value.object().entries()) {
      if (seen.insert(key).second) keys.emplace_back(key);
    }
  }
}

StatusOr<Value> Keys(Args& args, CallContext&) {
  std::vector<Value> keys;
  std::unordered_set<std::string> seen;
  CollectKeys(Arg(args, 0), keys, seen);
  return Value::Sequence(std::move(keys));
}

Value Lookup(const Value& input, const std::string& key) {
  if (input.is_array()) {
    std::vector<Value> result;
    for (const Value& item : input.items()) {
      Value found = Lookup(item, key);
      if (found.is_array()) {
        result.insert(result.end(), found.items().begin(), found.items().end());
      } else if (!found.undefined()) {
        result.push_back(std::move(found));
      }
    }
    return Value::Sequence(std::move(result));
  }
  if (input.is_object()) {
    const Value* found = input.object().Find(key);
    return found ? *found : Value();
  }
  return Value();
}

StatusOr<Value> LookupFunction(Args& args, CallContext&) {
  const Value& key = Arg(args, 1);
  return Lookup(Arg(args, 0), key.is_string() ? key.string() : std::string("undefined"));
}

// An object as one single-key object per key; an array's items spread and joined. An array
// gives a plain array once anything was joined to it (the reference's append), otherwise the
// empty sequence; other values come back as they are.
Value Spread(const Value& value) {
  if (value.is_array()) {
    std::vector<Value> result;
    bool joined = false;
    for (const Value& item : value.items()) {
      Value part = Spread(item);
      if (part.undefined()) continue;
      joined = true;
      if (part.is_array()) {
        result.insert(result.end(), part.items().begin(), part.items().end());
      } else {
        result.push_back(std::move(part));
      }
    }
    return joined ? Value::Array(std::move(result)) : Value::Sequence({});
  }
  if (value.is_object()) {
    std::vector<Value> result;
    for (const auto& [key, item] : value.object().entries()) {
      ObjectData single;
      single.Set(key, item);
      result.push_back(Value::Object(std::move(single)));
    }
    return Value::Sequence(std::move(result));
  }
  return value;
}

StatusOr<Value> SpreadFunction(Args& args, CallContext&) { return Spread(Arg(args, 0)); }

StatusOr<Value> Merge(Args& args, CallContext&) {
  const Value& objects = Arg(args, 0);
  if (objects.undefined()) return objects;
  ObjectData merged;
  if (objects.is_array()) {
    for (const Value& object : objects.items()) {
      if (!object.is_object()) continue;
      for (const auto& [key, value] : object.object().entries()) merged.Set(key, value);
    }
  }
  return Value::Object(std::move(merged));
}

// The arguments a callback gets: the value, then the index or key and the whole array or
// object only when it declares that many parameters (the reference's hofFuncArgs).
std::vector<Value> CallbackArgs(const Value& function, const Value& value, Value position,
                                const Value& whole) {
  size_t arity = function.function().Arity();
  std::vector<Value> args{value};
  if (arity >= 2) args.push_back(std::move(position));
  if (arity >= 3) args.push_back(whole);
  return args;
}

StatusOr<Value> Each(Args& args, CallContext& call) {
  const Value& object = Arg(args, 0);
  const Value& function = Arg(args, 1);
  std::vector<Value> result;
  if (!object.is_object()) return Value::Sequence(std::move(result));
  if (!function.is_function()) return NotAFunction("each", 2);
  for (const auto& [key, value] : object.object().entries()) {
    StatusOr<Value> mapped =
        call.Apply(function, CallbackArgs(function, value, Value(key), object));
    if (!mapped.ok()) return mapped.status();
    if (!mapped->undefined()) result.push_back(std::move(*mapped));
  }
  return Value::Sequence(std::move(result));
}

StatusOr<Value> Sift(Args& args, CallContext& call) {
  const Value& object = Arg(args, 0);
  const Value& function = Arg(args, 1);
  if (!object.is_object() || object.object().size() == 0) return Value();
  if (!function.is_function()) return NotAFunction("sift", 2);
  ObjectData kept;
  for (const auto& [key, value] : object.object().entries()) {
    StatusOr<Value> keep = call.Apply(function, CallbackArgs(function, value, Value(key), object));
    if (!keep.ok()) return keep.status();
    if (Truthy(*keep)) kept.Set(key, value);
  }
  if (kept.size() == 0) return Value();
  return Value::Object(std::move(kept));
}

StatusOr<Value> ErrorFunction(Args& args, CallContext&) {
  const Value& message = Arg(args, 0);
  bool given = message.is_string() && !message.string().empty();
  return Error("D3137", given ? message.string() : "$error() function evaluated");
}

StatusOr<Value> Assert(Args& args, CallContext&) {
  const Value& condition = Arg(args, 0);
  if (condition.is_bool() && condition.boolean()) return Value();
  const Value& message = Arg(args, 1);
  bool given = message.is_string() && !message.string().empty();
  return Error("D3141", given ? message.string() : "$assert() statement failed");
}

StatusOr<Value> Type(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (arg.undefined()) return arg;
  return Value(std::string(TypeName(arg)));
}

// Number(n.toPrecision(15)): the rounding $string (and so $clone) applies to numbers. The
// exact decimal expansion is rounded half up, as toPrecision does.
double RoundToFifteenDigits(double n) {
  if (n == 0) return 0;
  char exact[900];  // a double's exact expansion has at most 767 significant digits
  std::snprintf(exact, sizeof exact, "%.799e", std::fabs(n));
  std::string digits = std::string(1, exact[0]) + std::string(exact + 2, 14);
  int exponent = std::atoi(std::strchr(exact, 'e') + 1);
  if (exact[16] >= '5') {
    size_t i = digits.size();
    while (i > 0 && digits[i - 1] == '9') digits[--i] = '0';
    if (i == 0) {
      digits.insert(digits.begin(), '1');
      digits.pop_back();
      ++exponent;
    } else {
      ++digits[i - 1];
    }
  }
  double rounded = ParseDecimal(digits.substr(0, 1) + "." + digits.substr(1) + "e" +
                                std::to_string(exponent));
  return n < 0 ? -rounded : rounded;
}

// The value JSON.parse(fn.string(value)) gives: a deep copy with numbers at 15 digits,
// functions as "", non-finite numbers as null.
Value CloneAsJson(const Value& value) {
  switch (value.type()) {
    case Value::Type::kNumber:
      if (!std::isfinite(value.number())) return Value::Null();
      return Value(RoundToFifteenDigits(value.number()));
    case Value::Type::kFunction:
      return Value(std::string());
    case Value::Type::kArray: {
      std::vector<Value> items;
      for (const Value& item : value.items()) {
        items.push_back(item.undefined() ? Value::Null() : CloneAsJson(item));
      }
      return Value::Array(std::move(items));
    }
    case Value::Type::kObject: {
      ObjectData copy;
      for (const auto& [key, item] : value.object().entries()) {
        if (!item.undefined()) copy.Set(key, CloneAsJson(item));
      }
      return Value::Object(std::move(copy));
    }
    default:
      return value;
  }
}

StatusOr<Value> Clone(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (arg.undefined()) return arg;
  if (arg.is_array() && arg.array().outer_wrapper && !arg.items().empty()) {
    return CloneAsJson(arg.items().front());
  }
  return CloneAsJson(arg);
}

// ---------------------------------------------------------------------------------------------
// Higher-order functions over arrays.

StatusOr<Value> Map(Args& args, CallContext& call) {
  const Value& array = Arg(args, 0);
  const Value& function = Arg(args, 1);
  if (!array.is_array()) return Value();
  if (!function.is_function()) return NotAFunction("map", 2);
  std::vector<Value> result;
  for (size_t i = 0; i < array.items().size(); ++i) {
    StatusOr<Value> mapped =
        call.Apply(function, CallbackArgs(function, array.items()[i], Value(i), array));
    if (!mapped.ok()) return mapped.status();
    if (!mapped->undefined()) result.push_back(std::move(*mapped));
  }
  return Value::Sequence(std::move(result));
}

StatusOr<Value> Filter(Args& args, CallContext& call) {
  const Value& array = Arg(args, 0);
  const Value& function = Arg(args, 1);
  if (!array.is_array()) return Value();
  if (!function.is_function()) return NotAFunction("filter", 2);
  std::vector<Value> result;
  for (size_t i = 0; i < array.items().size(); ++i) {
    const Value& item = array.items()[i];
    StatusOr<Value> keep = call.Apply(function, CallbackArgs(function, item, Value(i), array));
    if (!keep.ok()) return keep.status();
    if (Truthy(*keep)) result.push_back(item);
  }
  return Value::Sequence(std::move(result));
}

StatusOr<Value> Single(Args& args, CallContext& call) {
  const Value& array = Arg(args, 0);
  const Value& function = Arg(args, 1);
  if (!array.is_array()) return Value();
  if (!function.undefined() && !function.is_function()) return NotAFunction("single", 2);
  const Value* match = nullptr;
  for (size_t i = 0; i < array.items().size(); ++i) {
    const Value& item = array.items()[i];
    if (function.is_function()) {
      StatusOr<Value> matches = call.Apply(function, CallbackArgs(function, item, Value(i), array));
      if (!matches.ok()) return matches.status();
      if (!Truthy(*matches)) continue;
    }
    if (match != nullptr) {
      return Error("D3138", "The $single() function expected exactly 1 matching result.  "
                            "Instead it matched more.");
    }
    match = &item;
  }
  if (match == nullptr) {
    return Error("D3139", "The $single() function expected exactly 1 matching result.  "
                          "Instead it matched 0.");
  }
  return *match;
}

StatusOr<Value> Reduce(Args& args, CallContext& call) {
  const Value& array = Arg(args, 0);
  const Value& function = Arg(args, 1);
  if (!array.is_array()) return Value();
  if (!function.is_function()) return NotAFunction("reduce", 2);
  size_t arity = function.function().Arity();
  if (arity < 2) {
    return Error("D3050", "The second argument of reduce function must be a function with at "
                          "least two arguments");
  }
  const auto& items = array.items();
  // Without an initial value the first item is the start, as in the reference.
  Value result = Arg(args, 2);
  size_t index = 0;
  if (result.undefined() && !items.empty()) result = items[index++];
  for (; index < items.size(); ++index) {
    std::vector<Value> step{result, items[index]};
    if (arity >= 3) step.emplace_back(index);
    if (arity >= 4) step.push_back(array);
    StatusOr<Value> next = call.Apply(function, std::move(step));
    if (!next.ok()) return next.status();
    result = std::move(*next);
  }
  return result;
}

}  // namespace

void AddCollectionFunctions(std::vector<NativeFunction>& out) {
  const NativeFunction functions[] = {
      {"map", "<af>", Map},
      {"zip", "<a+>", Zip, 0},  // the reference reads `arguments`
      {"filter", "<af>", Filter},
      {"single", "<af?>", Single},
      {"reduce", "<afj?:j>", Reduce},
      {"sift", "<o-f?:o>", Sift},
      {"keys", "<x-:a<s>>", Keys},
      {"lookup", "<x-s:x>", LookupFunction},
      {"append", "<xx:a>", Append},
      {"spread", "<x-:a<o>>", SpreadFunction},
      {"merge", "<a<o>:o>", Merge},
      {"reverse", "<a:a>", Reverse},
      {"each", "<o-f:a>", Each},
      {"error", "<s?:x>", ErrorFunction},
      {"assert", "<bs?:x>", Assert},
      {"type", "<x:s>", Type},
      {"sort", "<af?:a>", Sort},
      {"shuffle", "<a:a>", Shuffle},
      {"distinct", "<x:x>", Distinct},
      {"clone", "<(oa)-:o>", Clone},
  };
  out.insert(out.end(), std::begin(functions), std::end(functions));
}

}  // namespace loam::jsonata