// JSONata's $formatNumber and $formatBase, ported from jsonata-js 2.0.6 (functions.js), with
// the JavaScript number-to-text conversions they rely on (toFixed, toString(radix), round).
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
#include "workflows/jsonata/functions_internal.h"

namespace loam::jsonata {

namespace {


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
        *property = DecodeUtf8(text);
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
                                  EncodeUtf8(pic.picture) + "\"");
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
    return EncodeUtf8(pic.prefix + text + pic.suffix);
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
    Text text = DecodeUtf8(ToFixed(std::fabs(value), digits));
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
                   formatter.Format(value.number(), DecodeUtf8(Arg(args, 1).string())));
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

void AddFormatFunctions(std::vector<NativeFunction>& out) {
  out.insert(out.end(), {
      {"formatNumber", "<n-so?:s>", FormatNumberFunction},
      {"formatBase", "<n-n?:s>", FormatBaseFunction},
  });
}

}  // namespace loam::jsonata
