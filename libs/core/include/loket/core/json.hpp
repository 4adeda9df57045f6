#pragma once
// Small helpers over RapidJSON (header-only) shared by every library that reads or writes JSON.
#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace loket::core {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

/// What parse_json accepts of untrusted bytes (DEVELOPERS.md: every parse has a size and depth
/// limit).
struct JsonLimits {
  std::size_t max_bytes = 1 << 20;  ///< longer text is refused unread
  std::size_t max_depth = 64;       ///< arrays and objects nested deeper are refused
  bool validate_utf8 = false;       ///< refuse ill-formed UTF-8 in strings (API bodies); webhooks
                                    ///< keep the bytes and the writer makes them storable
};

/// Parses JSON text `text` into `d` without recursion (RapidJSON's iterative parser), within
/// `limits`: so no input, however deep, can overflow the stack. Returns "" on success, otherwise
/// why the text was refused (too large, nested too deep, ill-formed UTF-8, or the syntax error
/// and its byte offset); `d` is then null. Thread-safe; does not throw (except std::bad_alloc).
std::string parse_json(rapidjson::Document& d, std::string_view text, const JsonLimits& limits = {});

/// The string member `key` of object `v`, or std::nullopt when absent or not a string.
inline std::optional<std::string> json_string(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return std::nullopt;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

/// The integer member `key` of object `v` (any integral JSON number), or std::nullopt.
inline std::optional<std::int64_t> json_int(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return std::nullopt;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

/// The member `key` of object `v`, or nullptr when absent.
inline const rapidjson::Value* json_member(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return nullptr;
  auto it = v.FindMember(key);
  return it == v.MemberEnd() ? nullptr : &it->value;
}

/// Writes `s` as a JSON string.
inline void json_put(JsonWriter& w, std::string_view s) {
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
}

/// Writes `key` and string `value`.
inline void json_kv(JsonWriter& w, std::string_view key, std::string_view value) {
  json_put(w, key);
  json_put(w, value);
}

/// Writes `key` and `value`, or null when `value` is empty.
inline void json_kv_opt(JsonWriter& w, std::string_view key, const std::optional<std::string>& value) {
  json_put(w, key);
  if (value)
    json_put(w, *value);
  else
    w.Null();
}

}  // namespace loket::core
