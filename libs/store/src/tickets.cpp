#include "loket/store/tickets.hpp"

#include <stdexcept>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/search.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {
namespace {
constexpr const char* kTicketColumns =
    "id, workspace_id, number, subject, status, priority, channel, integration_id, "
    "external_thread_id, requester_name, requester_email, requester_phone, assignee_id, "
    "array_to_string(tags, E'\\x1f'), rfc3339(created_at), rfc3339(updated_at), "
    "rfc3339(first_response_at), rfc3339(resolved_at), csat_score, csat_comment";

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
  if (!r[18].is_null()) t.csat_score = r[18].as<int>();
  t.csat_comment = opt(r[19]);
  return t;
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
  switch (q.sort) {
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
  std::string sql = std::string("SELECT ") + kTicketColumns +
                    ", (extract(epoch FROM updated_at) * 1000000)::bigint FROM tickets WHERE " + where + " ORDER BY " +
                    order + " LIMIT " + std::to_string(q.limit);
  auto r = tx.exec_params(sql, pqxx::prepare::make_dynamic_params(args));
  std::vector<ListedTicket> out;
  for (const auto& row : r) out.push_back({ticket_from_row(row), row[20].as<std::int64_t>()});
  return out;
}

std::map<ThreadKey, Ticket> find_open_threads(pqxx::transaction_base& tx, const std::vector<ThreadKey>& threads) {
  std::map<ThreadKey, Ticket> out;
  if (threads.empty()) return out;
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& t : threads) rows.push_back({t.workspace_id, t.channel, t.thread_id});
  prepare(tx, "find_open_threads",
          std::string("SELECT o.* FROM (SELECT DISTINCT w, c, t FROM jsonb_to_recordset($1::jsonb) AS k(w text, c "
                      "text, t text)) AS k, "
                      "LATERAL (SELECT ") +
              kTicketColumns +
              " FROM tickets WHERE workspace_id = k.w AND channel = k.c AND external_thread_id = k.t "
              "AND status <> 'closed' ORDER BY created_at DESC, number DESC LIMIT 1 FOR UPDATE) AS o");
  for (const auto& row : tx.exec_prepared("find_open_threads", json_records({"w", "c", "t"}, rows))) {
    Ticket t = ticket_from_row(row);
    ThreadKey key{t.workspace_id, t.channel, t.external_thread_id.value_or("")};
    out.emplace(std::move(key), std::move(t));
  }
  return out;
}

void touch_thread_tickets(pqxx::work& tx, const std::map<std::string, std::string>& integration_by_ticket) {
  if (integration_by_ticket.empty()) return;
  std::vector<std::vector<std::optional<std::string>>> rows;
  for (const auto& [ticket, integration] : integration_by_ticket) rows.push_back({ticket, integration});
  prepare(tx, "touch_thread_tickets",
          "UPDATE tickets SET integration_id = u.i, updated_at = now() "
          "FROM jsonb_to_recordset($1::jsonb) AS u(id text, i text) WHERE tickets.id = u.id");
  tx.exec_prepared0("touch_thread_tickets", json_records({"id", "i"}, rows));
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
  auto seq = tx.exec_params1("UPDATE workspaces SET ticket_seq = ticket_seq + 1 WHERE id = $1 RETURNING ticket_seq",
                             n.workspace_id);
  std::string id = core::new_id("tkt");
  // The requester's credential: 256 random bits; only its hash is searchable. Written with the
  // row (one row version, indexed once).
  std::string token = core::base64url(core::random_bytes(32));
  auto r = tx.exec_params(
      std::string("INSERT INTO tickets (id, workspace_id, number, subject, status, priority, "
                  "channel, integration_id, external_thread_id, requester_name, requester_email, "
                  "requester_phone, search, access_token_hash, access_token, access_token_key_id, reply_token) "
                  "VALUES ($1,$2,$3,$4,'open',$5,$6,$7,$8,$9,$10,$11, to_tsvector('simple', $4), "
                  "$12,$13,$14,$15) RETURNING ") +
          kTicketColumns,
      id, n.workspace_id, seq[0].as<std::int64_t>(), n.subject, n.priority, n.channel, n.integration_id,
      n.external_thread_id, n.requester_name, n.requester_email, n.requester_phone,
      pqxx::binarystring(crypto::sha256(token)), pqxx::binarystring(keys.encrypt(token, id)), keys.active_key_id(),
      core::to_hex(core::random_bytes(16)));
  Ticket t = ticket_from_row(r[0]);
  if (access_token) *access_token = token;
  emit_ticket_event(tx, "ticket.created", t.workspace_id, t.id, "{\"ticket\":" + ticket_json(t) + "}");
  return t;
}

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
  return m;
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
          "internal, integration_id, external_message_id, delivery_status, created_at) "
          // clock_timestamp(): messages written in one transaction (a ticket and its auto-reply,
          // a writer's batch) keep the order they were written in.
          "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10, clock_timestamp()) RETURNING rfc3339(created_at)");
  auto r = tx.exec_prepared1("add_message", m.id, ticket.workspace_id, ticket.id, n.author_type, n.author_name, n.body,
                             n.internal, n.integration_id, n.external_message_id, n.delivery_status);
  m.created_at = r[0].as<std::string>();
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
                    n.internal ? "t" : "f", n.integration_id, n.external_message_id, n.delivery_status});
  }
  // One statement; ORDER BY makes clock_timestamp() increase in the batch's order.
  prepare(tx, "add_messages",
          "INSERT INTO messages (id, workspace_id, ticket_id, author_type, author_name, body, internal, "
          "integration_id, external_message_id, delivery_status, created_at) "
          "SELECT id, ws, t, at, an, b, \"in\"::boolean, i, e, d, clock_timestamp() "
          "FROM jsonb_to_recordset($1::jsonb) AS r(o int, id text, ws text, t text, at text, an text, b text, "
          "\"in\" text, i text, e text, d text) ORDER BY o RETURNING id, rfc3339(created_at)");
  std::map<std::string, std::string> created;
  auto json = json_records({"o", "id", "ws", "t", "at", "an", "b", "in", "i", "e", "d"}, rows);
  for (const auto& row : tx.exec_prepared("add_messages", json))
    created[row[0].as<std::string>()] = row[1].as<std::string>();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    out[i].created_at = created.at(out[i].id);
    insert_attachments(tx, batch[i].ticket, out[i], batch[i].files);
    emit_message_created(tx, batch[i].ticket, out[i]);
  }
  return out;
}

void emit_message_created(pqxx::work& tx, const Ticket& ticket, const Message& m) {
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
                    "{\"ticketNumber\":" + std::to_string(ticket.number) + ",\"route\":" + sb.GetString() +
                        ",\"message\":" + message_json(m) + "}");
}

void update_ticket(pqxx::work& tx, Ticket& t, const TicketChanges& c) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  auto put = [&](const std::string& v) { core::json_put(w, v); };
  auto put_opt = [&](const std::optional<std::string>& v) {
    if (v)
      core::json_put(w, *v);
    else
      w.Null();
  };
  auto put_list = [&](const std::vector<std::string>& v) {
    w.StartArray();
    for (const auto& x : v) core::json_put(w, x);
    w.EndArray();
  };
  // Writes `name: {from, to}` when the value changes.
  auto change = [&](const char* name, const auto& from, const auto& to, const auto& put_value) {
    if (from == to) return false;
    core::json_put(w, name);
    w.StartObject();
    core::json_put(w, "from");
    put_value(from);
    core::json_put(w, "to");
    put_value(to);
    w.EndObject();
    return true;
  };
  bool status = c.status && change("status", t.status, *c.status, put);
  bool priority = c.priority && change("priority", t.priority, *c.priority, put);
  bool subject = c.subject && change("subject", t.subject, *c.subject, put);
  bool assignee = c.assignee_id && change("assigneeId", t.assignee_id, *c.assignee_id, put_opt);
  bool tags = c.tags && change("tags", t.tags, *c.tags, put_list);
  w.EndObject();
  if (!status && !priority && !subject && !assignee && !tags) return;
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
                  "tags = CASE WHEN $11 THEN coalesce(string_to_array($12, E'\\x1f'), '{}') ELSE tags END "
                  "WHERE workspace_id = $1 AND id = $2 RETURNING ") +
          kTicketColumns,
      t.workspace_id, t.id, status, c.status.value_or(""), priority, c.priority.value_or(""), subject,
      c.subject.value_or(""), assignee, assignee ? *c.assignee_id : std::optional<std::string>(), tags,
      tags && !c.tags->empty() ? std::optional<std::string>(tag_list) : std::optional<std::string>());
  t = ticket_from_row(r[0]);
  emit_ticket_event(tx, "ticket.updated", t.workspace_id, t.id,
                    std::string("{\"changes\":") + sb.GetString() + ",\"ticket\":" + ticket_json(t) + "}");
}

void set_status(pqxx::work& tx, Ticket& t, const std::string& status) {
  TicketChanges c;
  c.status = status;
  update_ticket(tx, t, c);
}

bool link_attachments(pqxx::work& tx, const std::string& workspace_id, Message& m,
                      const std::vector<std::string>& ids) {
  if (ids.empty()) return true;
  std::string list;
  for (const auto& id : ids) list += (list.empty() ? "" : ",") + id;
  auto r = tx.exec_params(
      "UPDATE attachments SET message_id = $3 WHERE workspace_id = $1 AND message_id IS NULL AND "
      "id = ANY(string_to_array($2, ',')) RETURNING id, filename, content_type, size, status, "
      "rfc3339(created_at)",
      workspace_id, list, m.id);
  if (r.size() != ids.size()) return false;
  for (const auto& id : ids)
    for (const auto& row : r)
      if (row[0].as<std::string>() == id)
        m.attachments.push_back({id, m.id, row[1].as<std::string>(), row[2].as<std::string>(), row[4].as<std::string>(),
                                 row[5].as<std::string>(), row[3].as<std::int64_t>()});
  return true;
}

namespace {
class PostgresBlobs final : public BlobStore {
 public:
  void put(pqxx::work& tx, const std::string& id, const std::string& bytes) override {
    tx.exec_params0("UPDATE attachments SET data = $2, size = $3 WHERE id = $1", id, pqxx::binarystring(bytes),
                    static_cast<std::int64_t>(bytes.size()));
  }
  std::optional<std::string> get(pqxx::transaction_base& tx, const std::string& id) override {
    auto r = tx.exec_params("SELECT data FROM attachments WHERE id = $1 AND data IS NOT NULL", id);
    if (r.empty()) return std::nullopt;
    return pqxx::binarystring(r[0][0]).str();
  }
};
}  // namespace

BlobStore& postgres_blobs() {
  static PostgresBlobs blobs;
  return blobs;
}

Attachment store_upload(pqxx::work& tx, const std::string& workspace_id, const std::optional<std::string>& uploaded_by,
                        const std::string& filename, const std::string& content_type, const std::string& bytes) {
  // Uploads never attached within a day are dropped here rather than by a separate job.
  tx.exec_params0(
      "DELETE FROM attachments WHERE workspace_id = $1 AND message_id IS NULL AND "
      "created_at < now() - interval '24 hours'",
      workspace_id);
  Attachment a;
  a.id = core::new_id("att");
  a.filename = filename;
  a.content_type = content_type.empty() ? "application/octet-stream" : content_type;
  a.size = static_cast<std::int64_t>(bytes.size());
  a.status = "stored";
  auto r = tx.exec_params1(
      "INSERT INTO attachments (id, workspace_id, filename, content_type, size, status, uploaded_by) "
      "VALUES ($1,$2,$3,$4,$5,'stored',$6) RETURNING rfc3339(created_at)",
      a.id, workspace_id, a.filename, a.content_type, a.size, uploaded_by);
  a.created_at = r[0].as<std::string>();
  postgres_blobs().put(tx, a.id, bytes);
  return a;
}

std::optional<AttachmentRow> load_attachment(pqxx::transaction_base& tx, const std::string& workspace_id,
                                             const std::string& id) {
  auto r = tx.exec_params(
      "SELECT a.id, coalesce(a.message_id, ''), a.filename, a.content_type, a.status, "
      "rfc3339(a.created_at), a.size, coalesce(m.ticket_id, '') FROM attachments a "
      "LEFT JOIN messages m ON m.id = a.message_id WHERE a.workspace_id = $1 AND a.id = $2",
      workspace_id, id);
  if (r.empty()) return std::nullopt;
  const auto& row = r[0];
  return AttachmentRow{
      {row[0].as<std::string>(), row[1].as<std::string>(), row[2].as<std::string>(), row[3].as<std::string>(),
       row[4].as<std::string>(), row[5].as<std::string>(), row[6].as<std::int64_t>()},
      row[7].as<std::string>()};
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

std::vector<Message> load_messages(pqxx::transaction_base& tx, const std::string& ticket_id, bool include_internal) {
  // One round trip: each message once per attachment (or once with NULL attachment columns).
  prepare(tx, "load_messages",
          "SELECT m.id, m.ticket_id, m.author_type, m.author_name, m.body, m.internal, "
          "m.delivery_status, m.delivery_error, rfc3339(m.delivered_at), rfc3339(m.created_at), "
          "a.id, a.filename, a.content_type, a.size, a.status, rfc3339(a.created_at) "
          "FROM messages m LEFT JOIN attachments a ON a.message_id = m.id "
          "WHERE m.ticket_id = $1 AND ($2 OR NOT m.internal) "
          "ORDER BY m.created_at, m.id, a.created_at, a.id");
  auto r = tx.exec_prepared("load_messages", ticket_id, include_internal);
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
      out.push_back(std::move(m));
    }
    if (!row[10].is_null())
      out.back().attachments.push_back({row[10].as<std::string>(), out.back().id, row[11].as<std::string>(),
                                        row[12].as<std::string>(), row[14].as<std::string>(), row[15].as<std::string>(),
                                        row[13].as<std::int64_t>()});
  }
  return out;
}

namespace {
void write_csat(core::JsonWriter& w, const Ticket& t) {
  if (!t.csat_score) {
    w.Null();
    return;
  }
  w.StartObject();
  core::json_put(w, "score");
  w.Int(*t.csat_score);
  core::json_kv_opt(w, "comment", t.csat_comment);
  w.EndObject();
}
}  // namespace

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
  write_csat(w, t);
  w.EndObject();
  return sb.GetString();
}

namespace {
void write_attachment(core::JsonWriter& w, const Attachment& a) {
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
}  // namespace

std::string attachment_json(const Attachment& a) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  write_attachment(w, a);
  return sb.GetString();
}

namespace {
// A message object. The requester's view (`for_requester`) leaves out what only agents see: the
// ticket id, the internal flag and the delivery state of replies.
void write_message(core::JsonWriter& w, const Message& m, bool for_requester) {
  w.StartObject();
  core::json_kv(w, "id", m.id);
  if (!for_requester) core::json_kv(w, "ticketId", m.ticket_id);
  core::json_kv(w, "authorType", m.author_type);
  core::json_kv(w, "authorName", m.author_name);
  core::json_kv(w, "body", m.body);
  if (!for_requester) {
    core::json_put(w, "internal");
    w.Bool(m.internal);
  }
  core::json_kv(w, "createdAt", m.created_at);
  core::json_put(w, "attachments");
  w.StartArray();
  for (const auto& a : m.attachments) write_attachment(w, a);
  w.EndArray();
  if (!for_requester) {
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
  }
  w.EndObject();
}
}  // namespace

std::string message_json(const Message& m) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  write_message(w, m, false);
  return sb.GetString();
}

std::optional<Ticket> find_by_access_token(pqxx::transaction_base& tx, const std::string& token) {
  if (token.empty() || token.size() > 100) return std::nullopt;
  // Looked up by hash: the comparison is PostgreSQL's index lookup on a digest, so response
  // time says nothing about how close a guess was.
  prepare(tx, "ticket_by_token",
          std::string("SELECT ") + kTicketColumns + " FROM tickets WHERE access_token_hash = $1");
  auto r = tx.exec_prepared("ticket_by_token", pqxx::binarystring(crypto::sha256(token)));
  if (r.empty()) return std::nullopt;
  return ticket_from_row(r[0]);
}

std::string access_token_of(pqxx::transaction_base& tx, const std::string& ticket_id, const crypto::Keyring& keys) {
  auto r =
      tx.exec_params("SELECT access_token, coalesce(access_token_key_id, '') FROM tickets WHERE id = $1", ticket_id);
  if (r.empty() || r[0][0].is_null()) return "";
  return keys.decrypt(pqxx::binarystring(r[0][0]).str(), r[0][1].as<std::string>(), ticket_id);
}

std::string public_ticket_json(const Ticket& t, const std::vector<Message>& messages) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_put(w, "number");
  w.Int64(t.number);
  core::json_kv(w, "subject", t.subject);
  core::json_kv(w, "status", t.status);
  core::json_kv(w, "createdAt", t.created_at);
  core::json_put(w, "csat");
  write_csat(w, t);
  core::json_put(w, "messages");
  w.StartArray();
  for (const auto& m : messages) {
    if (m.internal) continue;  // never on the public surface
    write_message(w, m, true);
  }
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

std::string render_template(const std::string& text, const Ticket& t, const std::string& status_link) {
  std::string out = core::replace_all(text, "{{ticket.number}}", std::to_string(t.number));
  out = core::replace_all(std::move(out), "{{ticket.subject}}", t.subject);
  out = core::replace_all(std::move(out), "{{requester.name}}", t.requester_name.value_or(""));
  return core::replace_all(std::move(out), "{{status_link}}", status_link);
}

std::optional<Message> add_auto_reply(pqxx::work& tx, const Ticket& t, const std::string& access_token,
                                      const std::string& public_app_url) {
  auto r = tx.exec_params("SELECT auto_reply, name FROM workspaces WHERE id = $1 AND auto_reply IS NOT NULL",
                          t.workspace_id);
  if (r.empty() || r[0][0].as<std::string>().empty()) return std::nullopt;
  NewMessage m;
  m.author_type = "system";
  m.author_name = r[0][1].as<std::string>();
  m.body = render_template(r[0][0].as<std::string>(), t, public_app_url + "/t/" + access_token);
  if (deliverable(t)) m.delivery_status = "pending";
  return add_message(tx, t, m, {});
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

}  // namespace loket::store
