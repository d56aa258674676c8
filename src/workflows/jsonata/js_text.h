// JavaScript's view of text, shared by the date and time functions (functions_time.cc,
// js_date.cc, integer_pictures.cc, datetime_pictures.cc, datetime_parse.cc): UTF-16 code units,
// JavaScript's whitespace, parseInt, and JSON.stringify for quoting values in error messages.
#pragma once

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>

#include "common/strings.h"
#include "workflows/jsonata/value.h"

namespace loam::jsonata::internal {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline std::u16string ToUtf16(std::string_view utf8) {
  std::u16string out;
  for (char32_t c : DecodeUtf8(utf8)) {
    if (c >= 0x10000) {
      out += static_cast<char16_t>(0xD800 + ((c - 0x10000) >> 10));
      out += static_cast<char16_t>(0xDC00 + ((c - 0x10000) & 0x3FF));
    } else {
      out += static_cast<char16_t>(c);
    }
  }
  return out;
}

// A lone surrogate (JavaScript's slicing can leave one) becomes U+FFFD.
inline std::string FromUtf16(std::u16string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    char32_t c = text[i];
    if (c >= 0xD800 && c < 0xDC00 && i + 1 < text.size() && text[i + 1] >= 0xDC00 &&
        text[i + 1] < 0xE000) {
      c = 0x10000 + ((c - 0xD800) << 10) + (text[i + 1] - 0xDC00);
      ++i;
    } else if (c >= 0xD800 && c < 0xE000) {
      c = 0xFFFD;
    }
    AppendUtf8(out, c);
  }
  return out;
}

// JavaScript's \s: WhiteSpace and LineTerminator.
inline bool IsJsSpace(char32_t c) {
  return c == 0x09 || c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x20 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

// strtod over a copy: the longest decimal prefix, as JavaScript's parseFloat reads it.
inline double ParseDecimal(std::string_view text) {
  const std::string copy(text);
  return std::strtod(copy.c_str(), nullptr);
}

inline bool IsDigit(char c) { return c >= '0' && c <= '9'; }
inline char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
inline char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

inline std::string AsciiCase(std::string text, bool upper) {
  for (char& c : text) c = upper ? AsciiUpper(c) : AsciiLower(c);
  return text;
}

// parseInt(text) with no radix: leading whitespace, a sign, "0x" for hexadecimal; NaN when no
// digit follows.
inline double JsParseInt(std::string_view utf8) {
  std::u32string text = DecodeUtf8(utf8);
  size_t i = 0;
  while (i < text.size() && IsJsSpace(text[i])) ++i;
  double sign = 1;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) sign = text[i++] == '-' ? -1 : 1;
  int radix = 10;
  if (i + 1 < text.size() && text[i] == '0' && (text[i + 1] == 'x' || text[i + 1] == 'X')) {
    radix = 16;
    i += 2;
  }
  std::string digits;
  for (; i < text.size(); ++i) {
    char32_t c = text[i];
    bool decimal = c >= '0' && c <= '9';
    bool hex = radix == 16 && ((c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'));
    if (!decimal && !hex) break;
    digits += static_cast<char>(c);
  }
  if (digits.empty()) return kNaN;
  if (radix == 10) return sign * std::strtod(digits.c_str(), nullptr);
  double value = 0;
  for (char c : digits) value = value * 16 + (IsDigit(c) ? c - '0' : AsciiLower(c) - 'a' + 10);
  return sign * value;
}

// JSON.stringify of a string, as the reference's error messages quote values.
inline std::string Quote(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `text.substr(0, pos) + insert + text.substr(pos)` with JavaScript's substr semantics.
inline std::u16string JsInsertAt(const std::u16string& text, double pos,
                                 const std::u16string& insert) {
  const double length = static_cast<double>(text.size());
  std::u16string left = pos <= 0 ? u"" : text.substr(0, static_cast<size_t>(std::min(pos, length)));
  double start = pos < 0 ? std::max(length + pos, 0.0) : std::min(pos, length);
  return left + insert + text.substr(static_cast<size_t>(start));
}

}  // namespace loam::jsonata::internal
