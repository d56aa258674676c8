// Base64 (RFC 4648, standard alphabet, padded) for opaque page tokens.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loam {

std::string Base64Encode(std::string_view data);
// Returns nullopt for characters outside the alphabet or bad padding.
std::optional<std::string> Base64Decode(std::string_view text);

// The opaque page token every List call hands out: base64 of {"offset": N}. Each API words a
// bad token its own way, so decoding only says whether the token is one.
std::string EncodeOffsetToken(uint64_t offset);
std::optional<uint64_t> DecodeOffsetToken(std::string_view token);

}  // namespace loam
