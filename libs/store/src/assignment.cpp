// Fair auto-assignment (issue 20; migration 0025).
#include "loket/store/assignment.hpp"

#include <algorithm>
#include <map>

#include "rows.hpp"

namespace loket::store {

std::vector<std::optional<std::string>> rotate(std::vector<Candidate> candidates, std::size_t n,
                                               std::optional<int> capacity) {
  std::vector<std::optional<std::string>> out;
  out.reserve(n);
  std::int64_t clock = 0;
  for (const auto& c : candidates) clock = std::max(clock, c.last_assigned_us);
  for (std::size_t i = 0; i < n; ++i) {
    Candidate* next = nullptr;
    for (auto& c : candidates) {
      if (capacity && c.open >= *capacity) continue;
      if (!next || c.last_assigned_us < next->last_assigned_us ||
          (c.last_assigned_us == next->last_assigned_us && c.agent_id < next->agent_id))
        next = &c;
    }
    if (!next) {
      out.emplace_back();
      continue;
    }
    ++next->open;
    next->last_assigned_us = ++clock;  // to the back of the rotation
    out.emplace_back(next->agent_id);
  }
  return out;
}

void auto_assign(pqxx::work& tx, const std::vector<Ticket*>& tickets) {
  std::map<std::string, std::vector<Ticket*>> by_inbox;  // id order: no two assigners deadlock
  for (auto* t : tickets)
    if (t->inbox_id) by_inbox[*t->inbox_id].push_back(t);
  for (auto& [inbox, waiting] : by_inbox) {
    auto settings = tx.exec_params(
        "SELECT assignment_capacity, online_window_s FROM inboxes WHERE id = $1 AND auto_assignment <> 'off' "
        "FOR NO KEY UPDATE",
        inbox);
    if (settings.empty()) continue;
    std::optional<int> capacity;
    if (!settings[0][0].is_null()) capacity = settings[0][0].as<int>();
    std::vector<Candidate> candidates;
    for (const auto& r : tx.exec_params(
             "SELECT a.id, (SELECT count(*) FROM tickets t WHERE t.inbox_id = $1 AND t.assignee_id = a.id AND "
             "t.status IN ('open', 'pending')), coalesce((SELECT (extract(epoch FROM r.last_assigned_at) * "
             "1000000)::bigint FROM inbox_rotation r WHERE r.inbox_id = $1 AND r.agent_id = a.id), 0) "
             "FROM agents a WHERE a.id IN (SELECT agent_id FROM inbox_access WHERE inbox_id = $1) AND a.active "
             "AND NOT a.away AND a.last_seen_at > now() - make_interval(secs => $2)",
             inbox, settings[0][1].as<int>()))
      candidates.push_back({r[0].as<std::string>(), r[1].as<int>(), r[2].as<std::int64_t>()});
    auto chosen = rotate(std::move(candidates), waiting.size(), capacity);
    std::vector<std::string> order;  // agents in the order they got their last ticket here
    for (std::size_t i = 0; i < waiting.size(); ++i) {
      if (!chosen[i] || waiting[i]->assignee_id == chosen[i]) continue;
      TicketChanges c;
      c.assignee_id = chosen[i];
      update_ticket(tx, *waiting[i], c);
      order.erase(std::remove(order.begin(), order.end(), *chosen[i]), order.end());
      order.push_back(*chosen[i]);
    }
    for (std::size_t i = 0; i < order.size(); ++i)
      tx.exec_params0(
          "INSERT INTO inbox_rotation (inbox_id, agent_id, last_assigned_at) VALUES ($1, $2, clock_timestamp() + "
          "$3 * interval '1 microsecond') ON CONFLICT (inbox_id, agent_id) DO UPDATE SET last_assigned_at = "
          "excluded.last_assigned_at",
          inbox, order[i], static_cast<int>(i));
  }
}

int reassign_from_offline(pqxx::work& tx, int limit) {
  auto rows = tx.exec_params(
      std::string("SELECT ") + kTicketColumns +
          " FROM tickets WHERE id IN (SELECT t.id FROM tickets t JOIN inboxes i ON i.id = t.inbox_id "
          "JOIN agents a ON a.id = t.assignee_id WHERE t.status IN ('open', 'pending') AND i.auto_assignment <> "
          "'off' AND i.reassign_after_s IS NOT NULL AND (NOT a.active OR a.last_seen_at IS NULL OR a.last_seen_at < "
          "now() - make_interval(secs => i.reassign_after_s)) ORDER BY t.updated_at LIMIT $1 FOR UPDATE OF t SKIP "
          "LOCKED)",
      limit);
  std::vector<Ticket> tickets;
  for (const auto& r : rows) tickets.push_back(ticket_from_row(r));
  std::vector<std::optional<std::string>> before;
  std::vector<Ticket*> pointers;
  for (auto& t : tickets) {
    before.push_back(t.assignee_id);
    pointers.push_back(&t);
  }
  auto_assign(tx, pointers);
  int moved = 0;
  for (std::size_t i = 0; i < tickets.size(); ++i) moved += tickets[i].assignee_id != before[i];
  return moved;
}

}  // namespace loket::store
