#pragma once
#include <chrono>
#include <cstdint>
#include <string>

namespace loket::core {

using Clock = std::chrono::system_clock;

/// Milliseconds since the Unix epoch, now.
std::int64_t now_ms();

/// RFC 3339 UTC timestamp with milliseconds, e.g. `2026-06-11T03:21:09.000Z`, of `epoch_ms`.
std::string rfc3339_ms(std::int64_t epoch_ms);

/// The current time as rfc3339_ms().
std::string now_rfc3339();

}  // namespace loket::core
