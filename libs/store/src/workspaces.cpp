#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/store/access.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {

NewWorkspace create_workspace(pqxx::work& tx, const std::string& name) {
  NewWorkspace w;
  w.account_id = core::new_id("acc");
  tx.exec_params0("INSERT INTO workspaces (id, name) VALUES ($1, $2)", w.account_id, name);
  w.api_key = create_api_key(tx, w.account_id, "default").key;
  return w;
}

bool workspace_exists(pqxx::transaction_base& tx, const std::string& id) {
  return !tx.exec_params("SELECT 1 FROM workspaces WHERE id = $1", id).empty();
}

std::optional<Workspace> load_workspace(pqxx::transaction_base& tx, const std::string& id) {
  auto r = tx.exec_params("SELECT id, name, rfc3339(created_at), auto_reply FROM workspaces WHERE id = $1", id);
  if (r.empty()) return std::nullopt;
  return Workspace{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>(), opt(r[0][3])};
}

void update_workspace(pqxx::work& tx, const std::string& id, const std::optional<std::string>& name,
                      const std::optional<std::string>& auto_reply) {
  if (name) tx.exec_params0("UPDATE workspaces SET name = $2 WHERE id = $1", id, *name);
  if (auto_reply) tx.exec_params0("UPDATE workspaces SET auto_reply = nullif($2, '') WHERE id = $1", id, *auto_reply);
}

}  // namespace loket::store
