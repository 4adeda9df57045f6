#pragma once
// Row-reading helpers shared by the store's .cpp files (not a public header).
#include <pqxx/pqxx>

#include <optional>
#include <string>
#include <vector>

#include "loket/core/json.hpp"
#include "loket/core/time.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/tickets.hpp"

namespace loket::store {

/// The text of `f`, or nullopt for SQL NULL.
inline std::optional<std::string> opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

/// The parameter of a batch statement reading `jsonb_to_recordset($1::jsonb) AS r(<names>)`:
/// a JSON array with one object per row, value i under names[i] (nullopt → null). Rows must
/// have one value per name.
inline std::string json_records(const std::vector<const char*>& names,
                                const std::vector<std::vector<std::optional<std::string>>>& rows) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartArray();
  for (const auto& row : rows) {
    w.StartObject();
    for (std::size_t i = 0; i < names.size(); ++i) core::json_kv_opt(w, names[i], row[i]);
    w.EndObject();
  }
  w.EndArray();
  return sb.GetString();
}

/// `s` as a LIKE pattern that matches it literally (its `%`, `_` and `\` escaped).
inline std::string like_literal(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

/// Fills `t.reply_window` from the time its customer last wrote (ms since the epoch), for
/// channels with a reply window (providers::reply_window).
inline void set_reply_window(Ticket& t, std::int64_t customer_message_at_ms) {
  const auto* channel = providers::find_channel(t.channel);
  auto w = channel ? providers::reply_window(*channel, customer_message_at_ms) : std::nullopt;
  if (!w) return;
  t.reply_window = Ticket::ReplyWindow{core::rfc3339_ms(w->closes_at_ms), std::nullopt, std::nullopt};
  if (!w->tag.empty()) {
    t.reply_window->tag = w->tag;
    t.reply_window->tag_closes_at = core::rfc3339_ms(w->tag_closes_at_ms);
  }
}

/// The columns ticket_from_row reads, in its order (timestamps as RFC 3339); a query's own
/// columns follow from index kTicketColumnCount.
inline constexpr const char* kTicketColumns =
    "id, workspace_id, number, subject, status, priority, channel, integration_id, "
    "external_thread_id, requester_name, requester_email, requester_phone, assignee_id, "
    "array_to_string(tags, E'\\x1f'), rfc3339(created_at), rfc3339(updated_at), "
    "rfc3339(first_response_at), rfc3339(resolved_at), csat_score, csat_comment, "
    "(extract(epoch FROM customer_message_at) * 1000)::bigint, inbox_id, team_id, contact_id, merged_into_id, "
    "rfc3339(snoozed_until), sla";

/// How many columns kTicketColumns has.
inline constexpr int kTicketColumnCount = 27;

/// The ticket of a row that starts with kTicketColumns.
inline Ticket ticket_from_row(const pqxx::row& r) {
  Ticket t;
  t.id = r[0].as<std::string>();
  t.workspace_id = r[1].as<std::string>();
  t.number = r[2].as<std::int64_t>();
  t.subject = r[3].as<std::string>();
  t.status = r[4].as<std::string>();
  t.priority = r[5].as<std::string>();
  t.channel = r[6].as<std::string>();
  t.integration_id = opt(r[7]);
  t.external_thread_id = opt(r[8]);
  t.requester_name = opt(r[9]);
  t.requester_email = opt(r[10]);
  t.requester_phone = opt(r[11]);
  t.assignee_id = opt(r[12]);
  std::string tags = r[13].is_null() ? "" : r[13].as<std::string>();
  std::size_t pos = 0;
  while (!tags.empty() && pos <= tags.size()) {
    auto end = tags.find('\x1f', pos);
    if (end == std::string::npos) end = tags.size();
    t.tags.push_back(tags.substr(pos, end - pos));
    pos = end + 1;
  }
  t.created_at = r[14].as<std::string>();
  t.updated_at = r[15].as<std::string>();
  t.first_response_at = opt(r[16]);
  t.resolved_at = opt(r[17]);
  if (!r[18].is_null()) t.csat_score = r[18].as<int>();
  t.csat_comment = opt(r[19]);
  if (!r[20].is_null()) set_reply_window(t, r[20].as<std::int64_t>());
  t.inbox_id = opt(r[21]);
  t.team_id = opt(r[22]);
  t.contact_id = opt(r[23]);
  t.merged_into_id = opt(r[24]);
  t.snoozed_until = opt(r[25]);
  t.sla = opt(r[26]);
  return t;
}

/// Locks up to `limit` tickets matching `condition` (SQL over tickets: "WHERE … ORDER BY …"),
/// skipping rows other transactions hold (FOR UPDATE SKIP LOCKED: several replicas sweeping never
/// take one twice), and calls `fn(ticket)` for each. Returns how many. Not a prepared statement: a
/// generic plan made while no row matches would scan the table.
template <typename Fn>
int for_due_tickets(pqxx::work& tx, const std::string& condition, int limit, Fn&& fn) {
  auto due = tx.exec_params(
      std::string("SELECT ") + kTicketColumns + " FROM tickets " + condition + " LIMIT $1 FOR UPDATE SKIP LOCKED",
      limit);
  for (const auto& row : due) {
    auto t = ticket_from_row(row);
    fn(t);
  }
  return static_cast<int>(due.size());
}

}  // namespace loket::store
