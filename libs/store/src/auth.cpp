#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/store/access.hpp"
#include "loket/store/store.hpp"

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

}  // namespace loket::store
