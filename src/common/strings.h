// Small string helpers shared by the adapters and services.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace loam {

std::string ToLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
bool StartsWith(std::string_view s, std::string_view prefix);
bool EndsWith(std::string_view s, std::string_view suffix);
std::vector<std::string> Split(std::string_view s, char sep);
std::string_view Trim(std::string_view s);
// Well-formed UTF-8: no overlong forms, surrogates or code points past U+10FFFF.
bool IsValidUtf8(std::string_view s);
// Appends code point `cp` encoded as UTF-8.
void AppendUtf8(std::string& out, uint32_t cp);
// A Content-Type's media type, trimmed and lower case: "Text/CSV; charset=x" -> "text/csv".
std::string MediaType(std::string_view content_type);
// Percent-decoding of a URL component; '+' stays '+' unless plus_as_space.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_as_space);
std::string PercentEncode(std::string_view s, bool keep_slash);
// Strict integer parse of the whole string (optional sign).
std::optional<int64_t> ParseInt64(std::string_view s);
// Strict float parse of the whole string; accepts NaN/Infinity spellings.
std::optional<double> ParseDouble(std::string_view s);

// Whether JSON text nests arrays and objects at most `max_depth` deep (strings are skipped).
// Parsing is iterative, but dumping, copying and comparing parsed JSON recurse: text nested far
// deeper than any real document is refused before it can exhaust the stack.
bool JsonNestingWithin(std::string_view text, size_t max_depth);

}  // namespace loam
