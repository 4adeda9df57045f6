// multipart/form-data uploads (GMime) on arbitrary bytes: the first line is the Content-Type.
#include <cstddef>
#include <cstdint>
#include <string>

#include "loket/mime/form_data.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto nl = input.find('\n');
  const std::string type = nl == std::string::npos ? "multipart/form-data; boundary=XyZ" : input.substr(0, nl);
  try {
    (void)loket::mime::parse_form_data(type, nl == std::string::npos ? input : input.substr(nl + 1));
  } catch (const loket::mime::FormDataError&) {
  }
  return 0;
}
