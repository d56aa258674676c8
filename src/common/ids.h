// Identifiers and time: random hex ids (MLflow run ids are uuid4 hex) and epoch milliseconds.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace loam {

// 32 lowercase hex characters from a per-thread CSPRNG-seeded generator (uuid4 layout).
std::string NewUuidHex();
// The same as a UUID's 8-4-4-4-12 text ("1b4e28ba-2fa1-41d2-883f-0016d3cca427").
std::string NewUuid();

// Milliseconds since the Unix epoch. Services take a Clock so tests can fix time.
using Clock = std::function<int64_t()>;
int64_t SystemNowMillis();
// "2024-05-01T12:00:10.900Z": UTC with milliseconds (S3's timestamps, the States Language's).
std::string IsoTime(int64_t epoch_ms);

}  // namespace loam
