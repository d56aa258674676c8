// JavaScript's Date, UTC only: its arithmetic (ECMA-262 MakeDay, MakeTime, TimeClip, Date.UTC)
// and the UTC fields of a time value, which the date pictures format and parse with; and
// Date.parse as V8 does it, which $toMillis uses for a timestamp given without a picture.
#pragma once

#include <string_view>

#include "workflows/jsonata/js_text.h"

namespace loam::jsonata::internal {

inline constexpr double kMsPerDay = 86400000.0;

double MakeDay(double year, double month, double date);
double MakeTime(double hour, double minute, double second, double millis);
double TimeClip(double time);

// Date.UTC, which reads years 0 to 99 as 1900 to 1999.
double DateUtc(double year, double month, double date = 1, double hour = 0, double minute = 0,
               double second = 0, double millis = 0);

// The UTC fields of a time value, all NaN for an invalid date (as Date's getters give).
struct Civil {
  double year = kNaN, month = kNaN, day = kNaN, weekday = kNaN;  // month 0-11, weekday 0 = Sunday
  double hours = kNaN, minutes = kNaN, seconds = kNaN, millis = kNaN;
};

Civil CivilFromTime(double time);

// Whether $toMillis accepts `text` without a picture: the reference checks this pattern.
//   ^\d{4}(-[01]\d)*(-[0-3]\d)*(T[0-2]\d:[0-5]\d:[0-5]\d)*(\.\d+)?([+-][0-2]\d:?[0-5]\d|Z)?$
bool MatchesIso8601Pattern(std::string_view text);

// Date.parse(text) as V8 answers it for text MatchesIso8601Pattern admits; NaN when invalid.
double ParseV8Date(std::string_view text);

}  // namespace loam::jsonata::internal
