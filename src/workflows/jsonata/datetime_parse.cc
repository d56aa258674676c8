// Parsing a timestamp against a date/time picture, for $toMillis: a port of jsonata-js 2.0.6's
// datetime.js. The reference builds one regular expression from the picture,
// `^(part)(part)...$` with the `i` flag, and reads each capture; this matches the same language
// in the same (backtracking, greedy) order without a regex engine, then combines the captured
// components with Date.UTC as the reference does (so years 0-99 are 1900-1999, and the answer
// can be NaN).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "workflows/jsonata/datetime_pictures.h"
#include "workflows/jsonata/js_date.h"

namespace loam::jsonata::internal {
namespace {

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

}  // namespace

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

}  // namespace loam::jsonata::internal
