// Email messages (GMime, then libxml2 for HTML bodies) on arbitrary bytes: every field read,
// the HTML converted whether or not the mail has a text part.
#include <cstddef>
#include <cstdint>
#include <string>

#include "loket/mime/email.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  try {
    auto m = loket::mime::parse_email(input);
    (void)loket::mime::html_to_text(m.html);
  } catch (const loket::mime::EmailError&) {
  }
  (void)loket::mime::html_to_text(input);
  return 0;
}
