#include <regex>

#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/access.hpp"
#include "loket/store/inboxes.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {

std::vector<PlatformIntegration> platform_integrations(const providers::Registry& registry) {
  std::vector<PlatformIntegration> out;
  for (const auto* d : registry.platform()) out.push_back({d->name, d->label});
  return out;
}

NewWorkspace create_workspace(pqxx::work& tx, const std::string& name,
                              const std::vector<PlatformIntegration>& platform) {
  NewWorkspace w;
  w.account_id = core::new_id("acc");
  tx.exec_params0("INSERT INTO workspaces (id, name) VALUES ($1, $2)", w.account_id, name);
  create_default_inbox(tx, w.account_id);
  w.api_key = create_api_key(tx, w.account_id, "default").key;
  add_platform_integrations(tx, platform, w.account_id);
  return w;
}

int add_platform_integrations(pqxx::work& tx, const std::vector<PlatformIntegration>& platform,
                              const std::string& workspace_id) {
  int added = 0;
  for (const auto& p : platform)
    added += static_cast<int>(
        tx.exec_params(
              "INSERT INTO integrations (id, workspace_id, provider, status, display_name, routing_key) "
              "SELECT 'int_' || substr(md5(random()::text || w.id || clock_timestamp()::text), 1, 24), w.id, $1, "
              "'active', $2, w.id FROM workspaces w WHERE ($3 = '' OR w.id = $3) AND NOT EXISTS (SELECT 1 FROM "
              "integrations i WHERE i.workspace_id = w.id AND i.provider = $1 AND i.status <> 'disconnected')",
              p.provider, p.display_name, workspace_id)
            .affected_rows());
  return added;
}

bool workspace_exists(pqxx::transaction_base& tx, const std::string& id) {
  return !tx.exec_params("SELECT 1 FROM workspaces WHERE id = $1", id).empty();
}

std::optional<Workspace> load_workspace(pqxx::transaction_base& tx, const std::string& id) {
  auto r = tx.exec_params(
      "SELECT id, name, rfc3339(created_at), auto_reply, require_signed_webhooks, time_zone FROM workspaces WHERE "
      "id = $1",
      id);
  if (r.empty()) return std::nullopt;
  return Workspace{r[0][0].as<std::string>(), r[0][1].as<std::string>(), r[0][2].as<std::string>(), opt(r[0][3]),
                   r[0][4].as<bool>(),        r[0][5].as<std::string>()};
}

bool is_time_zone(pqxx::dbtransaction& tx, const std::string& name) {
  static const std::regex zone_re("[A-Za-z][A-Za-z0-9_+/-]{0,63}");
  if (!std::regex_match(name, zone_re) || name.find("..") != std::string::npos) return false;
  try {
    pqxx::subtransaction check(tx, "time_zone");
    check.exec_params("SELECT now() AT TIME ZONE $1", name);
    check.commit();
    return true;
  } catch (const pqxx::data_exception&) {
    return false;
  }
}

void update_workspace(pqxx::work& tx, const std::string& id, const WorkspaceChange& change) {
  if (change.name) tx.exec_params0("UPDATE workspaces SET name = $2 WHERE id = $1", id, *change.name);
  if (change.auto_reply)
    tx.exec_params0("UPDATE workspaces SET auto_reply = nullif($2, '') WHERE id = $1", id, *change.auto_reply);
  if (change.require_signed_webhooks)
    tx.exec_params0("UPDATE workspaces SET require_signed_webhooks = $2 WHERE id = $1", id,
                    *change.require_signed_webhooks);
  // The writers recount its report rollup in the new zone (store::rebuild_stale_report_rollup).
  if (change.time_zone) tx.exec_params0("UPDATE workspaces SET time_zone = $2 WHERE id = $1", id, *change.time_zone);
}

void lock_webhook_policy(pqxx::work& tx, const std::string& workspace_id) {
  // An advisory lock, not the row: ticket numbering updates the workspace row on every new ticket.
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "webhook-policy:" + workspace_id);
}

}  // namespace loket::store
