// JSONata's string functions, ported from jsonata-js 2.0.6 (functions.js). JavaScript counts
// strings in UTF-16 code units; JSONata's own functions mostly count code points, and so does
// this port everywhere ($length, $substring, $pad, match offsets, an empty $split separator).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <numeric>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workflows/jsonata/functions.h"
#include "common/strings.h"

namespace loam::jsonata {

namespace {

const Value& Arg(const std::vector<Value>& args, size_t i) {
  static const Value kUndefined;
  return i < args.size() ? args[i] : kUndefined;
}

// ---- Unicode and JavaScript helpers ----------------------------------------------------------

char32_t DecodeCodePoint(std::string_view piece) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(piece[i]); };
  if (piece.size() == 1) return byte(0);  // ASCII, or a malformed byte kept as itself
  char32_t code_point = piece.size() == 2 ? byte(0) & 0x1F : piece.size() == 3 ? byte(0) & 0x0F
                                                                              : byte(0) & 0x07;
  for (size_t i = 1; i < piece.size(); ++i) code_point = (code_point << 6) | (byte(i) & 0x3F);
  return code_point;
}


std::u32string ToUtf32(std::string_view text) {
  std::u32string out;
  for (std::string_view piece : CodePoints(text)) out += DecodeCodePoint(piece);
  return out;
}

std::string ToUtf8(std::u32string_view text) {
  std::string out;
  for (char32_t c : text) AppendUtf8(out, c);
  return out;
}

// ToIntegerOrInfinity, as String.prototype.slice and substring read their arguments.
double ToInteger(double n) { return std::isnan(n) ? 0 : std::trunc(n); }

// A string's code points by index, for the functions that take character offsets. ASCII text
// (the common case) needs no table.
class CodePointIndex {
 public:
  explicit CodePointIndex(std::string_view text) : text_(text) {
    bool ascii = std::all_of(text.begin(), text.end(),
                             [](char c) { return static_cast<unsigned char>(c) < 0x80; });
    if (ascii) return;
    for (std::string_view piece : CodePoints(text)) offsets_.push_back(piece.data() - text.data());
    offsets_.push_back(text.size());
  }

  size_t size() const { return offsets_.empty() ? text_.size() : offsets_.size() - 1; }

  // The code points [from, to), clamped to the text.
  std::string_view Slice(size_t from, size_t to) const {
    to = std::min(to, size());
    if (from >= to) return {};
    size_t begin = Byte(from);
    return text_.substr(begin, Byte(to) - begin);
  }

  // String.prototype.substring: the bounds clamped, and swapped when reversed.
  std::string_view Substring(double from, double to) const {
    double length = static_cast<double>(size());
    from = std::clamp(ToInteger(from), 0.0, length);
    to = std::clamp(ToInteger(to), 0.0, length);
    if (from > to) std::swap(from, to);
    return Slice(static_cast<size_t>(from), static_cast<size_t>(to));
  }

  // Array.prototype.slice: negative bounds count from the end.
  std::string_view JsSlice(double from, double to) const {
    double length = static_cast<double>(size());
    auto bound = [&](double n) {
      n = ToInteger(n);
      return n < 0 ? std::max(length + n, 0.0) : std::min(n, length);
    };
    return Slice(static_cast<size_t>(bound(from)), static_cast<size_t>(bound(to)));
  }

 private:
  size_t Byte(size_t index) const { return offsets_.empty() ? index : offsets_[index]; }

  std::string_view text_;
  std::vector<size_t> offsets_;  // byte offset of each code point, then the end; empty for ASCII
};

// A value as error messages quote it (JSON).
std::string Show(const Value& value) { return Stringify(value); }

// ---- Case mapping ----------------------------------------------------------------------------
// JavaScript's toUpperCase/toLowerCase use the full Unicode tables. This covers the scripts
// that matter in practice: ASCII, Latin-1, Latin Extended-A/B (most) and Additional, Greek,
// Cyrillic, Armenian, fullwidth Latin, plus the special cases that change length (ß → SS,
// ligatures, İ → i̇) and Greek final sigma.

// Upper-case code points from `first` to `last` (every `step`-th one) whose lower case is
// `delta` away.
struct CaseRange {
  char32_t first;
  char32_t last;
  char32_t step;
  int32_t delta;
};

constexpr CaseRange kCaseRanges[] = {
    // Latin
    {0x41, 0x5A, 1, 32}, {0xC0, 0xD6, 1, 32}, {0xD8, 0xDE, 1, 32}, {0x100, 0x12E, 2, 1},
    {0x132, 0x136, 2, 1}, {0x139, 0x147, 2, 1}, {0x14A, 0x176, 2, 1}, {0x178, 0x178, 1, -121},
    {0x179, 0x17D, 2, 1}, {0x181, 0x181, 1, 210}, {0x182, 0x184, 2, 1}, {0x186, 0x186, 1, 206},
    {0x187, 0x187, 1, 1}, {0x189, 0x18A, 1, 205}, {0x18B, 0x18B, 1, 1}, {0x18E, 0x18E, 1, 79},
    {0x18F, 0x18F, 1, 202}, {0x190, 0x190, 1, 203}, {0x191, 0x191, 1, 1}, {0x193, 0x193, 1, 205},
    {0x194, 0x194, 1, 207}, {0x196, 0x196, 1, 211}, {0x197, 0x197, 1, 209}, {0x198, 0x198, 1, 1},
    {0x19C, 0x19C, 1, 211}, {0x19D, 0x19D, 1, 213}, {0x19F, 0x19F, 1, 214}, {0x1A0, 0x1A4, 2, 1},
    {0x1A6, 0x1A6, 1, 218}, {0x1A7, 0x1A7, 1, 1}, {0x1A9, 0x1A9, 1, 218}, {0x1AC, 0x1AC, 1, 1},
    {0x1AE, 0x1AE, 1, 218}, {0x1AF, 0x1AF, 1, 1}, {0x1B1, 0x1B2, 1, 217}, {0x1B3, 0x1B5, 2, 1},
    {0x1B7, 0x1B7, 1, 219}, {0x1B8, 0x1B8, 1, 1}, {0x1BC, 0x1BC, 1, 1},
    {0x1C4, 0x1C4, 1, 2}, {0x1C7, 0x1C7, 1, 2}, {0x1CA, 0x1CA, 1, 2}, {0x1F1, 0x1F1, 1, 2},
    {0x1C5, 0x1C5, 1, 1}, {0x1C8, 0x1C8, 1, 1}, {0x1CB, 0x1CB, 1, 1}, {0x1F2, 0x1F2, 1, 1},
    {0x1CD, 0x1DB, 2, 1}, {0x1DE, 0x1EE, 2, 1}, {0x1F4, 0x1F4, 1, 1}, {0x1F6, 0x1F6, 1, -97},
    {0x1F7, 0x1F7, 1, -56}, {0x1F8, 0x21E, 2, 1}, {0x220, 0x220, 1, -130}, {0x222, 0x232, 2, 1},
    {0x23A, 0x23A, 1, 10795}, {0x23B, 0x23B, 1, 1}, {0x23D, 0x23D, 1, -163},
    {0x23E, 0x23E, 1, 10792}, {0x241, 0x241, 1, 1}, {0x243, 0x243, 1, -195},
    {0x244, 0x244, 1, 69}, {0x245, 0x245, 1, 71}, {0x246, 0x24E, 2, 1},
    {0x1E00, 0x1E94, 2, 1}, {0x1E9E, 0x1E9E, 1, -7615}, {0x1EA0, 0x1EFE, 2, 1},
    // Greek
    {0x370, 0x372, 2, 1}, {0x376, 0x376, 1, 1}, {0x37F, 0x37F, 1, 116}, {0x386, 0x386, 1, 38},
    {0x388, 0x38A, 1, 37}, {0x38C, 0x38C, 1, 64}, {0x38E, 0x38F, 1, 63}, {0x391, 0x3A1, 1, 32},
    {0x3A3, 0x3AB, 1, 32}, {0x3CF, 0x3CF, 1, 8}, {0x3D8, 0x3EE, 2, 1}, {0x3F4, 0x3F4, 1, -60},
    {0x3F7, 0x3F7, 1, 1}, {0x3F9, 0x3F9, 1, -7}, {0x3FA, 0x3FA, 1, 1}, {0x3FD, 0x3FF, 1, -130},
    // Cyrillic, Armenian
    {0x400, 0x40F, 1, 80}, {0x410, 0x42F, 1, 32}, {0x460, 0x480, 2, 1}, {0x48A, 0x4BE, 2, 1},
    {0x4C0, 0x4C0, 1, 15}, {0x4C1, 0x4CD, 2, 1}, {0x4D0, 0x52E, 2, 1}, {0x531, 0x556, 1, 48},
    // Roman numerals, circled letters, fullwidth Latin
    {0x2160, 0x216F, 1, 16}, {0x2183, 0x2183, 1, 1}, {0x24B6, 0x24CF, 1, 26},
    {0xFF21, 0xFF3A, 1, 32},
};

// Letters whose upper case is not their table partner.
constexpr std::pair<char32_t, char32_t> kExtraUpper[] = {
    {0xB5, 0x39C},   {0x131, 0x49},   {0x17F, 0x53},   {0x1C5, 0x1C4},  {0x1C8, 0x1C7},
    {0x1CB, 0x1CA},  {0x1F2, 0x1F1},  {0x3C2, 0x3A3},  {0x3D0, 0x392},  {0x3D1, 0x398},
    {0x3D5, 0x3A6},  {0x3D6, 0x3A0},  {0x3F0, 0x39A},  {0x3F1, 0x3A1},  {0x3F5, 0x395},
    {0x1E9B, 0x1E60},
};

// Upper cases longer than one code point.
constexpr std::pair<char32_t, std::u32string_view> kLongUpper[] = {
    {0xDF, U"SS"},   {0x149, U"\u02BCN"}, {0x1F0, U"J\u030C"}, {0x390, U"\u0399\u0308\u0301"},
    {0x3B0, U"\u03A5\u0308\u0301"}, {0x587, U"\u0535\u0552"}, {0xFB00, U"FF"}, {0xFB01, U"FI"},
    {0xFB02, U"FL"}, {0xFB03, U"FFI"}, {0xFB04, U"FFL"}, {0xFB05, U"ST"}, {0xFB06, U"ST"},
    {0x1E96, U"H\u0331"}, {0x1E97, U"T\u0308"}, {0x1E98, U"W\u030A"}, {0x1E99, U"Y\u030A"},
    {0x1E9A, U"A\u02BE"}, {0xFB13, U"\u0544\u0546"}, {0xFB14, U"\u0544\u0535"},
    {0xFB15, U"\u0544\u053B"}, {0xFB16, U"\u054E\u0546"}, {0xFB17, U"\u0544\u053D"},
};

char32_t SimpleLower(char32_t c) {
  for (const CaseRange& range : kCaseRanges) {
    if (c >= range.first && c <= range.last && (c - range.first) % range.step == 0) {
      return static_cast<char32_t>(static_cast<int64_t>(c) + range.delta);
    }
  }
  return c;
}

char32_t SimpleUpper(char32_t c) {
  for (const auto& [lower, upper] : kExtraUpper) {
    if (c == lower) return upper;
  }
  for (const CaseRange& range : kCaseRanges) {
    int64_t upper = static_cast<int64_t>(c) - range.delta;
    if (upper >= range.first && upper <= range.last && (upper - range.first) % range.step == 0) {
      return static_cast<char32_t>(upper);
    }
  }
  return c;
}

bool IsCased(char32_t c) { return SimpleLower(c) != c || SimpleUpper(c) != c || c == 0xDF; }

// Characters the final-sigma rule looks through (a few of Unicode's Case_Ignorable).
bool IsCaseIgnorable(char32_t c) {
  return c == 0x27 || c == 0x2E || c == 0x3A || c == 0x5E || c == 0x60 || c == 0xA8 ||
         c == 0xAD || c == 0xAF || c == 0xB4 || c == 0xB7 || c == 0xB8 || c == 0x2019 ||
         (c >= 0x300 && c <= 0x36F);
}

std::string Uppercase(std::string_view text) {
  std::u32string out;
  for (char32_t c : ToUtf32(text)) {
    auto special = std::find_if(std::begin(kLongUpper), std::end(kLongUpper),
                                [&](const auto& entry) { return entry.first == c; });
    if (special != std::end(kLongUpper)) {
      out += special->second;
    } else {
      out += SimpleUpper(c);
    }
  }
  return ToUtf8(out);
}

std::string Lowercase(std::string_view text) {
  std::u32string in = ToUtf32(text);
  std::u32string out;
  for (size_t i = 0; i < in.size(); ++i) {
    char32_t c = in[i];
    if (c == 0x130) {  // İ
      out += U"i\u0307";
    } else if (c == 0x3A3) {  // Σ: ς at the end of a word
      size_t before = i;
      while (before > 0 && IsCaseIgnorable(in[before - 1])) --before;
      size_t after = i + 1;
      while (after < in.size() && IsCaseIgnorable(in[after])) ++after;
      bool final = before > 0 && IsCased(in[before - 1]) &&
                   !(after < in.size() && IsCased(in[after]));
      out += final ? char32_t{0x3C2} : char32_t{0x3C3};
    } else {
      out += SimpleLower(c);
    }
  }
  return ToUtf8(out);
}

// ---- Simple string functions -----------------------------------------------------------------

StatusOr<Value> StringFunction(std::vector<Value>& args, CallContext&) {
  const Value& arg = Arg(args, 0);
  if (arg.undefined()) return Value();
  if (arg.is_string()) return arg;
  if (arg.is_function()) return Value(std::string());
  if (arg.is_number() && !std::isfinite(arg.number())) {
    return Error("D3001", "Attempting to invoke string function on Infinity or NaN");
  }
  const Value& pretty = Arg(args, 1);
  if (pretty.is_bool() && pretty.boolean()) return Value(Stringify(arg, 2));
  ASSIGN_OR_RETURN(std::string text, ToText(arg));
  return Value(std::move(text));
}

StatusOr<Value> SubstringFunction(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  CodePointIndex index(str.string());
  double length = static_cast<double>(index.size());
  double start = Arg(args, 1).number();
  if (length + start < 0) start = 0;
  if (Arg(args, 2).undefined()) return Value(std::string(index.JsSlice(start, length)));
  double count = Arg(args, 2).number();
  if (count <= 0) return Value(std::string());
  double end = start >= 0 ? start + count : length + start + count;
  return Value(std::string(index.JsSlice(start, end)));
}

StatusOr<Value> SubstringBefore(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  size_t at = str.string().find(Arg(args, 1).string());
  return at == std::string::npos ? str : Value(str.string().substr(0, at));
}

StatusOr<Value> SubstringAfter(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const std::string& chars = Arg(args, 1).string();
  size_t at = str.string().find(chars);
  return at == std::string::npos ? str : Value(str.string().substr(at + chars.size()));
}

StatusOr<Value> LowercaseFunction(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  return str.undefined() ? Value() : Value(Lowercase(str.string()));
}

StatusOr<Value> UppercaseFunction(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  return str.undefined() ? Value() : Value(Uppercase(str.string()));
}

StatusOr<Value> LengthFunction(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  return str.undefined() ? Value() : Value(CodePointCount(str.string()));
}

// Runs of space, tab, CR and LF become one space; one leading and trailing space go.
StatusOr<Value> TrimFunction(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  std::string result;
  bool in_run = false;
  for (char c : str.string()) {
    bool space = c == ' ' || c == '\t' || c == '\n' || c == '\r';
    if (space && !in_run) result += ' ';
    if (!space) result += c;
    in_run = space;
  }
  if (!result.empty() && result.front() == ' ') result.erase(0, 1);
  if (!result.empty() && result.back() == ' ') result.pop_back();
  return Value(std::move(result));
}

StatusOr<Value> PadFunction(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  double width = Arg(args, 1).number();
  std::string pad = Arg(args, 2).is_string() ? Arg(args, 2).string() : "";
  if (pad.empty()) pad = " ";
  double pad_length = std::fabs(width) - static_cast<double>(CodePointCount(str.string()));
  if (!(pad_length > 0)) return str;
  if (pad_length != std::trunc(pad_length) || pad_length > 1e8) {
    // The reference fails building its padding array (RangeError: Invalid array length).
    return Error("T0410", "Argument 2 of function \"pad\" must be an integer width: " +
                              Show(Arg(args, 1)));
  }
  const size_t count = static_cast<size_t>(pad_length);
  std::string padding;
  size_t pad_points = CodePointCount(pad);
  for (size_t written = 0; written < count; written += pad_points) padding += pad;
  padding = std::string(CodePointIndex(padding).Slice(0, count));
  return Value(width > 0 ? str.string() + padding : padding + str.string());
}

StatusOr<Value> JoinFunction(std::vector<Value>& args, CallContext&) {
  const Value& strs = Arg(args, 0);
  if (strs.undefined()) return Value();
  if (strs.is_string()) return strs;
  const std::string& separator = Arg(args, 1).string();  // "" when left out
  std::string result;
  for (size_t i = 0; i < strs.items().size(); ++i) {
    if (i > 0) result += separator;
    result += strs.items()[i].string();
  }
  return Value(std::move(result));
}

// ---- Matchers: $contains, $match, $replace, $split -------------------------------------------
// A pattern is a string or a function that returns match objects ({match, start, end, groups,
// next}): a regex, or any function written to behave like one.

struct Matched {
  Value start;  // number
  double end = 0;
  std::string text;
  Value groups;  // array
  Value next;    // function, or undefined
  Value object;  // the whole match object, as a replacement function receives it
};

// Calls `matcher` (with `args`) and reads the match object it returns; nullopt when it found
// nothing. A result without the structure is T1010, as in the reference.
StatusOr<std::optional<Matched>> EvaluateMatcher(CallContext& call, const Value& matcher,
                                                 std::vector<Value> args,
                                                 std::string_view function_name) {
  ASSIGN_OR_RETURN(Value result, call.Apply(matcher, std::move(args)));
  if (result.undefined()) return std::optional<Matched>();
  const ObjectData& object = result.object();
  auto field = [&](std::string_view key) {
    const Value* member = result.is_object() ? object.Find(key) : nullptr;
    return member == nullptr ? Value() : *member;
  };
  Matched matched;
  matched.start = field("start");
  Value text = field("match");
  matched.groups = field("groups");
  matched.next = field("next");
  if (!matched.start.is_number()) {
    return Error("T1010", "The matcher function argument passed to function " +
                              std::string(function_name) +
                              " does not return the correct object structure");
  }
  matched.text = text.is_string() ? text.string() : std::string();
  Value end = field("end");
  matched.end = end.is_number() ? end.number()
                                : matched.start.number() + CodePointCount(matched.text);
  if (!matched.groups.is_array()) matched.groups = Value::Array({});
  matched.object = std::move(result);
  return std::optional<Matched>(std::move(matched));
}

// The match after `previous`, through its `next` function.
StatusOr<std::optional<Matched>> NextMatch(CallContext& call, const Matched& previous,
                                           std::string_view function_name) {
  if (!previous.next.is_function()) return std::optional<Matched>();
  return EvaluateMatcher(call, previous.next, {}, function_name);
}

StatusOr<Value> ContainsFunction(std::vector<Value>& args, CallContext& call) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const Value& token = Arg(args, 1);
  if (token.is_string()) return Value(str.string().find(token.string()) != std::string::npos);
  ASSIGN_OR_RETURN(auto matched, EvaluateMatcher(call, token, {str}, "contains"));
  return Value(matched.has_value());
}

StatusOr<Value> MatchFunction(std::vector<Value>& args, CallContext& call) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const Value& limit = Arg(args, 2);
  if (limit.is_number() && limit.number() < 0) {
    return Error("D3040", "Third argument of match function must evaluate to a positive number");
  }
  std::vector<Value> results;
  if (limit.undefined() || limit.number() > 0) {
    ASSIGN_OR_RETURN(auto matched, EvaluateMatcher(call, Arg(args, 1), {str}, "match"));
    for (double count = 0; matched && (limit.undefined() || count < limit.number()); ++count) {
      ObjectData object;
      object.Set("match", Value(matched->text));
      object.Set("index", matched->start);
      object.Set("groups", matched->groups);
      results.push_back(Value::Object(std::move(object)));
      ASSIGN_OR_RETURN(matched, NextMatch(call, *matched, "match"));
    }
  }
  return Value::Sequence(std::move(results));
}

// parseInt(text, 10): leading whitespace, a sign and at least one digit; nullopt for NaN.
std::optional<double> ParseIntPrefix(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r'))) ++i;
  double sign = 1;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) sign = text[i++] == '-' ? -1 : 1;
  size_t digits_start = i;
  double value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + (text[i] - '0');
  }
  if (i == digits_start) return std::nullopt;
  return sign * value;
}

// A replacement string with `$0` (the match), `$n` (group n, as many digits as the group count
// has) and `$$` substituted, exactly as the reference scans it.
std::string Substitute(std::string_view replacement, const Matched& matched) {
  const std::vector<Value>& groups = matched.groups.items();
  std::string out;
  size_t position = 0;
  size_t index = replacement.find('$');
  while (index != std::string_view::npos && position < replacement.size()) {
    out.append(replacement.substr(position, index - position));
    position = index + 1;
    char next = position < replacement.size() ? replacement[position] : '\0';
    if (next == '$') {
      out += '$';
      ++position;
    } else if (next == '0') {
      out += matched.text;
      ++position;
    } else {
      size_t max_digits = 1;
      if (!groups.empty()) {
        max_digits = static_cast<size_t>(
            std::floor(std::log(static_cast<double>(groups.size())) * 0.4342944819032518) + 1);
      }
      std::optional<double> group = ParseIntPrefix(replacement.substr(position, max_digits));
      if (max_digits > 1 && group && *group > static_cast<double>(groups.size())) {
        group = ParseIntPrefix(replacement.substr(position, max_digits - 1));
      }
      if (group) {
        double at = *group - 1;
        if (at >= 0 && at < static_cast<double>(groups.size())) {
          const Value& submatch = groups[static_cast<size_t>(at)];
          if (submatch.is_string()) {
            out += submatch.string();
          } else if (!submatch.undefined() && !submatch.is_null()) {
            out += Stringify(submatch);
          }
        }
        position += FormatNumber(*group).size();
      } else {
        out += '$';  // not a group reference: a literal $
      }
    }
    index = position < replacement.size() ? replacement.find('$', position)
                                          : std::string_view::npos;
  }
  if (position < replacement.size()) out.append(replacement.substr(position));
  return out;
}

StatusOr<Value> ReplaceFunction(std::vector<Value>& args, CallContext& call) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const Value& pattern = Arg(args, 1);
  const Value& replacement = Arg(args, 2);
  const Value& limit = Arg(args, 3);
  if (pattern.is_string() && pattern.string().empty()) {
    return Error("D3010", "Second argument of replace function cannot be an empty string");
  }
  if (limit.is_number() && limit.number() < 0) {
    return Error("D3011",
                 "Fourth argument of replace function must evaluate to a positive number");
  }
  if (!limit.undefined() && !(limit.number() > 0)) return str;
  const std::string& text = str.string();
  auto under_limit = [&](double count) { return limit.undefined() || count < limit.number(); };
  std::string result;

  if (pattern.is_string()) {
    // A plain string pattern inserts the replacement as it is (a function would be its
    // JavaScript source text in the reference; it inserts nothing here).
    const std::string& target = pattern.string();
    const std::string literal = replacement.is_string() ? replacement.string() : "";
    size_t position = 0;
    size_t index = text.find(target);
    for (double count = 0; index != std::string::npos && under_limit(count); ++count) {
      result.append(text, position, index - position);
      result += literal;
      position = index + target.size();
      index = text.find(target, position);
    }
    result.append(text, position);
    return Value(std::move(result));
  }

  ASSIGN_OR_RETURN(auto matched, EvaluateMatcher(call, pattern, {str}, "replace"));
  if (!matched) return str;
  CodePointIndex index(text);
  double position = 0;
  for (double count = 0; matched && under_limit(count); ++count) {
    result += index.Substring(position, matched->start.number());
    std::string replaced;
    if (replacement.is_string()) {
      replaced = Substitute(replacement.string(), *matched);
    } else {
      ASSIGN_OR_RETURN(Value value, call.Apply(replacement, {matched->object}));
      if (!value.is_string()) {
        return Error("D3012", "Attempted to replace a matched string with a non-string value: " +
                                  Show(value));
      }
      replaced = value.string();
    }
    result += replaced;
    position = matched->start.number() + static_cast<double>(CodePointCount(matched->text));
    ASSIGN_OR_RETURN(matched, NextMatch(call, *matched, "replace"));
  }
  result += index.Substring(position, static_cast<double>(index.size()));
  return Value(std::move(result));
}

// String.prototype.split(separator, limit) for a string separator.
std::vector<Value> SplitOnString(const std::string& text, const std::string& separator,
                                 const Value& limit) {
  double max = 4294967295.0;  // ToUint32(limit), all of them when left out
  if (!limit.undefined()) {
    double n = std::isfinite(limit.number()) ? std::trunc(limit.number()) : 0;
    max = std::fmod(n, 4294967296.0);
    if (max < 0) max += 4294967296.0;
  }
  std::vector<Value> parts;
  if (max == 0) return parts;
  if (separator.empty()) {
    for (std::string_view piece : CodePoints(text)) {
      if (static_cast<double>(parts.size()) >= max) break;
      parts.emplace_back(std::string(piece));
    }
    return parts;
  }
  size_t position = 0;
  for (size_t at = text.find(separator); at != std::string::npos;
       at = text.find(separator, position)) {
    parts.emplace_back(text.substr(position, at - position));
    if (static_cast<double>(parts.size()) >= max) return parts;
    position = at + separator.size();
  }
  parts.emplace_back(text.substr(position));
  return parts;
}

StatusOr<Value> SplitFunction(std::vector<Value>& args, CallContext& call) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const Value& separator = Arg(args, 1);
  const Value& limit = Arg(args, 2);
  if (limit.is_number() && limit.number() < 0) {
    return Error("D3020", "Third argument of split function must evaluate to a positive number");
  }
  std::vector<Value> parts;
  if (!limit.undefined() && !(limit.number() > 0)) return Value::Array(std::move(parts));
  if (separator.is_string()) {
    return Value::Array(SplitOnString(str.string(), separator.string(), limit));
  }
  auto under_limit = [&](double count) { return limit.undefined() || count < limit.number(); };
  ASSIGN_OR_RETURN(auto matched, EvaluateMatcher(call, separator, {str}, "split"));
  if (!matched) return Value::Array({str});
  CodePointIndex index(str.string());
  double start = 0;
  double count = 0;
  for (; matched && under_limit(count); ++count) {
    parts.emplace_back(std::string(index.Substring(start, matched->start.number())));
    start = matched->end;
    ASSIGN_OR_RETURN(matched, NextMatch(call, *matched, "split"));
  }
  if (under_limit(count)) {
    parts.emplace_back(std::string(index.Substring(start, static_cast<double>(index.size()))));
  }
  return Value::Array(std::move(parts));
}

// ---- Base64 and URLs -------------------------------------------------------------------------

// Node's Buffer.from(str, 'binary'): each UTF-16 code unit contributes its low byte.
StatusOr<Value> Base64Encode(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  std::string bytes;
  for (char32_t c : ToUtf32(str.string())) {
    if (c >= 0x10000) {
      bytes += static_cast<char>((0xD800 + ((c - 0x10000) >> 10)) & 0xFF);
      bytes += static_cast<char>((0xDC00 + ((c - 0x10000) & 0x3FF)) & 0xFF);
    } else {
      bytes += static_cast<char>(c & 0xFF);
    }
  }
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (size_t i = 0; i < bytes.size(); i += 3) {
    uint32_t chunk = static_cast<unsigned char>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) chunk |= static_cast<unsigned char>(bytes[i + 2]);
    out += kAlphabet[(chunk >> 18) & 63];
    out += kAlphabet[(chunk >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(chunk >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[chunk & 63] : '=';
  }
  return Value(std::move(out));
}

// Node's Buffer.from(str, 'base64').toString('binary'): lenient (standard and URL-safe
// alphabets, other characters skipped, the first `=` ends the data), and each byte becomes the
// character with that code (Latin-1), not UTF-8 decoded.
StatusOr<Value> Base64Decode(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const std::string& text = str.string();
  auto sextet = [](char c) {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+' || c == '-') return 62;
    if (c == '/' || c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t bits = 0;
  int held = 0;
  for (char c : text) {
    if (c == '=') break;
    int value = sextet(c);
    if (value < 0) continue;
    bits = (bits << 6) | static_cast<uint32_t>(value);
    held += 6;
    if (held >= 8) {
      held -= 8;
      AppendUtf8(out, (bits >> held) & 0xFF);
    }
  }
  return Value(std::move(out));
}

// encodeURIComponent (and encodeURI, which also keeps the URI's reserved characters).
StatusOr<Value> EncodeUri(const Value& str, std::string_view keep, const char* function_name) {
  if (str.undefined()) return Value();
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (std::string_view piece : CodePoints(str.string())) {
    unsigned char lead = static_cast<unsigned char>(piece[0]);
    if (piece.size() == 1 && lead >= 0x80) {  // not UTF-8: a lone surrogate's URIError
      return Error("D3140", std::string("Malformed URL passed to $") + function_name + "(): " +
                                Show(str));
    }
    char c = piece[0];
    bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      std::string_view("-_.!~*'()").find(c) != std::string_view::npos ||
                      keep.find(c) != std::string_view::npos;
    if (piece.size() == 1 && unreserved) {
      out += c;
      continue;
    }
    for (char byte : piece) {
      out += '%';
      out += kHex[static_cast<unsigned char>(byte) >> 4];
      out += kHex[static_cast<unsigned char>(byte) & 15];
    }
  }
  return Value(std::move(out));
}

// decodeURIComponent (and decodeURI, which leaves escapes of reserved characters as they are).
// Malformed escapes or UTF-8 are D3140.
StatusOr<Value> DecodeUri(const Value& str, std::string_view keep, const char* function_name) {
  if (str.undefined()) return Value();
  const std::string& text = str.string();
  auto malformed = [&] {
    return Error("D3140", std::string("Malformed URL passed to $") + function_name + "(): " +
                              Show(str));
  };
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  // The byte escaped at `at` ("%XX"); -1 when there is no valid escape there.
  auto escaped_byte = [&](size_t at) {
    if (at + 2 >= text.size()) return -1;
    if (text[at] != '%' || hex(text[at + 1]) < 0 || hex(text[at + 2]) < 0) return -1;
    return hex(text[at + 1]) * 16 + hex(text[at + 2]);
  };
  std::string out;
  for (size_t k = 0; k < text.size(); ++k) {
    if (text[k] != '%') {
      out += text[k];
      continue;
    }
    int lead = escaped_byte(k);
    if (lead < 0) return malformed();
    if (lead < 0x80) {
      if (keep.find(static_cast<char>(lead)) != std::string_view::npos) {
        out.append(text, k, 3);
      } else {
        out += static_cast<char>(lead);
      }
      k += 2;
      continue;
    }
    size_t length = (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3
                                                : (lead & 0xF8) == 0xF0 ? 4 : 0;
    if (length == 0) return malformed();
    std::string sequence(1, static_cast<char>(lead));
    for (size_t i = 1; i < length; ++i) {
      int next = escaped_byte(k + 3 * i);
      if (next < 0 || (next & 0xC0) != 0x80) return malformed();
      sequence += static_cast<char>(next);
    }
    // Overlong forms, surrogates and code points past U+10FFFF are not valid UTF-8.
    std::vector<std::string_view> decoded = CodePoints(sequence);
    if (decoded.size() != 1) return malformed();
    out += sequence;
    k += 3 * length - 1;
  }
  return Value(std::move(out));
}

constexpr std::string_view kUriReserved = ";/?:@&=+$,#";

StatusOr<Value> EncodeUrlComponent(std::vector<Value>& args, CallContext&) {
  return EncodeUri(Arg(args, 0), "", "encodeUrlComponent");
}
StatusOr<Value> EncodeUrl(std::vector<Value>& args, CallContext&) {
  return EncodeUri(Arg(args, 0), kUriReserved, "encodeUrl");
}
StatusOr<Value> DecodeUrlComponent(std::vector<Value>& args, CallContext&) {
  return DecodeUri(Arg(args, 0), "", "decodeUrlComponent");
}
StatusOr<Value> DecodeUrl(std::vector<Value>& args, CallContext&) {
  return DecodeUri(Arg(args, 0), kUriReserved, "decodeUrl");
}

// ---- $formatNumber and $formatBase -----------------------------------------------------------
// $formatNumber is XPath F&O 3.1's fn:format-number as the reference implements it, quirks
// included (some of its picture analysis indexes one part with offsets found in another). It
// works on code points where the reference has UTF-16 units.

using Text = std::u32string;

ptrdiff_t Length(const Text& text) { return static_cast<ptrdiff_t>(text.size()); }

ptrdiff_t IndexOf(const Text& text, const Text& part, ptrdiff_t from = 0) {
  size_t at = text.find(part, static_cast<size_t>(std::clamp<ptrdiff_t>(from, 0, Length(text))));
  return at == Text::npos ? -1 : static_cast<ptrdiff_t>(at);
}

ptrdiff_t LastIndexOf(const Text& text, const Text& part) {
  size_t at = text.rfind(part);
  return at == Text::npos ? -1 : static_cast<ptrdiff_t>(at);
}

// String.prototype.substring: bounds clamped, swapped when reversed.
Text Substring(const Text& text, ptrdiff_t from, ptrdiff_t to = PTRDIFF_MAX) {
  from = std::clamp<ptrdiff_t>(from, 0, Length(text));
  to = std::clamp<ptrdiff_t>(to, 0, Length(text));
  if (from > to) std::swap(from, to);
  return text.substr(static_cast<size_t>(from), static_cast<size_t>(to - from));
}

// String.prototype.slice: negative bounds count from the end.
Text Slice(const Text& text, ptrdiff_t from, ptrdiff_t to = PTRDIFF_MAX) {
  auto bound = [&](ptrdiff_t n) {
    return n < 0 ? std::max<ptrdiff_t>(Length(text) + n, 0) : std::min(n, Length(text));
  };
  from = bound(from);
  to = bound(to);
  if (from >= to) return Text();
  return text.substr(static_cast<size_t>(from), static_cast<size_t>(to - from));
}

Text CharAt(const Text& text, ptrdiff_t i) {
  return i >= 0 && i < Length(text) ? Text(1, text[static_cast<size_t>(i)]) : Text();
}

Text Repeat(const Text& text, ptrdiff_t times) {
  Text out;
  for (ptrdiff_t i = 0; i < times; ++i) out += text;
  return out;
}

// String.prototype.split(separator).
std::vector<Text> SplitText(const Text& text, const Text& separator) {
  std::vector<Text> parts;
  if (separator.empty()) {
    for (char32_t c : text) parts.emplace_back(1, c);
    return parts;
  }
  size_t position = 0;
  for (size_t at = text.find(separator); at != Text::npos; at = text.find(separator, position)) {
    parts.push_back(text.substr(position, at - position));
    position = at + separator.size();
  }
  parts.push_back(text.substr(position));
  return parts;
}

double JsMathRound(double x) {
  if (!std::isfinite(x)) return x;
  double floor = std::floor(x);
  return x - floor >= 0.5 ? floor + 1 : floor;
}

// The reference's round(): half to even, shifting the decimal point in the number's text so
// that scaling by a power of ten adds no binary error.
double JsRound(double arg, double precision) {
  auto shift = [](double x, double places) {
    std::string text = FormatNumber(x);
    size_t e = text.find('e');
    double exponent = places;
    if (e != std::string::npos) exponent += std::strtod(text.c_str() + e + 1, nullptr);
    std::string shifted = text.substr(0, e) + "e" + FormatNumber(exponent);
    return std::strtod(shifted.c_str(), nullptr);
  };
  if (precision != 0) arg = shift(arg, precision);
  double result = JsMathRound(arg);
  if (std::fabs(result - arg) == 0.5 && std::fabs(std::fmod(result, 2)) == 1) result -= 1;
  if (precision != 0) result = shift(result, -precision);
  return result == 0 ? 0 : result;  // no -0
}

// Number.prototype.toFixed for x >= 0: the exact decimal value rounded half up at `digits`.
std::string ToFixed(double x, ptrdiff_t digits) {
  if (x >= 1e21 || !std::isfinite(x)) return FormatNumber(x);
  int size = std::snprintf(nullptr, 0, "%.1100f", x);  // exact: a double has <= 1074 decimals
  std::string exact(static_cast<size_t>(size) + 1, '\0');
  std::snprintf(exact.data(), exact.size(), "%.1100f", x);
  size_t point = exact.find('.');
  std::string kept = exact.substr(0, point) + exact.substr(point + 1, static_cast<size_t>(digits));
  if (exact[point + 1 + static_cast<size_t>(digits)] >= '5') {
    ptrdiff_t i = static_cast<ptrdiff_t>(kept.size()) - 1;
    for (; i >= 0 && kept[static_cast<size_t>(i)] == '9'; --i) kept[static_cast<size_t>(i)] = '0';
    if (i >= 0) {
      ++kept[static_cast<size_t>(i)];
    } else {
      kept.insert(kept.begin(), '1');
    }
  }
  if (digits > 0) kept.insert(kept.size() - static_cast<size_t>(digits), ".");
  return kept;
}

// One sub-picture split into its parts (F&O 4.7.3).
struct PictureParts {
  Text prefix, suffix, active, mantissa, integer, fractional, subpicture;
  std::optional<Text> exponent;
};

// What formatting with a sub-picture needs (F&O 4.7.4).
struct PictureAnalysis {
  std::vector<ptrdiff_t> integer_grouping, fractional_grouping;
  ptrdiff_t regular_grouping = 0;
  ptrdiff_t min_integer = 0, scaling = 0, min_fractional = 0, max_fractional = 0;
  ptrdiff_t min_exponent = 0;
  Text prefix, suffix, picture;
};

constexpr std::pair<std::string_view, std::string_view> kPictureErrors[] = {
    {"D3080", "The picture string must only contain a maximum of two sub-pictures"},
    {"D3081",
     "The sub-picture must not contain more than one instance of the 'decimal-separator' "
     "character"},
    {"D3082", "The sub-picture must not contain more than one instance of the 'percent' character"},
    {"D3083",
     "The sub-picture must not contain more than one instance of the 'per-mille' character"},
    {"D3084", "The sub-picture must not contain both a 'percent' and a 'per-mille' character"},
    {"D3085",
     "The mantissa part of a sub-picture must contain at least one character that is "
     "either an 'optional digit character' or a member of the 'decimal digit family'"},
    {"D3086",
     "The sub-picture must not contain a passive character that is preceded by an active "
     "character and that is followed by another active character"},
    {"D3087",
     "The sub-picture must not contain a 'grouping-separator' character that appears "
     "adjacent to a 'decimal-separator' character"},
    {"D3088",
     "The sub-picture must not contain a 'grouping-separator' at the end of the integer "
     "part"},
    {"D3089",
     "The sub-picture must not contain two adjacent instances of the 'grouping-separator' "
     "character"},
    {"D3090",
     "The integer part of the sub-picture must not contain a member of the 'decimal digit "
     "family' that is followed by an instance of the 'optional digit character'"},
    {"D3091",
     "The fractional part of the sub-picture must not contain an instance of the 'optional "
     "digit character' that is followed by a member of the 'decimal digit family'"},
    {"D3092",
     "A sub-picture that contains a 'percent' or 'per-mille' character must not contain a "
     "character treated as an 'exponent-separator'"},
    {"D3093",
     "The exponent part of the sub-picture must comprise only of one or more characters "
     "that are members of the 'decimal digit family'"},
};

Status PictureError(std::string_view code) {
  for (const auto& [known, message] : kPictureErrors) {
    if (known == code) return Error(code, message);
  }
  return Error(code, "Invalid picture string");
}

class NumberFormatter {
 public:
  // The options object's entries replace the default properties.
  Status Configure(const Value& options) {
    if (options.is_object()) {
      for (const auto& [key, value] : options.object().entries()) {
        Text* property = Property(key);
        if (property == nullptr) continue;
        ASSIGN_OR_RETURN(std::string text, ToText(value));
        *property = ToUtf32(text);
      }
    }
    if (!zero_.empty()) {
      for (char32_t i = 0; i < 10; ++i) family_.push_back(zero_[0] + i);
    }
    return Status::Ok();
  }

  StatusOr<std::string> Format(double value, const Text& picture) const {
    std::vector<Text> sub_pictures = SplitText(picture, pattern_);
    if (sub_pictures.size() > 2) return PictureError("D3080");
    std::vector<PictureParts> parts;
    for (const Text& sub_picture : sub_pictures) {
      std::optional<PictureParts> split = Split(sub_picture);
      // The reference crashes reading the prefix of a picture without digits.
      if (!split) return PictureError("D3085");
      parts.push_back(std::move(*split));
    }
    for (const PictureParts& part : parts) {
      if (const char* code = Validate(part)) return PictureError(code);
    }
    std::vector<PictureAnalysis> variables;
    for (const PictureParts& part : parts) variables.push_back(Analyse(part));
    if (variables.size() == 1) {
      variables.push_back(variables[0]);
      variables[1].prefix = minus_ + variables[1].prefix;
    }
    const PictureAnalysis& pic = value >= 0 ? variables[0] : variables[1];

    double adjusted = value;
    if (IndexOf(pic.picture, percent_) != -1) {
      adjusted = value * 100;
    } else if (IndexOf(pic.picture, per_mille_) != -1) {
      adjusted = value * 1000;
    }
    double mantissa = adjusted;
    std::optional<double> exponent;
    if (pic.min_exponent != 0) {
      // The reference loops forever scaling zero or a negative mantissa.
      if (!(adjusted > 0) || !std::isfinite(adjusted)) {
        return Error("D1001", "Number out of range: " + FormatNumber(value) +
                                  " cannot be formatted with an exponent in picture \"" +
                                  ToUtf8(pic.picture) + "\"");
      }
      double max_mantissa = std::pow(10.0, static_cast<double>(pic.scaling));
      double min_mantissa = std::pow(10.0, static_cast<double>(pic.scaling - 1));
      exponent = 0;
      while (mantissa < min_mantissa) {
        mantissa *= 10;
        *exponent -= 1;
      }
      while (mantissa > max_mantissa) {
        mantissa /= 10;
        *exponent += 1;
      }
    }
    double rounded = JsRound(mantissa, static_cast<double>(pic.max_fractional));
    Text text = MakeString(rounded, pic.max_fractional);
    ptrdiff_t decimal_pos = IndexOf(text, U".");
    if (decimal_pos == -1) {
      text += decimal_;
    } else {
      text.replace(static_cast<size_t>(decimal_pos), 1, decimal_);
    }
    while (!text.empty() && CharAt(text, 0) == zero_) text.erase(0, 1);
    while (!text.empty() && CharAt(text, Length(text) - 1) == zero_) text.pop_back();

    decimal_pos = IndexOf(text, decimal_);
    ptrdiff_t pad_left = pic.min_integer - decimal_pos;
    ptrdiff_t pad_right = pic.min_fractional - (Length(text) - decimal_pos - 1);
    text = Repeat(zero_, pad_left) + text + Repeat(zero_, pad_right);
    decimal_pos = IndexOf(text, decimal_);
    if (pic.regular_grouping > 0) {
      ptrdiff_t groups = static_cast<ptrdiff_t>(
          std::floor(static_cast<double>(decimal_pos - 1) / pic.regular_grouping));
      for (ptrdiff_t group = 1; group <= groups; ++group) {
        ptrdiff_t at = decimal_pos - group * pic.regular_grouping;
        text = Slice(text, 0, at) + grouping_ + Slice(text, at);
      }
    } else {
      for (ptrdiff_t position : pic.integer_grouping) {
        text = Slice(text, 0, decimal_pos - position) + grouping_ +
               Slice(text, decimal_pos - position);
        ++decimal_pos;
      }
    }
    decimal_pos = IndexOf(text, decimal_);
    for (ptrdiff_t position : pic.fractional_grouping) {
      ptrdiff_t at = position + decimal_pos + 1;
      text = Slice(text, 0, at) + grouping_ + Slice(text, at);
    }
    decimal_pos = IndexOf(text, decimal_);
    if (IndexOf(pic.picture, decimal_) == -1 || decimal_pos == Length(text) - 1) {
      text = Substring(text, 0, Length(text) - 1);
    }
    if (exponent) {
      Text exponent_text = MakeString(*exponent, 0);
      ptrdiff_t pad = pic.min_exponent - Length(exponent_text);
      if (pad > 0) exponent_text = Repeat(zero_, pad) + exponent_text;
      text += exponent_ + (*exponent < 0 ? minus_ : Text()) + exponent_text;
    }
    return ToUtf8(pic.prefix + text + pic.suffix);
  }

 private:
  Text* Property(std::string_view key) {
    if (key == "decimal-separator") return &decimal_;
    if (key == "grouping-separator") return &grouping_;
    if (key == "exponent-separator") return &exponent_;
    if (key == "minus-sign") return &minus_;
    if (key == "percent") return &percent_;
    if (key == "per-mille") return &per_mille_;
    if (key == "zero-digit") return &zero_;
    if (key == "digit") return &digit_;
    if (key == "pattern-separator") return &pattern_;
    return nullptr;  // "infinity" and "NaN" too: the reference never uses them
  }

  bool InFamily(const Text& ch) const {
    return ch.size() == 1 && std::find(family_.begin(), family_.end(), ch[0]) != family_.end();
  }
  bool IsActive(const Text& ch) const {
    return InFamily(ch) || ch == decimal_ || ch == exponent_ || ch == grouping_ ||
           ch == digit_ || ch == pattern_;
  }
  ptrdiff_t CountFamily(const Text& text, bool or_digit) const {
    ptrdiff_t count = 0;
    for (char32_t c : text) {
      Text ch(1, c);
      if (InFamily(ch) || (or_digit && ch == digit_)) ++count;
    }
    return count;
  }

  // nullopt where the reference's prefix is undefined: no active character at all.
  std::optional<PictureParts> Split(const Text& subpicture) const {
    PictureParts parts;
    parts.subpicture = subpicture;
    const ptrdiff_t length = Length(subpicture);
    ptrdiff_t first = 0;
    while (first < length && !(IsActive(CharAt(subpicture, first)) &&
                               CharAt(subpicture, first) != exponent_)) {
      ++first;
    }
    if (first == length) return std::nullopt;
    ptrdiff_t last = length - 1;
    while (!(IsActive(CharAt(subpicture, last)) && CharAt(subpicture, last) != exponent_)) --last;
    parts.prefix = Substring(subpicture, 0, first);
    parts.suffix = Substring(subpicture, last + 1);
    parts.active = Substring(subpicture, Length(parts.prefix), length - Length(parts.suffix));
    ptrdiff_t exponent_pos = IndexOf(subpicture, exponent_, Length(parts.prefix));
    if (exponent_pos == -1 || exponent_pos > length - Length(parts.suffix)) {
      parts.mantissa = parts.active;
    } else {
      parts.mantissa = Substring(parts.active, 0, exponent_pos);
      parts.exponent = Substring(parts.active, exponent_pos + 1);
    }
    ptrdiff_t decimal_pos = IndexOf(parts.mantissa, decimal_);
    if (decimal_pos == -1) {
      parts.integer = parts.mantissa;
      parts.fractional = parts.suffix;
    } else {
      parts.integer = Substring(parts.mantissa, 0, decimal_pos);
      parts.fractional = Substring(parts.mantissa, decimal_pos + 1);
    }
    return parts;
  }

  // The error code for an invalid sub-picture, nullptr for a valid one. As in the reference,
  // the last rule broken is the one reported.
  const char* Validate(const PictureParts& parts) const {
    const char* error = nullptr;
    const Text& sub = parts.subpicture;
    ptrdiff_t decimal_pos = IndexOf(sub, decimal_);
    if (decimal_pos != LastIndexOf(sub, decimal_)) error = "D3081";
    if (IndexOf(sub, percent_) != LastIndexOf(sub, percent_)) error = "D3082";
    if (IndexOf(sub, per_mille_) != LastIndexOf(sub, per_mille_)) error = "D3083";
    if (IndexOf(sub, percent_) != -1 && IndexOf(sub, per_mille_) != -1) error = "D3084";
    if (CountFamily(parts.mantissa, true) == 0) error = "D3085";
    for (char32_t c : parts.active) {
      if (!IsActive(Text(1, c))) error = "D3086";
    }
    if (decimal_pos != -1) {
      if (CharAt(sub, decimal_pos - 1) == grouping_ || CharAt(sub, decimal_pos + 1) == grouping_) {
        error = "D3087";
      }
    } else if (CharAt(parts.integer, Length(parts.integer) - 1) == grouping_) {
      error = "D3088";
    }
    if (IndexOf(sub, grouping_ + grouping_) != -1) error = "D3089";
    ptrdiff_t optional_pos = IndexOf(parts.integer, digit_);
    if (optional_pos != -1 && CountFamily(Substring(parts.integer, 0, optional_pos), false) > 0) {
      error = "D3090";
    }
    optional_pos = LastIndexOf(parts.fractional, digit_);
    if (optional_pos != -1 && CountFamily(Substring(parts.fractional, optional_pos), false) > 0) {
      error = "D3091";
    }
    if (parts.exponent && !parts.exponent->empty() &&
        (IndexOf(sub, percent_) != -1 || IndexOf(sub, per_mille_) != -1)) {
      error = "D3092";
    }
    if (parts.exponent && (parts.exponent->empty() ||
                           CountFamily(*parts.exponent, false) != Length(*parts.exponent))) {
      error = "D3093";
    }
    return error;
  }

  // Digits (or optional digits) to the right of each grouping separator in `part`, or to the
  // left with `to_left`. Like the reference, later separators are looked for in the integer
  // part whichever part this is.
  std::vector<ptrdiff_t> GroupingPositions(const Text& part, const PictureParts& parts,
                                           bool to_left) const {
    std::vector<ptrdiff_t> positions;
    ptrdiff_t at = IndexOf(part, grouping_);
    while (at != -1) {
      positions.push_back(
          CountFamily(to_left ? Substring(part, 0, at) : Substring(part, at), true));
      ptrdiff_t next = IndexOf(parts.integer, grouping_, at + 1);
      if (next != -1 && next <= at) break;  // an empty separator would never advance
      at = next;
    }
    return positions;
  }

  PictureAnalysis Analyse(const PictureParts& parts) const {
    PictureAnalysis out;
    out.integer_grouping = GroupingPositions(parts.integer, parts, false);
    if (!out.integer_grouping.empty()) {
      ptrdiff_t factor = out.integer_grouping[0];
      for (size_t i = 1; i < out.integer_grouping.size(); ++i) {
        factor = std::gcd(factor, out.integer_grouping[i]);
      }
      out.regular_grouping = factor;
      for (size_t index = 1; index <= out.integer_grouping.size(); ++index) {
        if (std::find(out.integer_grouping.begin(), out.integer_grouping.end(),
                      static_cast<ptrdiff_t>(index) * factor) == out.integer_grouping.end()) {
          out.regular_grouping = 0;
          break;
        }
      }
    }
    out.fractional_grouping = GroupingPositions(parts.fractional, parts, true);
    out.min_integer = CountFamily(parts.integer, false);
    out.scaling = out.min_integer;
    out.min_fractional = CountFamily(parts.fractional, false);
    out.max_fractional = CountFamily(parts.fractional, true);
    const bool exponent_present = parts.exponent.has_value();
    if (out.min_integer == 0 && out.max_fractional == 0) {
      if (exponent_present) {
        out.min_fractional = 1;
        out.max_fractional = 1;
      } else {
        out.min_integer = 1;
      }
    }
    if (exponent_present && out.min_integer == 0 && IndexOf(parts.integer, digit_) != -1) {
      out.min_integer = 1;
    }
    if (out.min_integer == 0 && out.min_fractional == 0) out.min_fractional = 1;
    if (exponent_present) out.min_exponent = CountFamily(*parts.exponent, false);
    out.prefix = parts.prefix;
    out.suffix = parts.suffix;
    out.picture = parts.subpicture;
    return out;
  }

  // Math.abs(value).toFixed(digits), in the zero-digit's digit family.
  Text MakeString(double value, ptrdiff_t digits) const {
    Text text = ToUtf32(ToFixed(std::fabs(value), digits));
    if (zero_ == U"0") return text;
    Text mapped;
    for (char32_t c : text) {
      if (c >= '0' && c <= '9') {
        if (!family_.empty()) mapped += family_[c - '0'];
      } else {
        mapped += c;
      }
    }
    return mapped;
  }

  Text decimal_ = U".", grouping_ = U",", exponent_ = U"e", minus_ = U"-", percent_ = U"%";
  Text per_mille_ = U"\u2030", zero_ = U"0", digit_ = U"#", pattern_ = U";";
  std::vector<char32_t> family_;  // the ten digits from zero-digit on
};

StatusOr<Value> FormatNumberFunction(std::vector<Value>& args, CallContext&) {
  const Value& value = Arg(args, 0);
  if (value.undefined()) return Value();
  NumberFormatter formatter;
  RETURN_IF_ERROR(formatter.Configure(Arg(args, 2)));
  ASSIGN_OR_RETURN(std::string text,
                   formatter.Format(value.number(), ToUtf32(Arg(args, 1).string())));
  return Value(std::move(text));
}

// Number.prototype.toString(radix) as V8 writes an integer: exact digits while they fit in a
// double's precision, zeros for the places beyond it.
std::string ToRadix(double value, int radix) {
  if (radix == 10 || !std::isfinite(value)) return FormatNumber(value);
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  bool negative = value < 0;
  double integer = std::floor(std::fabs(value));
  std::string digits;
  while (integer / radix >= 9007199254740992.0) {  // 2^53
    integer /= radix;
    digits += '0';
  }
  do {
    double remainder = std::fmod(integer, radix);
    digits += kDigits[static_cast<int>(remainder)];
    integer = (integer - remainder) / radix;
  } while (integer > 0);
  if (negative) digits += '-';
  std::reverse(digits.begin(), digits.end());
  return digits;
}

StatusOr<Value> FormatBaseFunction(std::vector<Value>& args, CallContext&) {
  const Value& value = Arg(args, 0);
  if (value.undefined()) return Value();
  double radix = Arg(args, 1).undefined() ? 10 : JsRound(Arg(args, 1).number(), 0);
  if (!(radix >= 2 && radix <= 36)) {
    return Error("D3100",
                 "The radix of the formatBase function must be between 2 and 36.  It was given " +
                     FormatNumber(radix));
  }
  return Value(ToRadix(JsRound(value.number(), 0), static_cast<int>(radix)));
}

}  // namespace

void AddStringFunctions(std::vector<NativeFunction>& out) {
  out.insert(out.end(), {
      {"string", "<x-b?:s>", StringFunction},
      {"substring", "<s-nn?:s>", SubstringFunction},
      {"substringBefore", "<s-s:s>", SubstringBefore},
      {"substringAfter", "<s-s:s>", SubstringAfter},
      {"lowercase", "<s-:s>", LowercaseFunction},
      {"uppercase", "<s-:s>", UppercaseFunction},
      {"length", "<s-:n>", LengthFunction},
      {"trim", "<s-:s>", TrimFunction},
      {"pad", "<s-ns?:s>", PadFunction},
      {"match", "<s-f<s:o>n?:a<o>>", MatchFunction},
      {"contains", "<s-(sf):b>", ContainsFunction},
      {"replace", "<s-(sf)(sf)n?:s>", ReplaceFunction},
      {"split", "<s-(sf)n?:a<s>>", SplitFunction},
      {"join", "<a<s>s?:s>", JoinFunction},
      {"formatNumber", "<n-so?:s>", FormatNumberFunction},
      {"formatBase", "<n-n?:s>", FormatBaseFunction},
      {"base64encode", "<s-:s>", Base64Encode},
      {"base64decode", "<s-:s>", Base64Decode},
      {"encodeUrlComponent", "<s-:s>", EncodeUrlComponent},
      {"encodeUrl", "<s-:s>", EncodeUrl},
      {"decodeUrlComponent", "<s-:s>", DecodeUrlComponent},
      {"decodeUrl", "<s-:s>", DecodeUrl},
  });
}

}  // namespace loam::jsonata
