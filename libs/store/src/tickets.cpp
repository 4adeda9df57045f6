// Ticket rows: creation, threads, changes, access tokens, the auto-reply.
#include "loket/store/tickets.hpp"

#include "loket/core/json.hpp"
#include "loket/hours/hours.hpp"
#include "loket/store/contacts.hpp"
#include "loket/store/widget.hpp"

#include <algorithm>
#include <set>
#include <stdexcept>

#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/email/reply_address.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/assignment.hpp"
#include "loket/store/reports.hpp"
#include "loket/store/search.hpp"
#include "loket/store/sla.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {

std::string subject_from_text(const std::string& text, const std::string& channel) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = core::trim(std::string_view(text).substr(pos, end - pos));
    if (!line.empty()) return core::utf8_truncate(line, 120);
    pos = end + 1;
  }
  return providers::channel_label(channel) + " inquiry";
}

std::optional<Ticket> load_ticket(pqxx::transaction_base& tx, const std::string& workspace_id, const std::string& id,
                                  bool for_update) {
  const char* name = for_update ? "load_ticket_for_update" : "load_ticket";
  prepare(tx, name,
          std::string("SELECT ") + kTicketColumns + " FROM tickets WHERE workspace_id = $1 AND id = $2" +
              (for_update ? " FOR UPDATE" : ""));
  auto r = tx.exec_prepared(name, workspace_id, id);
  if (r.empty()) return std::nullopt;
  return ticket_from_row(r[0]);
}

std::map<ThreadKey, Ticket> find_open_threads(pqxx::transaction_base& tx, const std::vector<ThreadKey>& threads,
                                              bool lock) {
  std::map<ThreadKey, Ticket> out;
  const std::string suffix = lock ? "" : "_unlocked";
  std::vector<std::vector<std::optional<std::string>>> rows, known;
  for (const auto& t : threads)
    if (t.channel == kTicketThread)
      known.push_back({t.workspace_id, t.thread_id});
    else
      rows.push_back({t.workspace_id, t.channel, t.thread_id});
  if (!known.empty()) {  // replies threaded to a ticket by its id
    prepare(tx, "find_open_tickets" + suffix,
            std::string("SELECT ") + kTicketColumns +
                " FROM tickets JOIN jsonb_to_recordset($1::jsonb) AS k(w text, t text) ON workspace_id = k.w AND "
                "id = k.t WHERE status <> 'closed'" +
                (lock ? " FOR UPDATE OF tickets" : ""));
    for (const auto& row : tx.exec_prepared("find_open_tickets" + suffix, json_records({"w", "t"}, known))) {
      Ticket t = ticket_from_row(row);
      ThreadKey key{t.workspace_id, kTicketThread, t.id};
      out.emplace(std::move(key), std::move(t));
    }
  }
  if (rows.empty()) return out;
  prepare(tx, "find_open_threads" + suffix,
          std::string("SELECT o.* FROM (SELECT DISTINCT w, c, t FROM jsonb_to_recordset($1::jsonb) AS k(w text, c "
                      "text, t text)) AS k, "
                      "LATERAL (SELECT ") +
              kTicketColumns +
              " FROM tickets WHERE workspace_id = k.w AND channel = k.c AND external_thread_id = k.t "
              "AND status <> 'closed' ORDER BY created_at DESC, number DESC LIMIT 1" +
              (lock ? " FOR UPDATE" : "") + ") AS o");
  for (const auto& row : tx.exec_prepared("find_open_threads" + suffix, json_records({"w", "c", "t"}, rows))) {
    Ticket t = ticket_from_row(row);
    ThreadKey key{t.workspace_id, t.channel, t.external_thread_id.value_or("")};
    out.emplace(std::move(key), std::move(t));
  }
  // Threads without an open ticket whose latest merged ticket went into one that is still open
  // (merge_tickets): the customer's next message lands there, never reopening the source. Not a
  // prepared statement: the index it uses starts empty.
  std::vector<std::vector<std::optional<std::string>>> missing;
  for (const auto& r : rows)
    if (!out.count(ThreadKey{*r[0], *r[1], *r[2]})) missing.push_back(r);
  if (missing.empty()) return out;
  for (const auto& row : tx.exec_params(
           std::string("SELECT o.*, k.c, k.t FROM (SELECT DISTINCT w, c, t FROM jsonb_to_recordset($1::jsonb) AS "
                       "k(w text, c text, t text)) AS k, LATERAL (SELECT ") +
               kTicketColumns +
               " FROM tickets WHERE id = (SELECT s.merged_into_id FROM tickets s WHERE s.workspace_id = k.w "
               "AND s.channel = k.c AND s.external_thread_id = k.t AND s.merged_into_id IS NOT NULL "
               "ORDER BY s.created_at DESC LIMIT 1) AND status <> 'closed'" +
               (lock ? " FOR UPDATE" : "") + ") AS o",
           json_records({"w", "c", "t"}, missing))) {
    Ticket t = ticket_from_row(row);
    ThreadKey key{t.workspace_id, row[kTicketColumnCount].as<std::string>(),
                  row[kTicketColumnCount + 1].as<std::string>()};
    out.emplace(std::move(key), std::move(t));
  }
  return out;
}

std::optional<std::string> find_replied_ticket(pqxx::transaction_base& tx, const std::string& workspace_id,
                                               const events::ThreadHints& hints, const std::string& sender_email) {
  using Kind = providers::email::SentMail::Kind;
  // Each lookup answers (ticket id, status); the first that finds a ticket decides.
  pqxx::result match;
  if (hints.ticket_number > 0)
    match = tx.exec_params("SELECT id, status FROM tickets WHERE workspace_id = $1 AND number = $2", workspace_id,
                           hints.ticket_number);
  for (std::size_t i = 0; match.empty() && i < std::min(hints.references.size(), providers::email::kMaxReferences);
       ++i) {
    const std::string& ref = hints.references[i];
    if (auto sent = providers::email::read_sent_message_id(ref))  // one of ours
      match = sent->kind == Kind::kMessage
                  ? tx.exec_params(
                        "SELECT t.id, t.status FROM messages m JOIN tickets t ON t.id = m.ticket_id "
                        "WHERE m.workspace_id = $1 AND m.id = $2",
                        workspace_id, sent->id)
                  : tx.exec_params("SELECT id, status FROM tickets WHERE workspace_id = $1 AND id = $2", workspace_id,
                                   sent->id);
    if (match.empty())  // a Message-ID we received: the latest message that has it, on any integration
      match = tx.exec_params(
          "SELECT t.id, t.status FROM messages m JOIN tickets t ON t.id = m.ticket_id "
          "WHERE m.integration_id IN (SELECT id FROM integrations WHERE workspace_id = $1) "
          "AND m.external_message_id = $2 ORDER BY m.created_at DESC LIMIT 1",
          workspace_id, ref);
  }
  if (match.empty() && hints.subject_number > 0 && !sender_email.empty())
    match = tx.exec_params(
        "SELECT id, status FROM tickets WHERE workspace_id = $1 AND number = $2 AND lower(requester_email) = lower($3)",
        workspace_id, hints.subject_number, sender_email);
  if (match.empty()) return std::nullopt;
  if (match[0][1].as<std::string>() == "closed")  // a merged ticket's reply goes to where it was merged
    match =
        tx.exec_params("SELECT t.id, t.status FROM tickets s JOIN tickets t ON t.id = s.merged_into_id WHERE s.id = $1",
                       match[0][0].as<std::string>());
  if (match.empty() || match[0][1].as<std::string>() == "closed") return std::nullopt;
  return match[0][0].as<std::string>();
}

std::optional<Ticket> sender_latest_ticket(pqxx::transaction_base& tx, const std::string& workspace_id,
                                           const std::string& email) {
  prepare(tx, "sender_latest_ticket",
          std::string("SELECT ") + kTicketColumns +
              " FROM tickets WHERE workspace_id = $1 AND lower(requester_email) = lower($2) AND requester_email IS "
              "NOT NULL AND status <> 'closed' ORDER BY created_at DESC, number DESC LIMIT 1 FOR UPDATE");
  auto r = tx.exec_prepared("sender_latest_ticket", workspace_id, email);
  if (r.empty()) return std::nullopt;
  return ticket_from_row(r[0]);
}

std::map<Sender, int> sender_ticket_counts(pqxx::transaction_base& tx, const std::set<Sender>& senders, int limit) {
  std::map<Sender, int> out;
  if (senders.empty()) return out;
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& [workspace, email] : senders) rows.push_back({workspace, email});
  auto r = tx.exec_params(
      "SELECT r.ws, r.e, (SELECT count(*) FROM (SELECT 1 FROM tickets WHERE workspace_id = r.ws "
      "AND lower(requester_email) = lower(r.e) AND requester_email IS NOT NULL AND created_at > now() - interval '1 "
      "hour' "
      "LIMIT $2) AS recent) FROM jsonb_to_recordset($1::jsonb) AS r(ws text, e text)",
      json_records({"ws", "e"}, rows), limit);
  for (const auto& row : r) out[{row[0].as<std::string>(), row[1].as<std::string>()}] = row[2].as<int>();
  return out;
}

void touch_thread_tickets(pqxx::work& tx, const std::map<std::string, ThreadTouch>& touches) {
  if (touches.empty()) return;
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& [ticket, t] : touches)
    rows.push_back({ticket, t.integration_id.empty() ? std::nullopt : std::optional(t.integration_id),
                    t.customer_at_ms > 0 ? std::optional(std::to_string(t.customer_at_ms)) : std::nullopt});
  prepare(tx, "touch_thread_tickets",
          "UPDATE tickets SET integration_id = coalesce(u.i, integration_id), updated_at = now(), "
          "customer_message_at = CASE WHEN u.c IS NULL THEN customer_message_at ELSE "
          "greatest(customer_message_at, to_timestamp(u.c::bigint / 1000.0)) END, "
          "window_warned_at = CASE WHEN u.c IS NULL THEN window_warned_at END "
          "FROM jsonb_to_recordset($1::jsonb) AS u(id text, i text, c text) WHERE tickets.id = u.id");
  tx.exec_prepared0("touch_thread_tickets", json_records({"id", "i", "c"}, rows));
}

void lock_threads(pqxx::transaction_base& tx, const std::vector<ThreadKey>& threads) {
  if (threads.empty()) return;
  std::vector<std::vector<std::optional<std::string>>> keys;
  for (const auto& t : threads) keys.push_back({t.workspace_id + "\x1f" + t.channel + "\x1f" + t.thread_id});
  // The inner query fixes the order (OFFSET 0 keeps it from being flattened into the locking scan).
  prepare(tx, "lock_threads",
          "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 7) AS h "
          "FROM jsonb_to_recordset($1::jsonb) AS r(k text) ORDER BY h OFFSET 0) AS ordered");
  tx.exec_prepared("lock_threads", json_records({"k"}, keys));
}

Ticket create_ticket(pqxx::work& tx, const NewTicket& n, const crypto::Keyring& keys, std::string* access_token) {
  std::vector<std::string> tokens;
  auto t = create_tickets(tx, {n}, keys, &tokens);
  if (access_token) *access_token = tokens[0];
  return t[0];
}

namespace {
// Takes `counts[ws]` numbers of each workspace in `tx` and replaces each count by the first one;
// workspaces in one (sorted) order, so two transactions taking several never deadlock.
void take_ticket_numbers(pqxx::transaction_base& tx, std::map<std::string, std::int64_t>& counts) {
  for (auto& [workspace, count] : counts)
    count = tx.exec_params1("UPDATE workspaces SET ticket_seq = ticket_seq + $2 WHERE id = $1 RETURNING ticket_seq",
                            workspace, count)[0]
                .as<std::int64_t>() -
            count + 1;
}
}  // namespace

std::map<std::string, std::int64_t> allocate_ticket_numbers(Pool& pool, const std::vector<NewTicket>& tickets) {
  std::map<std::string, std::int64_t> first;
  for (const auto& n : tickets) ++first[n.workspace_id];
  if (first.empty()) return first;
  auto conn = pool.acquire();
  pqxx::work tx(*conn);
  // Not waited for: the transaction that uses the numbers commits after this one, and its
  // synchronous commit makes this one durable with it. Lost in a crash, these numbers were used
  // by nobody and are handed out again.
  tx.exec0("SET LOCAL synchronous_commit = off");
  take_ticket_numbers(tx, first);
  tx.commit();
  return first;
}

std::vector<Ticket> create_tickets(pqxx::work& tx, const std::vector<NewTicket>& tickets, const crypto::Keyring& keys,
                                   std::vector<std::string>* access_tokens,
                                   const std::map<std::string, std::int64_t>* allocated) {
  if (tickets.empty()) return {};
  // The first number of each workspace's run: allocated already, or taken here (the workspace
  // rows then stay locked until `tx` ends).
  std::map<std::string, std::int64_t> next;
  if (allocated) {
    next = *allocated;
  } else {
    for (const auto& n : tickets) ++next[n.workspace_id];
    take_ticket_numbers(tx, next);
  }
  const auto contacts = link_contacts(tx, tickets);
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < tickets.size(); ++i) {
    const auto& n = tickets[i];
    ids.push_back(core::new_id("tkt"));
    // The requester's credential: 256 random bits; only its hash is searchable. Written with the
    // row (one row version, indexed once).
    std::string token = core::base64url(core::random_bytes(32));
    rows.push_back({std::to_string(i), ids.back(), n.workspace_id, std::to_string(next[n.workspace_id]++), n.subject,
                    n.priority, n.channel, n.integration_id, n.external_thread_id, n.requester_name, n.requester_email,
                    n.requester_phone, core::to_hex(crypto::sha256(token)),
                    core::to_hex(keys.encrypt(token, ids.back())), keys.active_key_id(), n.inbox_id, contacts[i]});
    if (access_tokens) access_tokens->push_back(std::move(token));
  }
  // Planned on each execution (not a named prepared statement): one ticket and five hundred
  // are both common, and a generic plan fits neither.
  auto r = tx.exec_params(
      std::string("INSERT INTO tickets (id, workspace_id, number, subject, status, priority, channel, integration_id, "
                  "external_thread_id, requester_name, requester_email, requester_phone, search, access_token_hash, "
                  "access_token, access_token_key_id, inbox_id, contact_id) "
                  "SELECT id, ws, n::bigint, s, 'open', p, c, i, x, rn, re, rp, to_tsvector('simple', s), "
                  "decode(h, 'hex'), decode(a, 'hex'), k, coalesce(ib, (SELECT inbox_id FROM integrations "
                  "WHERE id = i), (SELECT id FROM inboxes WHERE workspace_id = ws AND is_default)), ct "
                  "FROM jsonb_to_recordset($1::jsonb) AS r(o int, id text, ws text, n text, s text, p text, c text, "
                  "i text, x text, rn text, re text, rp text, h text, a text, k text, ib text, ct text) "
                  "ORDER BY o RETURNING ") +
          kTicketColumns +
          ", (SELECT b.auto_assignment <> 'off' FROM inboxes b WHERE b.id = tickets.inbox_id), "
          "EXISTS (SELECT 1 FROM sla_policies p WHERE p.workspace_id = tickets.workspace_id)",
      json_records({"o", "id", "ws", "n", "s", "p", "c", "i", "x", "rn", "re", "rp", "h", "a", "k", "ib", "ct"}, rows));
  std::map<std::string, Ticket> by_id;
  std::set<std::string> auto_assigned;  // tickets of inboxes that assign (no look-up for the others)
  for (const auto& row : r) {
    Ticket t = ticket_from_row(row);
    if (row[kTicketColumnCount].as<bool>(false)) auto_assigned.insert(t.id);
    if (row[kTicketColumnCount + 1].as<bool>()) refresh_sla(tx, t);  // the workspace has SLA policies
    by_id.emplace(t.id, std::move(t));
  }
  std::vector<Ticket> out;
  for (const auto& id : ids) {
    out.push_back(by_id.at(id));
    emit_ticket_event(tx, out.back().workspace_id, id, events::TicketCreated{out.back()});
  }
  std::vector<Ticket*> assign;
  for (std::size_t i = 0; i < out.size(); ++i)
    if (tickets[i].auto_assign && auto_assigned.count(out[i].id)) assign.push_back(&out[i]);
  auto_assign(tx, assign);
  return out;
}

void update_ticket(pqxx::work& tx, Ticket& t, const TicketChanges& c) {
  events::TicketUpdated e;
  // Sets `out` to {from, to} when the value changes.
  auto change = [](auto& out, const auto& from, const std::optional<std::decay_t<decltype(from)>>& to) {
    if (to && from != *to) out = typename std::decay_t<decltype(out)>::value_type{from, *to};
    return out.has_value();
  };
  bool status = change(e.status, t.status, c.status);
  bool priority = change(e.priority, t.priority, c.priority);
  bool subject = change(e.subject, t.subject, c.subject);
  bool assignee = change(e.assignee_id, t.assignee_id, c.assignee_id);
  bool tags = change(e.tags, t.tags, c.tags);
  bool inbox = change(e.inbox_id, t.inbox_id, c.inbox_id);
  bool team = change(e.team_id, t.team_id, c.team_id);
  bool contact = change(e.contact_id, t.contact_id, c.contact_id);
  bool merged = change(e.merged_into_id, t.merged_into_id, c.merged_into_id);
  // A wake time only while snoozed: set with the status or on its own, gone with any other status.
  std::optional<std::string> until = t.snoozed_until;
  if (c.status.value_or(t.status) != "snoozed")
    until.reset();
  else if (c.snoozed_until)
    until = *c.snoozed_until;
  else if (c.status)
    until.reset();  // snoozed without a time: until the customer writes
  bool snooze = change(e.snoozed_until, t.snoozed_until, std::optional<std::optional<std::string>>(until));
  if (!status && !priority && !subject && !assignee && !tags && !inbox && !team && !contact && !merged && !snooze)
    return;
  std::string tag_list;
  if (tags)
    for (const auto& tag : *c.tags) tag_list += (tag_list.empty() ? "" : "\x1f") + tag;
  auto r = tx.exec_params(
      std::string("UPDATE tickets SET updated_at = now(), "
                  "status = CASE WHEN $3 THEN $4 ELSE status END, "
                  "resolved_at = CASE WHEN NOT $3 THEN resolved_at "
                  "  WHEN $4 IN ('resolved','closed') THEN coalesce(resolved_at, now()) ELSE NULL END, "
                  "priority = CASE WHEN $5 THEN $6 ELSE priority END, "
                  "subject = CASE WHEN $7 THEN $8 ELSE subject END, "
                  "search = CASE WHEN $7 THEN search || to_tsvector('simple', $8) ELSE search END, "
                  "assignee_id = CASE WHEN $9 THEN $10 ELSE assignee_id END, "
                  "tags = CASE WHEN $11 THEN coalesce(string_to_array($12, E'\\x1f'), '{}') ELSE tags END, "
                  "inbox_id = CASE WHEN $13 THEN $14 ELSE inbox_id END, "
                  "team_id = CASE WHEN $15 THEN $16 ELSE team_id END, "
                  "contact_id = CASE WHEN $17 THEN $18 ELSE contact_id END, "
                  "merged_into_id = CASE WHEN $19 THEN $20 ELSE merged_into_id END, "
                  "snoozed_until = CASE WHEN $21 THEN $22::timestamptz ELSE snoozed_until END "
                  "WHERE workspace_id = $1 AND id = $2 RETURNING ") +
          kTicketColumns + ", EXISTS (SELECT 1 FROM sla_policies p WHERE p.workspace_id = tickets.workspace_id)",
      t.workspace_id, t.id, status, c.status.value_or(""), priority, c.priority.value_or(""), subject,
      c.subject.value_or(""), assignee, assignee ? *c.assignee_id : std::optional<std::string>(), tags,
      tags && !c.tags->empty() ? std::optional<std::string>(tag_list) : std::optional<std::string>(), inbox,
      inbox ? *c.inbox_id : std::optional<std::string>(), team, team ? *c.team_id : std::optional<std::string>(),
      contact, contact ? *c.contact_id : std::optional<std::string>(), merged,
      merged ? *c.merged_into_id : std::optional<std::string>(), snooze, until);
  t = ticket_from_row(r[0]);
  auto done = [](const std::string& s) { return s == "resolved" || s == "closed"; };
  if (status && done(e.status->to) && !done(e.status->from)) note_resolution_time(tx, t);
  // The SLA follows these changes, in workspaces with policies (or when the ticket had one).
  const bool sla_applies = r[0][kTicketColumnCount].as<bool>() || t.sla;
  if (sla_applies && (status || priority || inbox || team))
    refresh_sla(tx, t, status ? std::optional(e.status->from) : std::nullopt);
  e.ticket = t;
  emit_ticket_event(tx, t.workspace_id, t.id, std::move(e));
}

void note_agent_reply(pqxx::work& tx, Ticket& t) {
  const bool first = !t.first_response_at;  // only then is there a first response time to store
  t.first_response_at = tx.exec_params1(
                              "UPDATE tickets SET first_response_at = coalesce(first_response_at, now()) "
                              "WHERE id = $1 RETURNING rfc3339(first_response_at)",
                              t.id)[0]
                            .as<std::string>();
  if (first) note_first_response_time(tx, t);
  refresh_sla(tx, t, std::nullopt, true);
}

void set_status(pqxx::work& tx, Ticket& t, const std::string& status) {
  TicketChanges c;
  c.status = status;
  update_ticket(tx, t, c);
}

std::optional<Ticket> find_by_access_token(pqxx::transaction_base& tx, const std::string& token) {
  if (token.empty() || token.size() > 100) return std::nullopt;
  // Looked up by hash: the comparison is PostgreSQL's index lookup on a digest, so response
  // time says nothing about how close a guess was.
  prepare(tx, "ticket_by_token",
          std::string("SELECT ") + kTicketColumns + " FROM tickets WHERE access_token_hash = $1");
  auto r = tx.exec_prepared("ticket_by_token", pqxx::binarystring(crypto::sha256(token)));
  if (r.empty()) return std::nullopt;
  Ticket t = ticket_from_row(r[0]);
  // A merged ticket's status link shows (and writes to) the ticket it was merged into.
  if (t.merged_into_id)
    if (auto target = load_ticket(tx, t.workspace_id, *t.merged_into_id)) return target;
  return t;
}

std::string access_token_of(pqxx::transaction_base& tx, const std::string& ticket_id, const crypto::Keyring& keys) {
  auto r =
      tx.exec_params("SELECT access_token, coalesce(access_token_key_id, '') FROM tickets WHERE id = $1", ticket_id);
  if (r.empty() || r[0][0].is_null()) return "";
  return keys.decrypt(pqxx::binarystring(r[0][0]).str(), r[0][1].as<std::string>(), ticket_id);
}

bool record_csat(pqxx::work& tx, Ticket& t, int score, const std::optional<std::string>& comment) {
  auto r = tx.exec_params(
      "UPDATE tickets SET csat_score = $2, csat_comment = $3, csat_at = coalesce(csat_at, now()) "
      "WHERE id = $1 AND (csat_at IS NULL OR csat_at > now() - interval '24 hours') RETURNING id",
      t.id, score, comment);
  if (r.empty()) return false;
  t.csat_score = score;
  t.csat_comment = comment;
  emit_ticket_event(tx, t.workspace_id, t.id, events::CsatRecorded{score, comment});
  return true;
}

std::string render_template(const std::string& text, const Ticket& t, const std::string& status_link) {
  std::string out = core::replace_all(text, "{{ticket.number}}", std::to_string(t.number));
  out = core::replace_all(std::move(out), "{{ticket.subject}}", t.subject);
  out = core::replace_all(std::move(out), "{{requester.name}}", t.requester_name.value_or(""));
  return core::replace_all(std::move(out), "{{status_link}}", status_link);
}

std::string out_of_office(const std::string& schedule_json, const std::string& away_message,
                          std::chrono::system_clock::time_point now) {
  rapidjson::Document d;
  std::string error;
  if (!core::parse_json(d, schedule_json, core::JsonLimits{schedule_json.size(), 8, true}).empty()) return "";
  auto schedule = hours::parse(d, error);
  if (!schedule) return "";
  auto at = std::chrono::time_point_cast<std::chrono::seconds>(now);
  auto next = hours::next_open(*schedule, at);
  if (next == at) return "";  // open
  std::string text =
      away_message.empty() ? "We are away right now and will answer as soon as we are back." : away_message;
  if (next) {
    static const char* days[] = {"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"};
    auto local = hours::local_time(*schedule, *next, at);
    text += local.days_from == 0   ? "\n\nWe are back at " + local.hh_mm + " " + local.zone + "."
            : local.days_from == 1 ? "\n\nWe are back tomorrow at " + local.hh_mm + " " + local.zone + "."
                                   : "\n\nWe are back on " + std::string(days[local.weekday - 1]) + " at " +
                                         local.hh_mm + " " + local.zone + ".";
  }
  return text;
}

namespace {
// The auto-reply of new ticket `t` under its workspace's settings `w` (auto_reply, name,
// business_hours, away_message), or nullopt when the workspace sends none now.
std::optional<NewMessage> auto_reply_of(pqxx::transaction_base& tx, const Ticket& t, const pqxx::row& w) {
  std::string body = w[0].is_null() ? "" : render_template(w[0].as<std::string>(), t, kStatusLinkPlaceholder);
  if (!w[2].is_null())
    if (auto away = out_of_office(w[2].as<std::string>(), w[3].as<std::string>(), std::chrono::system_clock::now());
        !away.empty())
      body += (body.empty() ? "" : "\n\n") + away;
  if (body.empty()) return std::nullopt;
  NewMessage m;
  m.author_type = "system";
  m.author_name = w[1].as<std::string>();
  m.body = std::move(body);
  if (reply_goes_out(tx, t)) m.delivery_status = "pending";
  return m;
}

// Each workspace's auto-reply settings, keyed by id; one statement.
std::map<std::string, pqxx::row> auto_reply_settings(pqxx::transaction_base& tx, const std::vector<Ticket>& tickets) {
  std::set<std::string> ids;
  for (const auto& t : tickets) ids.insert(t.workspace_id);
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& id : ids) rows.push_back({id});
  std::map<std::string, pqxx::row> out;
  for (const auto& row : tx.exec_params(
           "SELECT w.auto_reply, w.name, g.business_hours, coalesce(g.away_message, ''), w.id FROM workspaces w "
           "LEFT JOIN widgets g ON g.workspace_id = w.id WHERE w.id IN (SELECT id FROM jsonb_to_recordset($1::jsonb) "
           "AS r(id text))",
           json_records({"id"}, rows)))
    out.emplace(row[4].as<std::string>(), row);
  return out;
}
}  // namespace

void add_auto_replies(pqxx::work& tx, const std::vector<Ticket>& tickets) {
  if (tickets.empty()) return;
  auto settings = auto_reply_settings(tx, tickets);
  std::vector<BatchMessage> replies;
  for (const auto& t : tickets) {
    auto it = settings.find(t.workspace_id);
    if (it == settings.end()) continue;
    if (auto m = auto_reply_of(tx, t, it->second)) replies.push_back({t, std::move(*m), {}});
  }
  add_messages(tx, replies);
}

int announce_closing_windows(pqxx::work& tx, std::int64_t lead_ms, int limit) {
  std::vector<std::vector<std::optional<std::string>>> windows;  // (channel, hours)
  for (const auto& c : providers::channels())
    if (c.reply_window_hours > 0) windows.push_back({c.name, std::to_string(c.reply_window_hours)});
  if (windows.empty()) return 0;
  prepare(tx, "announce_closing_windows",
          std::string("UPDATE tickets SET window_warned_at = now() WHERE id IN (SELECT t.id FROM tickets t "
                      "JOIN jsonb_to_recordset($1::jsonb) AS w(c text, h text) ON t.channel = w.c "
                      "WHERE t.window_warned_at IS NULL AND t.status = 'open' AND t.customer_message_at IS NOT NULL "
                      "AND t.customer_message_at + make_interval(hours => w.h::int) > now() "
                      "AND t.customer_message_at + make_interval(hours => w.h::int) <= now() + $2::bigint * "
                      "interval '1 millisecond' ORDER BY t.customer_message_at LIMIT $3 FOR UPDATE OF t SKIP LOCKED) "
                      "RETURNING ") +
              kTicketColumns);
  int n = 0;
  for (const auto& row :
       tx.exec_prepared("announce_closing_windows", json_records({"c", "h"}, windows), lead_ms, limit)) {
    auto t = ticket_from_row(row);
    if (!t.reply_window) continue;
    emit_ticket_event(tx, t.workspace_id, t.id, events::ReplyWindowClosing{t, t.reply_window->closes_at});
    ++n;
  }
  return n;
}

int wake_snoozed(pqxx::work& tx, int limit) {
  return for_due_tickets(tx, "WHERE status = 'snoozed' AND snoozed_until <= now() ORDER BY snoozed_until", limit,
                         [&](Ticket& t) { set_status(tx, t, "open"); });
}

bool reply_goes_out(pqxx::transaction_base& tx, const Ticket& t) {
  return deliverable(t) && !(t.channel == kChatChannel && t.external_thread_id &&
                             visitor_online(tx, t.workspace_id, *t.external_thread_id));
}

bool deliverable(const Ticket& t) {
  const auto* channel = providers::find_channel(t.channel);
  switch (channel ? channel->reply_to : providers::ReplyTo::kEmail) {
    case providers::ReplyTo::kPhone:
      return t.requester_phone.has_value();
    case providers::ReplyTo::kThread:
      return t.integration_id && t.external_thread_id;
    case providers::ReplyTo::kEmail:
      break;
  }
  return t.requester_email.has_value();
}

void merge_tickets(pqxx::work& tx, Ticket& target, const std::vector<std::string>& sources) {
  // Every ticket involved locked in one order (id), so two merges never deadlock.
  std::vector<std::vector<std::optional<std::string>>> ids{{target.id}};
  for (const auto& s : sources) ids.push_back({s});
  std::map<std::string, Ticket> locked;
  for (const auto& row : tx.exec_params(std::string("SELECT ") + kTicketColumns +
                                            " FROM tickets WHERE workspace_id = $1 AND id IN (SELECT r.id FROM "
                                            "jsonb_to_recordset($2::jsonb) AS r(id text)) ORDER BY id FOR UPDATE",
                                        target.workspace_id, json_records({"id"}, ids)))
    locked.emplace(row[0].as<std::string>(), ticket_from_row(row));
  if (!locked.count(target.id)) throw MergeRefused("the ticket is gone");
  target = locked.at(target.id);
  if (target.merged_into_id)
    throw MergeRefused("this ticket was merged into " + *target.merged_into_id + ": merge into that one");
  for (const auto& s : sources) {
    if (s == target.id) throw MergeRefused("a ticket cannot be merged into itself");
    auto it = locked.find(s);
    if (it == locked.end()) throw MergeRefused(s + " is not a ticket of this workspace");
    if (it->second.merged_into_id)
      throw MergeRefused(s + " was merged into " + *it->second.merged_into_id + " already");
  }
  ids.erase(ids.begin());
  const auto list = json_records({"id"}, ids);
  // The sources' messages join the target's timeline: numbered after its own (a reader resuming
  // "after n" still sees them), shown in time order (load_messages), their origin kept.
  auto moved =
      tx.exec_params1(
            "WITH moved AS (SELECT id, row_number() OVER (ORDER BY created_at, seq) AS n FROM messages "
            "WHERE ticket_id IN (SELECT r.id FROM jsonb_to_recordset($2::jsonb) AS r(id text))), "
            "done AS (UPDATE messages m SET ticket_id = $1, seq = (SELECT message_seq FROM tickets WHERE id = $1) + "
            "moved.n, "
            "merged_from_ticket_id = coalesce(m.merged_from_ticket_id, m.ticket_id) FROM moved WHERE m.id = moved.id "
            "RETURNING 1) "
            "SELECT count(*) FROM done",
            target.id, list)[0]
          .as<std::int64_t>();
  tx.exec_params0("UPDATE tickets SET message_seq = message_seq + $2 WHERE id = $1", target.id, moved);
  // Tickets merged into a source before now point at the target.
  tx.exec_params0(
      "UPDATE tickets SET merged_into_id = $2 WHERE workspace_id = $1 AND merged_into_id IN (SELECT r.id FROM "
      "jsonb_to_recordset($3::jsonb) AS r(id text))",
      target.workspace_id, target.id, list);
  for (const auto& s : sources) {
    TicketChanges c;
    c.status = "closed";
    c.merged_into_id = std::optional<std::string>(target.id);
    update_ticket(tx, locked.at(s), c);
  }
  events::TicketUpdated e;
  e.merged_ticket_ids = events::Change<std::vector<std::string>>{{}, sources};
  target = ticket_from_row(tx.exec_params1(
      std::string("UPDATE tickets SET updated_at = now() WHERE id = $1 RETURNING ") + kTicketColumns, target.id));
  e.ticket = target;
  emit_ticket_event(tx, target.workspace_id, target.id, std::move(e));
}

}  // namespace loket::store
