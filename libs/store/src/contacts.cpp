// Contacts: linking requesters, search, merge and cross-channel reply routes (issue 20;
// migration 0026).
#include "loket/store/contacts.hpp"

#include <map>

#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "rows.hpp"

namespace loket::store {
namespace {
// The advisory lock key of a workspace's contacts (SQL text prefixed to the workspace id).
constexpr const char* kContactsLockSpace = "'contacts:'";
constexpr const char* kContactColumns =
    "c.id, c.workspace_id, c.name, c.notes, c.attributes::text, c.merged_into_id, rfc3339(c.created_at), "
    "rfc3339(c.updated_at), (SELECT count(*) FROM tickets t WHERE t.contact_id = c.id)";

Contact contact_from_row(const pqxx::row& r) {
  Contact c;
  c.id = r[0].as<std::string>();
  c.workspace_id = r[1].as<std::string>();
  c.name = opt(r[2]);
  c.notes = r[3].as<std::string>();
  c.attributes = r[4].as<std::string>();
  c.merged_into_id = opt(r[5]);
  c.created_at = r[6].as<std::string>();
  c.updated_at = r[7].as<std::string>();
  c.ticket_count = r[8].as<int>();
  return c;
}

// Fills the identities of `contacts` (one query).
void load_identities(pqxx::transaction_base& tx, std::vector<Contact>& contacts) {
  if (contacts.empty()) return;
  std::vector<std::vector<std::optional<std::string>>> ids;
  std::map<std::string, Contact*> by_id;
  for (auto& c : contacts) {
    ids.push_back({c.id});
    by_id[c.id] = &c;
  }
  for (const auto& r : tx.exec_params(
           "SELECT i.contact_id, i.kind, i.value, i.integration_id, rfc3339(i.created_at) FROM contact_identities i "
           "JOIN jsonb_to_recordset($1::jsonb) AS r(id text) ON i.contact_id = r.id "
           "ORDER BY i.contact_id, CASE i.kind WHEN 'email' THEN 0 WHEN 'phone' THEN 1 ELSE 2 END, i.kind, i.value",
           json_records({"id"}, ids)))
    by_id.at(r[0].as<std::string>())
        ->identities.push_back({r[1].as<std::string>(), r[2].as<std::string>(), opt(r[3]), r[4].as<std::string>()});
}

}  // namespace

std::vector<ContactIdentity> identities_of(const NewTicket& t) {
  std::vector<ContactIdentity> out;
  const auto* channel = providers::find_channel(t.channel);
  if (channel && channel->person_thread && t.external_thread_id && !t.external_thread_id->empty())
    out.push_back({t.channel, *t.external_thread_id, t.integration_id, ""});
  if (t.requester_email && !t.requester_email->empty())
    out.push_back({"email", core::to_lower(*t.requester_email), {}, ""});
  if (t.requester_phone && !t.requester_phone->empty()) out.push_back({"phone", *t.requester_phone, {}, ""});
  return out;
}

std::vector<std::optional<std::string>> link_contacts(pqxx::work& tx, const std::vector<NewTicket>& tickets) {
  std::vector<std::optional<std::string>> out(tickets.size());
  using Key = std::tuple<std::string, std::string, std::string>;  // workspace, kind, value
  std::vector<std::vector<ContactIdentity>> wanted;
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& t : tickets) {
    wanted.push_back(identities_of(t));
    for (const auto& i : wanted.back()) rows.push_back({t.workspace_id, i.kind, i.value});
  }
  if (rows.empty()) return out;
  // Two transactions never make two contacts for one identity: each identity is locked (in one
  // order), and every workspace's contacts shared against a merge (merge_contacts).
  std::vector<std::vector<std::optional<std::string>>> workspaces, identities;
  for (const auto& t : tickets) workspaces.push_back({t.workspace_id});
  for (const auto& r : rows) identities.push_back({*r[0] + "\x1f" + *r[1] + "\x1f" + *r[2]});
  tx.exec_params("SELECT pg_advisory_xact_lock_shared(h) FROM (SELECT DISTINCT hashtextextended(" +
                     std::string(kContactsLockSpace) +
                     " || k, 13) AS h FROM jsonb_to_recordset($1::jsonb) AS r(k text) "
                     "ORDER BY h OFFSET 0) AS ordered",
                 json_records({"k"}, workspaces));
  tx.exec_params(
      "SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 13) AS h "
      "FROM jsonb_to_recordset($1::jsonb) AS r(k text) ORDER BY h OFFSET 0) AS ordered",
      json_records({"k"}, identities));
  std::map<Key, std::string> held;  // identity → contact, known and made in this batch
  for (const auto& r : tx.exec_params("SELECT i.workspace_id, i.kind, i.value, i.contact_id FROM contact_identities i "
                                      "JOIN jsonb_to_recordset($1::jsonb) AS r(ws text, k text, v text) "
                                      "ON i.workspace_id = r.ws AND i.kind = r.k AND i.value = r.v",
                                      json_records({"ws", "k", "v"}, rows)))
    held[{r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>()}] = r[3].as<std::string>();

  std::vector<std::vector<std::optional<std::string>>> made, claimed;
  for (std::size_t n = 0; n < tickets.size(); ++n) {
    const auto& t = tickets[n];
    if (wanted[n].empty()) continue;
    // The holder of the best-ranked identity (identities_of lists them in rank order).
    for (const auto& i : wanted[n])
      if (auto it = held.find({t.workspace_id, i.kind, i.value}); it != held.end()) {
        out[n] = it->second;
        break;
      }
    if (!out[n]) {
      out[n] = core::new_id("con");
      made.push_back({*out[n], t.workspace_id, t.requester_name});
    }
    for (const auto& i : wanted[n])
      if (held.emplace(Key{t.workspace_id, i.kind, i.value}, *out[n]).second)
        claimed.push_back({t.workspace_id, i.kind, i.value, *out[n], i.integration_id});
  }
  if (!made.empty())
    tx.exec_params0(
        "INSERT INTO contacts (id, workspace_id, name) SELECT id, ws, n "
        "FROM jsonb_to_recordset($1::jsonb) AS r(id text, ws text, n text)",
        json_records({"id", "ws", "n"}, made));
  if (!claimed.empty())
    tx.exec_params0(
        "INSERT INTO contact_identities (workspace_id, kind, value, contact_id, integration_id) "
        "SELECT ws, k, v, c, i FROM jsonb_to_recordset($1::jsonb) AS r(ws text, k text, v text, c text, i text) "
        "ORDER BY ws, k, v ON CONFLICT DO NOTHING",
        json_records({"ws", "k", "v", "c", "i"}, claimed));
  return out;
}

std::vector<Contact> list_contacts(pqxx::transaction_base& tx, const std::string& ws, const std::string& q,
                                   const std::string& after, int limit) {
  std::string sql = std::string("SELECT ") + kContactColumns +
                    " FROM contacts c WHERE c.workspace_id = $1 AND c.merged_into_id IS NULL "
                    "AND ($3 = '' OR (c.created_at, c.id) < (SELECT a.created_at, a.id FROM contacts a "
                    "WHERE a.id = $3 AND a.workspace_id = $1)) ";
  std::string text = core::trim(q), phone;
  // A phone number as typed ("+31 6 1234-5678") matches the E.164 form.
  if (!text.empty() && text.find_first_not_of("+0123456789 -().") == std::string::npos) {
    for (char ch : text)
      if (ch >= '0' && ch <= '9') phone += ch;
    if (!phone.empty()) phone = "+" + phone;
  }
  sql +=
      "AND ($2 = '' OR lower(c.name) LIKE lower($2) || '%' OR lower(c.name) LIKE '% ' || lower($2) || '%' "
      "OR c.id IN (SELECT i.contact_id FROM contact_identities i WHERE i.workspace_id = $1 "
      "AND (i.value LIKE lower($2) || '%' OR ($4 <> '' AND i.value LIKE $4 || '%')))) ";
  sql += "ORDER BY c.created_at DESC, c.id DESC LIMIT $5";
  std::vector<Contact> out;
  for (const auto& r : tx.exec_params(sql, ws, like_literal(text), after, phone, limit))
    out.push_back(contact_from_row(r));
  load_identities(tx, out);
  return out;
}

std::optional<Contact> load_contact(pqxx::transaction_base& tx, const std::string& ws, const std::string& id) {
  auto r = tx.exec_params(
      std::string("SELECT ") + kContactColumns + " FROM contacts c WHERE c.workspace_id = $1 AND c.id = $2", ws, id);
  if (r.empty()) return std::nullopt;
  std::vector<Contact> one{contact_from_row(r[0])};
  load_identities(tx, one);
  return one[0];
}

void save_contact(pqxx::work& tx, Contact& c) {
  c.updated_at = tx.exec_params1(
                       "UPDATE contacts SET name = $3, notes = $4, attributes = $5::jsonb, updated_at = now() "
                       "WHERE workspace_id = $1 AND id = $2 RETURNING rfc3339(updated_at)",
                       c.workspace_id, c.id, c.name, c.notes, c.attributes)[0]
                     .as<std::string>();
}

std::vector<std::string> merge_contacts(pqxx::work& tx, const std::string& ws, const std::string& target,
                                        const std::vector<std::string>& sources) {
  // Ticket creation links contacts holding this lock shared (link_contacts): taking it alone
  // means no ticket is linked to a source while it is merged away.
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended(" + std::string(kContactsLockSpace) + " || $1, 13))",
                 ws);
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& s : sources) rows.push_back({s});
  const auto list = json_records({"id"}, rows);
  const std::string in_sources = "(SELECT r.id FROM jsonb_to_recordset($2::jsonb) AS r(id text))";
  // The target's blanks filled from the sources, oldest first; attributes: the target's keys win.
  tx.exec_params0(
      "UPDATE contacts c SET "
      "name = coalesce(c.name, (SELECT s.name FROM contacts s WHERE s.id IN " +
          in_sources +
          " AND s.name IS NOT NULL ORDER BY s.created_at LIMIT 1)), "
          "notes = concat_ws(E'\\n\\n', nullif(c.notes, ''), (SELECT string_agg(s.notes, E'\\n\\n' "
          "ORDER BY s.created_at) FROM contacts s WHERE s.id IN " +
          in_sources +
          " AND s.notes <> '')), "
          "attributes = coalesce((SELECT jsonb_object_agg(e.key, e.value) FROM (SELECT DISTINCT ON "
          "(x.key) x.key, x.value FROM contacts s, jsonb_each(s.attributes) x WHERE s.id IN " +
          in_sources +
          " ORDER BY x.key, s.created_at DESC) e), '{}') || c.attributes, "
          "updated_at = now() WHERE c.workspace_id = $1 AND c.id = $3",
      ws, list, target);
  tx.exec_params0(
      "UPDATE contact_identities SET contact_id = $3 WHERE workspace_id = $1 AND contact_id IN " + in_sources, ws, list,
      target);
  tx.exec_params0(
      "UPDATE contacts SET merged_into_id = $3, updated_at = now() WHERE workspace_id = $1 AND "
      "(id IN " +
          in_sources + " OR merged_into_id IN " + in_sources + ")",
      ws, list, target);
  std::vector<std::string> moved;
  for (const auto& r : tx.exec_params(std::string("SELECT ") + kTicketColumns +
                                          " FROM tickets WHERE workspace_id = $1 AND contact_id IN " + in_sources +
                                          " ORDER BY number FOR UPDATE",
                                      ws, list)) {
    Ticket t = ticket_from_row(r);
    TicketChanges c;
    c.contact_id = std::optional<std::string>(target);
    update_ticket(tx, t, c);
    moved.push_back(t.id);
  }
  return moved;
}

std::optional<Ticket> contact_route(pqxx::transaction_base& tx, const Ticket& t, const std::string& channel) {
  const auto* c = providers::find_channel(channel);
  if (!c) return std::nullopt;
  Ticket route = t;
  route.channel = channel;
  route.reply_window.reset();
  const std::string kind = c->reply_to == providers::ReplyTo::kEmail   ? "email"
                           : c->reply_to == providers::ReplyTo::kPhone ? "phone"
                                                                       : channel;
  // The ticket's own address or number comes first; else the contact's (the oldest one).
  if (kind == "email" && t.requester_email) return route;
  if (!t.contact_id) return std::nullopt;
  auto r = tx.exec_params(
      "SELECT i.value, (SELECT c.integration_id FROM contact_identities c WHERE c.workspace_id = i.workspace_id "
      "AND c.contact_id = i.contact_id AND c.kind = $3 AND c.value = i.value), "
      "(SELECT (extract(epoch FROM max(customer_message_at)) * 1000)::bigint FROM tickets "
      "WHERE contact_id = i.contact_id AND channel = $3) "
      "FROM contact_identities i WHERE i.workspace_id = $1 AND i.contact_id = $2 AND i.kind = $4 "
      "ORDER BY (i.value = $5) DESC, i.created_at LIMIT 1",
      t.workspace_id, *t.contact_id, channel, kind, t.requester_phone.value_or(""));
  if (r.empty()) return std::nullopt;
  const auto value = r[0][0].as<std::string>();
  if (kind == "email") {
    route.requester_email = value;
  } else {
    if (kind == "phone") route.requester_phone = value;
    route.integration_id = opt(r[0][1]);
    route.external_thread_id = value;
    if (kind != "phone" && !route.integration_id) return std::nullopt;  // its bot or page is gone
  }
  if (!r[0][2].is_null()) set_reply_window(route, r[0][2].as<std::int64_t>());
  return route;
}

}  // namespace loket::store
