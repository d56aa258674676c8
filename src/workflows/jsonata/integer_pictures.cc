// Integer pictures (fn:format-integer): integers in words, roman numerals and letters, and the
// analysis, formatting and parsing of a picture. A port of jsonata-js 2.0.6's datetime.js.
#include "workflows/jsonata/integer_pictures.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loam::jsonata::internal {

// ---------------------------------------------------------------------------------------------
// Integers in words, roman numerals and letters.

namespace {

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

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace loam::jsonata::internal
