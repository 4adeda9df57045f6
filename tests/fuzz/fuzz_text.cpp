// The small parsers of untrusted text: query strings and percent-encoding, the search query's
// tsquery form, RFC 3339 times, storable text, and the SSRF guard's URL check.
#include <cstddef>
#include <cstdint>
#include <string>

#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/http/ssrf.hpp"
#include "loket/http/url.hpp"
#include "loket/store/search.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string s(reinterpret_cast<const char*>(data), size);
  (void)loket::http::parse_query(s);
  (void)loket::http::percent_decode(s, true);
  (void)loket::core::parse_rfc3339_ms(s);
  if (!loket::core::is_storable_text(loket::core::storable_text(s))) __builtin_trap();
  (void)loket::core::utf8_truncate(s, 120);
  try {
    (void)loket::store::word_condition(s);
  } catch (const std::invalid_argument&) {
  }
  static const loket::http::Resolver public_dns = [](const std::string&) {
    return std::vector<std::string>{"93.184.216.34"};
  };
  try {
    (void)loket::http::check_url(s, loket::http::SsrfPolicy{}, public_dns);
  } catch (const loket::http::SsrfRefused&) {
  }
  return 0;
}
