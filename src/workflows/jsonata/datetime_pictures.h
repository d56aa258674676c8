// XPath/XQuery 3.1 date/time pictures (fn:format-dateTime) as jsonata-js 2.0.6's datetime.js
// implements them: literals and [component presentation,width] markers. Analysing a picture and
// formatting a time with it (datetime_pictures.cc) serve $now and $fromMillis; parsing a
// timestamp against one (datetime_parse.cc) serves $toMillis.
//
// The reference's quirks are kept on purpose, because Step Functions runs it: a negative
// timezone "-0530" shifts by -6:30 (Math.floor on the whole offset), parsed "-05:30" offsets
// count as -4:30, and out-of-range dates format as "NaN".
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workflows/jsonata/integer_pictures.h"
#include "workflows/jsonata/value.h"

namespace loam::jsonata::internal {

inline constexpr const char* kMonths[] = {"January",   "February", "March",    "April",
                                          "May",       "June",     "July",     "August",
                                          "September", "October",  "November", "December"};
inline constexpr const char* kDays[] = {"",         "Monday", "Tuesday",  "Wednesday",
                                        "Thursday", "Friday", "Saturday", "Sunday"};

inline bool IsOneOf(char32_t c, std::u32string_view set) {
  return set.find(c) != std::u32string_view::npos;
}

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

StatusOr<std::vector<PicturePart>> AnalyseDateTimePicture(std::string_view picture);

// The value of one component of the date at `time` (UTC).
struct Fragment {
  double number = kNaN;
  std::string text;  // 'P' (am/pm), 'C' and 'E' (ISO) are text
  bool is_text = false;
};

Fragment DateFragment(double time, char32_t component);

// The error for a name presentation on a component that has no names (D3133).
Status NamesUnsupported(char32_t component);

// $fromMillis(millis, picture, timezone): the ISO 8601 picture when `picture` is undefined;
// `timezone` is "±HHMM" or undefined.
StatusOr<std::string> FormatDateTime(double millis, const Value& picture, const Value& timezone);

// $toMillis(timestamp, picture): undefined when the timestamp does not fit the picture. `now`
// supplies the components left of those the picture gives.
StatusOr<std::optional<double>> ParseDateTime(std::string_view timestamp, std::string_view picture,
                                              double now);

}  // namespace loam::jsonata::internal
