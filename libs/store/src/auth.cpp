#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/store/store.hpp"

namespace loket::store {

NewApiKey create_api_key(pqxx::work& tx, const std::string& workspace_id, const std::string& name,
                           const std::optional<std::string>& created_by) {
  std::string key = "sk_live_" + core::base64url(core::random_bytes(24));  // 192 bits
  pqxx::binarystring hash(crypto::sha256(key));
  std::string id = core::new_id("key");
  tx.exec_params0(
      "INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, created_by) "
      "VALUES ($1, $2, $3, $4, $5, $6)",
      id, workspace_id, name, key.substr(0, 12), hash, created_by);
  return {id, key};
}

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
