// The values a JSONata expression works on. JSON plus what JSONata adds to it: `undefined`
// (nothing matched), result sequences (arrays the evaluator flattens and unwraps), and
// functions. Arrays and objects are shared, immutable once built, so navigating a document or
// passing a value on never copies it.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/status.h"

namespace loam::jsonata {

class Value;
class Function;

struct ArrayData {
  std::vector<Value> items;
  bool sequence = false;        // a result sequence: a singleton unwraps, nested ones flatten
  bool keep_singleton = false;  // `path[]`: a sequence of one stays an array
  bool constructed = false;     // made by `[...]`: not flattened into an enclosing path result
  bool outer_wrapper = false;   // the wrapper an array input gets so it is one input, not many
  bool tuple_stream = false;    // the evaluator's `@`/`#`/`%` bindings: items are binding objects
};

// Keys in insertion order, as JSONata keeps them; looked up through an index once it is large.
class ObjectData {
 public:
  const std::vector<std::pair<std::string, Value>>& entries() const { return entries_; }
  size_t size() const { return entries_.size(); }
  const Value* Find(std::string_view key) const;
  // Sets `key`, keeping its position when it exists already.
  void Set(std::string key, Value value);

 private:
  std::vector<std::pair<std::string, Value>> entries_;
  std::unordered_map<std::string, size_t> index_;  // filled past kIndexFrom entries
};

class Value {
 public:
  enum class Type : uint8_t { kUndefined, kNull, kBool, kNumber, kString, kArray, kObject, kFunction };

  Value() = default;  // undefined
  Value(const Value&) = default;
  Value(Value&&) noexcept = default;
  Value& operator=(const Value&) = default;
  Value& operator=(Value&&) noexcept = default;
  // Frees what only this value holds without recursing into it, so a value nested deeply (lists
  // in lists, closures over closures) cannot exhaust the stack when it goes away.
  ~Value();
  static Value Null() { Value v; v.type_ = Type::kNull; return v; }
  Value(bool b) : type_(Type::kBool), bool_(b) {}                 // NOLINT
  Value(double n) : type_(Type::kNumber), number_(n) {}          // NOLINT
  Value(int n) : type_(Type::kNumber), number_(n) {}             // NOLINT
  Value(int64_t n) : type_(Type::kNumber), number_(static_cast<double>(n)) {}  // NOLINT
  Value(size_t n) : type_(Type::kNumber), number_(static_cast<double>(n)) {}   // NOLINT
  Value(std::string s);                                          // NOLINT
  Value(const char* s) : Value(std::string(s)) {}                // NOLINT
  Value(std::shared_ptr<const ArrayData> a);                     // NOLINT
  Value(std::shared_ptr<const ObjectData> o);                    // NOLINT
  Value(std::shared_ptr<const Function> f);                      // NOLINT

  // A plain JSON array of `items`.
  static Value Array(std::vector<Value> items);
  // A result sequence of `items` (the evaluator's collections).
  static Value Sequence(std::vector<Value> items, bool keep_singleton = false);
  static Value Object(ObjectData data);

  Type type() const { return type_; }
  bool undefined() const { return type_ == Type::kUndefined; }
  bool is_null() const { return type_ == Type::kNull; }
  bool is_bool() const { return type_ == Type::kBool; }
  bool is_number() const { return type_ == Type::kNumber; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_function() const { return type_ == Type::kFunction; }

  bool boolean() const { return bool_; }
  double number() const { return number_; }
  const std::string& string() const;
  const ArrayData& array() const;  // is_array()
  const std::vector<Value>& items() const { return array().items; }
  const ObjectData& object() const;  // is_object()
  const Function& function() const;  // is_function()
  // The shared data behind a string, array, object or function: the same object or not.
  const void* identity() const { return data_.get(); }

  bool is_sequence() const { return is_array() && array().sequence; }
  // How deeply arrays and objects nest in the value (0 for a scalar), as it was built.
  uint32_t nesting() const { return nesting_; }
  // Roughly how much the value holds: one per scalar, array or object, one per 8 bytes of
  // string, summed over members (shared members counted each time they appear), saturating.
  uint32_t weight() const { return weight_; }
  // A number with no fractional part, as JSONata's integer arguments need.
  bool is_integer() const;

 private:
  Type type_ = Type::kUndefined;
  bool bool_ = false;
  uint16_t nesting_ = 0;  // saturating; far past any limit the evaluator enforces
  uint32_t weight_ = 1;
  double number_ = 0;
  // The string, ArrayData, ObjectData or Function, by type_: one pointer keeps a Value small
  // (32 bytes), which matters where sequences hold thousands of them.
  std::shared_ptr<const void> data_;
};

// JSON in and out. Out: undefined becomes nothing (nullopt), functions become "" (as
// JSON.stringify leaves them), integral numbers within 2^53 become integers.
Value FromJson(const nlohmann::json& json);
// Keeps the keys in the order the text gave them, as JSONata's $keys, `*` and $string show them.
Value FromJson(const nlohmann::ordered_json& json);
StatusOr<nlohmann::json> ToJson(const Value& value);

// JSONata's deep equality (`=`, $distinct, $single's comparisons): numbers by value,
// arrays item by item, objects key by key regardless of order.
bool DeepEqual(const Value& a, const Value& b);

// Truthiness as JSONata's `$boolean` defines it (empty strings, 0, empty arrays false; an array
// is true when any member is; functions false).
bool Truthy(const Value& value);

// "string", "number", "boolean", "null", "array", "object", "function" ($type); "" for undefined.
const char* TypeName(const Value& value);

// Number.prototype.toString: the shortest text that reads back as `n` ("1e+21", "1.5e-7").
std::string FormatNumber(double n);
// JSON.stringify with JSONata's `$string` replacer: numbers rounded to 15 significant digits,
// functions as "". `indent` 0 for compact, 2 for `$string(x, true)`.
std::string Stringify(const Value& value, int indent = 0);
// The text of `value` as `&` and `$string` give it (strings as they are, others stringified).
// Non-finite numbers are an error (D3001).
StatusOr<std::string> ToText(const Value& value);

// A JSONata error: a Status whose message starts with the reference implementation's code
// ("T2001: ..."), so a failure names the same rule the JSONata documentation does.
Status Error(std::string_view code, std::string_view message);

// Unicode helpers: JSONata counts and slices strings by code point.
std::vector<std::string_view> CodePoints(std::string_view utf8);
size_t CodePointCount(std::string_view utf8);
// The code point at byte `pos` (U+FFFD for a malformed byte) and, in `length`, its byte count.
char32_t CodePointAt(std::string_view utf8, size_t pos, size_t* length);
// Text as code points and back (a malformed byte reads as U+FFFD).
std::u32string DecodeUtf8(std::string_view utf8);
std::string EncodeUtf8(std::u32string_view text);

// Values that callables receive and give back.
class CallContext;

class Function {
 public:
  virtual ~Function() = default;
  // How many arguments the function declares: higher-order functions pass a callback only as
  // many of (value, index, array) as it takes.
  virtual size_t Arity() const = 0;
  virtual StatusOr<Value> Call(std::vector<Value> args, const Value& context, CallContext& call) const = 0;
};

}  // namespace loam::jsonata
