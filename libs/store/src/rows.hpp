#pragma once
// Row-reading helpers shared by the store's .cpp files (not a public header).
#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

#include "loket/core/json.hpp"

namespace loket::store {

/// The text of `f`, or nullopt for SQL NULL.
inline std::optional<std::string> opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

/// The parameter of a batch statement reading `jsonb_to_recordset($1::jsonb) AS r(<names>)`:
/// a JSON array with one object per row, value i under names[i] (nullopt → null). Rows must
/// have one value per name.
inline std::string json_records(const std::vector<const char*>& names,
                                const std::vector<std::vector<std::optional<std::string>>>& rows) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartArray();
  for (const auto& row : rows) {
    w.StartObject();
    for (std::size_t i = 0; i < names.size(); ++i) core::json_kv_opt(w, names[i], row[i]);
    w.EndObject();
  }
  w.EndArray();
  return sb.GetString();
}

}  // namespace loket::store
