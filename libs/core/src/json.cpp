#include "loket/core/json.hpp"

#include <rapidjson/error/en.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

namespace loket::core {
namespace {
// Forwards SAX events to the document, refusing nesting deeper than `max`.
struct DepthLimited {
  rapidjson::Document& d;
  std::size_t max;
  std::size_t depth = 0;
  bool too_deep = false;

  bool open() {
    if (++depth <= max) return true;
    too_deep = true;
    return false;
  }
  bool Null() { return d.Null(); }
  bool Bool(bool b) { return d.Bool(b); }
  bool Int(int i) { return d.Int(i); }
  bool Uint(unsigned i) { return d.Uint(i); }
  bool Int64(std::int64_t i) { return d.Int64(i); }
  bool Uint64(std::uint64_t i) { return d.Uint64(i); }
  bool Double(double x) { return d.Double(x); }
  bool RawNumber(const char* s, rapidjson::SizeType n, bool copy) { return d.RawNumber(s, n, copy); }
  bool String(const char* s, rapidjson::SizeType n, bool copy) { return d.String(s, n, copy); }
  bool StartObject() { return open() && d.StartObject(); }
  bool Key(const char* s, rapidjson::SizeType n, bool copy) { return d.Key(s, n, copy); }
  bool EndObject(rapidjson::SizeType members) {
    --depth;
    return d.EndObject(members);
  }
  bool StartArray() { return open() && d.StartArray(); }
  bool EndArray(rapidjson::SizeType elements) {
    --depth;
    return d.EndArray(elements);
  }
};

template <unsigned Flags>
rapidjson::ParseResult parse(rapidjson::Document& d, std::string_view text, DepthLimited& handler) {
  rapidjson::ParseResult result;
  auto generate = [&](rapidjson::Document&) {
    rapidjson::MemoryStream in(text.data(), text.size());  // bytes as they are (a BOM is an error)
    rapidjson::Reader reader;
    result = reader.Parse<Flags | rapidjson::kParseIterativeFlag>(in, handler);
    return !result.IsError();
  };
  d.Populate(generate);
  return result;
}
}  // namespace

std::string parse_json(rapidjson::Document& d, std::string_view text, const JsonLimits& limits) {
  d.SetNull();
  if (text.size() > limits.max_bytes)
    return "JSON text of " + std::to_string(text.size()) + " bytes is over the limit of " +
           std::to_string(limits.max_bytes);
  DepthLimited handler{d, limits.max_depth};
  auto result = limits.validate_utf8 ? parse<rapidjson::kParseValidateEncodingFlag>(d, text, handler)
                                     : parse<rapidjson::kParseDefaultFlags>(d, text, handler);
  if (!result.IsError()) return "";
  d.SetNull();
  if (handler.too_deep) return "JSON nested deeper than " + std::to_string(limits.max_depth) + " levels";
  return std::string(rapidjson::GetParseError_En(result.Code())) + " at byte " + std::to_string(result.Offset());
}

}  // namespace loket::core
