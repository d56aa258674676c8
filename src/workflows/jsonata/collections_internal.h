// Helpers shared by functions_numeric.cc and functions_collections.cc: the UTF-8 decoding and
// the decimal parse both use.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "workflows/jsonata/value.h"

namespace loam::jsonata::internal::collections {

inline size_t Utf8Length(unsigned char lead) {
  if (lead < 0x80) return 1;
  if (lead < 0xE0) return 2;
  if (lead < 0xF0) return 3;
  return 4;
}

// The code point starting at `pos`; `length` gets its byte count.
inline char32_t DecodeAt(std::string_view text, size_t pos, size_t* length) {
  const auto lead = static_cast<unsigned char>(text[pos]);
  size_t size = std::min(Utf8Length(lead), text.size() - pos);
  *length = size;
  if (size == 1) return lead;
  char32_t c = lead & (0xFF >> (size + 1));
  for (size_t i = 1; i < size; ++i) {
    c = (c << 6) | (static_cast<unsigned char>(text[pos + i]) & 0x3F);
  }
  return c;
}

inline double ParseDecimal(std::string_view text) {
  std::string copy(text);
  return std::strtod(copy.c_str(), nullptr);
}

}  // namespace loam::jsonata::internal::collections
