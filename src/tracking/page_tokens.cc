#include "tracking/page_tokens.h"

#include <limits>

#include <bit>
#include <nlohmann/json.hpp>

#include "common/base64.h"

namespace loam::tracking {

std::string EncodeOffsetToken(int64_t offset) { return loam::EncodeOffsetToken(static_cast<uint64_t>(offset)); }

StatusOr<int64_t> DecodeOffsetToken(const std::string& token) {
  if (token.empty()) return int64_t{0};
  auto raw = Base64Decode(token);
  if (!raw) return InvalidArgument("Invalid page token, could not base64-decode");
  auto offset = loam::DecodeOffsetToken(token);
  if (!offset || *offset > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    return InvalidArgument("Invalid page token, decoded value=" + *raw);
  }
  return static_cast<int64_t>(*offset);
}

// The value travels as its IEEE-754 bit pattern, so every double (infinities included)
// comes back exactly.
std::string EncodeCursor(const HistoryCursor& c) {
  return Base64Encode(nlohmann::json{{"step", c.step},
                                     {"timestamp", c.timestamp},
                                     {"value_bits", std::bit_cast<int64_t>(c.value)},
                                     {"is_nan", c.is_nan}}
                          .dump());
}

StatusOr<std::optional<HistoryCursor>> DecodeCursor(const std::string& token) {
  if (token.empty()) return std::optional<HistoryCursor>();
  auto raw = Base64Decode(token);
  if (!raw) return InvalidArgument("Invalid page token, could not base64-decode");
  auto j = nlohmann::json::parse(*raw, nullptr, false);
  auto is_int = [&](const char* k) { return j.is_object() && j.contains(k) && j[k].is_number_integer(); };
  if (j.is_discarded() || !is_int("step") || !is_int("timestamp") || !is_int("value_bits") || !j.contains("is_nan") ||
      !j["is_nan"].is_boolean())
    return InvalidArgument("Invalid page token, decoded value=" + *raw);
  return std::optional<HistoryCursor>(HistoryCursor{j["step"].get<int64_t>(), j["timestamp"].get<int64_t>(),
                                                    std::bit_cast<double>(j["value_bits"].get<int64_t>()),
                                                    j["is_nan"].get<bool>()});
}

Status CheckExperimentId(const std::string& id) {
  if (id.empty()) return InvalidArgument("Missing value for required parameter 'experiment_id'.");
  return Status::Ok();
}

}  // namespace loam::tracking
