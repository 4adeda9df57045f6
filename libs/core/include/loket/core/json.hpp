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
