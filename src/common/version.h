// Loam's version, as the server reports it (logs, /v2 metadata).
#pragma once

namespace loam {

inline constexpr const char* kLoamVersion = "0.1.0";

}  // namespace loam
