#pragma once
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <pqxx/pqxx>

/// Inboxes and teams (issue 20, seed 004 "What is an inbox?"; migration 0024): where each
/// integration delivers, who works in it, and the access rule for agents with role `agent`.
namespace loket::store {

/// An inbox with its members and the integrations that deliver into it.
struct Inbox {
  std::string id, workspace_id, name, created_at, updated_at;
  bool is_default = false;  ///< the hosted form's, the email alias's and hand-logged tickets' inbox
  std::vector<std::string> agent_ids, team_ids;  ///< members, sorted
  /// Connected integrations delivering here, sorted; the default inbox also lists those without
  /// an inbox of their own.
  std::vector<std::string> integration_ids;
  /// Auto-assignment (store/assignment.hpp): "off" or "round_robin"; the cap of open tickets per
  /// agent (nullopt = none); how recently a member must have been seen to count as online (s);
  /// after how long offline their open tickets go to someone else (s, nullopt = never).
  std::string auto_assignment = "off";
  std::optional<int> capacity;
  int online_window_s = 600;
  std::optional<int> reassign_after_s;
  /// Opening hours as loket::hours JSON (`{"timeZone",…}`), nullopt = always open.
  std::optional<std::string> business_hours;
};

/// A team: a named group of agents, a member of inboxes and a ticket's optional routing.
struct Team {
  std::string id, workspace_id, name, description, created_at, updated_at;
  std::vector<std::string> agent_ids;  ///< sorted
};

/// Thrown when an id in a member list is not an agent, team or integration of the workspace
/// (what() names the first such id).
struct UnknownMember : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// The inboxes of workspace `ws`, default first then by name; when `member` is set, only those
/// agent `member` belongs to (directly or through a team). At most 1,000.
std::vector<Inbox> list_inboxes(pqxx::transaction_base& tx, const std::string& ws,
                                const std::optional<std::string>& member = std::nullopt);
/// Inbox `id` of workspace `ws`, or nullopt (also another workspace's).
std::optional<Inbox> load_inbox(pqxx::transaction_base& tx, const std::string& ws, const std::string& id);
/// How many inboxes workspace `ws` has.
int count_inboxes(pqxx::transaction_base& tx, const std::string& ws);
/// Creates the default inbox "General" of a new workspace `ws` (create_workspace()).
void create_default_inbox(pqxx::work& tx, const std::string& ws);
/// Inserts `i` (`is_new`, never a default one) or updates its name, auto-assignment settings and
/// business hours; fills the timestamps.
/// @throws pqxx::unique_violation when the workspace has an inbox of that name.
void save_inbox(pqxx::work& tx, Inbox& i, bool is_new);
/// Replaces the agent and team members of inbox `i` with `i.agent_ids` / `i.team_ids` and, when
/// `integrations` is set, the integrations delivering into it (those left out go back to the
/// default inbox; an integration listed here leaves its previous inbox).
/// @throws UnknownMember when an id is not an active agent, a team or a connected integration of
/// `i.workspace_id`.
void set_inbox_members(pqxx::work& tx, const Inbox& i, bool integrations);
/// Deletes inbox `id` of workspace `ws` (not the default one): its tickets stay, without an inbox
/// (admins see them); its integrations deliver into the default inbox. Whether it was deleted.
bool delete_inbox(pqxx::work& tx, const std::string& ws, const std::string& id);

/// The teams of workspace `ws` by name, at most 1,000.
std::vector<Team> list_teams(pqxx::transaction_base& tx, const std::string& ws);
/// Team `id` of workspace `ws`, or nullopt.
std::optional<Team> load_team(pqxx::transaction_base& tx, const std::string& ws, const std::string& id);
/// How many teams workspace `ws` has.
int count_teams(pqxx::transaction_base& tx, const std::string& ws);
/// Inserts `t` (`is_new`) or updates its name and description, then replaces its members with
/// `t.agent_ids`; fills the timestamps.
/// @throws pqxx::unique_violation when the workspace has a team of that name; UnknownMember when an
/// agent id is not an active agent of the workspace.
void save_team(pqxx::work& tx, Team& t, bool is_new);
/// Deletes team `id` of workspace `ws` (its tickets keep their inbox, lose the team).
bool delete_team(pqxx::work& tx, const std::string& ws, const std::string& id);

/// Whether agent `agent_id` is a member of inbox `inbox_id` (directly or through a team); false
/// for a ticket without an inbox. One indexed lookup.
bool in_inbox(pqxx::transaction_base& tx, const std::string& agent_id, const std::optional<std::string>& inbox_id);
/// The inboxes each of `agent_ids` belongs to, in one round trip (realtime's filter).
std::map<std::string, std::set<std::string>> inboxes_of(pqxx::transaction_base& tx,
                                                        const std::vector<std::string>& agent_ids);
/// The inbox of each of `ticket_ids` that has one (tickets of other workspaces included: the
/// caller already knows the workspace), in one round trip.
std::map<std::string, std::string> ticket_inboxes(pqxx::transaction_base& tx,
                                                  const std::vector<std::string>& ticket_ids);

}  // namespace loket::store
