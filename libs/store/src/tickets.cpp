#include "loket/store/tickets.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/store/store.hpp"

namespace loket::store {
namespace {
constexpr const char* kTicketColumns =
    "id, workspace_id, number, subject, status, priority, channel, integration_id, "
    "external_thread_id, requester_name, requester_email, requester_phone, assignee_id, "
    "array_to_string(tags, E'\\x1f'), rfc3339(created_at), rfc3339(updated_at), "
    "rfc3339(first_response_at), rfc3339(resolved_at)";

std::optional<std::string> opt(const pqxx::field& f) {
  if (f.is_null()) return std::nullopt;
  return f.as<std::string>();
}

Ticket ticket_from_row(const pqxx::row& r) {
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
  return t;
}

std::string channel_label(const std::string& channel) {
  if (channel == "whatsapp") return "WhatsApp";
  if (channel == "web") return "Web";
  if (channel.empty()) return "Support";
  std::string s = channel;
  s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}
}  // namespace

std::string subject_from_text(const std::string& text, const std::string& channel) {
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    std::string line = core::trim(std::string_view(text).substr(pos, end - pos));
    if (!line.empty()) return core::utf8_truncate(line, 120);
    pos = end + 1;
  }
  return channel_label(channel) + " inquiry";
}

std::optional<Ticket> load_ticket(pqxx::transaction_base& tx, const std::string& workspace_id,
                                  const std::string& id, bool for_update) {
  auto r = tx.exec_params(std::string("SELECT ") + kTicketColumns +
                              " FROM tickets WHERE workspace_id = $1 AND id = $2" +
                              (for_update ? " FOR UPDATE" : ""),
                          workspace_id, id);
  if (r.empty()) return std::nullopt;
  return ticket_from_row(r[0]);
}

std::vector<Ticket> list_tickets(pqxx::transaction_base& tx, const std::string& workspace_id,
                                 const std::string& status, const std::string& channel,
                                 std::int64_t before_number, long limit) {
  auto r = tx.exec_params(std::string("SELECT ") + kTicketColumns +
                              " FROM tickets WHERE workspace_id = $1 AND ($2 = '' OR status = $2) AND "
                              "($3 = '' OR channel = $3) AND ($4 = 0 OR number < $4) "
                              "ORDER BY number DESC LIMIT $5",
                          workspace_id, status, channel, before_number, limit);
  std::vector<Ticket> out;
  for (const auto& row : r) out.push_back(ticket_from_row(row));
  return out;
}

std::optional<Ticket> find_open_thread(pqxx::transaction_base& tx, const std::string& workspace_id,
                                       const std::string& channel, const std::string& thread_id) {
  auto r = tx.exec_params(std::string("SELECT ") + kTicketColumns +
                              " FROM tickets WHERE workspace_id = $1 AND channel = $2 AND "
                              "external_thread_id = $3 AND status <> 'closed' "
                              "ORDER BY created_at DESC, number DESC LIMIT 1 FOR UPDATE",
                          workspace_id, channel, thread_id);
  if (r.empty()) return std::nullopt;
  return ticket_from_row(r[0]);
}

void lock_thread(pqxx::transaction_base& tx, const std::string& workspace_id,
                 const std::string& channel, const std::string& thread_id) {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))",
                 workspace_id + "\x1f" + channel + "\x1f" + thread_id);
}

Ticket create_ticket(pqxx::work& tx, const NewTicket& n) {
  auto seq = tx.exec_params1(
      "UPDATE workspaces SET ticket_seq = ticket_seq + 1 WHERE id = $1 RETURNING ticket_seq",
      n.workspace_id);
  std::string id = core::new_id("tkt");
  auto r = tx.exec_params(
      std::string("INSERT INTO tickets (id, workspace_id, number, subject, status, priority, "
                  "channel, integration_id, external_thread_id, requester_name, requester_email, "
                  "requester_phone) VALUES ($1,$2,$3,$4,'open',$5,$6,$7,$8,$9,$10,$11) RETURNING ") +
          kTicketColumns,
      id, n.workspace_id, seq[0].as<std::int64_t>(), n.subject, n.priority, n.channel,
      n.integration_id, n.external_thread_id, n.requester_name, n.requester_email,
      n.requester_phone);
  Ticket t = ticket_from_row(r[0]);
  emit_ticket_event(tx, "ticket.created", t.workspace_id, t.id,
                    "{\"ticket\":" + ticket_json(t) + "}");
  return t;
}

Message add_message(pqxx::work& tx, const Ticket& ticket, const NewMessage& n,
                    const std::vector<NewAttachment>& files) {
  Message m;
  m.id = core::new_id("tmsg");
  auto r = tx.exec_params1(
      "INSERT INTO messages (id, workspace_id, ticket_id, author_type, author_name, body, "
      "internal, integration_id, external_message_id, delivery_status) "
      "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING rfc3339(created_at)",
      m.id, ticket.workspace_id, ticket.id, n.author_type, n.author_name, n.body, n.internal,
      n.integration_id, n.external_message_id, n.delivery_status);
  m.ticket_id = ticket.id;
  m.author_type = n.author_type;
  m.author_name = n.author_name;
  m.body = n.body;
  m.internal = n.internal;
  m.delivery_status = n.delivery_status;
  m.created_at = r[0].as<std::string>();
  for (const auto& f : files) {
    Attachment a;
    a.id = core::new_id("att");
    a.message_id = m.id;
    a.filename = f.filename;
    a.content_type = f.content_type.empty() ? "application/octet-stream" : f.content_type;
    a.status = f.data ? "stored" : "unavailable";
    a.size = f.data ? static_cast<std::int64_t>(f.data->size()) : f.size;
    const std::string sql =
        "INSERT INTO attachments (id, workspace_id, message_id, filename, content_type, size, "
        "data, external_ref, status) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) RETURNING rfc3339(created_at)";
    pqxx::row ar = f.data ? tx.exec_params1(sql, a.id, ticket.workspace_id, m.id, a.filename,
                                            a.content_type, a.size, pqxx::binarystring(*f.data),
                                            f.external_ref, a.status)
                          : tx.exec_params1(sql, a.id, ticket.workspace_id, m.id, a.filename,
                                            a.content_type, a.size, std::optional<std::string>(),
                                            f.external_ref, a.status);
    a.created_at = ar[0].as<std::string>();
    m.attachments.push_back(std::move(a));
  }
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "channel", ticket.channel);
  core::json_kv_opt(w, "integrationId", ticket.integration_id);
  core::json_kv_opt(w, "externalThreadId", ticket.external_thread_id);
  core::json_kv_opt(w, "requesterEmail", ticket.requester_email);
  core::json_kv_opt(w, "requesterPhone", ticket.requester_phone);
  w.EndObject();
  emit_ticket_event(tx, "message.created", ticket.workspace_id, ticket.id,
                    "{\"ticketNumber\":" + std::to_string(ticket.number) + ",\"route\":" +
                        sb.GetString() + ",\"message\":" + message_json(m) + "}");
  return m;
}

void set_status(pqxx::work& tx, Ticket& t, const std::string& status) {
  if (t.status == status) return;
  std::string from = t.status;
  auto r = tx.exec_params(
      std::string("UPDATE tickets SET status = $3, updated_at = now(), resolved_at = CASE "
                  "WHEN $3 IN ('resolved','closed') THEN coalesce(resolved_at, now()) ELSE NULL END "
                  "WHERE workspace_id = $1 AND id = $2 RETURNING ") + kTicketColumns,
      t.workspace_id, t.id, status);
  t = ticket_from_row(r[0]);
  emit_ticket_event(tx, "ticket.updated", t.workspace_id, t.id,
                    "{\"changes\":{\"status\":{\"from\":\"" + from + "\",\"to\":\"" + status +
                        "\"}},\"ticket\":" + ticket_json(t) + "}");
}

bool message_exists(pqxx::transaction_base& tx, const std::string& integration_id,
                    const std::string& external_message_id) {
  return !tx.exec_params(
                "SELECT 1 FROM messages WHERE integration_id = $1 AND external_message_id = $2",
                integration_id, external_message_id)
              .empty();
}

std::vector<Message> load_messages(pqxx::transaction_base& tx, const std::string& ticket_id,
                                   bool include_internal) {
  auto r = tx.exec_params(
      "SELECT id, ticket_id, author_type, author_name, body, internal, delivery_status, "
      "delivery_error, rfc3339(delivered_at), rfc3339(created_at) FROM messages "
      "WHERE ticket_id = $1 AND ($2 OR NOT internal) ORDER BY created_at, id",
      ticket_id, include_internal);
  std::vector<Message> out;
  for (const auto& row : r) {
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
    out.push_back(std::move(m));
  }
  auto a = tx.exec_params(
      "SELECT a.id, a.message_id, a.filename, a.content_type, a.size, a.status, rfc3339(a.created_at) "
      "FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.ticket_id = $1 "
      "ORDER BY a.created_at, a.id",
      ticket_id);
  for (const auto& row : a) {
    for (auto& m : out) {
      if (m.id != row[1].as<std::string>()) continue;
      m.attachments.push_back({row[0].as<std::string>(), m.id, row[2].as<std::string>(),
                               row[3].as<std::string>(), row[5].as<std::string>(),
                               row[6].as<std::string>(), row[4].as<std::int64_t>()});
    }
  }
  return out;
}

std::string ticket_json(const Ticket& t) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", t.id);
  core::json_put(w, "number");
  w.Int64(t.number);
  core::json_kv(w, "subject", t.subject);
  core::json_kv(w, "status", t.status);
  core::json_kv(w, "priority", t.priority);
  core::json_kv(w, "channel", t.channel);
  core::json_kv_opt(w, "integrationId", t.integration_id);
  core::json_kv_opt(w, "requesterName", t.requester_name);
  core::json_kv_opt(w, "requesterEmail", t.requester_email);
  core::json_kv_opt(w, "requesterPhone", t.requester_phone);
  core::json_kv_opt(w, "assigneeId", t.assignee_id);
  core::json_put(w, "tags");
  w.StartArray();
  for (const auto& tag : t.tags) core::json_put(w, tag);
  w.EndArray();
  core::json_kv(w, "createdAt", t.created_at);
  core::json_kv(w, "updatedAt", t.updated_at);
  core::json_kv_opt(w, "firstResponseAt", t.first_response_at);
  core::json_kv_opt(w, "resolvedAt", t.resolved_at);
  core::json_put(w, "csat");
  w.Null();
  w.EndObject();
  return sb.GetString();
}

std::string message_json(const Message& m) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", m.id);
  core::json_kv(w, "ticketId", m.ticket_id);
  core::json_kv(w, "authorType", m.author_type);
  core::json_kv(w, "authorName", m.author_name);
  core::json_kv(w, "body", m.body);
  core::json_put(w, "internal");
  w.Bool(m.internal);
  core::json_kv(w, "createdAt", m.created_at);
  core::json_put(w, "attachments");
  w.StartArray();
  for (const auto& a : m.attachments) {
    w.StartObject();
    core::json_kv(w, "id", a.id);
    core::json_kv(w, "filename", a.filename);
    core::json_kv(w, "contentType", a.content_type);
    core::json_put(w, "size");
    w.Int64(a.size);
    core::json_kv(w, "status", a.status);
    core::json_kv(w, "createdAt", a.created_at);
    w.EndObject();
  }
  w.EndArray();
  core::json_put(w, "delivery");
  if (m.delivery_status) {
    w.StartObject();
    core::json_kv(w, "status", *m.delivery_status);
    core::json_kv_opt(w, "error", m.delivery_error);
    core::json_kv_opt(w, "deliveredAt", m.delivered_at);
    w.EndObject();
  } else {
    w.Null();
  }
  w.EndObject();
  return sb.GetString();
}

}  // namespace loket::store
