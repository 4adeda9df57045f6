#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/store/store.hpp"

namespace loket::store {

std::string create_api_key(pqxx::work& tx, const std::string& workspace_id, const std::string& name) {
  std::string key = "sk_live_" + core::base64url(core::random_bytes(24));  // 192 bits
  pqxx::binarystring hash(crypto::sha256(key));
  tx.exec_params0(
      "INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash) VALUES ($1, $2, $3, $4, $5)",
      core::new_id("key"), workspace_id, name, key.substr(0, 12), hash);
  return key;
}

NewWorkspace create_workspace(pqxx::work& tx, const std::string& name) {
  NewWorkspace w;
  w.account_id = core::new_id("acc");
  tx.exec_params0("INSERT INTO workspaces (id, name) VALUES ($1, $2)", w.account_id, name);
  w.api_key = create_api_key(tx, w.account_id, "default");
  return w;
}

std::optional<std::string> workspace_for_api_key(pqxx::transaction_base& tx, const std::string& key) {
  if (key.rfind("sk_live_", 0) != 0) return std::nullopt;
  std::string digest = crypto::sha256(key);
  pqxx::binarystring hash(digest);
  auto r = tx.exec_params(
      "SELECT workspace_id, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL", hash);
  if (r.empty()) return std::nullopt;
  pqxx::binarystring stored(r[0][1]);
  if (!crypto::constant_time_equal(stored.str(), digest)) return std::nullopt;
  return r[0][0].as<std::string>();
}

bool workspace_exists(pqxx::transaction_base& tx, const std::string& id) {
  return !tx.exec_params("SELECT 1 FROM workspaces WHERE id = $1", id).empty();
}

}  // namespace loket::store
