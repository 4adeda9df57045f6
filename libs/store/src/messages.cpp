// Messages: inserts (one or a batch), dedup probes, a ticket's conversation.
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

namespace {
// The message `n` will be on `ticket`, with a new id (created_at and attachments still unset).
Message new_message(const Ticket& ticket, const NewMessage& n) {
  Message m;
  m.id = core::new_id("tmsg");
  m.ticket_id = ticket.id;
  m.author_type = n.author_type;
  m.author_name = n.author_name;
  m.body = n.body;
  m.internal = n.internal;
  m.delivery_status = n.delivery_status;
  m.quoted_text = n.quoted_text;
  m.cc = n.cc;
  m.has_raw = n.raw.has_value();
  return m;
}

// Keeps the original bytes of the new message `m` (email's message/rfc822).
void insert_raw(pqxx::work& tx, const Ticket& ticket, const Message& m, const NewMessage& n) {
  if (!n.raw) return;
  prepare(
      tx, "insert_raw",
      "INSERT INTO message_sources (message_id, workspace_id, content_type, data) VALUES ($1,$2,'message/rfc822',$3)");
  tx.exec_prepared0("insert_raw", m.id, ticket.workspace_id, pqxx::binarystring(*n.raw));
}

// Cc addresses as one text for the batch's JSON records (unit separator between them).
std::optional<std::string> joined(const std::vector<std::string>& list) {
  if (list.empty()) return std::nullopt;
  std::string out;
  for (const auto& s : list) out += (out.empty() ? "" : "\x1f") + s;
  return out;
}

// Inserts `files` as attachments of the stored message `m` (bytes into the blob store) and
// adds them to `m.attachments`.
void insert_attachments(pqxx::work& tx, const Ticket& ticket, Message& m, const std::vector<NewAttachment>& files) {
  for (const auto& f : files) {
    Attachment a;
    a.id = core::new_id("att");
    a.message_id = m.id;
    a.filename = f.filename;
    a.content_type = f.content_type.empty() ? "application/octet-stream" : f.content_type;
    a.status = f.data ? "stored" : "unavailable";
    a.size = f.data ? static_cast<std::int64_t>(f.data->size()) : f.size;
    pqxx::row ar = tx.exec_params1(
        "INSERT INTO attachments (id, workspace_id, message_id, filename, content_type, size, "
        "external_ref, status) VALUES ($1,$2,$3,$4,$5,$6,$7,$8) RETURNING rfc3339(created_at)",
        a.id, ticket.workspace_id, m.id, a.filename, a.content_type, a.size, f.external_ref, a.status);
    if (f.data) postgres_blobs().put(tx, a.id, *f.data);
    a.created_at = ar[0].as<std::string>();
    m.attachments.push_back(std::move(a));
  }
}

}  // namespace

Message add_message(pqxx::work& tx, const Ticket& ticket, const NewMessage& n, const std::vector<NewAttachment>& files,
                    bool emit) {
  Message m = new_message(ticket, n);
  prepare(tx, "add_message",
          "INSERT INTO messages (id, workspace_id, ticket_id, author_type, author_name, body, "
          "internal, integration_id, external_message_id, delivery_status, quoted_text, cc, created_at) "
          // clock_timestamp(): messages written in one transaction (a ticket and its auto-reply,
          // a writer's batch) keep the order they were written in.
          "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11, string_to_array($12, E'\\x1f'), clock_timestamp()) "
          "RETURNING rfc3339(created_at), seq");
  auto r = tx.exec_prepared1("add_message", m.id, ticket.workspace_id, ticket.id, n.author_type, n.author_name, n.body,
                             n.internal, n.integration_id, n.external_message_id, n.delivery_status, n.quoted_text,
                             joined(n.cc));
  m.created_at = r[0].as<std::string>();
  m.seq = r[1].as<std::int64_t>();
  insert_raw(tx, ticket, m, n);
  insert_attachments(tx, ticket, m, files);
  if (emit) emit_message_created(tx, ticket, m);
  return m;
}

std::vector<Message> add_messages(pqxx::work& tx, const std::vector<BatchMessage>& batch) {
  std::vector<Message> out(batch.size());
  if (batch.empty()) return out;
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const auto& [ticket, n, files] = batch[i];
    Message& m = out[i] = new_message(ticket, n);
    rows.push_back({std::to_string(i), m.id, ticket.workspace_id, ticket.id, n.author_type, n.author_name, n.body,
                    n.internal ? "t" : "f", n.integration_id, n.external_message_id, n.delivery_status, n.quoted_text,
                    joined(n.cc)});
  }
  // One statement; ORDER BY makes clock_timestamp() increase in the batch's order.
  prepare(tx, "add_messages",
          "INSERT INTO messages (id, workspace_id, ticket_id, author_type, author_name, body, internal, "
          "integration_id, external_message_id, delivery_status, quoted_text, cc, created_at) "
          "SELECT id, ws, t, at, an, b, \"in\"::boolean, i, e, d, q, string_to_array(cc, E'\\x1f'), "
          "clock_timestamp() "
          "FROM jsonb_to_recordset($1::jsonb) AS r(o int, id text, ws text, t text, at text, an text, b text, "
          "\"in\" text, i text, e text, d text, q text, cc text) ORDER BY o RETURNING id, rfc3339(created_at), seq");
  std::map<std::string, std::pair<std::string, std::int64_t>> created;
  auto json = json_records({"o", "id", "ws", "t", "at", "an", "b", "in", "i", "e", "d", "q", "cc"}, rows);
  for (const auto& row : tx.exec_prepared("add_messages", json))
    created[row[0].as<std::string>()] = {row[1].as<std::string>(), row[2].as<std::int64_t>()};
  for (std::size_t i = 0; i < batch.size(); ++i) {
    std::tie(out[i].created_at, out[i].seq) = created.at(out[i].id);
    insert_raw(tx, batch[i].ticket, out[i], batch[i].message);
    insert_attachments(tx, batch[i].ticket, out[i], batch[i].files);
    emit_message_created(tx, batch[i].ticket, out[i]);
  }
  return out;
}

void emit_message_created(pqxx::work& tx, const Ticket& ticket, const Message& m, const std::string& tag,
                          const std::optional<events::TemplateRef>& message_template) {
  events::Route route{ticket.channel,         ticket.integration_id,  ticket.external_thread_id,
                      ticket.requester_email, ticket.requester_phone, tag.empty() ? std::nullopt : std::optional(tag),
                      message_template};
  emit_ticket_event(tx, ticket.workspace_id, ticket.id, events::MessageCreated{ticket.number, std::move(route), m});
}

bool echoes_recent_reply(pqxx::transaction_base& tx, const std::string& ticket_id, const std::string& text) {
  if (text.empty()) return false;
  return tx
      .exec_params1(
          "SELECT EXISTS (SELECT 1 FROM messages WHERE ticket_id = $1 AND author_type IN ('agent', 'system') "
          "AND NOT internal AND created_at > now() - interval '15 minutes' "
          "AND (delivery_status = 'pending' OR delivered_at IS NOT NULL) AND strpos(body, $2) > 0)",
          ticket_id, text)[0]
      .as<bool>();
}

std::set<MessageKey> existing_messages(pqxx::transaction_base& tx, const std::vector<MessageKey>& keys) {
  std::set<MessageKey> out;
  if (keys.empty()) return out;
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& [integration, external] : keys) rows.push_back({integration, external});
  // One index probe per key, whatever the statistics: as a plain join, the plan cached by a
  // writer that started on a nearly empty table scanned ~1,000 pages per call (pg_stat_statements:
  // 9.5 ms a probe, the writer's largest cost); LIMIT keeps the subquery from being flattened.
  prepare(tx, "existing_messages",
          "SELECT m.integration_id, m.external_message_id FROM jsonb_to_recordset($1::jsonb) AS k(i text, e text), "
          "LATERAL (SELECT integration_id, external_message_id FROM messages "
          "WHERE integration_id = k.i AND external_message_id = k.e LIMIT 1) AS m");
  for (const auto& row : tx.exec_prepared("existing_messages", json_records({"i", "e"}, rows)))
    out.emplace(row[0].as<std::string>(), row[1].as<std::string>());
  return out;
}

std::vector<Message> load_messages(pqxx::transaction_base& tx, const std::string& ticket_id, bool include_internal,
                                   std::int64_t after_seq) {
  // One round trip: each message once per attachment (or once with NULL attachment columns).
  prepare(tx, "load_messages",
          "SELECT m.id, m.ticket_id, m.author_type, m.author_name, m.body, m.internal, "
          "m.delivery_status, m.delivery_error, rfc3339(m.delivered_at), rfc3339(m.created_at), "
          "a.id, a.filename, a.content_type, a.size, a.status, rfc3339(a.created_at), "
          "m.quoted_text, array_to_string(m.cc, E'\\x1f'), "
          "EXISTS (SELECT 1 FROM message_sources s WHERE s.message_id = m.id), m.seq, m.merged_from_ticket_id "
          "FROM messages m LEFT JOIN attachments a ON a.message_id = m.id "
          "WHERE m.ticket_id = $1 AND ($2 OR NOT m.internal) AND m.seq > $3 "
          "ORDER BY m.created_at, m.seq, a.created_at, a.id");
  auto r = tx.exec_prepared("load_messages", ticket_id, include_internal, after_seq);
  std::vector<Message> out;
  for (const auto& row : r) {
    if (out.empty() || out.back().id != row[0].c_str()) {
      Message m;
      m.id = row[0].as<std::string>();
      m.ticket_id = row[1].as<std::string>();
      m.author_type = row[2].as<std::string>();
      m.author_name = row[3].as<std::string>();
      m.body = row[4].as<std::string>();
      m.internal = row[5].as<bool>();
      m.delivery_status = opt(row[6]);
      m.delivery_error = opt(row[7]);
      m.delivered_at = opt(row[8]);
      m.created_at = row[9].as<std::string>();
      m.quoted_text = opt(row[16]);
      if (!row[17].is_null()) m.cc = core::split(row[17].as<std::string>(), '\x1f');
      m.has_raw = row[18].as<bool>();
      m.seq = row[19].as<std::int64_t>();
      m.merged_from = opt(row[20]);
      out.push_back(std::move(m));
    }
    if (!row[10].is_null())
      out.back().attachments.push_back({row[10].as<std::string>(), out.back().id, row[11].as<std::string>(),
                                        row[12].as<std::string>(), row[14].as<std::string>(), row[15].as<std::string>(),
                                        row[13].as<std::int64_t>()});
  }
  return out;
}

std::vector<std::string> requester_email_ids(pqxx::transaction_base& tx, const std::string& ticket_id,
                                             std::size_t limit) {
  auto r = tx.exec_params(
      "SELECT external_message_id FROM (SELECT m.external_message_id, m.created_at, m.id FROM messages m "
      "JOIN message_sources s ON s.message_id = m.id WHERE m.ticket_id = $1 AND m.author_type = 'requester' "
      "AND m.external_message_id LIKE '%@%' ORDER BY m.created_at DESC, m.id DESC LIMIT $2) AS last "
      "ORDER BY created_at, id",
      ticket_id, static_cast<std::int64_t>(limit));
  std::vector<std::string> out;
  for (const auto& row : r) out.push_back(row[0].as<std::string>());
  return out;
}

std::optional<std::string> load_message_raw(pqxx::transaction_base& tx, const std::string& workspace_id,
                                            const std::string& ticket_id, const std::string& message_id,
                                            bool include_internal) {
  auto r = tx.exec_params(
      "SELECT s.data FROM message_sources s JOIN messages m ON m.id = s.message_id "
      "WHERE s.workspace_id = $1 AND m.ticket_id = $2 AND s.message_id = $3 AND ($4 OR NOT m.internal)",
      workspace_id, ticket_id, message_id, include_internal);
  if (r.empty()) return std::nullopt;
  return pqxx::binarystring(r[0][0]).str();
}

}  // namespace loket::store
