#include "loket/store/access.hpp"
#include "loket/core/text.hpp"

#include <algorithm>

#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {
namespace {
constexpr const char* kAgentColumns =
    "id, workspace_id, email, name, role, active, rfc3339(created_at), away, rfc3339(last_seen_at)";
constexpr int kAgentColumnCount = 9;

// A dummy hash verified for unknown emails so sign-in timing does not reveal them.
const std::string& dummy_hash() {
  static const std::string h = crypto::password_hash(core::base64url(core::random_bytes(16)));
  return h;
}

Agent agent_from_row(const pqxx::row& r) {
  Agent a;
  a.id = r[0].as<std::string>();
  a.workspace_id = r[1].as<std::string>();
  a.email = r[2].as<std::string>();
  a.name = r[3].as<std::string>();
  a.role = role_from_string(r[4].as<std::string>()).value_or(Role::kAgent);
  a.active = r[5].as<bool>();
  a.created_at = r[6].as<std::string>();
  a.away = r[7].as<bool>();
  if (!r[8].is_null()) a.last_seen_at = r[8].as<std::string>();
  return a;
}

}  // namespace

std::string to_string(Role r) {
  switch (r) {
    case Role::kOwner:
      return "owner";
    case Role::kAdmin:
      return "admin";
    default:
      return "agent";
  }
}

std::optional<Role> role_from_string(const std::string& s) {
  if (s == "owner") return Role::kOwner;
  if (s == "admin") return Role::kAdmin;
  if (s == "agent") return Role::kAgent;
  return std::nullopt;
}

std::optional<std::pair<Principal, RateWindow>> authenticate(pqxx::transaction_base& tx, const std::string& token,
                                                             int window_s) {
  if (token.empty() || token.size() > 200) return std::nullopt;
  std::string digest = crypto::sha256(token);
  pqxx::binarystring hash(digest);
  Principal p;
  pqxx::result r;
  if (token.rfind("sk_live_", 0) == 0) {
    prepare(tx, "auth_key",
            "WITH k AS (SELECT id, workspace_id, key_hash FROM api_keys "
            "           WHERE key_hash = $1 AND revoked_at IS NULL), "
            "u AS (UPDATE api_keys a SET last_used_at = now() FROM k WHERE a.id = k.id AND "
            "      (a.last_used_at IS NULL OR a.last_used_at < now() - interval '1 minute')) "
            "SELECT k.id, k.workspace_id, k.key_hash, w.hits, w.reset_s FROM k, "
            "LATERAL rate_limit_hit('key:' || k.id, $2) w");
    r = tx.exec_prepared("auth_key", hash, window_s);
    if (r.empty()) return std::nullopt;
    p.api_key_id = r[0][0].as<std::string>();
    p.workspace_id = r[0][1].as<std::string>();
    p.role = Role::kAdmin;
  } else {
    prepare(tx, "auth_session",
            "WITH s AS (SELECT s.id, s.workspace_id, s.token_hash, a.id AS agent_id, a.role, a.name "
            "           FROM sessions s JOIN agents a ON a.id = s.agent_id "
            "           WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now() "
            "           AND a.active), "
            // Presence for auto-assignment (issue 20): seen now, written at most every 30 s.
            "u AS (UPDATE agents a SET last_seen_at = now() FROM s WHERE a.id = s.agent_id AND "
            "      (a.last_seen_at IS NULL OR a.last_seen_at < now() - interval '30 seconds')) "
            "SELECT s.id, s.workspace_id, s.token_hash, w.hits, w.reset_s, s.agent_id, s.role, s.name "
            "FROM s, LATERAL rate_limit_hit('agent:' || s.agent_id, $2) w");
    r = tx.exec_prepared("auth_session", hash, window_s);
    if (r.empty()) return std::nullopt;
    p.session_id = r[0][0].as<std::string>();
    p.workspace_id = r[0][1].as<std::string>();
    p.agent_id = r[0][5].as<std::string>();
    p.role = role_from_string(r[0][6].as<std::string>()).value_or(Role::kAgent);
    p.agent_name = r[0][7].as<std::string>();
  }
  if (!crypto::constant_time_equal(pqxx::binarystring(r[0][2]).str(), digest)) return std::nullopt;
  return std::make_pair(p, RateWindow{r[0][3].as<int>(), r[0][4].as<int>()});
}

RateWindow rate_limit_hit(pqxx::transaction_base& tx, const std::string& bucket, int window_s) {
  prepare(tx, "rate_hit", "SELECT hits, reset_s FROM rate_limit_hit($1, $2)");
  auto r = tx.exec_prepared1("rate_hit", bucket, window_s);
  return {r[0].as<int>(), r[1].as<int>()};
}

void rate_limit_refund(pqxx::transaction_base& tx, const std::string& bucket, int window_s) {
  tx.exec_params0(
      "UPDATE rate_limits SET hits = greatest(hits - 1, 0) WHERE bucket = $1 AND window_start = "
      "floor(extract(epoch FROM clock_timestamp()))::bigint / $2 * $2",
      bucket, window_s);
}

Agent create_agent(pqxx::work& tx, const std::string& workspace_id, const std::string& email, const std::string& name,
                   Role role, const std::string& password) {
  std::string hash = crypto::password_hash(password);
  auto r = tx.exec_params(std::string("INSERT INTO agents (id, workspace_id, email, name, role, password_hash) "
                                      "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (email) DO NOTHING RETURNING ") +
                              kAgentColumns,
                          core::new_id("agt"), workspace_id, core::to_lower(email), name, to_string(role), hash);
  if (r.empty()) throw Conflict("an agent with email " + core::to_lower(email) + " already exists");
  // A new agent works in the default inbox, as every agent did before inboxes (issue 20); an
  // admin narrows that through the inbox's members.
  tx.exec_params0(
      "INSERT INTO inbox_agents (inbox_id, agent_id) SELECT id, $2 FROM inboxes WHERE workspace_id = $1 AND is_default",
      workspace_id, r[0][0].as<std::string>());
  return agent_from_row(r[0]);
}

void set_away(pqxx::work& tx, const std::string& id, bool away) {
  tx.exec_params0("UPDATE agents SET away = $2, updated_at = now() WHERE id = $1", id, away);
}

void mark_agents_seen(pqxx::work& tx, const std::vector<std::string>& agent_ids) {
  if (agent_ids.empty()) return;
  std::string list;
  for (const auto& id : agent_ids) list += (list.empty() ? "" : ",") + id;
  tx.exec_params0(
      "UPDATE agents SET last_seen_at = now() WHERE id = ANY(string_to_array($1, ',')) AND "
      "(last_seen_at IS NULL OR last_seen_at < now() - interval '30 seconds')",
      list);
}

std::vector<Agent> list_agents(pqxx::transaction_base& tx, const std::string& workspace_id) {
  auto r = tx.exec_params(
      std::string("SELECT ") + kAgentColumns + " FROM agents WHERE workspace_id = $1 ORDER BY created_at, id",
      workspace_id);
  std::vector<Agent> out;
  for (const auto& row : r) out.push_back(agent_from_row(row));
  return out;
}

std::optional<Agent> load_agent(pqxx::transaction_base& tx, const std::string& workspace_id, const std::string& id) {
  auto r = tx.exec_params(std::string("SELECT ") + kAgentColumns + " FROM agents WHERE workspace_id = $1 AND id = $2",
                          workspace_id, id);
  if (r.empty()) return std::nullopt;
  return agent_from_row(r[0]);
}

Agent update_agent(pqxx::work& tx, const Agent& a, const std::optional<std::string>& name, std::optional<Role> role,
                   std::optional<bool> active) {
  std::optional<std::string> role_s;
  if (role) role_s = to_string(*role);
  auto r = tx.exec_params1(std::string("UPDATE agents SET name = coalesce($2, name), role = coalesce($3, role), "
                                       "active = coalesce($4, active), updated_at = now() WHERE id = $1 RETURNING ") +
                               kAgentColumns,
                           a.id, name, role_s, active);
  if (active && !*active)
    tx.exec_params0("UPDATE sessions SET revoked_at = now() WHERE agent_id = $1 AND revoked_at IS NULL", a.id);
  return agent_from_row(r);
}

std::set<std::string> valid_credentials(pqxx::transaction_base& tx, const std::vector<std::string>& session_ids,
                                        const std::vector<std::string>& api_key_ids) {
  auto list = [](const std::vector<std::string>& ids) {
    std::string out;
    for (const auto& id : ids) out += (out.empty() ? "" : ",") + id;
    return out;
  };
  std::set<std::string> valid;
  for (const auto& row :
       tx.exec_params("SELECT s.id FROM sessions s JOIN agents a ON a.id = s.agent_id WHERE "
                      "s.id = ANY(string_to_array($1, ',')) AND s.revoked_at IS NULL AND s.expires_at > now() "
                      "AND a.active UNION ALL SELECT id FROM api_keys WHERE id = ANY(string_to_array($2, ',')) "
                      "AND revoked_at IS NULL",
                      list(session_ids), list(api_key_ids)))
    valid.insert(row[0].as<std::string>());
  return valid;
}

void lock_agents(pqxx::work& tx, const std::string& workspace_id) {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 11))", workspace_id);
}

int active_owners(pqxx::transaction_base& tx, const std::string& workspace_id) {
  return tx
      .exec_params1("SELECT count(*) FROM agents WHERE workspace_id = $1 AND role = 'owner' AND active",
                    workspace_id)[0]
      .as<int>();
}

std::optional<Agent> check_password(pqxx::transaction_base& tx, const std::string& email, const std::string& password) {
  auto r = tx.exec_params(std::string("SELECT ") + kAgentColumns + ", password_hash FROM agents WHERE email = $1",
                          core::to_lower(email));
  if (r.empty()) {
    crypto::password_verify(dummy_hash(), password);
    return std::nullopt;
  }
  if (!crypto::password_verify(r[0][kAgentColumnCount].as<std::string>(), password)) return std::nullopt;
  Agent a = agent_from_row(r[0]);
  if (!a.active) return std::nullopt;
  return a;
}

void set_password(pqxx::work& tx, const std::string& agent_id, const std::string& password) {
  tx.exec_params0("UPDATE agents SET password_hash = $2, updated_at = now() WHERE id = $1", agent_id,
                  crypto::password_hash(password));
  tx.exec_params0("UPDATE sessions SET revoked_at = now() WHERE agent_id = $1 AND revoked_at IS NULL", agent_id);
}

NewSession create_session(pqxx::work& tx, const Agent& agent, std::chrono::seconds ttl) {
  NewSession s;
  s.token = "lks_" + core::base64url(core::random_bytes(32));
  pqxx::binarystring hash(crypto::sha256(s.token));
  auto r = tx.exec_params1(
      "INSERT INTO sessions (id, workspace_id, agent_id, token_hash, expires_at) "
      "VALUES ($1, $2, $3, $4, now() + $5 * interval '1 second') RETURNING rfc3339(expires_at)",
      core::new_id("ses"), agent.workspace_id, agent.id, hash, static_cast<std::int64_t>(ttl.count()));
  s.expires_at = r[0].as<std::string>();
  return s;
}

void revoke_session(pqxx::work& tx, const std::string& session_id) {
  tx.exec_params0("UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL", session_id);
}

NewApiKey create_api_key(pqxx::work& tx, const std::string& workspace_id, const std::string& name,
                         const std::optional<std::string>& created_by) {
  NewApiKey k;
  k.key = "sk_live_" + core::base64url(core::random_bytes(24));  // 192 bits
  k.meta = {core::new_id("key"), name, k.key.substr(0, 12), "", created_by, std::nullopt, std::nullopt};
  auto r = tx.exec_params1(
      "INSERT INTO api_keys (id, workspace_id, name, prefix, key_hash, created_by) "
      "VALUES ($1, $2, $3, $4, $5, $6) RETURNING rfc3339(created_at)",
      k.meta.id, workspace_id, name, k.meta.prefix, pqxx::binarystring(crypto::sha256(k.key)), created_by);
  k.meta.created_at = r[0].as<std::string>();
  return k;
}

std::vector<ApiKey> list_api_keys(pqxx::transaction_base& tx, const std::string& workspace_id) {
  auto r = tx.exec_params(
      "SELECT id, name, prefix, rfc3339(created_at), created_by, rfc3339(last_used_at), "
      "rfc3339(revoked_at) FROM api_keys WHERE workspace_id = $1 ORDER BY created_at DESC, id",
      workspace_id);
  std::vector<ApiKey> out;
  for (const auto& row : r)
    out.push_back({row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(),
                   row[3].as<std::string>(), opt(row[4]), opt(row[5]), opt(row[6])});
  return out;
}

bool revoke_api_key(pqxx::work& tx, const std::string& workspace_id, const std::string& id) {
  auto r = tx.exec_params(
      "UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE workspace_id = $1 AND "
      "id = $2 RETURNING id",
      workspace_id, id);
  return !r.empty();
}

IdempotencyClaim claim_idempotency_key(pqxx::work& tx, const std::string& workspace_id, const std::string& key,
                                       const std::string& request_hash) {
  pqxx::binarystring hash(request_hash);
  tx.exec0("DELETE FROM idempotency_keys WHERE created_at < now() - interval '24 hours'");
  auto ins = tx.exec_params(
      "INSERT INTO idempotency_keys (workspace_id, key, request_hash) VALUES ($1, $2, $3) "
      "ON CONFLICT DO NOTHING RETURNING 1",
      workspace_id, key, hash);
  IdempotencyClaim c;
  if (!ins.empty()) return c;
  auto r = tx.exec_params1(
      "SELECT request_hash, status, response, coalesce(response_key_id, '') FROM idempotency_keys "
      "WHERE workspace_id = $1 AND key = $2",
      workspace_id, key);
  if (!crypto::constant_time_equal(pqxx::binarystring(r[0]).str(), request_hash)) {
    c.state = IdempotencyClaim::State::kMismatch;
  } else if (r[1].is_null()) {
    c.state = IdempotencyClaim::State::kInProgress;
  } else {
    c.state = IdempotencyClaim::State::kReplay;
    c.status = r[1].as<int>();
    c.response = r[2].is_null() ? "" : pqxx::binarystring(r[2]).str();
    c.response_key_id = r[3].as<std::string>();
  }
  return c;
}

void finish_idempotency_key(pqxx::work& tx, const std::string& workspace_id, const std::string& key, int status,
                            const std::string& response, const std::string& key_id) {
  tx.exec_params0(
      "UPDATE idempotency_keys SET status = $3, response = $4, response_key_id = $5 "
      "WHERE workspace_id = $1 AND key = $2",
      workspace_id, key, status, pqxx::binarystring(response), key_id);
}

void release_idempotency_key(pqxx::work& tx, const std::string& workspace_id, const std::string& key) {
  tx.exec_params0("DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2", workspace_id, key);
}

}  // namespace loket::store
