// JavaScript's Date arithmetic (ECMA-262 MakeDay, MakeTime, TimeClip), UTC only, and Date.parse
// as V8 does it for the timestamps $toMillis reads without a picture.
#include "workflows/jsonata/js_date.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace loam::jsonata::internal {
namespace {

double DaysFromCivil(int64_t year, int64_t month, int64_t day) {  // month 1-12
  year -= month <= 2;
  const int64_t era = (year >= 0 ? year : year - 399) / 400;
  const int64_t year_of_era = year - era * 400;
  const int64_t day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const int64_t day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return static_cast<double>(era * 146097 + day_of_era - 719468);
}

}  // namespace

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

double DateUtc(double year, double month, double date, double hour, double minute, double second,
               double millis) {
  if (!std::isnan(year) && std::trunc(year) >= 0 && std::trunc(year) <= 99)
    year = 1900 + std::trunc(year);
  return TimeClip(MakeDay(year, month, date) * kMsPerDay + MakeTime(hour, minute, second, millis));
}

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
// $toMillis without a picture: the reference checks the pattern MatchesIso8601Pattern stands
// for, then calls Date.parse.

namespace {

bool DigitIn(std::string_view s, size_t i, char lo, char hi) {
  return i < s.size() && s[i] >= lo && s[i] <= hi;
}

}  // namespace

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

namespace {

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

}  // namespace

double ParseV8Date(std::string_view text) { return V8DateParser(text).Parse(); }

}  // namespace loam::jsonata::internal
