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

/// `seconds` since the epoch (a provider's timestamp) in milliseconds, or 0 ("unknown") when it is
/// outside 1970–9999: a hostile timestamp must not overflow (found by fuzz_webhooks). Pure.
constexpr std::int64_t epoch_seconds_to_ms(std::int64_t seconds) {
  return seconds < 0 || seconds > 253402300799 ? 0 : seconds * 1000;
}

/// Milliseconds since the epoch of an RFC 3339 UTC time `YYYY-MM-DDTHH:MM:SS[.fff]Z` (what
/// rfc3339_ms() writes), or std::nullopt when `s` is not one (fields out of range included).
std::optional<std::int64_t> parse_rfc3339_ms(std::string_view s);

}  // namespace loket::core
