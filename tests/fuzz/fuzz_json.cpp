// core::parse_json on arbitrary bytes, both modes; a parsed document written back out.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "loket/core/json.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (bool utf8 : {false, true}) {
    rapidjson::Document d;
    if (!loket::core::parse_json(d, text, loket::core::JsonLimits{1 << 20, 64, utf8}).empty()) continue;
    rapidjson::StringBuffer sb;
    loket::core::JsonWriter w(sb);
    d.Accept(w);  // recursion bounded by the depth limit
    (void)loket::core::json_string(d, "a");
  }
  return 0;
}
