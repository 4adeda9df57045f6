#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace loket::core {

/// Number of Unicode code points in the UTF-8 string `s` (invalid bytes count as one each).
std::size_t utf8_length(std::string_view s);

/// The first `max_chars` code points of UTF-8 `s`; never splits a multi-byte sequence.
std::string utf8_truncate(std::string_view s, std::size_t max_chars);

/// `s` made storable as PostgreSQL text: NUL bytes removed, and each byte that does not
/// belong to a well-formed UTF-8 sequence (RFC 3629: no overlongs, surrogates or code points
/// past U+10FFFF) replaced by U+FFFD. Valid text without NUL comes back unchanged. Pure.
std::string storable_text(std::string_view s);

/// Whether `s` is well-formed UTF-8 without NUL bytes (storable_text(s) == s).
bool is_storable_text(std::string_view s);

/// `s` without leading and trailing ASCII white space.
std::string trim(std::string_view s);

/// `s` with ASCII letters in lower case (other bytes, UTF-8 included, unchanged).
std::string to_lower(std::string_view s);

/// The non-empty pieces of `s` between `sep` characters, in order ("a,,b," → {"a","b"}).
std::vector<std::string> split(std::string_view s, char sep);

/// `s` with every occurrence of `from` (non-empty) replaced by `to`, left to right; replaced
/// text is not searched again.
std::string replace_all(std::string s, std::string_view from, std::string_view to);

/// `s` safe as HTML text and inside a double- or single-quoted attribute: & < > " ' written as
/// character references. Pure.
std::string html_escape(std::string_view s);

/// Whether `s` is a phone number in E.164 form: '+', a non-zero digit, 7–15 digits in all
/// (ITU-T E.164), e.g. "+6281234567890".
bool is_e164(std::string_view s);

}  // namespace loket::core
