#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

#include "loket/store/tickets.hpp"

/// Fair auto-assignment (issue 20 "Fair auto-assignment", docs/agents.md): per inbox, round robin
/// among its members who are online and not away, under the inbox's capacity of open tickets per
/// agent. Correct under concurrency: assigners of one inbox (api replicas, writers, the sweep)
/// take the inbox row's lock in the transaction that creates or moves the tickets, so counts and
/// the rotation are read after the previous assigner committed.
namespace loket::store {

/// A member who may get tickets: online, not away, active.
struct Candidate {
  std::string agent_id;
  int open = 0;                       ///< open or pending tickets of the inbox assigned to them
  std::int64_t last_assigned_us = 0;  ///< when the rotation last gave them a ticket (0 = never)
};

/// The agent each of `n` tickets goes to, in order: round robin — the candidate given a ticket
/// longest ago first (ties by agent id) — skipping those with `capacity` open tickets or more
/// (nullopt = no cap). nullopt for a ticket when everyone is at capacity. Pure.
std::vector<std::optional<std::string>> rotate(std::vector<Candidate> candidates, std::size_t n,
                                               std::optional<int> capacity);

/// Assigns `tickets` (loaded in `tx`) of inboxes with auto-assignment on by rotate(), inbox by
/// inbox in id order, each inbox locked for the rest of `tx`; emits `ticket.updated` for each
/// assigned ticket and updates it in place. Tickets of other inboxes, or for whom no one is
/// online under capacity, are left as they are.
void auto_assign(pqxx::work& tx, const std::vector<Ticket*>& tickets);

/// The reassignment sweep: open or pending tickets of auto-assigned inboxes whose assignee has
/// not been seen for the inbox's reassign_after_s (or was deactivated) go to someone online, at
/// most `limit` per call (rows other sweeps hold are skipped). Returns how many were reassigned.
int reassign_from_offline(pqxx::work& tx, int limit);

}  // namespace loket::store
