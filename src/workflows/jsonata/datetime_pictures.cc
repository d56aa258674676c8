// Date/time pictures (fn:format-dateTime): analysing a picture into literals and markers, the
// date components a marker names, and formatting a time with a picture. A port of jsonata-js
// 2.0.6's datetime.js; dates are UTC as JavaScript's Date keeps them (js_date.h), and time zones
// are only ever numeric offsets.
#include "workflows/jsonata/datetime_pictures.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workflows/jsonata/js_date.h"

namespace loam::jsonata::internal {

// ---------------------------------------------------------------------------------------------
// Date/time pictures (fn:format-dateTime): literals and [component presentation,width] markers.

namespace {

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

}  // namespace

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

namespace {

// The ISO week that holds the first Thursday of `month` (0-11) of `year` starts at this time.
double StartOfFirstWeek(double year, double month) {
  const double first = DateUtc(year, month);
  double weekday = CivilFromTime(first).weekday;
  if (weekday == 0) weekday = 7;
  return weekday > 4 ? first + (8 - weekday) * kMsPerDay : first - (weekday - 1) * kMsPerDay;
}

double WeeksBetween(double start, double end) { return (end - start) / (kMsPerDay * 7) + 1; }

}  // namespace

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

namespace {

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

}  // namespace

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

}  // namespace loam::jsonata::internal
