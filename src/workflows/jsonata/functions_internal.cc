// The helpers the string function files share (functions_internal.h).
#include "workflows/jsonata/functions_internal.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/strings.h"

namespace loam::jsonata::internal::strings {

namespace {

// ToIntegerOrInfinity, as String.prototype.slice and substring read their arguments.
double ToInteger(double n) { return std::isnan(n) ? 0 : std::trunc(n); }

}  // namespace

std::string Show(const Value& value) { return Stringify(value); }

CodePointIndex::CodePointIndex(std::string_view text) : text_(text) {
  bool ascii = std::all_of(text.begin(), text.end(),
                           [](char c) { return static_cast<unsigned char>(c) < 0x80; });
  if (ascii) return;
  for (std::string_view piece : CodePoints(text)) offsets_.push_back(piece.data() - text.data());
  offsets_.push_back(text.size());
}

std::string_view CodePointIndex::Slice(size_t from, size_t to) const {
  to = std::min(to, size());
  if (from >= to) return {};
  size_t begin = Byte(from);
  return text_.substr(begin, Byte(to) - begin);
}

std::string_view CodePointIndex::Substring(double from, double to) const {
  double length = static_cast<double>(size());
  from = std::clamp(ToInteger(from), 0.0, length);
  to = std::clamp(ToInteger(to), 0.0, length);
  if (from > to) std::swap(from, to);
  return Slice(static_cast<size_t>(from), static_cast<size_t>(to));
}

std::string_view CodePointIndex::JsSlice(double from, double to) const {
  double length = static_cast<double>(size());
  auto bound = [&](double n) {
    n = ToInteger(n);
    return n < 0 ? std::max(length + n, 0.0) : std::min(n, length);
  };
  return Slice(static_cast<size_t>(bound(from)), static_cast<size_t>(bound(to)));
}

}  // namespace loam::jsonata::internal::strings
