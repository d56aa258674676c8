// What the string function files share (functions_strings.cc, functions_regex.cc,
// functions_format.cc): argument access, UTF-8/UTF-32 conversion, code point indexing, and the
// registration of the matchers, which AddStringFunctions includes.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "workflows/jsonata/functions.h"
#include "workflows/jsonata/value.h"

namespace loam::jsonata {

// $match, $contains, $replace and $split (functions_regex.cc).
void AddRegexFunctions(std::vector<NativeFunction>& out);

// The string functions' helpers.
namespace internal::strings {


// A value as error messages quote it (JSON).
std::string Show(const Value& value);

// A string's code points by index, for the functions that take character offsets. ASCII text
// (the common case) needs no table.
class CodePointIndex {
 public:
  explicit CodePointIndex(std::string_view text);

  size_t size() const { return offsets_.empty() ? text_.size() : offsets_.size() - 1; }

  // The code points [from, to), clamped to the text.
  std::string_view Slice(size_t from, size_t to) const;
  // String.prototype.substring: the bounds clamped, and swapped when reversed.
  std::string_view Substring(double from, double to) const;
  // Array.prototype.slice: negative bounds count from the end.
  std::string_view JsSlice(double from, double to) const;

 private:
  size_t Byte(size_t index) const { return offsets_.empty() ? index : offsets_[index]; }

  std::string_view text_;
  std::vector<size_t> offsets_;  // byte offset of each code point, then the end; empty for ASCII
};

}  // namespace internal::strings

}  // namespace loam::jsonata
