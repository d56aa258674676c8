// Opaque page tokens: base64 of a small JSON object. Offsets page searches; cursors page
// metric histories (keyset, so pages stay exact while points are added).
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"
#include "tracking/tracking_store.h"

namespace loam::tracking {

std::string EncodeOffsetToken(int64_t offset);
StatusOr<int64_t> DecodeOffsetToken(const std::string& token);  // "" is offset 0
std::string EncodeCursor(const HistoryCursor& c);
StatusOr<std::optional<HistoryCursor>> DecodeCursor(const std::string& token);  // "" is no cursor

// Shared by the service's translation units.
Status CheckExperimentId(const std::string& id);

}  // namespace loam::tracking
