// JSONata's date and time functions ($now, $millis, $fromMillis, $toMillis) and integer pictures
// ($formatInteger, $parseInteger): a port of jsonata-js 2.0.6's datetime.js, which implements
// XPath/XQuery 3.1's fn:format-dateTime and fn:format-integer picture strings. Dates are UTC on
// the proleptic Gregorian calendar exactly as JavaScript's Date keeps them (js_date.h); time
// zones are only ever numeric offsets ("+0530"), so no time zone database is involved. The
// pictures are in integer_pictures.h and datetime_pictures.h.
//
// The reference's quirks are kept on purpose, because Step Functions runs it: a negative
// timezone "-0530" shifts by -6:30 (Math.floor on the whole offset), parsed "-05:30" offsets
// count as -4:30, Date.UTC turns years 0-99 into 1900-1999, out-of-range dates format as "NaN",
// and $toMillis/$parseInteger can answer NaN.
//
// Where the reference fails without an error code (a stack overflow, a TypeError), this answers
// kUnsupported ("D3150", not a reference code) with a message saying what went wrong.
#include <cmath>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "workflows/jsonata/datetime_pictures.h"
#include "workflows/jsonata/functions.h"
#include "workflows/jsonata/integer_pictures.h"
#include "workflows/jsonata/js_date.h"
#include "workflows/jsonata/js_text.h"

namespace loam::jsonata {
namespace {

using internal::AnalyseIntegerPicture;
using internal::FormatDateTime;
using internal::FormatIntegerWith;
using internal::IntegerPicture;
using internal::MatchesIso8601Pattern;
using internal::ParseDateTime;
using internal::ParseIntegerWith;
using internal::ParseV8Date;
using internal::Quote;

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
    return Value(ParseV8Date(timestamp.string()));
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
