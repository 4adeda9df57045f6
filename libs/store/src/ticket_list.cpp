// The ticket list: filters, full-text search and keyset pages (issue 3 "Tickets").
#include "loket/store/tickets.hpp"

#include <stdexcept>

#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/search.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {

std::int64_t now_us(pqxx::transaction_base& tx) {
  return tx.exec("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint")[0][0].as<std::int64_t>();
}

namespace {
// `c` in SQL over `tickets` (of workspace $1): a word is in the subject or in some message.
template <typename Arg>
std::string has_words(const WordCondition& c, Arg& arg) {
  switch (c.kind) {
    case WordCondition::Kind::kWord: {
      std::string w = arg(c.word) + "::tsquery";
      return "(tickets.search @@ " + w + " OR tickets.id IN (SELECT ticket_id FROM messages " +
             "WHERE workspace_id = $1 AND search @@ " + w + "))";
    }
    case WordCondition::Kind::kAnd:
      return "(" + has_words(c.parts[0], arg) + " AND " + has_words(c.parts[1], arg) + ")";
    case WordCondition::Kind::kOr:
      return "(" + has_words(c.parts[0], arg) + " OR " + has_words(c.parts[1], arg) + ")";
    case WordCondition::Kind::kNot:
      return "NOT " + has_words(c.parts[0], arg);
    case WordCondition::Kind::kAny:
      break;
  }
  return "true";
}
}  // namespace

std::vector<ListedTicket> list_tickets(pqxx::transaction_base& tx, const std::string& workspace_id,
                                       const TicketQuery& q) {
  std::vector<std::string> args{workspace_id};
  auto arg = [&args](std::string v) {
    args.push_back(std::move(v));
    return "$" + std::to_string(args.size());
  };
  auto us = [&arg](std::int64_t v) {
    return "(timestamptz 'epoch' + " + arg(std::to_string(v)) + "::bigint * interval '1 microsecond')";
  };
  std::string where = "workspace_id = $1";
  if (!q.statuses.empty()) {
    std::string list;
    for (const auto& st : q.statuses) list += (list.empty() ? "" : ",") + st;
    where += " AND status = ANY(string_to_array(" + arg(list) + ", ','))";
  }
  if (!q.channel.empty()) where += " AND channel = " + arg(q.channel);
  if (q.assignee_id) {
    where += *q.assignee_id == "none" ? " AND assignee_id IS NULL" : " AND assignee_id = " + arg(*q.assignee_id);
  }
  if (!q.requester.empty()) {
    std::string p = arg(q.requester);
    where +=
        " AND (lower(requester_email) = lower(" + p + ") OR requester_phone = " + p + " OR requester_name = " + p + ")";
  }
  if (!q.tag.empty()) where += " AND tags @> ARRAY[" + arg(q.tag) + "]::text[]";
  if (!q.inbox_id.empty()) where += " AND inbox_id = " + arg(q.inbox_id);
  if (!q.contact_id.empty()) where += " AND contact_id = " + arg(q.contact_id);
  if (!q.sla_state.empty()) where += " AND sla_state = " + arg(q.sla_state);
  if (q.team_id) where += *q.team_id == "none" ? " AND team_id IS NULL" : " AND team_id = " + arg(*q.team_id);
  if (q.visible_to)
    where += " AND inbox_id IN (SELECT inbox_id FROM inbox_access WHERE agent_id = " + arg(*q.visible_to) + ")";
  if (!q.text.empty()) {
    // Which words the ticket must have, each looked up in the subject's and the messages'
    // indexes; a phrase also needs the words' positions in the whole conversation.
    std::string query = tx.exec_params1("SELECT websearch_to_tsquery('simple', $1)::text", q.text)[0].c_str();
    WordCondition c;
    try {
      c = word_condition(query);
    } catch (const std::invalid_argument&) {  // a tsquery form this parser does not know
      c.exact = false;                        // still right: every ticket checked against the query
    }
    if (query.empty())
      where += " AND false";  // no words at all, as websearch_to_tsquery matches
    else if (c.kind != WordCondition::Kind::kAny)
      where += " AND " + has_words(c, arg);
    if (!c.exact)
      where +=
          " AND (tickets.search || coalesce((SELECT loket_tsvector_agg(m.search ORDER BY m.created_at, m.id) "
          "FROM messages m WHERE m.ticket_id = tickets.id), '')) @@ " +
          arg(query) + "::tsquery";
  }
  if (q.created_after) where += " AND created_at >= " + arg(*q.created_after) + "::timestamptz";
  if (q.created_before) where += " AND created_at < " + arg(*q.created_before) + "::timestamptz";
  if (q.updated_after) where += " AND updated_at >= " + arg(*q.updated_after) + "::timestamptz";
  if (q.updated_before) where += " AND updated_at < " + arg(*q.updated_before) + "::timestamptz";
  std::string order;
  // The SLA sort's key: tickets with no running due time after all others.
  const std::string sla_key = "coalesce(sla_due, timestamptz '9999-12-31')";
  switch (q.sort) {
    case TicketSort::kSlaDue:
      if (q.after_number && q.after_updated_us)
        where += " AND (" + sla_key + ", number) > (" + us(*q.after_updated_us) + ", " +
                 arg(std::to_string(*q.after_number)) + "::bigint)";
      order = sla_key + ", number";
      break;
    case TicketSort::kCreatedDesc:
      if (q.after_number) where += " AND number < " + arg(std::to_string(*q.after_number)) + "::bigint";
      order = "number DESC";
      break;
    case TicketSort::kCreatedAsc:
      if (q.after_number) where += " AND number > " + arg(std::to_string(*q.after_number)) + "::bigint";
      order = "number ASC";
      break;
    case TicketSort::kUpdatedDesc:
      if (q.after_number && q.after_updated_us)
        where += " AND (updated_at, number) < (" + us(*q.after_updated_us) + ", " +
                 arg(std::to_string(*q.after_number)) + "::bigint)";
      order = "updated_at DESC, number DESC";
      break;
    case TicketSort::kUpdatedAsc:
      if (q.after_number && q.after_updated_us)
        where += " AND (updated_at, number) > (" + us(*q.after_updated_us) + ", " +
                 arg(std::to_string(*q.after_number)) + "::bigint)";
      // Tickets updated after the first page would move behind the cursor and come again.
      if (q.snapshot_us) where += " AND updated_at <= " + us(*q.snapshot_us);
      order = "updated_at ASC, number ASC";
      break;
  }
  const std::string key = q.sort == TicketSort::kSlaDue ? sla_key : "updated_at";
  std::string sql = std::string("SELECT ") + kTicketColumns + ", (extract(epoch FROM " + key +
                    ") * 1000000)::bigint FROM tickets WHERE " + where + " ORDER BY " + order + " LIMIT " +
                    std::to_string(q.limit);
  auto r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(args));
  std::vector<ListedTicket> out;
  for (const auto& row : r) out.push_back({ticket_from_row(row), row[kTicketColumnCount].as<std::int64_t>()});
  return out;
}

}  // namespace loket::store
