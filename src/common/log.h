// Structured logs: one JSON object per line on stderr, written through spdlog.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

namespace loam::log {

enum class Level { kDebug, kInfo, kWarn, kError };

void Init(Level min_level);
Level ParseLevel(std::string_view name);  // "debug", "info", "warn", "error"; default info.
// Writes {"ts": ..., "level": ..., "event": event, ...fields}.
void Write(Level level, std::string_view event, nlohmann::json fields = nlohmann::json::object());

inline void Info(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kInfo, event, std::move(fields));
}
inline void Warn(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kWarn, event, std::move(fields));
}
inline void Error(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kError, event, std::move(fields));
}
inline void Debug(std::string_view event, nlohmann::json fields = nlohmann::json::object()) {
  Write(Level::kDebug, event, std::move(fields));
}

}  // namespace loam::log
