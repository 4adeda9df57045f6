#pragma once
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace loket::core {

/// Returns `n` bytes from the operating system's CSPRNG (OpenSSL RAND_bytes).
/// @throws std::runtime_error when the generator fails. Thread-safe.
std::string random_bytes(std::size_t n);

/// Lower-case hex of `bytes` (2 characters per byte).
std::string to_hex(std::string_view bytes);

/// base64url without padding (RFC 4648 §5) of `bytes`; only `A-Z a-z 0-9 - _`.
std::string base64url(std::string_view bytes);

/// Standard base64 with '=' padding (RFC 4648 §4) of `bytes`.
std::string base64(std::string_view bytes);

/// The bytes of standard padded base64 `text` (OpenSSL EVP_DecodeBlock), or std::nullopt when
/// it is not: a length not a multiple of 4, a character outside the alphabet, misplaced '='.
std::optional<std::string> from_base64(std::string_view text);

/// A prefixed opaque id: `prefix` + `_` + 24 lower-case hex characters (96 random bits),
/// for example `acc_5f1e2d3c4b5a69788796a5b4`. Thread-safe.
std::string new_id(std::string_view prefix);

}  // namespace loket::core
