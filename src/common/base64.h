// Base64 (RFC 4648, standard alphabet, padded) for opaque page tokens.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace loam {

std::string Base64Encode(std::string_view data);
// Returns nullopt for characters outside the alphabet or bad padding.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace loam
