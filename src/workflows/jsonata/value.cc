#include "workflows/jsonata/value.h"

#include "common/strings.h"

#include <algorithm>

#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace loam::jsonata {

namespace {

// Small objects are searched in order; past this many entries a hash index pays for itself.
constexpr size_t kIndexFrom = 8;

// 2^53: beyond it not every integer is a double, so JSON output keeps such numbers as doubles.
constexpr double kMaxSafeInteger = 9007199254740992.0;

}  // namespace

// ---- ObjectData ------------------------------------------------------------------------------

const Value* ObjectData::Find(std::string_view key) const {
  if (!index_.empty()) {
    auto it = index_.find(std::string(key));
    return it == index_.end() ? nullptr : &entries_[it->second].second;
  }
  for (const auto& [name, value] : entries_) {
    if (name == key) return &value;
  }
  return nullptr;
}

void ObjectData::Set(std::string key, Value value) {
  if (index_.empty()) {
    for (auto& entry : entries_) {
      if (entry.first == key) {
        entry.second = std::move(value);
        return;
      }
    }
  } else if (auto it = index_.find(key); it != index_.end()) {
    entries_[it->second].second = std::move(value);
    return;
  }
  if (!index_.empty()) index_.emplace(key, entries_.size());
  entries_.emplace_back(std::move(key), std::move(value));
  if (index_.empty() && entries_.size() > kIndexFrom) {
    index_.reserve(entries_.size() * 2);
    for (size_t i = 0; i < entries_.size(); ++i) index_.emplace(entries_[i].first, i);
  }
}

// ---- Value -----------------------------------------------------------------------------------

namespace {

uint32_t SaturatingAdd(uint32_t a, uint32_t b) { return a > UINT32_MAX - b ? UINT32_MAX : a + b; }
uint16_t Deeper(uint16_t nesting) { return nesting == UINT16_MAX ? nesting : static_cast<uint16_t>(nesting + 1); }

}  // namespace

Value::Value(std::string s) : type_(Type::kString) {
  weight_ = static_cast<uint32_t>(std::min<size_t>(1 + s.size() / 8, UINT32_MAX));
  data_ = std::make_shared<const std::string>(std::move(s));
}

Value::Value(std::shared_ptr<const ArrayData> a) : type_(Type::kArray), nesting_(1) {
  for (const Value& item : a->items) {
    nesting_ = std::max(nesting_, Deeper(item.nesting_));
    weight_ = SaturatingAdd(weight_, item.weight_);
  }
  data_ = std::move(a);
}

Value::Value(std::shared_ptr<const ObjectData> o) : type_(Type::kObject), nesting_(1) {
  for (const auto& [key, item] : o->entries()) {
    nesting_ = std::max(nesting_, Deeper(item.nesting_));
    weight_ = SaturatingAdd(weight_, SaturatingAdd(item.weight_, static_cast<uint32_t>(1 + key.size() / 8)));
  }
  data_ = std::move(o);
}

Value::Value(std::shared_ptr<const Function> f) : type_(Type::kFunction), data_(std::move(f)) {}

namespace {

// The pile of the outermost ~Value running on this thread, if any. A plain pointer: a
// thread_local object with a destructor could be gone before other thread_locals holding
// Values (the expression cache) are destroyed at thread exit.
thread_local std::vector<std::shared_ptr<const void>>* t_pile = nullptr;

}  // namespace

// Values whose last holder went away are freed one at a time by the outermost destructor:
// freeing one may add more to its pile, which the same loop frees, so the stack never grows
// with the nesting.
Value::~Value() {
  if (!data_ || is_string() || data_.use_count() != 1) return;
  if (t_pile != nullptr) {
    t_pile->push_back(std::move(data_));
    return;
  }
  std::vector<std::shared_ptr<const void>> pile;
  t_pile = &pile;
  pile.push_back(std::move(data_));
  while (!pile.empty()) {
    std::shared_ptr<const void> last = std::move(pile.back());
    pile.pop_back();
    last.reset();  // may add more
  }
  t_pile = nullptr;
}

Value Value::Array(std::vector<Value> items) {
  auto data = std::make_shared<ArrayData>();
  data->items = std::move(items);
  return Value(std::shared_ptr<const ArrayData>(std::move(data)));
}

Value Value::Sequence(std::vector<Value> items, bool keep_singleton) {
  auto data = std::make_shared<ArrayData>();
  data->items = std::move(items);
  data->sequence = true;
  data->keep_singleton = keep_singleton;
  return Value(std::shared_ptr<const ArrayData>(std::move(data)));
}

Value Value::Object(ObjectData data) {
  return Value(std::shared_ptr<const ObjectData>(std::make_shared<ObjectData>(std::move(data))));
}

// The accessors tolerate the wrong type with an empty value rather than crashing.
const std::string& Value::string() const {
  static const std::string kEmpty;
  return is_string() ? *static_cast<const std::string*>(data_.get()) : kEmpty;
}

const ArrayData& Value::array() const {
  static const ArrayData kEmpty;
  return is_array() ? *static_cast<const ArrayData*>(data_.get()) : kEmpty;
}

const ObjectData& Value::object() const {
  static const ObjectData kEmpty;
  return is_object() ? *static_cast<const ObjectData*>(data_.get()) : kEmpty;
}

const Function& Value::function() const { return *static_cast<const Function*>(data_.get()); }

bool Value::is_integer() const {
  return is_number() && std::isfinite(number_) && std::trunc(number_) == number_;
}

// ---- JSON in and out -------------------------------------------------------------------------

namespace {

template <typename Json>
Value FromAnyJson(const Json& json) {
  using Kind = nlohmann::json::value_t;  // shared by every basic_json
  switch (json.type()) {
    case Kind::null:
      return Value::Null();
    case Kind::boolean:
      return Value(json.template get<bool>());
    case Kind::number_integer:
      return Value(static_cast<double>(json.template get<int64_t>()));
    case Kind::number_unsigned:
      return Value(static_cast<double>(json.template get<uint64_t>()));
    case Kind::number_float:
      return Value(json.template get<double>());
    case Kind::string:
      return Value(json.template get_ref<const std::string&>());
    case Kind::array: {
      std::vector<Value> items;
      items.reserve(json.size());
      for (const auto& item : json) items.push_back(FromAnyJson(item));
      return Value::Array(std::move(items));
    }
    case Kind::object: {
      ObjectData object;
      for (const auto& [key, member] : json.items()) object.Set(key, FromAnyJson(member));
      return Value::Object(std::move(object));
    }
    case Kind::binary:
    case Kind::discarded:
      break;
  }
  return Value();
}

}  // namespace

Value FromJson(const nlohmann::json& json) { return FromAnyJson(json); }
Value FromJson(const nlohmann::ordered_json& json) { return FromAnyJson(json); }

namespace {

// Converts `value` into `out`; false (with `out` untouched) when it is undefined.
StatusOr<bool> ConvertToJson(const Value& value, nlohmann::json& out) {
  switch (value.type()) {
    case Value::Type::kUndefined:
      return false;
    case Value::Type::kNull:
      out = nullptr;
      return true;
    case Value::Type::kBool:
      out = value.boolean();
      return true;
    case Value::Type::kNumber: {
      double n = value.number();
      if (!std::isfinite(n)) {
        return Error("D1001", std::string("A number cannot be represented in JSON: ") +
                                  (std::isnan(n) ? "NaN" : n > 0 ? "Infinity" : "-Infinity"));
      }
      if (std::trunc(n) == n && std::fabs(n) <= kMaxSafeInteger) {
        out = static_cast<int64_t>(n);
      } else {
        out = n;
      }
      return true;
    }
    case Value::Type::kString:
      out = value.string();
      return true;
    case Value::Type::kArray: {
      out = nlohmann::json::array();
      for (const Value& item : value.items()) {
        nlohmann::json converted;
        ASSIGN_OR_RETURN(bool present, ConvertToJson(item, converted));
        if (present) out.push_back(std::move(converted));
      }
      return true;
    }
    case Value::Type::kObject: {
      out = nlohmann::json::object();
      for (const auto& [key, member] : value.object().entries()) {
        nlohmann::json converted;
        ASSIGN_OR_RETURN(bool present, ConvertToJson(member, converted));
        if (present) out[key] = std::move(converted);
      }
      return true;
    }
    case Value::Type::kFunction:
      out = "";
      return true;
  }
  return false;
}

}  // namespace

// Fails (D1001) only for a non-finite number. An undefined value gives a discarded json (test
// with is_discarded()); undefined array items are dropped and undefined members omitted, and
// functions become "", as JSON.stringify with JSONata's replacer leaves them. Sequences convert
// like arrays: unwrapping a singleton is the evaluator's job.
StatusOr<nlohmann::json> ToJson(const Value& value) {
  nlohmann::json out;
  ASSIGN_OR_RETURN(bool present, ConvertToJson(value, out));
  if (!present) return nlohmann::json(nlohmann::json::value_t::discarded);
  return out;
}

// ---- Comparison and truth --------------------------------------------------------------------

bool DeepEqual(const Value& a, const Value& b) {
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Value::Type::kUndefined:
    case Value::Type::kNull:
      return true;
    case Value::Type::kBool:
      return a.boolean() == b.boolean();
    case Value::Type::kNumber:
      return a.number() == b.number();
    case Value::Type::kString:
      return a.string() == b.string();
    case Value::Type::kArray: {
      const auto& left = a.items();
      const auto& right = b.items();
      if (left.size() != right.size()) return false;
      for (size_t i = 0; i < left.size(); ++i) {
        if (!DeepEqual(left[i], right[i])) return false;
      }
      return true;
    }
    case Value::Type::kObject: {
      const ObjectData& left = a.object();
      const ObjectData& right = b.object();
      if (left.size() != right.size()) return false;
      for (const auto& [key, member] : left.entries()) {
        const Value* other = right.Find(key);
        if (other == nullptr || !DeepEqual(member, *other)) return false;
      }
      return true;
    }
    case Value::Type::kFunction:
      return a.identity() == b.identity();
  }
  return false;
}

namespace {

// The reference hands a function argument to $boolean as a JavaScript closure (false), but a
// function inside an array stays a JSONata function object, which is truthy as a non-empty
// object; `nested` tells the two apart.
bool TruthyAt(const Value& value, bool nested) {
  switch (value.type()) {
    case Value::Type::kUndefined:
    case Value::Type::kNull:
      return false;
    case Value::Type::kBool:
      return value.boolean();
    case Value::Type::kNumber:
      return value.number() != 0 && !std::isnan(value.number());
    case Value::Type::kString:
      return !value.string().empty();
    case Value::Type::kArray: {
      const auto& items = value.items();
      if (items.size() == 1) return TruthyAt(items[0], true);
      for (const Value& item : items) {
        if (TruthyAt(item, true)) return true;
      }
      return false;
    }
    case Value::Type::kObject:
      return value.object().size() > 0;
    case Value::Type::kFunction:
      return nested;
  }
  return false;
}

}  // namespace

bool Truthy(const Value& value) { return TruthyAt(value, false); }

const char* TypeName(const Value& value) {
  switch (value.type()) {
    case Value::Type::kUndefined: return "";
    case Value::Type::kNull: return "null";
    case Value::Type::kBool: return "boolean";
    case Value::Type::kNumber: return "number";
    case Value::Type::kString: return "string";
    case Value::Type::kArray: return "array";
    case Value::Type::kObject: return "object";
    case Value::Type::kFunction: return "function";
  }
  return "";
}

// ---- Text ------------------------------------------------------------------------------------

std::string FormatNumber(double n) {
  if (std::isnan(n)) return "NaN";
  if (std::isinf(n)) return n > 0 ? "Infinity" : "-Infinity";
  if (n == 0) return "0";  // -0 too, as JavaScript prints it

  // The shortest digits that read back as n, in scientific form: "-1.2345e+21".
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, n, std::chars_format::scientific);
  std::string_view text(buffer, ec == std::errc() ? end - buffer : 0);
  std::string result;
  if (!text.empty() && text.front() == '-') {
    result = "-";
    text.remove_prefix(1);
  }
  size_t e_pos = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e_pos)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::string_view exponent_text = text.substr(e_pos + 1);
  if (!exponent_text.empty() && exponent_text.front() == '+') exponent_text.remove_prefix(1);
  std::from_chars(exponent_text.data(), exponent_text.data() + exponent_text.size(), exponent);

  // Number::toString (ECMA-262 6.1.6.1.20): k digits, decimal point after position `point`.
  const int k = static_cast<int>(digits.size());
  const int point = exponent + 1;
  if (k <= point && point <= 21) {
    result += digits;
    result.append(point - k, '0');
  } else if (0 < point && point <= 21) {
    result += digits.substr(0, point);
    result += '.';
    result += digits.substr(point);
  } else if (-6 < point && point <= 0) {
    result += "0.";
    result.append(-point, '0');
    result += digits;
  } else {
    result += digits[0];
    if (k > 1) {
      result += '.';
      result += digits.substr(1);
    }
    result += exponent >= 0 ? "e+" : "e-";
    result += std::to_string(std::abs(exponent));
  }
  return result;
}

namespace {

// Number(n.toPrecision(15)): `$string`'s rounding. toPrecision rounds an exact tie away from
// zero where printf would round it to even, so the sixteenth digit is inspected here.
double RoundToFifteenDigits(double n) {
  if (n == 0 || !std::isfinite(n)) return n;
  char wide[80];
  std::snprintf(wide, sizeof wide, "%.40e", std::fabs(n));  // "d.ddd...de+XX"
  std::string digits(1, wide[0]);
  digits.append(wide + 2, 14);
  if (wide[16] >= '5') {
    int i = static_cast<int>(digits.size()) - 1;
    for (; i >= 0 && digits[i] == '9'; --i) digits[i] = '0';
    if (i >= 0) {
      ++digits[i];
    } else {
      digits.insert(digits.begin(), '1');  // 999...9 carried into a sixteenth digit
    }
  }
  const char* e = std::strchr(wide, 'e');
  int exponent = std::atoi(e + 1);
  std::string text = digits + "e" + std::to_string(exponent - 14);
  double rounded = std::strtod(text.c_str(), nullptr);
  return n < 0 ? -rounded : rounded;
}

void AppendQuoted(std::string& out, std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xf];
          out += kHex[c & 0xf];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

// JSON.stringify(value, <$string's replacer>, indent).
class Stringifier {
 public:
  explicit Stringifier(int indent) : indent_(indent) {}

  bool saw_non_finite() const { return saw_non_finite_; }

  // False when `value` has no JSON text (undefined), as JSON.stringify skips it.
  bool Write(const Value& value, int depth, std::string& out) {
    switch (value.type()) {
      case Value::Type::kUndefined:
        return false;
      case Value::Type::kNull:
        out += "null";
        return true;
      case Value::Type::kBool:
        out += value.boolean() ? "true" : "false";
        return true;
      case Value::Type::kNumber:
        if (std::isfinite(value.number())) {
          out += FormatNumber(RoundToFifteenDigits(value.number()));
        } else {
          // The reference's replacer throws D1001 for ±Infinity; ToText reports it.
          if (!std::isnan(value.number())) saw_non_finite_ = true;
          out += "null";
        }
        return true;
      case Value::Type::kString:
        AppendQuoted(out, value.string());
        return true;
      case Value::Type::kFunction:
        out += "\"\"";
        return true;
      case Value::Type::kArray:
        WriteArray(value.items(), depth, out);
        return true;
      case Value::Type::kObject:
        WriteObject(value.object(), depth, out);
        return true;
    }
    return false;
  }

 private:
  void NewLine(int depth, std::string& out) const {
    if (indent_ <= 0) return;
    out += '\n';
    out.append(static_cast<size_t>(depth) * indent_, ' ');
  }

  void WriteArray(const std::vector<Value>& items, int depth, std::string& out) {
    if (items.empty()) {
      out += "[]";
      return;
    }
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) out += ',';
      NewLine(depth + 1, out);
      if (!Write(items[i], depth + 1, out)) out += "null";
    }
    NewLine(depth, out);
    out += ']';
  }

  void WriteObject(const ObjectData& object, int depth, std::string& out) {
    size_t start = out.size();
    out += '{';
    bool any = false;
    for (const auto& [key, member] : object.entries()) {
      if (member.undefined()) continue;
      if (any) out += ',';
      NewLine(depth + 1, out);
      AppendQuoted(out, key);
      out += indent_ > 0 ? ": " : ":";
      Write(member, depth + 1, out);
      any = true;
    }
    if (!any) {
      out.resize(start);
      out += "{}";
      return;
    }
    NewLine(depth, out);
    out += '}';
  }

  int indent_;
  bool saw_non_finite_ = false;
};

// The value `$string` stringifies: a path result wrapped for a leading `[...]` step gives its
// first item.
const Value& Unwrapped(const Value& value) {
  static const Value kUndefined;
  if (value.is_array() && value.array().outer_wrapper) {
    return value.items().empty() ? kUndefined : value.items()[0];
  }
  return value;
}

}  // namespace

std::string Stringify(const Value& value, int indent) {
  Stringifier stringifier(indent);
  std::string out;
  stringifier.Write(Unwrapped(value), 0, out);
  return out;
}

// `&`'s operands: undefined gives "" (evaluateStringConcat); otherwise `$string`.
StatusOr<std::string> ToText(const Value& value) {
  switch (value.type()) {
    case Value::Type::kUndefined:
    case Value::Type::kFunction:
      return std::string();
    case Value::Type::kString:
      return value.string();
    case Value::Type::kNumber:
      if (!std::isfinite(value.number())) {
        return Error("D3001", "Attempting to invoke string function on Infinity or NaN");
      }
      break;
    default:
      break;
  }
  Stringifier stringifier(0);
  std::string out;
  stringifier.Write(Unwrapped(value), 0, out);
  if (stringifier.saw_non_finite()) return Error("D1001", "Number out of range: null");
  return out;
}

Status Error(std::string_view code, std::string_view message) {
  std::string text(code);
  text += ": ";
  text += message;
  return InvalidArgument(std::move(text));
}

// ---- Unicode ---------------------------------------------------------------------------------

namespace {

// The length of the well-formed UTF-8 sequence at the start of `text`, or 1 for a byte that
// does not start one (so malformed input still splits, byte by byte).
size_t SequenceLength(std::string_view text) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  size_t length = 0;
  unsigned char low = 0x80, high = 0xBF;  // the second byte's range
  if (lead >= 0xC2 && lead <= 0xDF) {
    length = 2;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    length = 3;
    if (lead == 0xE0) low = 0xA0;   // no overlong forms
    if (lead == 0xED) high = 0x9F;  // no surrogates
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    length = 4;
    if (lead == 0xF0) low = 0x90;
    if (lead == 0xF4) high = 0x8F;  // nothing past U+10FFFF
  } else {
    return 1;
  }
  if (text.size() < length) return 1;
  if (byte(1) < low || byte(1) > high) return 1;
  for (size_t i = 2; i < length; ++i) {
    if (byte(i) < 0x80 || byte(i) > 0xBF) return 1;
  }
  return length;
}

}  // namespace

std::vector<std::string_view> CodePoints(std::string_view utf8) {
  std::vector<std::string_view> points;
  points.reserve(utf8.size());
  while (!utf8.empty()) {
    size_t length = SequenceLength(utf8);
    points.push_back(utf8.substr(0, length));
    utf8.remove_prefix(length);
  }
  return points;
}

char32_t CodePointAt(std::string_view utf8, size_t pos, size_t* length) {
  const std::string_view rest = utf8.substr(pos);
  const size_t size = SequenceLength(rest);
  *length = size;
  const auto lead = static_cast<unsigned char>(rest[0]);
  if (size == 1) return lead < 0x80 ? lead : U'\uFFFD';
  char32_t c = lead & (0xFF >> (size + 1));
  for (size_t i = 1; i < size; ++i) c = (c << 6) | (static_cast<unsigned char>(rest[i]) & 0x3F);
  return c;
}

std::u32string DecodeUtf8(std::string_view utf8) {
  std::u32string out;
  out.reserve(utf8.size());
  for (size_t pos = 0, length = 0; pos < utf8.size(); pos += length) out += CodePointAt(utf8, pos, &length);
  return out;
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t c : text) AppendUtf8(out, c);
  return out;
}

size_t CodePointCount(std::string_view utf8) {
  size_t count = 0;
  while (!utf8.empty()) {
    utf8.remove_prefix(SequenceLength(utf8));
    ++count;
  }
  return count;
}

}  // namespace loam::jsonata
