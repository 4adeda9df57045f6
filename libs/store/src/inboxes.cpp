// Inboxes, teams and the access rule (issue 20; migration 0024).
#include "loket/store/inboxes.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "rows.hpp"

namespace loket::store {
namespace {
// A JSON array of `ids`, for jsonb_array_elements_text($n::jsonb).
std::string json_ids(const std::vector<std::string>& ids) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartArray();
  for (const auto& id : ids) w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  w.EndArray();
  return sb.GetString();
}

// The sorted ids of a `string_agg(…, ',' ORDER BY …)` column (NULL = none; ids hold no commas).
std::vector<std::string> ids_of(const pqxx::field& f) {
  return f.is_null() ? std::vector<std::string>{} : core::split(f.as<std::string>(), ',');
}

// Every id of `ids` is a row of `table` in workspace `ws` matching `extra`, or UnknownMember.
void check_members(pqxx::work& tx, const std::string& ws, const std::vector<std::string>& ids, const char* table,
                   const char* extra, const char* what) {
  if (ids.empty()) return;
  auto r = tx.exec_params(std::string("SELECT x FROM jsonb_array_elements_text($2::jsonb) x WHERE x NOT IN "
                                      "(SELECT id FROM ") +
                              table + " WHERE workspace_id = $1" + extra + ") LIMIT 1",
                          ws, json_ids(ids));
  if (!r.empty()) throw UnknownMember(r[0][0].as<std::string>() + " is not " + what + " of this workspace");
}

constexpr const char* kInboxColumns =
    "i.id, i.workspace_id, i.name, i.is_default, rfc3339(i.created_at), rfc3339(i.updated_at), "
    "(SELECT string_agg(agent_id, ',' ORDER BY agent_id) FROM inbox_agents WHERE inbox_id = i.id), "
    "(SELECT string_agg(team_id, ',' ORDER BY team_id) FROM inbox_teams WHERE inbox_id = i.id), "
    "(SELECT string_agg(g.id, ',' ORDER BY g.id) FROM integrations g WHERE g.workspace_id = i.workspace_id "
    "AND g.status <> 'disconnected' AND (g.inbox_id = i.id OR (g.inbox_id IS NULL AND i.is_default))), "
    "i.auto_assignment, i.assignment_capacity, i.online_window_s, i.reassign_after_s, i.business_hours";

Inbox inbox_from_row(const pqxx::row& r) {
  Inbox i;
  i.id = r[0].as<std::string>();
  i.workspace_id = r[1].as<std::string>();
  i.name = r[2].as<std::string>();
  i.is_default = r[3].as<bool>();
  i.created_at = r[4].as<std::string>();
  i.updated_at = r[5].as<std::string>();
  i.agent_ids = ids_of(r[6]);
  i.team_ids = ids_of(r[7]);
  i.integration_ids = ids_of(r[8]);
  i.auto_assignment = r[9].as<std::string>();
  if (!r[10].is_null()) i.capacity = r[10].as<int>();
  i.online_window_s = r[11].as<int>();
  if (!r[12].is_null()) i.reassign_after_s = r[12].as<int>();
  i.business_hours = opt(r[13]);
  return i;
}

constexpr const char* kTeamColumns =
    "t.id, t.workspace_id, t.name, t.description, rfc3339(t.created_at), rfc3339(t.updated_at), "
    "(SELECT string_agg(agent_id, ',' ORDER BY agent_id) FROM team_members WHERE team_id = t.id)";

Team team_from_row(const pqxx::row& r) {
  return {r[0].as<std::string>(),
          r[1].as<std::string>(),
          r[2].as<std::string>(),
          r[3].as<std::string>(),
          r[4].as<std::string>(),
          r[5].as<std::string>(),
          ids_of(r[6])};
}
}  // namespace

std::vector<Inbox> list_inboxes(pqxx::transaction_base& tx, const std::string& ws,
                                const std::optional<std::string>& member) {
  std::vector<Inbox> out;
  for (const auto& r : tx.exec_params(
           std::string("SELECT ") + kInboxColumns +
               " FROM inboxes i WHERE i.workspace_id = $1 AND ($2::text IS NULL OR i.id IN "
               "(SELECT inbox_id FROM inbox_access WHERE agent_id = $2)) ORDER BY i.is_default DESC, lower(i.name) "
               "LIMIT 1000",
           ws, member))
    out.push_back(inbox_from_row(r));
  return out;
}

std::optional<Inbox> load_inbox(pqxx::transaction_base& tx, const std::string& ws, const std::string& id) {
  auto r = tx.exec_params(
      std::string("SELECT ") + kInboxColumns + " FROM inboxes i WHERE i.id = $1 AND i.workspace_id = $2", id, ws);
  if (r.empty()) return std::nullopt;
  return inbox_from_row(r[0]);
}

int count_inboxes(pqxx::transaction_base& tx, const std::string& ws) {
  return tx.exec_params1("SELECT count(*) FROM inboxes WHERE workspace_id = $1", ws)[0].as<int>();
}

void create_default_inbox(pqxx::work& tx, const std::string& ws) {
  tx.exec_params0("INSERT INTO inboxes (id, workspace_id, name, is_default) VALUES ($1, $2, 'General', true)",
                  core::new_id("ibx"), ws);
}

void save_inbox(pqxx::work& tx, Inbox& i, bool is_new) {
  if (is_new)
    tx.exec_params0("INSERT INTO inboxes (id, workspace_id, name) VALUES ($1, $2, $3)", i.id, i.workspace_id, i.name);
  auto row = tx.exec_params1(
      "UPDATE inboxes SET name = $3, auto_assignment = $4, assignment_capacity = $5, online_window_s = $6, "
      "reassign_after_s = $7, business_hours = $8, updated_at = now() WHERE id = $1 AND workspace_id = $2 "
      "RETURNING rfc3339(created_at), rfc3339(updated_at)",
      i.id, i.workspace_id, i.name, i.auto_assignment, i.capacity, i.online_window_s, i.reassign_after_s,
      i.business_hours);
  i.created_at = row[0].as<std::string>();
  i.updated_at = row[1].as<std::string>();
}

void set_inbox_members(pqxx::work& tx, const Inbox& i, bool integrations) {
  check_members(tx, i.workspace_id, i.agent_ids, "agents", " AND active", "an active agent");
  check_members(tx, i.workspace_id, i.team_ids, "teams", "", "a team");
  tx.exec_params0("DELETE FROM inbox_agents WHERE inbox_id = $1", i.id);
  tx.exec_params0(
      "INSERT INTO inbox_agents (inbox_id, agent_id) SELECT $1, x FROM jsonb_array_elements_text($2::jsonb) x", i.id,
      json_ids(i.agent_ids));
  tx.exec_params0("DELETE FROM inbox_teams WHERE inbox_id = $1", i.id);
  tx.exec_params0(
      "INSERT INTO inbox_teams (inbox_id, team_id) SELECT $1, x FROM jsonb_array_elements_text($2::jsonb) x", i.id,
      json_ids(i.team_ids));
  if (!integrations) return;
  check_members(tx, i.workspace_id, i.integration_ids, "integrations", " AND status <> 'disconnected'",
                "a connected integration");
  // The default inbox is where integrations without an inbox deliver: NULL keeps that true
  // when another inbox is deleted.
  const std::optional<std::string> target = i.is_default ? std::nullopt : std::optional<std::string>(i.id);
  tx.exec_params0(
      "UPDATE integrations SET inbox_id = NULL WHERE workspace_id = $1 AND inbox_id = $2 AND id NOT IN "
      "(SELECT jsonb_array_elements_text($3::jsonb))",
      i.workspace_id, i.id, json_ids(i.integration_ids));
  tx.exec_params0(
      "UPDATE integrations SET inbox_id = $2 WHERE workspace_id = $1 AND id IN "
      "(SELECT jsonb_array_elements_text($3::jsonb)) AND inbox_id IS DISTINCT FROM $2",
      i.workspace_id, target, json_ids(i.integration_ids));
}

bool delete_inbox(pqxx::work& tx, const std::string& ws, const std::string& id) {
  return tx.exec_params0("DELETE FROM inboxes WHERE id = $1 AND workspace_id = $2 AND NOT is_default", id, ws)
             .affected_rows() > 0;
}

std::vector<Team> list_teams(pqxx::transaction_base& tx, const std::string& ws) {
  std::vector<Team> out;
  for (const auto& r : tx.exec_params(std::string("SELECT ") + kTeamColumns +
                                          " FROM teams t WHERE t.workspace_id = $1 ORDER BY lower(t.name) LIMIT 1000",
                                      ws))
    out.push_back(team_from_row(r));
  return out;
}

std::optional<Team> load_team(pqxx::transaction_base& tx, const std::string& ws, const std::string& id) {
  auto r = tx.exec_params(
      std::string("SELECT ") + kTeamColumns + " FROM teams t WHERE t.id = $1 AND t.workspace_id = $2", id, ws);
  if (r.empty()) return std::nullopt;
  return team_from_row(r[0]);
}

int count_teams(pqxx::transaction_base& tx, const std::string& ws) {
  return tx.exec_params1("SELECT count(*) FROM teams WHERE workspace_id = $1", ws)[0].as<int>();
}

void save_team(pqxx::work& tx, Team& t, bool is_new) {
  check_members(tx, t.workspace_id, t.agent_ids, "agents", " AND active", "an active agent");
  auto row = is_new ? tx.exec_params1(
                          "INSERT INTO teams (id, workspace_id, name, description) VALUES ($1, $2, $3, $4) "
                          "RETURNING rfc3339(created_at), rfc3339(updated_at)",
                          t.id, t.workspace_id, t.name, t.description)
                    : tx.exec_params1(
                          "UPDATE teams SET name = $3, description = $4, updated_at = now() "
                          "WHERE id = $1 AND workspace_id = $2 RETURNING rfc3339(created_at), rfc3339(updated_at)",
                          t.id, t.workspace_id, t.name, t.description);
  t.created_at = row[0].as<std::string>();
  t.updated_at = row[1].as<std::string>();
  tx.exec_params0("DELETE FROM team_members WHERE team_id = $1", t.id);
  tx.exec_params0(
      "INSERT INTO team_members (team_id, agent_id) SELECT $1, x FROM jsonb_array_elements_text($2::jsonb) x", t.id,
      json_ids(t.agent_ids));
}

bool delete_team(pqxx::work& tx, const std::string& ws, const std::string& id) {
  return tx.exec_params0("DELETE FROM teams WHERE id = $1 AND workspace_id = $2", id, ws).affected_rows() > 0;
}

bool in_inbox(pqxx::transaction_base& tx, const std::string& agent_id, const std::optional<std::string>& inbox_id) {
  if (!inbox_id) return false;
  return !tx.exec_params("SELECT 1 FROM inbox_access WHERE agent_id = $1 AND inbox_id = $2", agent_id, *inbox_id)
              .empty();
}

std::map<std::string, std::set<std::string>> inboxes_of(pqxx::transaction_base& tx,
                                                        const std::vector<std::string>& agent_ids) {
  std::map<std::string, std::set<std::string>> out;
  for (const auto& id : agent_ids) out[id];
  if (agent_ids.empty()) return out;
  for (const auto& r : tx.exec_params("SELECT agent_id, inbox_id FROM inbox_access WHERE agent_id IN (SELECT "
                                      "jsonb_array_elements_text($1::jsonb))",
                                      json_ids(agent_ids)))
    out[r[0].as<std::string>()].insert(r[1].as<std::string>());
  return out;
}

std::map<std::string, std::string> ticket_inboxes(pqxx::transaction_base& tx,
                                                  const std::vector<std::string>& ticket_ids) {
  std::map<std::string, std::string> out;
  if (ticket_ids.empty()) return out;
  for (const auto& r : tx.exec_params("SELECT id, inbox_id FROM tickets WHERE inbox_id IS NOT NULL AND id IN "
                                      "(SELECT jsonb_array_elements_text($1::jsonb))",
                                      json_ids(ticket_ids)))
    out.emplace(r[0].as<std::string>(), r[1].as<std::string>());
  return out;
}

}  // namespace loket::store
