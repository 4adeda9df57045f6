#pragma once
#include <map>
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

/// Builds `a=1&b=2` from pairs, percent-encoding names and values.
std::string build_query(const std::vector<std::pair<std::string, std::string>>& pairs);

}  // namespace loket::http
