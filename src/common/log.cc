#include "common/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>

namespace loam::log {

namespace {
std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "info";
}

std::shared_ptr<spdlog::logger> Logger() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stderr_logger_mt("loam");
    l->set_pattern("%v");
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return logger;
}
}  // namespace

void Init(Level min_level) {
  g_min_level = static_cast<int>(min_level);
  Logger();
}

Level ParseLevel(std::string_view name) {
  if (name == "debug") return Level::kDebug;
  if (name == "warn" || name == "warning") return Level::kWarn;
  if (name == "error") return Level::kError;
  return Level::kInfo;
}

void Write(Level level, std::string_view event, nlohmann::json fields) {
  if (static_cast<int>(level) < g_min_level.load(std::memory_order_relaxed)) return;
  nlohmann::json line = nlohmann::json::object();
  auto now = std::chrono::system_clock::now();
  line["ts"] = std::chrono::duration<double>(now.time_since_epoch()).count();
  line["level"] = LevelName(level);
  line["event"] = event;
  if (fields.is_object()) {
    for (auto& [k, v] : fields.items()) line[k] = std::move(v);
  }
  Logger()->info(line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

}  // namespace loam::log
