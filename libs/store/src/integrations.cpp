#include "loket/core/json.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {

namespace {
constexpr const char* kColumns =
    "SELECT id, workspace_id, provider, status, display_name, routing_key, credentials, "
    "coalesce(credentials_key_id, ''), webhook_secret_hash, coalesce(last_error, ''), "
    "rfc3339(created_at), coalesce(number, ''), rfc3339(connected_at) FROM integrations ";

Integration from_row(const pqxx::row& row) {
  Integration i;
  i.id = row[0].as<std::string>();
  i.workspace_id = row[1].as<std::string>();
  i.provider = row[2].as<std::string>();
  i.status = row[3].as<std::string>();
  i.display_name = row[4].as<std::string>();
  i.routing_key = row[5].as<std::string>();
  if (!row[6].is_null()) i.credentials = pqxx::binarystring(row[6]).str();
  i.credentials_key_id = row[7].as<std::string>();
  if (!row[8].is_null()) i.webhook_secret_hash = pqxx::binarystring(row[8]).str();
  i.last_error = row[9].as<std::string>();
  i.created_at = row[10].as<std::string>();
  i.number = row[11].as<std::string>();
  i.connected_at = row[12].as<std::string>();
  return i;
}

std::optional<Integration> first(const pqxx::result& r) {
  if (r.empty()) return std::nullopt;
  return from_row(r[0]);
}
}  // namespace

std::optional<Integration> find_integration(pqxx::transaction_base& tx, const std::string& id) {
  return first(tx.exec_params(std::string(kColumns) + "WHERE id = $1", id));
}

std::optional<Integration> find_live_integration(pqxx::transaction_base& tx, const std::string& provider,
                                                 const std::string& routing_key) {
  return first(
      tx.exec_params(std::string(kColumns) + "WHERE provider = $1 AND routing_key = $2 AND status <> 'disconnected'",
                     provider, routing_key));
}

std::optional<Integration> find_integration_by_secret(pqxx::transaction_base& tx, const std::string& provider,
                                                      const std::string& secret_hash) {
  return first(tx.exec_params(
      std::string(kColumns) + "WHERE provider = $1 AND webhook_secret_hash = $2 AND status <> 'disconnected'", provider,
      pqxx::binarystring(secret_hash)));
}

std::optional<Integration> latest_integration(pqxx::transaction_base& tx, const std::string& workspace_id,
                                              const std::vector<std::string>& providers) {
  if (providers.empty()) return std::nullopt;
  std::string list;
  for (const auto& p : providers) list += (list.empty() ? "" : ",") + tx.quote(p);
  return first(tx.exec_params(std::string(kColumns) + "WHERE workspace_id = $1 AND provider IN (" + list +
                                  ") AND status <> 'disconnected' ORDER BY connected_at DESC, id DESC LIMIT 1",
                              workspace_id));
}

std::vector<Integration> list_integrations(pqxx::transaction_base& tx, const std::string& workspace_id) {
  std::vector<Integration> out;
  for (const auto& row : tx.exec_params(
           std::string(kColumns) + "WHERE workspace_id = $1 AND status <> 'disconnected' ORDER BY created_at, id",
           workspace_id))
    out.push_back(from_row(row));
  return out;
}

void lock_integration_identity(pqxx::work& tx, const std::string& provider, const std::string& routing_key,
                               const std::string& number) {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "integration:" + provider + ":" + routing_key);
  if (!number.empty()) tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "number:" + number);
}

bool number_connected_elsewhere(pqxx::transaction_base& tx, const std::string& number,
                                const std::string& workspace_id) {
  return !tx.exec_params(
                "SELECT 1 FROM integrations WHERE number = $1 AND status <> 'disconnected' AND workspace_id <> $2",
                number, workspace_id)
              .empty();
}

namespace {
// Emits `integration.status_changed` for the row `r` (id, workspace_id, provider, display_name,
// status, last_error, previous status) when its status changed.
void emit_status_change(pqxx::work& tx, const pqxx::row& r) {
  auto previous = opt(r[6]);
  const auto status = r[4].as<std::string>();
  if (previous == status) return;
  const auto id = r[0].as<std::string>(), workspace = r[1].as<std::string>();
  emit_ticket_event(tx, workspace, id,
                    events::IntegrationStatusChanged{id, r[2].as<std::string>(), r[3].as<std::string>(), status,
                                                     previous, opt(r[5])});
}
constexpr const char* kChangedColumns =
    " RETURNING i.id, i.workspace_id, i.provider, i.display_name, i.status, "
    "i.last_error, o.status";
// The row's status before this statement (its row lock taken first).
constexpr const char* kBefore = " FROM (SELECT status FROM integrations WHERE id = $1 FOR UPDATE) o WHERE i.id = $1";
}  // namespace

void save_integration(pqxx::work& tx, const Integration& i, bool refresh) {
  pqxx::binarystring creds(i.credentials), hash(i.webhook_secret_hash);
  if (refresh)
    emit_status_change(
        tx, tx.exec_params1(std::string("UPDATE integrations i SET credentials = $2, credentials_key_id = $3, "
                                        "display_name = $4, webhook_secret_hash = $5, status = $6, "
                                        "number = nullif($7, ''), last_error = NULL, connected_at = now(), "
                                        "updated_at = now()") +
                                kBefore + kChangedColumns,
                            i.id, creds, i.credentials_key_id, i.display_name, hash, i.status, i.number));
  else
    emit_status_change(
        tx, tx.exec_params1("INSERT INTO integrations (id, workspace_id, provider, status, display_name, routing_key, "
                            "credentials, credentials_key_id, webhook_secret_hash, number) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, '')) "
                            "RETURNING id, workspace_id, provider, display_name, status, last_error, NULL::text",
                            i.id, i.workspace_id, i.provider, i.status, i.display_name, i.routing_key, creds,
                            i.credentials_key_id, hash, i.number));
}

void set_integration_status(pqxx::work& tx, const std::string& id, const std::string& status,
                            const std::string& last_error) {
  auto r = tx.exec_params(std::string("UPDATE integrations i SET status = $2, last_error = nullif($3, ''), "
                                      "updated_at = now()") +
                              kBefore + kChangedColumns,
                          id, status, last_error);
  if (!r.empty()) emit_status_change(tx, r[0]);
}

void disconnect_integration(pqxx::work& tx, const std::string& id) {
  auto r = tx.exec_params(std::string("UPDATE integrations i SET status = 'disconnected', credentials = NULL, "
                                      "webhook_secret_hash = NULL, updated_at = now()") +
                              kBefore + kChangedColumns,
                          id);
  if (!r.empty()) emit_status_change(tx, r[0]);
  // An API inbox's reply webhook is turned off with it (queued replies wait, as for any
  // disabled endpoint).
  tx.exec_params0(
      "UPDATE webhook_endpoints SET enabled = false, disabled_reason = 'its API channel was disconnected', "
      "updated_at = now() WHERE integration_id = $1",
      id);
}

namespace {
void rotate_table(pqxx::work& tx, const crypto::Keyring& keys, const std::string& table, Rotation& out) {
  const bool tickets = table == "tickets";
  const std::string blob_col = tickets ? "access_token" : "credentials", key_col = blob_col + "_key_id";
  auto rows = tx.exec("SELECT id, " + blob_col + ", coalesce(" + key_col + ", '') FROM " + table + " WHERE " +
                      blob_col + " IS NOT NULL ORDER BY id FOR UPDATE");
  for (const auto& row : rows) {
    auto id = row[0].as<std::string>();
    std::string blob = pqxx::binarystring(row[1]).str(), key_id = row[2].as<std::string>();
    std::string plain;
    try {
      plain = keys.decrypt(blob, key_id, id);
    } catch (const std::exception& e) {
      throw std::runtime_error(table + " row " + id + " (key " + key_id + ") does not decrypt: " + e.what() +
                               "; keep its key in LOKET_MASTER_KEY");
    }
    if (key_id != keys.active_key_id()) {
      tx.exec_params0("UPDATE " + table + " SET " + blob_col + " = $2, " + key_col + " = $3 WHERE id = $1", id,
                      pqxx::binarystring(keys.encrypt(plain, id)), keys.active_key_id());
      ++out.reencrypted;
    }
    ++out.verified;
  }
}
}  // namespace

Rotation rotate_credentials(pqxx::work& tx, const crypto::Keyring& keys) {
  Rotation out;
  // Integration credentials and requester access tokens: every value encrypted with the keyring.
  for (const char* table : {"integrations", "tickets"}) rotate_table(tx, keys, table, out);
  return out;
}

}  // namespace loket::store
