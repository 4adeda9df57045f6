#pragma once
#include <pqxx/pqxx>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "loket/store/tickets.hpp"

/// SLA policies and every ticket's SLA clocks (issue 21, docs/sla.md). A policy sets targets per
/// priority; the most specific policy matching a ticket's inbox and team that has targets for its
/// priority applies. Due times are counted in the inbox's business hours (loket::hours) or in
/// calendar time, with the clocks stopped while the ticket is in one of the policy's pause
/// statuses. Every function takes the caller's transaction; events go to its outbox.
namespace loket::store {

/// One priority's targets, in minutes (absent: no target).
struct SlaTargets {
  std::optional<int> first_response, next_response, resolution;
};

/// An SLA policy of a workspace.
struct SlaPolicy {
  std::string id, workspace_id, name;
  std::optional<std::string> inbox_id, team_id;  ///< only tickets of this inbox / team (absent: any)
  bool business_hours = true;                    ///< count in the inbox's business hours (else calendar time)
  std::vector<std::string> pause_on{"pending", "snoozed"};  ///< statuses that stop the clocks
  std::optional<int> warning_percent = 80;                  ///< sla.warning at this % of a target (absent: none)
  std::map<std::string, SlaTargets> targets;                ///< priority (low|normal|high|urgent) → targets
  std::string created_at, updated_at;
};

/// The workspace's policies, oldest first.
std::vector<SlaPolicy> list_sla_policies(pqxx::transaction_base& tx, const std::string& workspace_id);

/// Policy `id` of the workspace, or nullopt.
std::optional<SlaPolicy> load_sla_policy(pqxx::transaction_base& tx, const std::string& workspace_id,
                                         const std::string& id);

/// Inserts `p` (empty id: a new `sla_…` id is assigned) or updates it in place; fills its
/// timestamps. @throws pqxx::unique_violation for a name the workspace already uses.
void save_sla_policy(pqxx::work& tx, SlaPolicy& p);

/// Deletes policy `id`; the tickets under it lose their `sla` (without events). False when unknown.
bool delete_sla_policy(pqxx::work& tx, const std::string& workspace_id, const std::string& id);

/// Brings ticket `t`'s SLA up to date at this instant, after a change (`status_from`: the status
/// before, when it changed; `agent_replied`: a public agent reply was just stored): finds its policy,
/// stops or restarts the clocks (pause statuses, a next-response wait starting when the ticket
/// goes back to `open` after a first response and ending at an agent's reply), recomputes the due
/// times, emits `sla.warning` / `sla.breached` whose instants have passed — each once, recorded in
/// the ticket's clocks row — and writes the ticket's `sla`, updating `t.sla`. The caller holds the
/// ticket's row lock. One query when the workspace has no policy for the ticket and it had none.
void refresh_sla(pqxx::work& tx, Ticket& t, const std::optional<std::string>& status_from = std::nullopt,
                 bool agent_replied = false);

/// The clock: refreshes up to `limit` tickets whose next warning or due time has come (FOR UPDATE
/// SKIP LOCKED, so several writers never alert twice). Returns how many were refreshed.
int sweep_sla(pqxx::work& tx, int limit);

}  // namespace loket::store
