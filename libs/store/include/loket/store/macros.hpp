#pragma once
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

/// Macros (issue 20): named lists of ticket actions, stored as the api validated them
/// (services/api/src/macros.cpp reads and applies them).
namespace loket::store {

/// One macro; `actions` is its JSON array text.
struct Macro {
  std::string id, workspace_id, name, actions, created_at, updated_at;
};

/// The macros of workspace `ws` by name (case-insensitive), at most 500.
std::vector<Macro> list_macros(pqxx::transaction_base& tx, const std::string& ws);
/// Macro `id` of workspace `ws`.
std::optional<Macro> load_macro(pqxx::transaction_base& tx, const std::string& ws, const std::string& id);
/// How many macros workspace `ws` has.
int count_macros(pqxx::transaction_base& tx, const std::string& ws);
/// Inserts `m` (`is_new`) or updates its name and actions; fills the timestamps.
/// @throws pqxx::unique_violation when the workspace has a macro of that name.
void save_macro(pqxx::work& tx, Macro& m, bool is_new);
/// Deletes macro `id` of workspace `ws`; whether it existed.
bool delete_macro(pqxx::work& tx, const std::string& ws, const std::string& id);

}  // namespace loket::store
