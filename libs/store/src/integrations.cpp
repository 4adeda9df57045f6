#include "loket/core/json.hpp"
#include "loket/store/store.hpp"

namespace loket::store {

std::optional<Integration> find_integration(pqxx::transaction_base& tx, const std::string& id) {
  auto r = tx.exec_params(
      "SELECT id, workspace_id, provider, status, display_name, routing_key, credentials, "
      "coalesce(credentials_key_id, ''), webhook_secret_hash, coalesce(last_error, ''), "
      "rfc3339(created_at) "
      "FROM integrations WHERE id = $1",
      id);
  if (r.empty()) return std::nullopt;
  const auto& row = r[0];
  Integration i;
  i.id = row[0].as<std::string>();
  i.workspace_id = row[1].as<std::string>();
  i.provider = row[2].as<std::string>();
  i.status = row[3].as<std::string>();
  i.display_name = row[4].as<std::string>();
  i.routing_key = row[5].as<std::string>();
  if (!row[6].is_null()) {
    pqxx::binarystring b(row[6]);
    i.credentials = b.str();
  }
  i.credentials_key_id = row[7].as<std::string>();
  if (!row[8].is_null()) {
    pqxx::binarystring b(row[8]);
    i.webhook_secret_hash = b.str();
  }
  i.last_error = row[9].as<std::string>();
  i.created_at = row[10].as<std::string>();
  return i;
}

std::string integration_json(const Integration& i) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", i.id);
  core::json_kv(w, "provider", i.provider);
  core::json_kv(w, "status", i.status);
  core::json_kv(w, "displayName", i.display_name);
  core::json_kv_opt(w, "lastError", i.last_error.empty() ? std::nullopt : std::optional(i.last_error));
  core::json_kv(w, "createdAt", i.created_at);
  w.EndObject();
  return sb.GetString();
}

}  // namespace loket::store
