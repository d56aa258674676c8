// JSONata's functions over numbers and booleans: $number, $abs, $floor, $ceil, $round,
// $power, $sqrt, the aggregates ($sum, $max, $min, $average, $count), $boolean, $not and
// $exists, with the JavaScript number parsing they rely on: a port of jsonata-js 2.0.6's
// functions.js.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "workflows/jsonata/js_text.h"
#include "workflows/jsonata/functions.h"

namespace loam::jsonata {
namespace {

using Args = std::vector<Value>;
using internal::IsDigit;
using internal::IsJsSpace;
using internal::kNaN;
using internal::ParseDecimal;


// ---------------------------------------------------------------------------------------------
// Text helpers: JavaScript's number parsing.

// String.prototype.trim, which Number() applies before parsing.
std::string_view TrimJsWhitespace(std::string_view text) {
  size_t length = 0;
  while (!text.empty() && IsJsSpace(CodePointAt(text, 0, &length))) text.remove_prefix(length);
  while (!text.empty()) {
    size_t start = text.size() - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80) --start;
    if (!IsJsSpace(CodePointAt(text, start, &length))) break;
    text.remove_suffix(text.size() - start);
  }
  return text;
}

// Whether `text` is a whole decimal literal. `json_style` is $number's own pattern
// (-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?); otherwise the looser one Number() accepts
// ("+1", "1.", ".5").
bool IsDecimalLiteral(std::string_view text, bool json_style) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < text.size() && IsDigit(text[i])) ++i;
    return i - start;
  };
  if (i < text.size() && (text[i] == '-' || (!json_style && text[i] == '+'))) ++i;
  size_t integer_digits = digits();
  if (json_style && integer_digits == 0) return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    size_t fraction_digits = digits();
    if (json_style ? fraction_digits == 0 : integer_digits + fraction_digits == 0) return false;
  } else if (integer_digits == 0) {
    return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (digits() == 0) return false;
  }
  return i == text.size();
}

// Number(text) for the texts a decimal shift builds ("1.005e2", "Infinitye-2"): NaN unless it
// is a decimal literal.
double JsNumber(std::string_view text) {
  return IsDecimalLiteral(text, false) ? ParseDecimal(text) : kNaN;
}

// The reference tests /^(0[xX][0-9A-Fa-f]+)|(0[oO][0-7]+)|(0[bB][0-1]+)$/, whose alternation
// anchors only the first choice at the start and only the last at the end: "0x1Fzz" and
// "a0o7" match too (and Number() then makes them NaN).
bool MatchesRadixPattern(std::string_view text) {
  auto is_hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
  if (text.size() >= 3 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X') && is_hex(text[2])) {
    return true;
  }
  for (size_t i = 0; i + 2 < text.size(); ++i) {
    if (text[i] == '0' && (text[i + 1] == 'o' || text[i + 1] == 'O') && text[i + 2] >= '0' &&
        text[i + 2] <= '7') {
      return true;
    }
  }
  size_t run = 0;  // trailing binary digits
  auto is_bit = [](char c) { return c == '0' || c == '1'; };
  while (run < text.size() && is_bit(text[text.size() - 1 - run])) ++run;
  size_t b = text.size() - run;  // just past the 'b'
  return run > 0 && b >= 2 && (text[b - 1] == 'b' || text[b - 1] == 'B') && text[b - 2] == '0';
}

// Number("0x1F"), Number("0o17"), Number("0b101"): exact, rounded half to even past 53 bits
// as JavaScript does; NaN for anything else.
double ParseRadixLiteral(std::string_view text) {
  if (text.size() < 3 || text[0] != '0') return kNaN;
  int bits_per_digit = 0;
  switch (text[1]) {
    case 'x': case 'X': bits_per_digit = 4; break;
    case 'o': case 'O': bits_per_digit = 3; break;
    case 'b': case 'B': bits_per_digit = 1; break;
    default: return kNaN;
  }
  std::vector<bool> bits;  // most significant first, leading zeros dropped
  for (char c : text.substr(2)) {
    int digit = IsDigit(c) ? c - '0'
              : (c >= 'a' && c <= 'f') ? c - 'a' + 10
              : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : 99;
    if (digit >= (1 << bits_per_digit)) return kNaN;
    for (int bit = bits_per_digit - 1; bit >= 0; --bit) {
      bool set = (digit >> bit) & 1;
      if (set || !bits.empty()) bits.push_back(set);
    }
  }
  constexpr size_t kMantissaBits = 53;
  uint64_t mantissa = 0;
  for (size_t i = 0; i < std::min(bits.size(), kMantissaBits); ++i) {
    mantissa = (mantissa << 1) | bits[i];
  }
  if (bits.size() <= kMantissaBits) return static_cast<double>(mantissa);
  bool round = bits[kMantissaBits];
  bool sticky = std::find(bits.begin() + kMantissaBits + 1, bits.end(), true) != bits.end();
  if (round && (sticky || (mantissa & 1))) ++mantissa;
  return std::ldexp(static_cast<double>(mantissa), static_cast<int>(bits.size() - kMantissaBits));
}

// JSON.stringify's text of a value, for error messages.
std::string JsonText(const Value& value) {
  return value.is_number() ? FormatNumber(value.number()) : Stringify(value);
}

// ---------------------------------------------------------------------------------------------
// Numbers and aggregation.

StatusOr<Value> Sum(Args& args, CallContext&) {
  const Value& numbers = Arg(args, 0);
  if (!numbers.is_array()) return Value();
  double total = 0;
  for (const Value& n : numbers.items()) total += n.number();
  return Value(total);
}

StatusOr<Value> Count(Args& args, CallContext&) {
  const Value& items = Arg(args, 0);
  return Value(items.is_array() ? items.items().size() : size_t{0});
}

template <bool kMax>
StatusOr<Value> Extreme(Args& args, CallContext&) {
  const Value& numbers = Arg(args, 0);
  if (!numbers.is_array() || numbers.items().empty()) return Value();
  double best = numbers.items().front().number();
  for (const Value& n : numbers.items()) {
    best = kMax ? std::max(best, n.number()) : std::min(best, n.number());
  }
  return Value(best);
}

StatusOr<Value> Average(Args& args, CallContext& call) {
  const Value& numbers = Arg(args, 0);
  if (!numbers.is_array() || numbers.items().empty()) return Value();
  StatusOr<Value> total = Sum(args, call);
  return Value(total->number() / static_cast<double>(numbers.items().size()));
}

StatusOr<Value> NumberOf(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (arg.undefined() || arg.is_number()) return arg;
  if (arg.is_bool()) return Value(arg.boolean() ? 1 : 0);
  if (arg.is_string()) {
    const std::string& text = arg.string();
    if (IsDecimalLiteral(text, true)) {
      double n = ParseDecimal(text);
      if (std::isfinite(n)) return Value(n);
    }
    if (MatchesRadixPattern(text)) return Value(ParseRadixLiteral(TrimJsWhitespace(text)));
  }
  return Error("D3030", "Unable to cast value to a number: " + JsonText(arg));
}

template <double (*kOperation)(double)>
StatusOr<Value> Unary(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (arg.undefined()) return arg;
  return Value(kOperation(arg.number()));
}

double Abs(double n) { return std::fabs(n); }
double Floor(double n) { return std::floor(n); }
double Ceil(double n) { return std::ceil(n); }

// Math.round: the nearest integer, halves toward +infinity.
double JsMathRound(double n) {
  double floor = std::floor(n);
  return n - floor >= 0.5 ? floor + 1 : floor;
}

// Moves the decimal point `places` to the right through the number's text, as the reference
// does: multiplying would make 1.005 * 100 = 100.49999999999999 and round it the wrong way.
double ShiftDecimal(double n, double places) {
  std::string text = FormatNumber(n);
  size_t e = text.find('e');
  double exponent = places;
  if (e != std::string::npos) exponent += ParseDecimal(std::string_view(text).substr(e + 1));
  return JsNumber(text.substr(0, e) + "e" + FormatNumber(exponent));
}

StatusOr<Value> Round(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (arg.undefined()) return arg;
  double precision = Arg(args, 1).is_number() ? Arg(args, 1).number() : 0;
  bool shift = precision != 0 && !std::isnan(precision);  // the reference's `if (precision)`
  double n = shift ? ShiftDecimal(arg.number(), precision) : arg.number();
  double result = JsMathRound(n);
  if (std::fabs(result - n) == 0.5 && std::fabs(std::fmod(result, 2)) == 1) result -= 1;  // to even
  if (shift) result = ShiftDecimal(result, -precision);
  if (result == 0) result = 0;  // JSON has no -0
  return Value(result);
}

StatusOr<Value> Sqrt(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (arg.undefined()) return arg;
  if (arg.number() < 0) {
    return Error("D3060",
                 "The sqrt function cannot be applied to a negative number: " + JsonText(arg));
  }
  return Value(std::sqrt(arg.number()));
}

StatusOr<Value> Power(Args& args, CallContext&) {
  const Value& base = Arg(args, 0);
  if (base.undefined()) return base;
  const Value& exponent = Arg(args, 1);
  double result = std::pow(base.number(), exponent.is_number() ? exponent.number() : kNaN);
  if (!std::isfinite(result)) {
    return Error("D3061",
                 "The power function has resulted in a value that cannot be represented as a "
                 "JSON number: base=" + JsonText(base) + ", exponent=" +
                     (exponent.undefined() ? std::string("undefined") : JsonText(exponent)));
  }
  return Value(result);
}

// ---------------------------------------------------------------------------------------------
// Booleans.

StatusOr<Value> Boolean(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (arg.undefined()) return arg;
  return Value(Truthy(arg));
}

StatusOr<Value> Not(Args& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (arg.undefined()) return arg;
  return Value(!Truthy(arg));
}

StatusOr<Value> Exists(Args& args, CallContext&) { return Value(!Arg(args, 0).undefined()); }

}  // namespace

void AddNumericFunctions(std::vector<NativeFunction>& out) {
  const NativeFunction functions[] = {
      {"sum", "<a<n>:n>", Sum},
      {"count", "<a:n>", Count},
      {"max", "<a<n>:n>", Extreme<true>},
      {"min", "<a<n>:n>", Extreme<false>},
      {"average", "<a<n>:n>", Average},
      {"number", "<(nsb)-:n>", NumberOf},
      {"floor", "<n-:n>", Unary<Floor>},
      {"ceil", "<n-:n>", Unary<Ceil>},
      {"round", "<n-n?:n>", Round},
      {"abs", "<n-:n>", Unary<Abs>},
      {"sqrt", "<n-:n>", Sqrt},
      {"power", "<n-n:n>", Power},
      {"boolean", "<x-:b>", Boolean},
      {"not", "<x-:b>", Not},
      {"exists", "<x:b>", Exists},
  };
  out.insert(out.end(), std::begin(functions), std::end(functions));
}

}  // namespace loam::jsonata
