#pragma once
// Row-reading helpers shared by the store's .cpp files (not a public header).
#include <pqxx/pqxx>

#include <optional>
#include <string>

namespace loket::store {

/// The text of `f`, or nullopt for SQL NULL.
inline std::optional<std::string> opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

}  // namespace loket::store
