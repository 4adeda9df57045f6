#include "loket/store/macros.hpp"

namespace loket::store {
namespace {
constexpr const char* kColumns = "id, workspace_id, name, actions::text, rfc3339(created_at), rfc3339(updated_at)";

Macro from_row(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(),
          r[3].as<std::string>(), r[4].as<std::string>(), r[5].as<std::string>()};
}
}  // namespace

std::vector<Macro> list_macros(pqxx::transaction_base& tx, const std::string& ws) {
  std::vector<Macro> out;
  for (const auto& r : tx.exec_params(
           std::string("SELECT ") + kColumns + " FROM macros WHERE workspace_id = $1 ORDER BY lower(name) LIMIT 500",
           ws))
    out.push_back(from_row(r));
  return out;
}

std::optional<Macro> load_macro(pqxx::transaction_base& tx, const std::string& ws, const std::string& id) {
  auto rows =
      tx.exec_params(std::string("SELECT ") + kColumns + " FROM macros WHERE id = $1 AND workspace_id = $2", id, ws);
  if (rows.empty()) return std::nullopt;
  return from_row(rows[0]);
}

int count_macros(pqxx::transaction_base& tx, const std::string& ws) {
  return tx.exec_params1("SELECT count(*) FROM macros WHERE workspace_id = $1", ws)[0].as<int>();
}

void save_macro(pqxx::work& tx, Macro& m, bool is_new) {
  auto row = is_new ? tx.exec_params1(
                          "INSERT INTO macros (id, workspace_id, name, actions) VALUES ($1, $2, $3, "
                          "$4::jsonb) RETURNING rfc3339(created_at), rfc3339(updated_at)",
                          m.id, m.workspace_id, m.name, m.actions)
                    : tx.exec_params1(
                          "UPDATE macros SET name = $3, actions = $4::jsonb, updated_at = now() "
                          "WHERE id = $1 AND workspace_id = $2 "
                          "RETURNING rfc3339(created_at), rfc3339(updated_at)",
                          m.id, m.workspace_id, m.name, m.actions);
  m.created_at = row[0].as<std::string>();
  m.updated_at = row[1].as<std::string>();
}

bool delete_macro(pqxx::work& tx, const std::string& ws, const std::string& id) {
  return tx.exec_params0("DELETE FROM macros WHERE id = $1 AND workspace_id = $2", id, ws).affected_rows() > 0;
}

}  // namespace loket::store
