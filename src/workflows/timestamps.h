// RFC 3339 timestamps as the States Language uses them (Wait's Timestamp, the Timestamp* choice
// operators): "2016-03-14T01:59:00Z", optional fractional seconds, "Z" or a "+hh:mm" offset,
// upper-case "T" and "Z".
#pragma once

#include <optional>
#include <string_view>

namespace loam::workflows {

// Microseconds since the Unix epoch, or nullopt for text that is not such a timestamp.
std::optional<int64_t> ParseTimestamp(std::string_view text);

}  // namespace loam::workflows
