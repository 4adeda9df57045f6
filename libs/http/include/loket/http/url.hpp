#pragma once
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace loket::http {

/// Decodes %XX escapes (and '+' as space when `plus_as_space`); invalid escapes stay as-is.
std::string percent_decode(std::string_view s, bool plus_as_space = false);

/// Percent-encodes everything but RFC 3986 unreserved characters.
std::string percent_encode(std::string_view s);

/// Parses `a=1&b=2` (application/x-www-form-urlencoded) into decoded pairs, in order.
std::multimap<std::string, std::string> parse_query(std::string_view query);

/// The web origin (RFC 6454) `text` names, as a browser's Origin header writes it:
/// "https://shop.example" or "http://127.0.0.1:8080" — scheme and host lower-cased, a default
/// port left out, one trailing "/" allowed. std::nullopt for anything else: another scheme, a
/// user name, a path, a query or fragment, a missing host, more than 255 characters. Parsed by
/// libcurl's URL parser. Thread-safe.
std::optional<std::string> web_origin(std::string_view text);

/// Builds `a=1&b=2` from pairs, percent-encoding names and values.
std::string build_query(const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace loket::http
