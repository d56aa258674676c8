// XPath/XQuery 3.1 integer pictures (fn:format-integer) as jsonata-js 2.0.6's datetime.js
// implements them: analysing a picture, then formatting or parsing an integer with it, in
// decimal digits of any Unicode decimal group, words, roman numerals or letters. $formatInteger
// and $parseInteger use them directly; the date pictures use them for numeric components.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workflows/jsonata/js_text.h"

namespace loam::jsonata::internal {

// Where the reference fails without an error code (a stack overflow, a TypeError), the time
// functions answer this ("D3150", not a reference code) with a message saying what went wrong.
inline constexpr std::string_view kUnsupported = "D3150";

enum class Primary { kDecimal, kLetters, kRoman, kWords, kSequence };
enum class LetterCase { kUpper, kLower, kTitle };

struct GroupingSeparator {
  double position;  // digits to its right
  std::u16string character;
};

struct IntegerPicture {
  Primary primary = Primary::kDecimal;
  LetterCase letter_case = LetterCase::kLower;
  bool ordinal = false;
  char32_t zero = U'0';            // the decimal digit family
  double mandatory_digits = kNaN;  // NaN where the reference leaves it undefined
  double optional_digits = kNaN;
  bool regular = false;  // one separator repeating every `separators[0].position`
  std::vector<GroupingSeparator> separators;
  std::string token;        // a numbering sequence's picture (not supported: D3130)
  double parse_width = -1;  // the digits a date component is parsed with, when > 0
};

// The words $parseInteger knows, in the reference's (object key) order, which is also the
// order its parsing regex tries them in.
const std::vector<std::pair<std::string, double>>& WordValues();

StatusOr<IntegerPicture> AnalyseIntegerPicture(std::string_view picture);

// The error for formatting or parsing with a numbering sequence picture (D3130).
Status SequenceUnsupported(const std::string& token);

StatusOr<std::string> FormatIntegerWith(double value, const IntegerPicture& format);

// The reference parses without checking the text against the picture, so anything goes.
StatusOr<double> ParseIntegerWith(std::string_view text, const IntegerPicture& format);

}  // namespace loam::jsonata::internal
