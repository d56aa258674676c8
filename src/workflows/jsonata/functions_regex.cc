// JSONata's matchers, ported from jsonata-js 2.0.6 (functions.js): $contains, $match, $replace
// and $split, which take a string or a regex (any function giving match objects). Offsets are
// in code points. AddStringFunctions registers them (functions_strings.cc).
#include <cmath>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "workflows/jsonata/functions.h"
#include "workflows/jsonata/functions_internal.h"

namespace loam::jsonata {

namespace {

using internal::strings::CodePointIndex;
using internal::strings::Show;

// ---- Matchers: $contains, $match, $replace, $split -------------------------------------------
// A pattern is a string or a function that returns match objects ({match, start, end, groups,
// next}): a regex, or any function written to behave like one.

struct Matched {
  Value start;  // number
  double end = 0;
  std::string text;
  Value groups;  // array
  Value next;    // function, or undefined
  Value object;  // the whole match object, as a replacement function receives it
};

// Calls `matcher` (with `args`) and reads the match object it returns; nullopt when it found
// nothing. A result without the structure is T1010, as in the reference.
StatusOr<std::optional<Matched>> EvaluateMatcher(CallContext& call, const Value& matcher,
                                                 std::vector<Value> args,
                                                 std::string_view function_name) {
  ASSIGN_OR_RETURN(Value result, call.Apply(matcher, std::move(args)));
  if (result.undefined()) return std::optional<Matched>();
  const ObjectData& object = result.object();
  auto field = [&](std::string_view key) {
    const Value* member = result.is_object() ? object.Find(key) : nullptr;
    return member == nullptr ? Value() : *member;
  };
  Matched matched;
  matched.start = field("start");
  Value text = field("match");
  matched.groups = field("groups");
  matched.next = field("next");
  if (!matched.start.is_number()) {
    return Error("T1010", "The matcher function argument passed to function " +
                              std::string(function_name) +
                              " does not return the correct object structure");
  }
  matched.text = text.is_string() ? text.string() : std::string();
  Value end = field("end");
  matched.end = end.is_number() ? end.number()
                                : matched.start.number() + CodePointCount(matched.text);
  if (!matched.groups.is_array()) matched.groups = Value::Array({});
  matched.object = std::move(result);
  return std::optional<Matched>(std::move(matched));
}

// The match after `previous`, through its `next` function.
StatusOr<std::optional<Matched>> NextMatch(CallContext& call, const Matched& previous,
                                           std::string_view function_name) {
  if (!previous.next.is_function()) return std::optional<Matched>();
  return EvaluateMatcher(call, previous.next, {}, function_name);
}

StatusOr<Value> ContainsFunction(std::vector<Value>& args, CallContext& call) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const Value& token = Arg(args, 1);
  if (token.is_string()) return Value(str.string().find(token.string()) != std::string::npos);
  ASSIGN_OR_RETURN(auto matched, EvaluateMatcher(call, token, {str}, "contains"));
  return Value(matched.has_value());
}

StatusOr<Value> MatchFunction(std::vector<Value>& args, CallContext& call) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const Value& limit = Arg(args, 2);
  if (limit.is_number() && limit.number() < 0) {
    return Error("D3040", "Third argument of match function must evaluate to a positive number");
  }
  std::vector<Value> results;
  if (limit.undefined() || limit.number() > 0) {
    ASSIGN_OR_RETURN(auto matched, EvaluateMatcher(call, Arg(args, 1), {str}, "match"));
    for (double count = 0; matched && (limit.undefined() || count < limit.number()); ++count) {
      ObjectData object;
      object.Set("match", Value(matched->text));
      object.Set("index", matched->start);
      object.Set("groups", matched->groups);
      results.push_back(Value::Object(std::move(object)));
      ASSIGN_OR_RETURN(matched, NextMatch(call, *matched, "match"));
    }
  }
  return Value::Sequence(std::move(results));
}

// parseInt(text, 10): leading whitespace, a sign and at least one digit; nullopt for NaN.
std::optional<double> ParseIntPrefix(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (text[i] == ' ' || (text[i] >= '\t' && text[i] <= '\r'))) ++i;
  double sign = 1;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) sign = text[i++] == '-' ? -1 : 1;
  size_t digits_start = i;
  double value = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i) {
    value = value * 10 + (text[i] - '0');
  }
  if (i == digits_start) return std::nullopt;
  return sign * value;
}

// A replacement string with `$0` (the match), `$n` (group n, as many digits as the group count
// has) and `$$` substituted, exactly as the reference scans it.
std::string Substitute(std::string_view replacement, const Matched& matched) {
  const std::vector<Value>& groups = matched.groups.items();
  std::string out;
  size_t position = 0;
  size_t index = replacement.find('$');
  while (index != std::string_view::npos && position < replacement.size()) {
    out.append(replacement.substr(position, index - position));
    position = index + 1;
    char next = position < replacement.size() ? replacement[position] : '\0';
    if (next == '$') {
      out += '$';
      ++position;
    } else if (next == '0') {
      out += matched.text;
      ++position;
    } else {
      size_t max_digits = 1;
      if (!groups.empty()) {
        max_digits = static_cast<size_t>(
            std::floor(std::log(static_cast<double>(groups.size())) * 0.4342944819032518) + 1);
      }
      std::optional<double> group = ParseIntPrefix(replacement.substr(position, max_digits));
      if (max_digits > 1 && group && *group > static_cast<double>(groups.size())) {
        group = ParseIntPrefix(replacement.substr(position, max_digits - 1));
      }
      if (group) {
        double at = *group - 1;
        if (at >= 0 && at < static_cast<double>(groups.size())) {
          const Value& submatch = groups[static_cast<size_t>(at)];
          if (submatch.is_string()) {
            out += submatch.string();
          } else if (!submatch.undefined() && !submatch.is_null()) {
            out += Stringify(submatch);
          }
        }
        position += FormatNumber(*group).size();
      } else {
        out += '$';  // not a group reference: a literal $
      }
    }
    index = position < replacement.size() ? replacement.find('$', position)
                                          : std::string_view::npos;
  }
  if (position < replacement.size()) out.append(replacement.substr(position));
  return out;
}

StatusOr<Value> ReplaceFunction(std::vector<Value>& args, CallContext& call) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const Value& pattern = Arg(args, 1);
  const Value& replacement = Arg(args, 2);
  const Value& limit = Arg(args, 3);
  if (pattern.is_string() && pattern.string().empty()) {
    return Error("D3010", "Second argument of replace function cannot be an empty string");
  }
  if (limit.is_number() && limit.number() < 0) {
    return Error("D3011",
                 "Fourth argument of replace function must evaluate to a positive number");
  }
  if (!limit.undefined() && !(limit.number() > 0)) return str;
  const std::string& text = str.string();
  auto under_limit = [&](double count) { return limit.undefined() || count < limit.number(); };
  std::string result;

  if (pattern.is_string()) {
    // A plain string pattern inserts the replacement as it is (a function would be its
    // JavaScript source text in the reference; it inserts nothing here).
    const std::string& target = pattern.string();
    const std::string literal = replacement.is_string() ? replacement.string() : "";
    size_t position = 0;
    size_t index = text.find(target);
    for (double count = 0; index != std::string::npos && under_limit(count); ++count) {
      result.append(text, position, index - position);
      result += literal;
      position = index + target.size();
      index = text.find(target, position);
    }
    result.append(text, position);
    return Value(std::move(result));
  }

  ASSIGN_OR_RETURN(auto matched, EvaluateMatcher(call, pattern, {str}, "replace"));
  if (!matched) return str;
  CodePointIndex index(text);
  double position = 0;
  for (double count = 0; matched && under_limit(count); ++count) {
    result += index.Substring(position, matched->start.number());
    std::string replaced;
    if (replacement.is_string()) {
      replaced = Substitute(replacement.string(), *matched);
    } else {
      ASSIGN_OR_RETURN(Value value, call.Apply(replacement, {matched->object}));
      if (!value.is_string()) {
        return Error("D3012", "Attempted to replace a matched string with a non-string value: " +
                                  Show(value));
      }
      replaced = value.string();
    }
    result += replaced;
    position = matched->start.number() + static_cast<double>(CodePointCount(matched->text));
    ASSIGN_OR_RETURN(matched, NextMatch(call, *matched, "replace"));
  }
  result += index.Substring(position, static_cast<double>(index.size()));
  return Value(std::move(result));
}

// String.prototype.split(separator, limit) for a string separator.
std::vector<Value> SplitOnString(const std::string& text, const std::string& separator,
                                 const Value& limit) {
  double max = 4294967295.0;  // ToUint32(limit), all of them when left out
  if (!limit.undefined()) {
    double n = std::isfinite(limit.number()) ? std::trunc(limit.number()) : 0;
    max = std::fmod(n, 4294967296.0);
    if (max < 0) max += 4294967296.0;
  }
  std::vector<Value> parts;
  if (max == 0) return parts;
  if (separator.empty()) {
    for (std::string_view piece : CodePoints(text)) {
      if (static_cast<double>(parts.size()) >= max) break;
      parts.emplace_back(std::string(piece));
    }
    return parts;
  }
  size_t position = 0;
  for (size_t at = text.find(separator); at != std::string::npos;
       at = text.find(separator, position)) {
    parts.emplace_back(text.substr(position, at - position));
    if (static_cast<double>(parts.size()) >= max) return parts;
    position = at + separator.size();
  }
  parts.emplace_back(text.substr(position));
  return parts;
}

StatusOr<Value> SplitFunction(std::vector<Value>& args, CallContext& call) {
  const Value& str = Arg(args, 0);
  if (str.undefined()) return Value();
  const Value& separator = Arg(args, 1);
  const Value& limit = Arg(args, 2);
  if (limit.is_number() && limit.number() < 0) {
    return Error("D3020", "Third argument of split function must evaluate to a positive number");
  }
  std::vector<Value> parts;
  if (!limit.undefined() && !(limit.number() > 0)) return Value::Array(std::move(parts));
  if (separator.is_string()) {
    return Value::Array(SplitOnString(str.string(), separator.string(), limit));
  }
  auto under_limit = [&](double count) { return limit.undefined() || count < limit.number(); };
  ASSIGN_OR_RETURN(auto matched, EvaluateMatcher(call, separator, {str}, "split"));
  if (!matched) return Value::Array({str});
  CodePointIndex index(str.string());
  double start = 0;
  double count = 0;
  for (; matched && under_limit(count); ++count) {
    parts.emplace_back(std::string(index.Substring(start, matched->start.number())));
    start = matched->end;
    ASSIGN_OR_RETURN(matched, NextMatch(call, *matched, "split"));
  }
  if (under_limit(count)) {
    parts.emplace_back(std::string(index.Substring(start, static_cast<double>(index.size()))));
  }
  return Value::Array(std::move(parts));
}

}  // namespace

void AddRegexFunctions(std::vector<NativeFunction>& out) {
  out.insert(out.end(), {
      {"match", "<s-f<s:o>n?:a<o>>", MatchFunction},
      {"contains", "<s-(sf):b>", ContainsFunction},
      {"replace", "<s-(sf)(sf)n?:s>", ReplaceFunction},
      {"split", "<s-(sf)n?:a<s>>", SplitFunction},
  });
}

}  // namespace loam::jsonata
