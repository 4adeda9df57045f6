#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loket::core {

using Clock = std::chrono::system_clock;

/// Milliseconds since the Unix epoch, now.
std::int64_t now_ms();

/// RFC 3339 UTC timestamp with milliseconds, e.g. `2026-06-11T03:21:09.000Z`, of `epoch_ms`.
std::string rfc3339_ms(std::int64_t epoch_ms);

/// The current time as rfc3339_ms().
std::string now_rfc3339();

/// Milliseconds since the epoch of an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SS[.fff]Z` (what
/// rfc3339_ms() writes), or std::nullopt when `s` is not one (fields out of range included).
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s);

}  // namespace loket::core
