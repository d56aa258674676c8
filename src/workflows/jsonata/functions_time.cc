// JSONata's date and time functions ($now, $millis, $fromMillis, $toMillis) and integer pictures
// ($formatInteger, $parseInteger): a port of jsonata-js 2.0.6's datetime.js, which implements
// XPath/XQuery 3.1's fn:format-dateTime and fn:format-integer picture strings. Dates are UTC on
// the proleptic Gregorian calendar exactly as JavaScript's Date keeps them; time zones are only
// ever numeric offsets ("+0530"), so no time zone database is involved.
//
// The reference's quirks are kept on purpose, because Step Functions runs it: a negative
// timezone "-0530" shifts by -6:30 (Math.floor on the whole offset), parsed "-05:30" offsets
// count as -4:30, Date.UTC turns years 0-99 into 1900-1999, out-of-range dates format as "NaN",
// and $toMillis/$parseInteger can answer NaN.
//
// Where the reference fails without an error code (a stack overflow, a TypeError), this answers
// kUnsupported ("D3150", not a reference code) with a message saying what went wrong.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "workflows/jsonata/functions.h"
#include "common/strings.h"

namespace loam::jsonata {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kMsPerDay = 86400000.0;
constexpr std::string_view kUnsupported = "D3150";

// ---------------------------------------------------------------------------------------------
// Text the way JavaScript sees it: UTF-16 code units, its whitespace, parseInt.


std::u32string DecodeUtf8(std::string_view text) {
  std::u32string out;
  for (size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const int extra = byte < 0x80 ? 0 : byte >= 0xF0 ? 3 : byte >= 0xE0 ? 2 : byte >= 0xC0 ? 1 : -1;
    if (extra < 0 || i + extra >= text.size()) {  // a stray or truncated sequence
      out += U'\uFFFD';
      ++i;
      continue;
    }
    char32_t c = extra == 0 ? byte : byte & (0x3F >> extra);
    for (int k = 1; k <= extra; ++k)
      c = (c << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    out += c;
    i += extra + 1;
  }
  return out;
}

std::string EncodeUtf8(std::u32string_view text) {
  std::string out;
  for (char32_t c : text) AppendUtf8(out, c);
  return out;
}

std::u16string ToUtf16(std::string_view utf8) {
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
std::string FromUtf16(std::u16string_view text) {
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
bool IsJsSpace(char32_t c) {
  return c == 0x09 || c == 0x0A || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x20 || c == 0xA0 ||
         c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F ||
         c == 0x205F || c == 0x3000 || c == 0xFEFF;
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
char AsciiUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

std::string AsciiCase(std::string text, bool upper) {
  for (char& c : text) c = upper ? AsciiUpper(c) : AsciiLower(c);
  return text;
}

// parseInt(text) with no radix: leading whitespace, a sign, "0x" for hexadecimal; NaN when no
// digit follows.
double JsParseInt(std::string_view utf8) {
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
std::string Quote(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// `text.substr(0, pos) + insert + text.substr(pos)` with JavaScript's substr semantics.
std::u16string JsInsertAt(const std::u16string& text, double pos, const std::u16string& insert) {
  const double length = static_cast<double>(text.size());
  std::u16string left = pos <= 0 ? u"" : text.substr(0, static_cast<size_t>(std::min(pos, length)));
  double start = pos < 0 ? std::max(length + pos, 0.0) : std::min(pos, length);
  return left + insert + text.substr(static_cast<size_t>(start));
}

// ---------------------------------------------------------------------------------------------
// JavaScript's Date arithmetic (ECMA-262 MakeDay, MakeTime, TimeClip), UTC only.

double DaysFromCivil(int64_t year, int64_t month, int64_t day) {  // month 1-12
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return static_cast<double>(era * 146097 + day_of_era - 719468);
}

double MakeDay(double year, double month, double date) {
  if (!std::isfinite(year) || !std::isfinite(month) || !std::isfinite(date)) return kNaN;
  year = std::trunc(year);
  month = std::trunc(month);
  const double whole_year = year + std::floor(month / 12);
  if (std::fabs(whole_year) > 400000) return kNaN;  // far beyond what TimeClip keeps
  const double month_in_year = month - std::floor(month / 12) * 12;
  return DaysFromCivil(static_cast<int64_t>(whole_year), static_cast<int64_t>(month_in_year) + 1,
                       1) +
         std::trunc(date) - 1;
}

double MakeTime(double hour, double minute, double second, double millis) {
  if (!std::isfinite(hour) || !std::isfinite(minute) || !std::isfinite(second) ||
      !std::isfinite(millis)) {
    return kNaN;
  }
  return std::trunc(hour) * 3600000 + std::trunc(minute) * 60000 + std::trunc(second) * 1000 +
         std::trunc(millis);
}

double TimeClip(double time) {
  if (!std::isfinite(time) || std::fabs(time) > 8.64e15) return kNaN;
  return std::trunc(time) + 0.0;
}

// Date.UTC, which reads years 0 to 99 as 1900 to 1999.
double DateUtc(double year, double month, double date = 1, double hour = 0, double minute = 0,
               double second = 0, double millis = 0) {
  if (!std::isnan(year) && std::trunc(year) >= 0 && std::trunc(year) <= 99)
    year = 1900 + std::trunc(year);
  return TimeClip(MakeDay(year, month, date) * kMsPerDay + MakeTime(hour, minute, second, millis));
}

// The UTC fields of a time value, all NaN for an invalid date (as Date's getters give).
struct Civil {
  double year = kNaN, month = kNaN, day = kNaN, weekday = kNaN;  // month 0-11, weekday 0 = Sunday
  double hours = kNaN, minutes = kNaN, seconds = kNaN, millis = kNaN;
};

Civil CivilFromTime(double time) {
  Civil civil;
  if (std::isnan(time)) return civil;
  const double days = std::floor(time / kMsPerDay);
  const double in_day = time - days * kMsPerDay;
  // Howard Hinnant's civil_from_days.
  const int64_t z = static_cast<int64_t>(days) + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t day_of_era = z - era * 146097;
  const int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const int64_t mp = (5 * day_of_year + 2) / 153;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  civil.year = static_cast<double>(year_of_era + era * 400 + (month <= 2));
  civil.month = static_cast<double>(month - 1);
  civil.day = static_cast<double>(day_of_year - (153 * mp + 2) / 5 + 1);
  const double weekday = std::fmod(days + 4, 7);
  civil.weekday = weekday < 0 ? weekday + 7 : weekday;
  civil.hours = std::floor(in_day / 3600000);
  civil.minutes = std::floor(std::fmod(in_day, 3600000) / 60000);
  civil.seconds = std::floor(std::fmod(in_day, 60000) / 1000);
  civil.millis = std::fmod(in_day, 1000);
  return civil;
}

// ---------------------------------------------------------------------------------------------
// Integers in words, roman numerals and letters.

constexpr const char* kFew[] = {"Zero",    "One",     "Two",       "Three",    "Four",
                                "Five",    "Six",     "Seven",     "Eight",    "Nine",
                                "Ten",     "Eleven",  "Twelve",    "Thirteen", "Fourteen",
                                "Fifteen", "Sixteen", "Seventeen", "Eighteen", "Nineteen"};
constexpr const char* kOrdinals[] = {
    "Zeroth",     "First",     "Second",    "Third",       "Fourth",     "Fifth",     "Sixth",
    "Seventh",    "Eighth",    "Ninth",     "Tenth",       "Eleventh",   "Twelfth",   "Thirteenth",
    "Fourteenth", "Fifteenth", "Sixteenth", "Seventeenth", "Eighteenth", "Nineteenth"};
constexpr const char* kDecades[] = {"Twenty",  "Thirty", "Forty",  "Fifty",  "Sixty",
                                    "Seventy", "Eighty", "Ninety", "Hundred"};
constexpr const char* kMagnitudes[] = {"Thousand", "Million", "Billion", "Trillion"};
constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                   "May",       "June",     "July",     "August",
                                   "September", "October",  "November", "December"};
constexpr const char* kDays[] = {"",         "Monday", "Tuesday",  "Wednesday",
                                 "Thursday", "Friday", "Saturday", "Sunday"};

std::string NumberToWords(double num, bool prev, bool ordinal) {
  std::string words;
  if (num <= 19) {
    words = std::string(prev ? " and " : "") + (ordinal ? kOrdinals : kFew)[static_cast<int>(num)];
  } else if (num < 100) {
    const double remainder = std::fmod(num, 10);
    words = std::string(prev ? " and " : "") + kDecades[static_cast<int>(std::floor(num / 10)) - 2];
    if (remainder > 0) {
      words += "-" + NumberToWords(remainder, false, ordinal);
    } else if (ordinal) {
      words = words.substr(0, words.size() - 1) + "ieth";
    }
  } else if (num < 1000) {
    const double remainder = std::fmod(num, 100);
    words =
        std::string(prev ? ", " : "") + kFew[static_cast<int>(std::floor(num / 100))] + " Hundred";
    if (remainder > 0) {
      words += NumberToWords(remainder, true, ordinal);
    } else if (ordinal) {
      words += "th";
    }
  } else {
    int magnitude = static_cast<int>(std::floor(std::log10(num) / 3));
    magnitude = std::min(magnitude, 4);  // past trillions, "Thousand Trillion" and so on
    const double factor = std::pow(10, magnitude * 3);
    const double mantissa = std::floor(num / factor);
    const double remainder = num - mantissa * factor;
    words = std::string(prev ? ", " : "") + NumberToWords(mantissa, false, false) + " " +
            kMagnitudes[magnitude - 1];
    if (remainder > 0) {
      words += NumberToWords(remainder, true, ordinal);
    } else if (ordinal) {
      words += "th";
    }
  }
  return words;
}

// The words $parseInteger knows, in the reference's (object key) order, which is also the
// order its parsing regex tries them in.
const std::vector<std::pair<std::string, double>>& WordValues() {
  static const auto* values = [] {
    auto* list = new std::vector<std::pair<std::string, double>>;
    for (int i = 0; i < 20; ++i) list->emplace_back(AsciiCase(kFew[i], false), i);
    for (int i = 0; i < 20; ++i) list->emplace_back(AsciiCase(kOrdinals[i], false), i);
    for (int i = 0; i < 9; ++i) {
      std::string word = AsciiCase(kDecades[i], false);
      list->emplace_back(word, (i + 2) * 10);
      list->emplace_back(word.substr(0, word.size() - 1) + "ieth", (i + 2) * 10);
    }
    list->emplace_back("hundredth", 100);
    for (int i = 0; i < 4; ++i) {
      std::string word = AsciiCase(kMagnitudes[i], false);
      list->emplace_back(word, std::pow(10, (i + 1) * 3));
      list->emplace_back(word + "th", std::pow(10, (i + 1) * 3));
    }
    return list;
  }();
  return *values;
}

std::optional<double> WordValue(std::string_view word) {
  for (const auto& [text, value] : WordValues()) {
    if (text == word) return value;
  }
  return std::nullopt;
}

// The reference splits on /,\s|\sand\s|[\s\\-]/ and sums segments; an unknown word gives NaN.
double WordsToNumber(std::string_view lowered) {
  std::u32string text = DecodeUtf8(lowered);
  std::vector<std::u32string> parts(1);
  for (size_t i = 0; i < text.size();) {
    size_t separator = 0;
    if (text[i] == ',' && i + 1 < text.size() && IsJsSpace(text[i + 1])) {
      separator = 2;
    } else if (IsJsSpace(text[i]) && text.compare(i + 1, 3, U"and") == 0 && i + 4 < text.size() &&
               IsJsSpace(text[i + 4])) {
      separator = 5;
    } else if (IsJsSpace(text[i]) || text[i] == '\\' || text[i] == '-') {
      separator = 1;
    }
    if (separator > 0) {
      parts.emplace_back();
      i += separator;
    } else {
      parts.back() += text[i++];
    }
  }
  std::vector<double> segments = {0};
  for (const auto& part : parts) {
    const double value = WordValue(EncodeUtf8(part)).value_or(kNaN);
    if (value < 100) {
      double top = segments.back();
      segments.pop_back();
      if (top >= 1000) {
        segments.push_back(top);
        top = 0;
      }
      segments.push_back(top + value);
    } else {
      segments.back() *= value;  // NaN for an unknown word, as `pop() * undefined` gives
    }
  }
  double sum = 0;
  for (double segment : segments) sum += segment;
  return sum;
}

constexpr std::pair<int, const char*> kRomanNumerals[] = {
    {1000, "m"}, {900, "cm"}, {500, "d"}, {400, "cd"}, {100, "c"}, {90, "xc"}, {50, "l"},
    {40, "xl"},  {10, "x"},   {9, "ix"},  {5, "v"},    {4, "iv"},  {1, "i"}};

// The reference recurses once per numeral and overflows its stack around 8,000,000.
constexpr double kMaxRoman = 8000000;
// Zero padding a picture may ask for. The reference builds strings up to V8's limit (about
// 5e8 characters) before it fails; nothing that large is a sensible timestamp or number.
constexpr double kMaxPadding = 1000000;

std::string DecimalToRoman(double value) {
  std::string roman;
  for (const auto& [amount, numeral] : kRomanNumerals) {
    while (value >= amount) {
      roman += numeral;
      value -= amount;
    }
  }
  return roman;
}

double RomanDigit(char16_t c) {
  switch (c) {
    case 'M':
      return 1000;
    case 'D':
      return 500;
    case 'C':
      return 100;
    case 'L':
      return 50;
    case 'X':
      return 10;
    case 'V':
      return 5;
    case 'I':
      return 1;
    default:
      return kNaN;
  }
}

double RomanToDecimal(const std::u16string& roman) {
  double decimal = 0;
  double max = 1;
  for (size_t i = roman.size(); i-- > 0;) {
    const double value = RomanDigit(roman[i]);
    if (value < max) {
      decimal -= value;
    } else {
      max = value;
      decimal += value;
    }
  }
  return decimal;
}

std::u16string DecimalToLetters(double value, char16_t a) {
  std::u16string letters;
  while (value > 0) {
    const double unit = std::fmod(value - 1, 26) + a;
    letters.insert(letters.begin(), static_cast<char16_t>(static_cast<uint32_t>(unit) & 0xFFFF));
    value = std::floor((value - 1) / 26);
  }
  return letters;
}

double LettersToDecimal(const std::u16string& letters, char16_t a) {
  double decimal = 0;
  for (size_t i = 0; i < letters.size(); ++i) {
    decimal += (static_cast<double>(letters[letters.size() - i - 1]) - a + 1) * std::pow(26, i);
  }
  return decimal;
}

// ---------------------------------------------------------------------------------------------
// Integer pictures (fn:format-integer).

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

constexpr char32_t kDecimalGroups[] = {
    0x30,   0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6,
    0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040, 0x1090, 0x17E0,
    0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620,
    0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10};

// The repeat interval when every separator is the same character at multiples of one interval.
double RegularInterval(const std::vector<GroupingSeparator>& separators) {
  if (separators.empty()) return 0;
  for (const auto& separator : separators) {
    if (separator.character != separators[0].character) return 0;
  }
  auto gcd = [](double a, double b) {
    while (b != 0) {
      a = std::fmod(a, b);
      std::swap(a, b);
    }
    return a;
  };
  double factor = separators[0].position;
  for (size_t i = 1; i < separators.size(); ++i) factor = gcd(factor, separators[i].position);
  for (size_t index = 1; index <= separators.size(); ++index) {
    bool found = std::any_of(separators.begin(), separators.end(), [&](const auto& separator) {
      return separator.position == static_cast<double>(index) * factor;
    });
    if (!found) return 0;
  }
  return factor;
}

StatusOr<IntegerPicture> AnalyseIntegerPicture(std::string_view picture) {
  IntegerPicture format;
  std::string_view primary = picture;
  if (size_t semicolon = picture.rfind(';'); semicolon != std::string_view::npos) {
    primary = picture.substr(0, semicolon);
    format.ordinal = picture.substr(semicolon + 1).substr(0, 1) == "o";
  }
  if (primary == "A" || primary == "a") {
    format.primary = Primary::kLetters;
    format.letter_case = primary == "A" ? LetterCase::kUpper : LetterCase::kLower;
  } else if (primary == "I" || primary == "i") {
    format.primary = Primary::kRoman;
    format.letter_case = primary == "I" ? LetterCase::kUpper : LetterCase::kLower;
  } else if (primary == "W" || primary == "Ww" || primary == "w") {
    format.primary = Primary::kWords;
    format.letter_case = primary == "W"    ? LetterCase::kUpper
                         : primary == "Ww" ? LetterCase::kTitle
                                           : LetterCase::kLower;
  } else {
    // A decimal digit pattern when it holds a digit of any Unicode decimal group.
    std::u32string codes = DecodeUtf8(primary);
    std::reverse(codes.begin(), codes.end());  // positions count from the right
    std::optional<char32_t> zero;
    double mandatory = 0, optional = 0, position = 0;
    std::vector<GroupingSeparator> separators;
    for (char32_t code : codes) {
      const auto* group = std::find_if(std::begin(kDecimalGroups), std::end(kDecimalGroups),
                                       [&](char32_t g) { return code >= g && code <= g + 9; });
      if (group != std::end(kDecimalGroups)) {
        ++mandatory;
        ++position;
        if (!zero) {
          zero = *group;
        } else if (*zero != *group) {
          return Error(
              "D3131",
              "In a decimal digit pattern, all digits must be from the same decimal group");
        }
      } else if (code == '#') {
        ++position;
        ++optional;
      } else {
        separators.push_back({position, ToUtf16(EncodeUtf8(std::u32string(1, code)))});
      }
    }
    if (mandatory > 0) {
      format.primary = Primary::kDecimal;
      format.zero = *zero;
      format.mandatory_digits = mandatory;
      format.optional_digits = optional;
      if (double interval = RegularInterval(separators); interval > 0) {
        format.regular = true;
        format.separators = {{interval, separators[0].character}};
      } else {
        format.separators = std::move(separators);
      }
    } else {
      format.primary = Primary::kSequence;
      format.token = std::string(primary);
    }
  }
  return format;
}

Status SequenceUnsupported(const std::string& token) {
  return Error("D3130", "Formatting or parsing an integer as a sequence starting with " +
                            Quote(token) + " is not supported by this implementation");
}

StatusOr<std::string> FormatIntegerWith(double value, const IntegerPicture& format) {
  const bool negative = value < 0;
  value = std::fabs(value);
  std::string text;
  switch (format.primary) {
    case Primary::kLetters:
      if (std::isinf(value))
        return Error(kUnsupported, "Cannot write an infinite number in letters");
      text = FromUtf16(
          DecimalToLetters(value, format.letter_case == LetterCase::kUpper ? u'A' : u'a'));
      break;
    case Primary::kRoman:
      if (value > kMaxRoman) {
        return Error(kUnsupported, "The number " + FormatNumber(value) +
                                       " is too large to write in roman numerals");
      }
      text = AsciiCase(DecimalToRoman(value), format.letter_case == LetterCase::kUpper);
      break;
    case Primary::kWords:
      if (!std::isfinite(value))
        return Error(kUnsupported, "Cannot write a non-finite number in words");
      text = NumberToWords(value, false, format.ordinal);
      if (format.letter_case != LetterCase::kTitle) {
        text = AsciiCase(text, format.letter_case == LetterCase::kUpper);
      }
      break;
    case Primary::kDecimal: {
      std::u16string digits = ToUtf16(std::isnan(value)   ? "NaN"
                                      : std::isinf(value) ? "Infinity"
                                                          : FormatNumber(value));
      const double padding = format.mandatory_digits - static_cast<double>(digits.size());
      if (padding > kMaxPadding) {
        return Error(kUnsupported,
                     "A picture cannot ask for more than " + FormatNumber(kMaxPadding) + " digits");
      }
      if (padding > 0) digits.insert(0, static_cast<size_t>(padding), u'0');
      if (format.zero != U'0') {
        std::u32string shifted;
        for (char16_t c : digits) shifted += static_cast<char32_t>(c + format.zero - U'0');
        digits = ToUtf16(EncodeUtf8(shifted));
      }
      if (format.regular) {
        const GroupingSeparator& separator = format.separators[0];
        const double count =
            std::floor((static_cast<double>(digits.size()) - 1) / separator.position);
        for (double i = count; i > 0; --i) {
          digits = JsInsertAt(digits, static_cast<double>(digits.size()) - i * separator.position,
                              separator.character);
        }
      } else {
        for (auto it = format.separators.rbegin(); it != format.separators.rend(); ++it) {
          digits =
              JsInsertAt(digits, static_cast<double>(digits.size()) - it->position, it->character);
        }
      }
      if (format.ordinal) {
        const char16_t last = digits.empty() ? 0 : digits.back();
        const char* suffix = last == '1' ? "st" : last == '2' ? "nd" : last == '3' ? "rd" : "th";
        if (digits.size() > 1 && digits[digits.size() - 2] == '1') suffix = "th";
        digits += ToUtf16(suffix);
      }
      text = FromUtf16(digits);
      break;
    }
    case Primary::kSequence:
      return SequenceUnsupported(format.token);
  }
  return negative ? "-" + text : text;
}

// The reference parses without checking the text against the picture, so anything goes.
StatusOr<double> ParseIntegerWith(std::string_view text, const IntegerPicture& format) {
  const bool upper = format.letter_case == LetterCase::kUpper;
  switch (format.primary) {
    case Primary::kLetters:
      return LettersToDecimal(ToUtf16(text), upper ? u'A' : u'a');
    case Primary::kRoman:
      return RomanToDecimal(
          ToUtf16(upper ? std::string(text) : AsciiCase(std::string(text), true)));
    case Primary::kWords:
      return WordsToNumber(AsciiCase(std::string(text), false));
    case Primary::kDecimal: {
      std::u16string digits = ToUtf16(text);
      if (format.ordinal) digits = digits.substr(0, digits.size() >= 2 ? digits.size() - 2 : 0);
      auto remove_all = [&digits](const std::u16string& separator) {
        if (separator.empty()) return;
        for (size_t at; (at = digits.find(separator)) != std::u16string::npos;)
          digits.erase(at, separator.size());
      };
      if (format.regular) {
        remove_all(u",");  // sic: the reference strips commas whatever the separator
      } else {
        for (const auto& separator : format.separators) remove_all(separator.character);
      }
      if (format.zero != U'0') {
        std::u32string shifted;
        for (char16_t c : digits) {
          if (static_cast<char32_t>(c) + U'0' < format.zero) {
            return Error(kUnsupported, "Cannot read " + Quote(text) +
                                           " as digits of the picture's decimal group");
          }
          shifted += static_cast<char32_t>(c - format.zero + U'0');
        }
        digits = ToUtf16(EncodeUtf8(shifted));
      }
      return JsParseInt(FromUtf16(digits));
    }
    case Primary::kSequence:
      return SequenceUnsupported(format.token);
  }
  return kNaN;
}

// ---------------------------------------------------------------------------------------------
// Date/time pictures (fn:format-dateTime): literals and [component presentation,width] markers.

struct Marker {
  char32_t component = 0;
  std::string presentation1;
  char presentation2 = 0;           // 'a', 't', 'c' or 'o' after the first modifier
  std::optional<LetterCase> names;  // month and day names
  bool has_width = false;
  std::optional<double> width_min, width_max;  // parseInt of each (NaN for junk)
  std::optional<IntegerPicture> integer;
  double year_digits = -1;  // Y, M, D: digits kept and parsed; -1 for all
};

struct PicturePart {
  bool literal = false;
  std::string text;  // a literal's text
  Marker marker;
};

std::optional<std::string_view> DefaultPresentation(char32_t component) {
  switch (component) {
    case 'Y':
    case 'M':
    case 'D':
    case 'd':
    case 'W':
    case 'w':
    case 'X':
    case 'x':
    case 'H':
    case 'h':
    case 'f':
      return "1";
    case 'F':
    case 'P':
    case 'C':
    case 'E':
      return "n";
    case 'm':
    case 's':
      return "01";
    case 'Z':
    case 'z':
      return "01:01";
    default:
      return std::nullopt;
  }
}

bool IsOneOf(char32_t c, std::u32string_view set) {
  return set.find(c) != std::u32string_view::npos;
}

StatusOr<Marker> AnalyseMarker(std::string_view body) {
  std::u32string text;  // whitespace inside a marker is ignored
  for (char32_t c : DecodeUtf8(body)) {
    if (!IsJsSpace(c)) text += c;
  }
  Marker marker;
  marker.component = text.empty() ? 0 : text[0];
  std::u32string presentation;
  if (size_t comma = text.rfind(U','); comma != std::u32string::npos) {
    marker.has_width = true;
    std::u32string width = text.substr(comma + 1);
    size_t dash = width.find(U'-');
    auto parse_width = [](const std::u32string& part) -> std::optional<double> {
      if (part == U"*") return std::nullopt;
      return JsParseInt(EncodeUtf8(part));
    };
    marker.width_min = parse_width(width.substr(0, dash));
    if (dash != std::u32string::npos) marker.width_max = parse_width(width.substr(dash + 1));
    // substring(1, comma), which swaps its bounds when the comma comes first
    const size_t from = std::min<size_t>(1, comma),
                 to = std::min(std::max<size_t>(1, comma), text.size());
    presentation = text.substr(from, to - from);
  } else if (!text.empty()) {
    presentation = text.substr(1);
  }
  const std::string component_text = text.empty() ? "" : EncodeUtf8(text.substr(0, 1));
  if (presentation.size() == 1) {
    marker.presentation1 = EncodeUtf8(presentation);
  } else if (presentation.size() > 1) {
    const char32_t last = presentation.back();
    if (IsOneOf(last, U"atco")) {
      marker.presentation2 = static_cast<char>(last);
      marker.presentation1 = EncodeUtf8(presentation.substr(0, presentation.size() - 1));
    } else {
      marker.presentation1 = EncodeUtf8(presentation);
    }
  } else if (auto fallback = DefaultPresentation(marker.component)) {
    marker.presentation1 = std::string(*fallback);
  } else {
    return Error("D3132", "Unknown component specifier " + Quote(component_text) +
                              " in date/time picture string");
  }
  const std::string& first = marker.presentation1;
  if (first[0] == 'n') {
    marker.names = LetterCase::kLower;
  } else if (first[0] == 'N') {
    marker.names = first.size() > 1 && first[1] == 'n' ? LetterCase::kTitle : LetterCase::kUpper;
  } else if (IsOneOf(marker.component, U"YMDdFWwXxHhmsf")) {
    std::string pattern = first;
    if (marker.presentation2) pattern += std::string(";") + marker.presentation2;
    ASSIGN_OR_RETURN(IntegerPicture integer, AnalyseIntegerPicture(pattern));
    if (marker.width_min && integer.mandatory_digits < *marker.width_min) {
      integer.mandatory_digits = *marker.width_min;
    }
    if (IsOneOf(marker.component, U"YMD")) {
      if (marker.width_max) {
        marker.year_digits = *marker.width_max;
        integer.mandatory_digits = marker.year_digits;
      } else if (integer.mandatory_digits + integer.optional_digits >= 2) {
        marker.year_digits = integer.mandatory_digits + integer.optional_digits;
      }
    }
    marker.integer = std::move(integer);
  }
  if (marker.component == 'Z' || marker.component == 'z') {
    ASSIGN_OR_RETURN(marker.integer, AnalyseIntegerPicture(first));
  }
  return marker;
}

StatusOr<std::vector<PicturePart>> AnalyseDateTimePicture(std::string_view picture) {
  std::vector<PicturePart> parts;
  auto add_literal = [&](size_t start, size_t end) {
    if (end <= start) return;
    std::string literal;
    std::string_view raw = picture.substr(start, end - start);
    for (size_t i = 0; i < raw.size(); ++i) {  // "]]" stands for "]"
      literal += raw[i];
      if (raw[i] == ']' && i + 1 < raw.size() && raw[i + 1] == ']') ++i;
    }
    parts.push_back({true, literal, {}});
  };
  size_t start = 0, pos = 0;
  while (pos < picture.size()) {
    if (picture[pos] == '[') {
      if (pos + 1 < picture.size() && picture[pos + 1] == '[') {
        add_literal(start, pos);
        parts.push_back({true, "[", {}});
        pos += 2;
        start = pos;
        continue;
      }
      add_literal(start, pos);
      start = pos;
      pos = picture.find(']', start);
      if (pos == std::string_view::npos) {
        return Error("D3135", "No matching closing bracket ']' in date/time picture string");
      }
      ASSIGN_OR_RETURN(Marker marker, AnalyseMarker(picture.substr(start + 1, pos - start - 1)));
      parts.push_back({false, "", std::move(marker)});
      start = pos + 1;
    }
    ++pos;
  }
  add_literal(start, pos);
  return parts;
}

// ---------------------------------------------------------------------------------------------
// Date components.

// The ISO week that holds the first Thursday of `month` (0-11) of `year` starts at this time.
double StartOfFirstWeek(double year, double month) {
  const double first = DateUtc(year, month);
  double weekday = CivilFromTime(first).weekday;
  if (weekday == 0) weekday = 7;
  return weekday > 4 ? first + (8 - weekday) * kMsPerDay : first - (weekday - 1) * kMsPerDay;
}

double WeeksBetween(double start, double end) { return (end - start) / (kMsPerDay * 7) + 1; }

struct Fragment {
  double number = kNaN;
  std::string text;  // 'P' (am/pm), 'C' and 'E' (ISO) are text
  bool is_text = false;
};

Fragment DateFragment(double time, char32_t component) {
  const Civil date = CivilFromTime(time);
  Fragment fragment;
  auto number = [&](double value) {
    fragment.number = value;
    return fragment;
  };
  switch (component) {
    case 'Y':
      return number(date.year);
    case 'M':
      return number(date.month + 1);
    case 'D':
      return number(date.day);
    case 'd':
      return number((DateUtc(date.year, date.month, date.day) - DateUtc(date.year, 0)) / kMsPerDay +
                    1);
    case 'F':
      return number(date.weekday == 0 ? 7 : date.weekday);
    case 'W': {
      const double start = StartOfFirstWeek(date.year, 0);
      const double today = DateUtc(date.year, date.month, date.day);
      double week = WeeksBetween(start, today);
      if (week > 52) {
        if (today >= StartOfFirstWeek(date.year + 1, 0)) week = 1;
      } else if (week < 1) {
        week = WeeksBetween(StartOfFirstWeek(date.year - 1, 0), today);
      }
      return number(std::floor(week));
    }
    case 'w': {
      const double start = StartOfFirstWeek(date.year, date.month);
      const double today = DateUtc(date.year, date.month, date.day);
      double week = WeeksBetween(start, today);
      const double next_year = date.month == 11 ? date.year + 1 : date.year;
      const double next_month = date.month == 11 ? 0 : date.month + 1;
      if (week > 4) {
        if (today >= StartOfFirstWeek(next_year, next_month)) week = 1;
      } else if (week < 1) {
        const double previous_year = date.month == 0 ? date.year - 1 : date.year;
        const double previous_month = date.month == 0 ? 11 : date.month - 1;
        week = WeeksBetween(StartOfFirstWeek(previous_year, previous_month), today);
      }
      return number(std::floor(week));
    }
    case 'X': {  // the ISO week-numbering year
      if (time < StartOfFirstWeek(date.year, 0)) return number(date.year - 1);
      if (time >= StartOfFirstWeek(date.year + 1, 0)) return number(date.year + 1);
      return number(date.year);
    }
    case 'x': {  // the month a week-in-month belongs to
      const double next_year = date.month == 11 ? date.year + 1 : date.year;
      const double next_month = date.month == 11 ? 0 : date.month + 1;
      if (time < StartOfFirstWeek(date.year, date.month))
        return number(date.month == 0 ? 12 : date.month);
      if (time >= StartOfFirstWeek(next_year, next_month)) return number(next_month + 1);
      return number(date.month + 1);
    }
    case 'H':
      return number(date.hours);
    case 'h': {
      const double hour = std::fmod(date.hours, 12);
      return number(hour == 0 ? 12 : hour);
    }
    case 'm':
      return number(date.minutes);
    case 's':
      return number(date.seconds);
    case 'f':
      return number(date.millis);
    case 'P':
    case 'C':
    case 'E':
      fragment.is_text = true;
      fragment.text = component != 'P' ? "ISO" : date.hours >= 12 ? "pm" : "am";
      return fragment;
    default:
      return fragment;  // Z and z: a time value is always UTC
  }
}

Status NamesUnsupported(char32_t component) {
  return Error("D3133",
               "The 'name' modifier can only be applied to months and days in the "
               "date/time picture string, not " +
                   Quote(EncodeUtf8(std::u32string(1, component))));
}

StatusOr<std::string> FormatMarker(double time, const Marker& marker, double offset_hours,
                                   double offset_minutes) {
  const char32_t component = marker.component;
  Fragment fragment = DateFragment(time, component);
  if (IsOneOf(component, U"YMDdFWwXxHhms")) {
    double value = fragment.number;
    if (component == 'Y' && marker.year_digits != -1)
      value = std::fmod(value, std::pow(10, marker.year_digits));
    if (!marker.names) return FormatIntegerWith(value, *marker.integer);
    std::string name;
    if (component != 'M' && component != 'x' && component != 'F')
      return NamesUnsupported(component);
    if (std::isnan(value)) {
      // An invalid date has no name: the reference writes "undefined" or fails on it.
      if (marker.names == LetterCase::kTitle && !marker.has_width) return std::string("undefined");
      return Error(kUnsupported, "The date is out of range, so it has no month or day name");
    }
    name = component == 'F' ? kDays[static_cast<int>(value)] : kMonths[static_cast<int>(value) - 1];
    if (marker.names != LetterCase::kTitle)
      name = AsciiCase(name, marker.names == LetterCase::kUpper);
    if (marker.width_max && static_cast<double>(name.size()) > *marker.width_max) {
      name = name.substr(0, static_cast<size_t>(std::max(*marker.width_max, 0.0)));
    }
    return name;
  }
  if (component == 'f') {
    if (!marker.integer) return NamesUnsupported(component);
    return FormatIntegerWith(fragment.number, *marker.integer);
  }
  if (component == 'Z' || component == 'z') {
    const IntegerPicture& format = *marker.integer;
    const double offset = offset_hours * 100 + offset_minutes;
    std::string text;
    if (format.regular) {
      ASSIGN_OR_RETURN(text, FormatIntegerWith(offset, format));
    } else if (format.mandatory_digits == 1 || format.mandatory_digits == 2) {
      ASSIGN_OR_RETURN(text, FormatIntegerWith(offset_hours, format));
      if (offset_minutes != 0) {
        ASSIGN_OR_RETURN(IntegerPicture two_digits, AnalyseIntegerPicture("00"));
        ASSIGN_OR_RETURN(std::string minutes,
                         FormatIntegerWith(std::floor(offset_minutes), two_digits));
        text += ":" + minutes;
      }
    } else if (format.mandatory_digits == 3 || format.mandatory_digits == 4) {
      ASSIGN_OR_RETURN(text, FormatIntegerWith(offset, format));
    } else {
      return Error("D3134",
                   "The timezone integer format specifier cannot have more than four digits");
    }
    if (offset >= 0) text = "+" + text;
    if (component == 'z') text = "GMT" + text;
    if (offset == 0 && marker.presentation2 == 't') text = "Z";
    return text;
  }
  if (component == 'P' && marker.names == LetterCase::kUpper) return AsciiCase(fragment.text, true);
  if (!fragment.is_text)
    return std::string("undefined");  // a component the reference has no value for
  return fragment.text;               // P, C, E
}

StatusOr<std::string> FormatDateTime(double millis, const Value& picture, const Value& timezone) {
  double offset_hours = 0, offset_minutes = 0;
  if (!timezone.undefined()) {
    // The reference reads "±HHMM" with parseInt, so "-0530" is -6 hours and -30 minutes.
    const double offset = JsParseInt(timezone.string());
    offset_hours = std::floor(offset / 100);
    offset_minutes = std::fmod(offset, 100);
  }
  static const auto* iso8601 = new StatusOr<std::vector<PicturePart>>(
      AnalyseDateTimePicture("[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]"));
  std::optional<StatusOr<std::vector<PicturePart>>> analysed;
  if (!picture.undefined()) analysed = AnalyseDateTimePicture(picture.string());
  const StatusOr<std::vector<PicturePart>>& parts = analysed ? *analysed : *iso8601;
  if (!parts.ok()) return parts.status();
  const double time = TimeClip(millis + (60 * offset_hours + offset_minutes) * 60000);
  std::string result;
  for (const PicturePart& part : *parts) {
    if (part.literal) {
      result += part.text;
    } else {
      ASSIGN_OR_RETURN(std::string text,
                       FormatMarker(time, part.marker, offset_hours, offset_minutes));
      result += text;
    }
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Parsing a timestamp against a picture. The reference builds one regular expression from the
// picture, `^(part)(part)...$` with the `i` flag, and reads each capture; this matches the same
// language in the same (backtracking, greedy) order without a regex engine.

struct MatchPart {
  enum class Kind { kLiteral, kTimezone, kInteger, kName } kind = Kind::kLiteral;
  char32_t component = 0;
  std::string literal;                                // kLiteral
  bool gmt = false;                                   // kTimezone: "GMT" first ([z])
  std::string separator;                              // kTimezone: between hours and minutes
  IntegerPicture integer;                             // kInteger
  std::vector<std::pair<std::string, double>> names;  // kName: exact (case-sensitive) lookup
};

bool AsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool RomanLetter(char c) {
  return std::string_view("MDCLXVImdclxvi").find(c) != std::string_view::npos;
}

class PictureMatcher {
 public:
  enum class Outcome { kMatch, kNoMatch, kTooComplex };

  PictureMatcher(const std::vector<MatchPart>& parts, std::string_view text)
      : parts_(parts), text_(text) {}

  // Whether the whole text matches; then Capture(i) is what part i matched. A long text against
  // many open-ended parts can take quadratic work (the reference's regex backtracks without any
  // bound), so the search gives up past kWorkBudget steps.
  Outcome Match() {
    if (parts_.empty()) return text_.empty() ? Outcome::kMatch : Outcome::kNoMatch;
    struct Frame {
      size_t part, start;
      std::vector<size_t> ends;
      size_t next = 0;
    };
    std::vector<Frame> stack;
    stack.push_back({0, 0, Ends(0, 0)});
    while (!stack.empty()) {
      if (++work_ > kWorkBudget) return Outcome::kTooComplex;
      Frame& frame = stack.back();
      if (frame.next == frame.ends.size()) {
        failed_.insert(Key(frame.part, frame.start));
        stack.pop_back();
        continue;
      }
      const size_t end = frame.ends[frame.next++];
      const size_t part = frame.part + 1;
      if (part == parts_.size()) {
        if (end != text_.size()) continue;
        for (const Frame& f : stack) spans_.emplace_back(f.start, f.ends[f.next - 1]);
        return Outcome::kMatch;
      }
      if (failed_.count(Key(part, end))) continue;
      std::vector<size_t> ends = Ends(part, end);
      stack.push_back({part, end, std::move(ends)});
    }
    return Outcome::kNoMatch;
  }

  std::string_view Capture(size_t part) const {
    return text_.substr(spans_[part].first, spans_[part].second - spans_[part].first);
  }

 private:
  static constexpr uint64_t kWorkBudget = 50'000'000;

  uint64_t Key(size_t part, size_t pos) const { return part * (text_.size() + 1) + pos; }

  bool LiteralAt(size_t pos, std::string_view literal) const {
    if (text_.size() - pos < literal.size()) return false;
    for (size_t i = 0; i < literal.size(); ++i) {
      if (AsciiLower(text_[pos + i]) != AsciiLower(literal[i])) return false;
    }
    return true;
  }

  template <typename Pred>
  size_t RunAt(size_t pos, Pred pred) const {
    size_t end = pos;
    while (end < text_.size() && pred(text_[end])) ++end;
    work_ += end - pos;
    return end - pos;
  }

  // Where part `index` can end when it starts at `pos`, most preferred first.
  std::vector<size_t> Ends(size_t index, size_t pos) const {
    const MatchPart& part = parts_[index];
    std::vector<size_t> ends;
    auto all_lengths = [&](size_t run, size_t min) {
      for (size_t length = run; length >= std::max<size_t>(min, 1) && length > 0; --length) {
        ends.push_back(pos + length);
      }
    };
    switch (part.kind) {
      case MatchPart::Kind::kLiteral:
        if (LiteralAt(pos, part.literal)) ends.push_back(pos + part.literal.size());
        break;
      case MatchPart::Kind::kName:
        all_lengths(RunAt(pos, AsciiLetter), 1);
        break;
      case MatchPart::Kind::kTimezone: {
        size_t at = pos;
        if (part.gmt && !LiteralAt(at, "GMT")) break;
        if (part.gmt) at += 3;
        if (at >= text_.size() || (text_[at] != '+' && text_[at] != '-')) break;
        ++at;
        for (size_t hours = RunAt(at, IsDigit); hours > 0; --hours) {
          if (part.separator.empty()) {
            ends.push_back(at + hours);
          } else if (LiteralAt(at + hours, part.separator)) {
            const size_t minutes_at = at + hours + part.separator.size();
            for (size_t minutes = RunAt(minutes_at, IsDigit); minutes > 0; --minutes) {
              ends.push_back(minutes_at + minutes);
            }
          }
        }
        break;
      }
      case MatchPart::Kind::kInteger:
        IntegerEnds(part.integer, pos, ends);
        break;
    }
    return ends;
  }

  void IntegerEnds(const IntegerPicture& format, size_t pos, std::vector<size_t>& ends) const {
    switch (format.primary) {
      case Primary::kLetters:
        for (size_t n = RunAt(pos, AsciiLetter); n > 0; --n) ends.push_back(pos + n);
        return;
      case Primary::kRoman:
        for (size_t n = RunAt(pos, RomanLetter); n > 0; --n) ends.push_back(pos + n);
        return;
      case Primary::kWords:
        WordsEnds(pos, ends);
        return;
      case Primary::kDecimal: {
        // [0-9]{n} when the width is known, [0-9]{n-optional,n} with optional digits, else +.
        const size_t run = RunAt(pos, IsDigit);
        double min = 1, max = static_cast<double>(run);
        if (format.parse_width > 0) {
          max = std::min(format.parse_width, max);
          min = format.optional_digits == 0
                    ? format.parse_width
                    : std::max(format.parse_width - format.optional_digits, 0.0);
        }
        if (min > max) return;
        for (size_t n = static_cast<size_t>(max);; --n) {
          if (!format.ordinal) {
            ends.push_back(pos + n);
          } else {
            for (std::string_view suffix : {"th", "st", "nd", "rd"}) {
              if (LiteralAt(pos + n, suffix)) ends.push_back(pos + n + 2);
            }
          }
          if (n == 0 || static_cast<double>(n) <= min) break;
        }
        return;
      }
      case Primary::kSequence:
        return;
    }
  }

  // (?:word|word|...|and|[\-, ])+ : a depth-first walk over the alternatives in order, each
  // position explored once; a position is a candidate end once everything past it was tried.
  void WordsEnds(size_t start, std::vector<size_t>& ends) const {
    struct State {
      size_t pos;
      size_t alternative = 0;
      bool iterated;
    };
    static const std::vector<std::string>* alternatives = [] {
      auto* list = new std::vector<std::string>;
      for (const auto& entry : WordValues()) list->push_back(entry.first);
      list->push_back("and");
      return list;
    }();
    std::unordered_set<size_t> visited;
    std::vector<State> stack = {{start, 0, false}};
    while (!stack.empty()) {
      State& state = stack.back();
      const size_t pos = state.pos;
      if (state.alternative <= alternatives->size()) {
        const size_t which = state.alternative++;
        ++work_;
        size_t end = 0;
        if (which < alternatives->size()) {
          if (LiteralAt(pos, (*alternatives)[which])) end = pos + (*alternatives)[which].size();
        } else if (pos < text_.size() &&
                   (text_[pos] == '-' || text_[pos] == ',' || text_[pos] == ' ')) {
          end = pos + 1;
        }
        if (end > 0 && visited.insert(end).second) stack.push_back({end, 0, true});
        continue;
      }
      if (state.iterated) ends.push_back(pos);
      stack.pop_back();
    }
  }

  const std::vector<MatchPart>& parts_;
  std::string_view text_;
  std::unordered_set<uint64_t> failed_;
  mutable uint64_t work_ = 0;
  std::vector<std::pair<size_t, size_t>> spans_;
};

StatusOr<std::vector<MatchPart>> MatchPartsFor(const std::vector<PicturePart>& picture) {
  std::vector<MatchPart> parts;
  for (const PicturePart& source : picture) {
    MatchPart part;
    if (source.literal) {
      part.literal = source.text;
      parts.push_back(std::move(part));
      continue;
    }
    const Marker& marker = source.marker;
    part.component = marker.component;
    if (marker.component == 'Z' || marker.component == 'z') {
      part.kind = MatchPart::Kind::kTimezone;
      part.gmt = marker.component == 'z';
      if (marker.integer->regular)
        part.separator = FromUtf16(marker.integer->separators[0].character);
    } else if (marker.integer) {
      part.kind = MatchPart::Kind::kInteger;
      part.integer = *marker.integer;
      part.integer.parse_width = marker.year_digits;
      if (part.integer.primary == Primary::kSequence)
        return SequenceUnsupported(part.integer.token);
    } else {
      part.kind = MatchPart::Kind::kName;
      const bool truncate = marker.width_max && *marker.width_max > 0;
      auto add = [&](std::string name, double value) {
        if (truncate) name = name.substr(0, static_cast<size_t>(*marker.width_max));
        part.names.emplace_back(std::move(name), value);
      };
      if (marker.component == 'M' || marker.component == 'x') {
        for (int i = 0; i < 12; ++i) add(kMonths[i], i + 1);
      } else if (marker.component == 'F') {
        for (int i = 1; i <= 7; ++i) add(kDays[i], i);
      } else if (marker.component == 'P') {
        part.names = {{"am", 0}, {"AM", 0}, {"pm", 1}, {"PM", 1}};
      } else {
        return NamesUnsupported(marker.component);
      }
    }
    parts.push_back(std::move(part));
  }
  return parts;
}

StatusOr<std::optional<double>> ParseCapture(const MatchPart& part, std::string_view value) {
  switch (part.kind) {
    case MatchPart::Kind::kLiteral:
      return std::optional<double>();
    case MatchPart::Kind::kName: {
      // Later names win, as the reference's lookup object overwrites (truncated) duplicates.
      std::optional<double> found;
      for (const auto& [name, number] : part.names) {
        if (name == value) found = number;
      }
      return found;
    }
    case MatchPart::Kind::kTimezone: {
      if (part.gmt) value.remove_prefix(3);
      double hours = 0, minutes = 0;
      if (!part.separator.empty()) {
        const size_t at = value.find(part.separator);
        hours = JsParseInt(value.substr(0, at));
        minutes = JsParseInt(value.substr(at + part.separator.size()));
      } else if (value.size() - 1 <= 2) {
        hours = JsParseInt(value);
      } else {
        // The minutes keep no sign: "-0530" is -5 * 60 + 30 minutes.
        hours = JsParseInt(value.substr(0, 3));
        minutes = JsParseInt(value.substr(3));
      }
      return std::optional<double>(hours * 60 + minutes);
    }
    case MatchPart::Kind::kInteger: {
      ASSIGN_OR_RETURN(double number, ParseIntegerWith(value, part.integer));
      return std::optional<double>(number);
    }
  }
  return std::optional<double>();
}

bool JsTruthy(const std::optional<double>& value) {
  return value && *value != 0 && !std::isnan(*value);
}

// $toMillis(timestamp, picture): undefined when the timestamp does not fit the picture.
StatusOr<std::optional<double>> ParseDateTime(std::string_view timestamp, std::string_view picture,
                                              double now) {
  ASSIGN_OR_RETURN(std::vector<PicturePart> spec, AnalyseDateTimePicture(picture));
  ASSIGN_OR_RETURN(std::vector<MatchPart> parts, MatchPartsFor(spec));
  PictureMatcher matcher(parts, timestamp);
  switch (matcher.Match()) {
    case PictureMatcher::Outcome::kMatch:
      break;
    case PictureMatcher::Outcome::kNoMatch:
      return std::optional<double>();
    case PictureMatcher::Outcome::kTooComplex:
      return Error(kUnsupported, "The timestamp is too long to match against this picture");
  }

  std::map<char32_t, std::optional<double>> components;  // a present key may hold undefined
  for (size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].kind == MatchPart::Kind::kLiteral) continue;
    ASSIGN_OR_RETURN(components[parts[i].component], ParseCapture(parts[i], matcher.Capture(i)));
  }
  if (components.empty()) return std::optional<double>();
  auto get = [&](char32_t c) -> std::optional<double> {
    auto it = components.find(c);
    return it == components.end() ? std::nullopt : it->second;
  };

  // Which combination of components names the date and the time: bit masks over YXMxWwdD and
  // PHhmsf; a combination matches when no other component is present and one of its is.
  auto mask_of = [&](std::u32string_view order) {
    int mask = 0;
    for (char32_t c : order) mask = (mask << 1) | (JsTruthy(get(c)) ? 1 : 0);
    return mask;
  };
  auto is_type = [](int type, int mask) { return (~type & mask) == 0 && (type & mask) != 0; };
  const int date_mask = mask_of(U"YXMxWwdD");
  const bool date_a = is_type(161, date_mask);             // Y M D
  const bool date_b = !date_a && is_type(130, date_mask);  // Y d
  const bool date_c = is_type(84, date_mask);              // X x w F
  const bool date_d = !date_c && is_type(72, date_mask);   // X W F
  const int time_mask = mask_of(U"PHhmsf");
  const bool time_a = is_type(23, time_mask);             // H m s f
  const bool time_b = !time_a && is_type(47, time_mask);  // P h m s f

  // Left of the given components default to now, right of them to zero; a gap is an error.
  std::u32string order = date_b ? U"YD" : date_c ? U"XxwF" : date_d ? U"XWF" : U"YMD";
  order += time_b ? U"Phmsf" : U"Hmsf";
  bool start_specified = false, end_specified = false;
  for (char32_t c : order) {
    if (!get(c)) {
      if (start_specified) {
        components[c] = IsOneOf(c, U"MDd") ? 1 : 0;
        end_specified = true;
      } else {
        const Fragment fragment = DateFragment(now, c);
        components[c] = fragment.is_text ? kNaN : fragment.number;  // am/pm text is never 1
      }
    } else {
      start_specified = true;
      if (end_specified) {
        return Error(
            "D3136",
            "The date/time picture string is missing specifiers required to parse the timestamp");
      }
    }
  }
  auto value = [&](char32_t c) { return get(c).value_or(kNaN); };
  components['M'] = value('M') > 0 ? value('M') - 1 : 0;  // Date.UTC counts months from 0
  if (date_b) {
    const Civil derived = CivilFromTime(DateUtc(value('Y'), 0) + (value('d') - 1) * kMsPerDay);
    components['M'] = derived.month;
    components['D'] = derived.day;
  }
  if (date_c || date_d) {
    // The reference cannot parse week dates either.
    return Error(
        "D3136",
        "The date/time picture string is missing specifiers required to parse the timestamp");
  }
  if (time_b) {
    components['H'] = (value('h') == 12 ? 0 : value('h')) + (value('P') == 1 ? 12 : 0);
  }
  double millis =
      DateUtc(value('Y'), value('M'), value('D'), value('H'), value('m'), value('s'), value('f'));
  const std::optional<double> zone = JsTruthy(get('Z')) ? get('Z') : get('z');
  if (JsTruthy(zone)) millis -= *zone * 60 * 1000;
  return std::optional<double>(millis);
}

// ---------------------------------------------------------------------------------------------
// $toMillis without a picture: the reference checks this pattern, then calls Date.parse.
//   ^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$

bool DigitIn(std::string_view s, size_t i, char lo, char hi) {
  return i < s.size() && s[i] >= lo && s[i] <= hi;
}

bool MatchesIso8601Pattern(std::string_view s) {
  if (s.size() < 4 || !std::all_of(s.begin(), s.begin() + 4, IsDigit)) return false;
  auto zone_to_end = [&](size_t p) {
    if (p == s.size()) return true;
    if (s[p] == 'Z') return p + 1 == s.size();
    if (s[p] != '+' && s[p] != '-') return false;
    if (!DigitIn(s, p + 1, '0', '2') || !DigitIn(s, p + 2, '0', '9')) return false;
    size_t q = p + 3;
    if (q < s.size() && s[q] == ':') ++q;
    return DigitIn(s, q, '0', '5') && DigitIn(s, q + 1, '0', '9') && q + 2 == s.size();
  };
  auto rest_from = [&](size_t p) {  // (\.\d+)? then the zone
    if (zone_to_end(p)) return true;
    if (p >= s.size() || s[p] != '.') return false;
    for (size_t q = p + 1; q < s.size() && IsDigit(s[q]); ++q) {
      if (zone_to_end(q + 1)) return true;
    }
    return false;
  };
  // Every "-dd" group may be a month or a day group, so (-[01]\d)*(-[0-3]\d)* is (-[0-3]\d)*.
  for (size_t p = 4;; p += 3) {
    for (size_t q = p;; q += 9) {
      if (rest_from(q)) return true;
      const bool time = q + 9 <= s.size() && s[q] == 'T' && DigitIn(s, q + 1, '0', '2') &&
                        DigitIn(s, q + 2, '0', '9') && s[q + 3] == ':' &&
                        DigitIn(s, q + 4, '0', '5') && DigitIn(s, q + 5, '0', '9') &&
                        s[q + 6] == ':' && DigitIn(s, q + 7, '0', '5') &&
                        DigitIn(s, q + 8, '0', '9');
      if (!time) break;
    }
    if (!(p + 3 <= s.size() && s[p] == '-' && DigitIn(s, p + 1, '0', '3') &&
          DigitIn(s, p + 2, '0', '9'))) {
      return false;
    }
  }
}

// Date.parse as V8 (Node.js, which Step Functions runs) does it, for text the pattern above
// admits: the ES5 ISO format first, then V8's legacy parser on whatever is left. Times without
// an offset are local time there; Loam, like Step Functions' hosts, keeps local time as UTC.
class V8DateParser {
 public:
  explicit V8DateParser(std::string_view text) : text_(text) {}

  double Parse() {
    Token next = ParseEs5();
    if (next.kind == Token::kInvalid) return kNaN;
    bool has_read_number = day_count_ > 0;
    for (Token token = next; token.kind != Token::kEnd; token = Next()) {
      if (token.kind == Token::kNumber) {
        has_read_number = true;
        const int n = token.value;
        if (SkipSymbol(':')) {
          if (SkipSymbol(':')) {  // n::
            if (time_count_ > 0) return kNaN;
            AddTime(n);
            AddTime(0);
          } else {
            if (!AddTime(n)) return kNaN;
            if (PeekSymbol('.')) Next();
          }
        } else if (SkipSymbol('.') && TimeExpects(n)) {
          AddTime(n);
          if (Peek().kind != Token::kNumber) return kNaN;
          AddFinalTime(ReadMilliseconds(Next()));
        } else if (zone_hours_ >= 0 && zone_minutes_ < 0 && Between(n, 0, 59)) {
          zone_minutes_ = n;
        } else if (TimeExpects(n)) {
          AddFinalTime(n);
          const Token peek = Peek();
          const bool sign = peek.kind == Token::kSymbol && (peek.value == '+' || peek.value == '-');
          if (peek.kind != Token::kEnd && !peek.zone && !sign) return kNaN;
        } else {
          if (!AddDay(n)) return kNaN;
          SkipSymbol('-');
        }
      } else if (token.kind == Token::kWord) {
        if (token.zone && has_read_number) {
          SetZone(0, 0, 0);
        } else if (has_read_number || Peek().kind == Token::kNumber) {
          return kNaN;  // garbage, such as a "T" the ES5 form did not take
        }
      } else if (token.kind == Token::kSymbol && (token.value == '+' || token.value == '-') &&
                 ((zone_hours_ == 0 && zone_minutes_ == 0) || time_count_ > 0)) {
        // An offset after "Z" or a time: "+hh:mm", "+h", "+hh", "+hmm" or "+hhmm".
        zone_sign_ = token.value == '+' ? 1 : -1;
        int n = 0, length = 0;
        if (Peek().kind == Token::kNumber) {
          const Token number = Next();
          n = number.value;
          length = number.length;
        }
        has_read_number = true;
        if (PeekSymbol(':')) {
          zone_hours_ = n;
          zone_minutes_ = -1;
        } else if (length == 1 || length == 2) {
          zone_hours_ = n;
          zone_minutes_ = 0;
        } else if (length == 3 || length == 4) {
          zone_hours_ = n / 100;
          zone_minutes_ = n % 100;
        } else {
          return kNaN;
        }
      } else if (token.kind == Token::kSymbol &&
                 (token.value == '+' || token.value == '-' || token.value == ')') &&
                 has_read_number) {
        return kNaN;
      }
    }
    return Compose();
  }

 private:
  struct Token {
    enum Kind { kEnd, kNumber, kSymbol, kWord, kInvalid } kind = kEnd;
    int value = 0;   // a number's value (its first nine significant digits) or a symbol
    int length = 0;  // a number's digits
    bool time_separator = false, zone = false;  // the words "T" and "Z"
  };

  Token Scan(size_t& pos) const {
    Token token;
    if (pos >= text_.size()) return token;
    const char c = text_[pos];
    if (IsDigit(c)) {
      const size_t start = pos;
      while (pos < text_.size() && text_[pos] == '0') ++pos;
      int significant = 0;
      for (; pos < text_.size() && IsDigit(text_[pos]); ++pos) {
        if (significant++ < 9) token.value = token.value * 10 + (text_[pos] - '0');
      }
      token.kind = Token::kNumber;
      token.length = static_cast<int>(pos - start);
      return token;
    }
    if (static_cast<unsigned char>(c) >= 'A') {
      const size_t start = pos;
      while (pos < text_.size() && static_cast<unsigned char>(text_[pos]) >= 'A') ++pos;
      const std::string word = AsciiCase(std::string(text_.substr(start, pos - start)), false);
      token.kind = Token::kWord;
      token.time_separator = word == "t";
      token.zone = word == "z";
      return token;
    }
    ++pos;
    token.kind = Token::kSymbol;
    token.value = c;
    return token;
  }

  Token Peek() const {
    size_t pos = pos_;
    return Scan(pos);
  }
  Token Next() { return Scan(pos_); }
  bool SkipSymbol(char symbol) {
    Token token = Peek();
    if (token.kind != Token::kSymbol || token.value != symbol) return false;
    Next();
    return true;
  }
  bool PeekFixedNumber(int length) const {
    Token token = Peek();
    return token.kind == Token::kNumber && token.length == length;
  }
  bool PeekSymbol(char symbol) const {
    Token token = Peek();
    return token.kind == Token::kSymbol && token.value == symbol;
  }
  bool AddDay(int n) {
    if (day_count_ == 3) return false;
    day_[day_count_++] = n;
    return true;
  }
  bool AddTime(int n) {
    if (time_count_ == 4) return false;
    time_[time_count_++] = n;
    return true;
  }
  bool AddFinalTime(int n) {
    if (!AddTime(n)) return false;
    while (time_count_ < 4) time_[time_count_++] = 0;
    return true;
  }
  bool TimeExpects(int n) const {
    return (time_count_ == 1 && Between(n, 0, 59)) || (time_count_ == 2 && Between(n, 0, 59)) ||
           (time_count_ == 3 && Between(n, 0, 999));
  }
  void SetZone(int sign, int hours, int minutes) {
    zone_sign_ = sign;
    zone_hours_ = hours;
    zone_minutes_ = minutes;
  }
  static bool Between(int x, int lo, int hi) { return x >= lo && x <= hi; }
  static int ReadMilliseconds(const Token& number) {
    int value = number.value, length = number.length;
    if (length == 1) return value * 100;
    if (length == 2) return value * 10;
    length = std::min(length, 9);
    for (; length > 3; --length) value /= 10;
    return value;
  }

  Token ParseEs5() {
    if (!PeekFixedNumber(4)) return Next();
    AddDay(Next().value);
    if (SkipSymbol('-')) {
      if (!PeekFixedNumber(2) || !Between(Peek().value, 1, 12)) return Next();
      AddDay(Next().value);
      if (SkipSymbol('-')) {
        if (!PeekFixedNumber(2) || !Between(Peek().value, 1, 31)) return Next();
        AddDay(Next().value);
      }
    }
    const Token invalid{Token::kInvalid};
    if (!(Peek().kind == Token::kWord && Peek().time_separator)) {
      if (Peek().kind != Token::kEnd) return Next();
    } else {
      Next();
      if (!PeekFixedNumber(2) || !Between(Peek().value, 0, 24)) return invalid;
      const bool hour_is_24 = Peek().value == 24;  // 24:00:00.000 only
      AddTime(Next().value);
      if (!SkipSymbol(':')) return invalid;
      if (!PeekFixedNumber(2) || !Between(Peek().value, 0, 59) || (hour_is_24 && Peek().value > 0))
        return invalid;
      AddTime(Next().value);
      if (SkipSymbol(':')) {
        if (!PeekFixedNumber(2) || !Between(Peek().value, 0, 59) ||
            (hour_is_24 && Peek().value > 0)) {
          return invalid;
        }
        AddTime(Next().value);
        if (SkipSymbol('.')) {
          if (Peek().kind != Token::kNumber || (hour_is_24 && Peek().value > 0)) return invalid;
          AddTime(ReadMilliseconds(Next()));
        }
      }
      if (Peek().kind == Token::kWord && Peek().zone) {
        Next();
        SetZone(1, 0, 0);
      } else if (Peek().kind == Token::kSymbol && (Peek().value == '+' || Peek().value == '-')) {
        const int sign = Next().value == '+' ? 1 : -1;
        int hour = 0, minute = 0;
        if (PeekFixedNumber(4)) {  // the hhmm extension
          const int hhmm = Next().value;
          hour = hhmm / 100;
          minute = hhmm % 100;
          if (!Between(hour, 0, 23) || !Between(minute, 0, 59)) return invalid;
        } else {
          if (!PeekFixedNumber(2) || !Between(Peek().value, 0, 23)) return invalid;
          hour = Next().value;
          if (!SkipSymbol(':')) return invalid;
          if (!PeekFixedNumber(2) || !Between(Peek().value, 0, 59)) return invalid;
          minute = Next().value;
        }
        SetZone(sign, hour, minute);
      }
      if (Peek().kind != Token::kEnd) return invalid;
    }
    if (zone_hours_ < 0 && time_count_ == 0) SetZone(1, 0, 0);  // date-only forms are UTC
    iso_date_ = true;
    return Token{};
  }

  double Compose() const {
    if (day_count_ < 1) return kNaN;
    int day[3] = {day_[0], day_count_ > 1 ? day_[1] : 1, day_count_ > 2 ? day_[2] : 1};
    int year = day[0], month = day[1], date = day[2];
    if (!iso_date_ && Between(day[0], 1, 31)) {  // month-day-year, as legacy dates are read
      month = day[0];
      date = day[1];
      year = day_count_ > 2 ? day[2] : 1;  // the padded component
    }
    if (!iso_date_) {
      if (Between(year, 0, 49)) {
        year += 2000;
      } else if (Between(year, 50, 99)) {
        year += 1900;
      }
    }
    if (!Between(month, 1, 12) || !Between(date, 1, 31)) return kNaN;
    int time[4] = {0, 0, 0, 0};
    for (int i = 0; i < time_count_; ++i) time[i] = time_[i];
    const bool valid_time =
        Between(time[0], 0, 23) && Between(time[1], 0, 59) && Between(time[2], 0, 59);
    if (!valid_time && !(time[0] == 24 && time[1] == 0 && time[2] == 0 && time[3] == 0))
      return kNaN;
    double millis =
        MakeDay(year, month - 1, date) * kMsPerDay + MakeTime(time[0], time[1], time[2], time[3]);
    if (zone_sign_ != 0) {  // no offset: local time, which is UTC here
      millis -= zone_sign_ *
                (std::max(zone_hours_, 0) * 3600.0 + std::max(zone_minutes_, 0) * 60.0) * 1000;
    }
    return TimeClip(millis);
  }

  std::string_view text_;
  size_t pos_ = 0;
  int day_[3] = {0, 0, 0};
  int day_count_ = 0;
  int time_[4] = {0, 0, 0, 0};
  int time_count_ = 0;
  int zone_sign_ = 0;    // 0 until an offset or "Z" is read
  int zone_hours_ = -1;  // -1 for none yet
  int zone_minutes_ = -1;
  bool iso_date_ = false;
};

// ---------------------------------------------------------------------------------------------
// The functions.

const Value& Arg(const std::vector<Value>& args, size_t index) {
  static const Value kUndefined;
  return index < args.size() ? args[index] : kUndefined;
}

StatusOr<Value> StringOrUndefined(StatusOr<std::string> text) {
  if (!text.ok()) return text.status();
  return Value(std::move(text).value());
}

StatusOr<Value> NowImpl(std::vector<Value>& args, CallContext& call) {
  return StringOrUndefined(
      FormatDateTime(static_cast<double>(call.NowMillis()), Arg(args, 0), Arg(args, 1)));
}

StatusOr<Value> MillisImpl(std::vector<Value>&, CallContext& call) {
  return Value(static_cast<double>(call.NowMillis()));
}

StatusOr<Value> FromMillisImpl(std::vector<Value>& args, CallContext&) {
  if (Arg(args, 0).undefined()) return Value();
  return StringOrUndefined(FormatDateTime(Arg(args, 0).number(), Arg(args, 1), Arg(args, 2)));
}

StatusOr<Value> ToMillisImpl(std::vector<Value>& args, CallContext& call) {
  const Value& timestamp = Arg(args, 0);
  if (timestamp.undefined()) return Value();
  if (Arg(args, 1).undefined()) {
    if (!MatchesIso8601Pattern(timestamp.string())) {
      return Error(
          "D3110",
          "The argument of the toMillis function must be an ISO 8601 formatted timestamp. Given " +
              Quote(timestamp.string()));
    }
    return Value(V8DateParser(timestamp.string()).Parse());
  }
  ASSIGN_OR_RETURN(std::optional<double> millis,
                   ParseDateTime(timestamp.string(), Arg(args, 1).string(),
                                 static_cast<double>(call.NowMillis())));
  return millis ? Value(*millis) : Value();
}

StatusOr<Value> FormatIntegerImpl(std::vector<Value>& args, CallContext&) {
  if (Arg(args, 0).undefined()) return Value();
  ASSIGN_OR_RETURN(IntegerPicture format, AnalyseIntegerPicture(Arg(args, 1).string()));
  return StringOrUndefined(FormatIntegerWith(std::floor(Arg(args, 0).number()), format));
}

StatusOr<Value> ParseIntegerImpl(std::vector<Value>& args, CallContext&) {
  if (Arg(args, 0).undefined()) return Value();
  ASSIGN_OR_RETURN(IntegerPicture format, AnalyseIntegerPicture(Arg(args, 1).string()));
  ASSIGN_OR_RETURN(double number, ParseIntegerWith(Arg(args, 0).string(), format));
  return Value(number);
}

}  // namespace

void AddTimeFunctions(std::vector<NativeFunction>& out) {
  out.push_back({"now", "<s?s?:s>", NowImpl});
  out.push_back({"millis", "<:n>", MillisImpl});
  out.push_back({"fromMillis", "<n-s?s?:s>", FromMillisImpl});
  out.push_back({"toMillis", "<s-s?:n>", ToMillisImpl});
  out.push_back({"formatInteger", "<n-s:s>", FormatIntegerImpl});
  out.push_back({"parseInteger", "<s-s:n>", ParseIntegerImpl});
}

}  // namespace loam::jsonata
