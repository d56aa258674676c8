// JSONata's string functions, ported from jsonata-js 2.0.6 (functions.js). JavaScript counts
// strings in UTF-16 code units; JSONata's own functions mostly count code points, and so does
// this port everywhere ($length, $substring, $pad, match offsets, an empty $split separator).
// This file holds case mapping, the simple string functions, Base64 and URL encoding; the
// matchers ($match, $contains, $replace, $split) are in functions_regex.cc, and $formatNumber
// and $formatBase in functions_format.cc.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workflows/jsonata/functions.h"
#include "workflows/jsonata/functions_internal.h"
#include "common/strings.h"

namespace loam::jsonata {

namespace {

using internal::strings::CodePointIndex;
using internal::strings::Show;

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
  for (char32_t c : DecodeUtf8(text)) {
    auto special = std::find_if(std::begin(kLongUpper), std::end(kLongUpper),
                                [&](const auto& entry) { return entry.first == c; });
    if (special != std::end(kLongUpper)) {
      out += special->second;
    } else {
      out += SimpleUpper(c);
    }
  }
  return EncodeUtf8(out);
}

std::string Lowercase(std::string_view text) {
  std::u32string in = DecodeUtf8(text);
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
  return EncodeUtf8(out);
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
// ---- Base64 and URLs -------------------------------------------------------------------------

// Node's Buffer.from(str, 'binary'): each UTF-16 code unit contributes its low byte.
StatusOr<Value> Base64Encode(std::vector<Value>& args, CallContext&) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  std::string bytes;
  for (char32_t c : DecodeUtf8(str.string())) {
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
}  // namespace

void AddStringFunctions(std::vector<NativeFunction>& out) {
  out.insert(out.end(), {
      {"string", "<x-b?:s>", StringFunction, 1},  // `prettify` has a default, which JavaScript does not count
      {"substring", "<s-nn?:s>", SubstringFunction},
      {"substringBefore", "<s-s:s>", SubstringBefore},
      {"substringAfter", "<s-s:s>", SubstringAfter},
      {"lowercase", "<s-:s>", LowercaseFunction},
      {"uppercase", "<s-:s>", UppercaseFunction},
      {"length", "<s-:n>", LengthFunction},
      {"trim", "<s-:s>", TrimFunction},
      {"pad", "<s-ns?:s>", PadFunction},
  });
  AddRegexFunctions(out);  // $match, $contains, $replace, $split
  out.insert(out.end(), {
      {"join", "<a<s>s?:s>", JoinFunction},
      {"base64encode", "<s-:s>", Base64Encode},
      {"base64decode", "<s-:s>", Base64Decode},
      {"encodeUrlComponent", "<s-:s>", EncodeUrlComponent},
      {"encodeUrl", "<s-:s>", EncodeUrl},
      {"decodeUrlComponent", "<s-:s>", DecodeUrlComponent},
      {"decodeUrl", "<s-:s>", DecodeUrl},
  });
}

}  // namespace loam::jsonata
