#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace loket::core {

/// Reads the environment variable `name`; returns std::nullopt when unset or empty.
/// Thread-safe as long as nobody calls setenv concurrently.
std::optional<std::string> env(const std::string& name);

/// Reads `name` or returns `fallback` when unset or empty.
std::string env_or(const std::string& name, const std::string& fallback);

/// Reads `name` as a required setting.
/// @throws std::runtime_error "LOKET_X is not set: <hint>" when unset or empty.
std::string env_required(const std::string& name, const std::string& hint);

/// Reads `name` as a non-negative integer, or `fallback` when unset.
/// @throws std::runtime_error when set but not a whole number.
std::int64_t env_int(const std::string& name, std::int64_t fallback);

/// Reads `name` as milliseconds (whole number), or `fallback` when unset.
/// @throws std::runtime_error when set but not a whole number.
std::chrono::milliseconds env_ms(const std::string& name, std::chrono::milliseconds fallback);

}  // namespace loket::core
