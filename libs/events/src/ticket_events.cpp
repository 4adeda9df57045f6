#include "loket/events/ticket_events.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/time.hpp"
#include "loket/events/events.hpp"
#include "record.hpp"

namespace loket::events {
using core::json_kv;
using core::json_kv_opt;
using core::json_put;

namespace {
using Value = rapidjson::Value;
using record::need;

const Value& object(const Value& v, const char* key, const char* what) {
  const auto* m = core::json_member(v, key);
  if (!m || !m->IsObject()) throw std::invalid_argument(std::string(what) + " lacks object field '" + key + "'");
  return *m;
}

// A string or null (absent reads as null).
std::optional<std::string> nullable(const Value& v, const char* key) { return core::json_string(v, key); }

std::vector<std::string> strings(const Value& v) {
  std::vector<std::string> out;
  if (v.IsArray())
    for (const auto& s : v.GetArray())
      if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  return out;
}

void put_opt(core::JsonWriter& w, const std::optional<std::string>& v) {
  if (v)
    json_put(w, *v);
  else
    w.Null();
}

void put_list(core::JsonWriter& w, const std::vector<std::string>& v) {
  w.StartArray();
  for (const auto& s : v) json_put(w, s);
  w.EndArray();
}

Attachment attachment_from(const Value& v) {
  const char* what = "attachment";
  Attachment a;
  a.id = need(v, "id", what);
  a.filename = need(v, "filename", what);
  a.content_type = need(v, "contentType", what);
  a.size = core::json_int(v, "size").value_or(0);
  a.status = need(v, "status", what);
  a.created_at = need(v, "createdAt", what);
  return a;
}

Message message_from(const Value& v) {
  const char* what = "message";
  Message m;
  m.id = need(v, "id", what);
  m.ticket_id = need(v, "ticketId", what);
  m.author_type = need(v, "authorType", what);
  m.author_name = need(v, "authorName", what);
  m.body = need(v, "body", what);
  const auto* internal = core::json_member(v, "internal");
  if (!internal || !internal->IsBool()) throw std::invalid_argument("message lacks boolean field 'internal'");
  m.internal = internal->GetBool();
  m.created_at = need(v, "createdAt", what);
  m.merged_from = nullable(v, "mergedFromTicketId");
  if (const auto* list = core::json_member(v, "attachments"); list && list->IsArray())
    for (const auto& a : list->GetArray()) {
      m.attachments.push_back(attachment_from(a));
      m.attachments.back().message_id = m.id;
    }
  if (const auto* d = core::json_member(v, "delivery"); d && d->IsObject()) {
    m.delivery_status = need(*d, "status", "delivery");
    m.delivery_error = nullable(*d, "error");
    m.delivered_at = nullable(*d, "deliveredAt");
  }
  m.quoted_text = nullable(v, "quotedText");
  if (const auto* cc = core::json_member(v, "cc")) m.cc = strings(*cc);
  if (const auto* raw = core::json_member(v, "hasRaw"); raw && raw->IsBool()) m.has_raw = raw->GetBool();
  if (const auto* seq = core::json_member(v, "seq"); seq && seq->IsInt64()) m.seq = seq->GetInt64();
  return m;
}

Ticket ticket_from(const Value& v, const std::string& workspace_id) {
  const char* what = "ticket";
  Ticket t;
  t.id = need(v, "id", what);
  t.workspace_id = workspace_id;
  t.number = core::json_int(v, "number").value_or(0);
  t.subject = need(v, "subject", what);
  t.status = need(v, "status", what);
  t.priority = need(v, "priority", what);
  t.channel = need(v, "channel", what);
  t.integration_id = nullable(v, "integrationId");
  t.requester_name = nullable(v, "requesterName");
  t.requester_email = nullable(v, "requesterEmail");
  t.requester_phone = nullable(v, "requesterPhone");
  t.assignee_id = nullable(v, "assigneeId");
  t.inbox_id = nullable(v, "inboxId");
  t.team_id = nullable(v, "teamId");
  t.contact_id = nullable(v, "contactId");
  t.merged_into_id = nullable(v, "mergedIntoId");
  t.snoozed_until = nullable(v, "snoozedUntil");
  if (const auto* tags = core::json_member(v, "tags")) t.tags = strings(*tags);
  t.created_at = need(v, "createdAt", what);
  t.updated_at = need(v, "updatedAt", what);
  t.first_response_at = nullable(v, "firstResponseAt");
  t.resolved_at = nullable(v, "resolvedAt");
  if (const auto* w = core::json_member(v, "replyWindow"); w && w->IsObject()) {
    t.reply_window = Ticket::ReplyWindow{need(*w, "closesAt", "replyWindow"), std::nullopt, std::nullopt};
    if (const auto* tag = core::json_member(*w, "tag"); tag && tag->IsObject()) {
      t.reply_window->tag = need(*tag, "name", "replyWindow.tag");
      t.reply_window->tag_closes_at = nullable(*tag, "closesAt");
    }
  }
  if (const auto* sla = core::json_member(v, "sla"); sla && sla->IsObject()) {
    rapidjson::StringBuffer sb;
    core::JsonWriter sw(sb);
    sla->Accept(sw);
    t.sla = std::string(sb.GetString(), sb.GetSize());
  }
  if (const auto* csat = core::json_member(v, "csat"); csat && csat->IsObject()) {
    t.csat_score = static_cast<int>(core::json_int(*csat, "score").value_or(0));
    t.csat_comment = nullable(*csat, "comment");
  }
  return t;
}

// The envelope's `type` of each payload.
struct TypeName {
  const char* operator()(const TicketCreated&) const { return "ticket.created"; }
  const char* operator()(const TicketUpdated&) const { return "ticket.updated"; }
  const char* operator()(const MessageCreated&) const { return "message.created"; }
  const char* operator()(const DeliveryUpdated&) const { return "message.delivery_updated"; }
  const char* operator()(const CsatRecorded&) const { return "csat.recorded"; }
  const char* operator()(const TranscriptRequested&) const { return "transcript.requested"; }
  const char* operator()(const IntegrationStatusChanged&) const { return "integration.status_changed"; }
  const char* operator()(const ReplyWindowClosing&) const { return "ticket.reply_window_closing"; }
  const char* operator()(const SlaAlert& e) const { return e.breached ? "sla.breached" : "sla.warning"; }
};

// Writes each payload as the `data` object.
struct DataWriter {
  core::JsonWriter& w;

  void operator()(const TicketCreated& e) const {
    w.StartObject();
    json_put(w, "ticket");
    write_json(w, e.ticket);
    w.EndObject();
  }
  template <typename T, typename Put>
  void change(const char* name, const std::optional<Change<T>>& c, Put put) const {
    if (!c) return;
    json_put(w, name);
    w.StartObject();
    json_put(w, "from");
    put(c->from);
    json_put(w, "to");
    put(c->to);
    w.EndObject();
  }
  void operator()(const TicketUpdated& e) const {
    auto put = [this](const std::string& s) { json_put(w, s); };
    w.StartObject();
    json_put(w, "changes");
    w.StartObject();
    change("status", e.status, put);
    change("priority", e.priority, put);
    change("subject", e.subject, put);
    auto put_id = [this](const std::optional<std::string>& s) { put_opt(w, s); };
    change("assigneeId", e.assignee_id, put_id);
    change("inboxId", e.inbox_id, put_id);
    change("teamId", e.team_id, put_id);
    change("contactId", e.contact_id, put_id);
    change("mergedIntoId", e.merged_into_id, put_id);
    change("snoozedUntil", e.snoozed_until, put_id);
    change("tags", e.tags, [this](const std::vector<std::string>& s) { put_list(w, s); });
    change("mergedTicketIds", e.merged_ticket_ids, [this](const std::vector<std::string>& s) { put_list(w, s); });
    w.EndObject();
    json_put(w, "ticket");
    write_json(w, e.ticket);
    w.EndObject();
  }
  void operator()(const MessageCreated& e) const {
    w.StartObject();
    json_put(w, "ticketNumber");
    w.Int64(e.ticket_number);
    json_put(w, "route");
    w.StartObject();
    json_kv(w, "channel", e.route.channel);
    json_kv_opt(w, "integrationId", e.route.integration_id);
    json_kv_opt(w, "externalThreadId", e.route.external_thread_id);
    json_kv_opt(w, "requesterEmail", e.route.requester_email);
    json_kv_opt(w, "requesterPhone", e.route.requester_phone);
    if (e.route.tag) json_kv(w, "tag", *e.route.tag);
    if (const auto& t = e.route.message_template) {
      json_put(w, "template");
      w.StartObject();
      json_kv(w, "id", t->id);
      json_kv(w, "name", t->name);
      json_kv(w, "language", t->language);
      json_put(w, "variables");
      w.StartArray();
      for (const auto& [name, value] : t->variables) {
        w.StartObject();
        json_kv(w, "name", name);
        json_kv(w, "value", value);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndObject();
    json_put(w, "message");
    write_json(w, e.message);
    w.EndObject();
  }
  void operator()(const DeliveryUpdated& e) const {
    w.StartObject();
    json_kv(w, "messageId", e.message_id);
    json_kv(w, "provider", e.provider);
    json_kv(w, "status", e.status);
    json_kv_opt(w, "error", e.error);
    w.EndObject();
  }
  void operator()(const CsatRecorded& e) const {
    w.StartObject();
    json_put(w, "csat");
    w.StartObject();
    json_put(w, "score");
    w.Int(e.score);
    json_kv_opt(w, "comment", e.comment);
    w.EndObject();
    w.EndObject();
  }
  void operator()(const SlaAlert& e) const {
    w.StartObject();
    json_put(w, "ticket");
    write_json(w, e.ticket);
    json_kv(w, "target", e.target);
    json_kv(w, "dueAt", e.due_at);
    w.EndObject();
  }
  void operator()(const ReplyWindowClosing& e) const {
    w.StartObject();
    json_put(w, "ticket");
    write_json(w, e.ticket);
    json_kv(w, "closesAt", e.closes_at);
    w.EndObject();
  }
  void operator()(const IntegrationStatusChanged& e) const {
    w.StartObject();
    json_put(w, "integration");
    w.StartObject();
    json_kv(w, "id", e.integration_id);
    json_kv(w, "provider", e.provider);
    json_kv(w, "displayName", e.display_name);
    json_kv(w, "status", e.status);
    json_kv_opt(w, "lastError", e.last_error);
    w.EndObject();
    json_kv_opt(w, "previousStatus", e.previous_status);
    w.EndObject();
  }
  void operator()(const TranscriptRequested& e) const {
    w.StartObject();
    json_kv(w, "email", e.email);
    json_put(w, "throughSeq");
    w.Int64(e.through_seq);
    json_kv(w, "requestedBy", e.requested_by);
    w.EndObject();
  }
};

template <typename T, typename Read>
std::optional<Change<T>> change_from(const Value& changes, const char* name, Read read) {
  const auto* c = core::json_member(changes, name);
  if (!c || !c->IsObject()) return std::nullopt;
  const auto* from = core::json_member(*c, "from");
  const auto* to = core::json_member(*c, "to");
  if (!from || !to) throw std::invalid_argument(std::string("change of '") + name + "' lacks 'from' or 'to'");
  return Change<T>{read(*from), read(*to)};
}

TicketEvent::Data data_from(const std::string& type, const Value& data, const std::string& workspace_id) {
  if (type == "ticket.created") return TicketCreated{ticket_from(object(data, "ticket", type.c_str()), workspace_id)};
  if (type == "ticket.updated") {
    const auto& changes = object(data, "changes", "ticket.updated");
    auto text = [](const Value& v) {
      if (!v.IsString()) throw std::invalid_argument("a ticket.updated change is not a string");
      return std::string(v.GetString(), v.GetStringLength());
    };
    TicketUpdated e;
    e.status = change_from<std::string>(changes, "status", text);
    e.priority = change_from<std::string>(changes, "priority", text);
    e.subject = change_from<std::string>(changes, "subject", text);
    auto id = [](const Value& v) { return v.IsString() ? std::optional<std::string>(v.GetString()) : std::nullopt; };
    e.assignee_id = change_from<std::optional<std::string>>(changes, "assigneeId", id);
    e.inbox_id = change_from<std::optional<std::string>>(changes, "inboxId", id);
    e.team_id = change_from<std::optional<std::string>>(changes, "teamId", id);
    e.contact_id = change_from<std::optional<std::string>>(changes, "contactId", id);
    e.merged_into_id = change_from<std::optional<std::string>>(changes, "mergedIntoId", id);
    e.snoozed_until = change_from<std::optional<std::string>>(changes, "snoozedUntil", id);
    e.merged_ticket_ids = change_from<std::vector<std::string>>(changes, "mergedTicketIds", strings);
    e.tags = change_from<std::vector<std::string>>(changes, "tags", strings);
    e.ticket = ticket_from(object(data, "ticket", "ticket.updated"), workspace_id);
    return e;
  }
  if (type == "message.created") {
    MessageCreated e;
    e.ticket_number = core::json_int(data, "ticketNumber").value_or(0);
    const auto& route = object(data, "route", "message.created");
    e.route.channel = need(route, "channel", "route");
    e.route.integration_id = nullable(route, "integrationId");
    e.route.external_thread_id = nullable(route, "externalThreadId");
    e.route.requester_email = nullable(route, "requesterEmail");
    e.route.requester_phone = nullable(route, "requesterPhone");
    e.route.tag = nullable(route, "tag");
    if (const auto* t = core::json_member(route, "template"); t && t->IsObject()) {
      TemplateRef ref{need(*t, "id", "route.template"),
                      need(*t, "name", "route.template"),
                      need(*t, "language", "route.template"),
                      {}};
      if (const auto* vars = core::json_member(*t, "variables"); vars && vars->IsArray())
        for (const auto& v : vars->GetArray())
          ref.variables.emplace_back(need(v, "name", "route.template.variables"),
                                     need(v, "value", "route.template.variables"));
      e.route.message_template = std::move(ref);
    }
    e.message = message_from(object(data, "message", "message.created"));
    return e;
  }
  if (type == "message.delivery_updated") {
    const char* what = "message.delivery_updated";
    return DeliveryUpdated{need(data, "messageId", what), need(data, "provider", what), need(data, "status", what),
                           nullable(data, "error")};
  }
  if (type == "csat.recorded") {
    const auto& csat = object(data, "csat", "csat.recorded");
    auto score = core::json_int(csat, "score");
    if (!score) throw std::invalid_argument("csat.recorded lacks integer field 'score'");
    return CsatRecorded{static_cast<int>(*score), nullable(csat, "comment")};
  }
  if (type == "transcript.requested") {
    const char* what = "transcript.requested";
    auto through = core::json_int(data, "throughSeq");
    if (!through) throw std::invalid_argument("transcript.requested lacks integer field 'throughSeq'");
    return TranscriptRequested{need(data, "email", what), *through, need(data, "requestedBy", what)};
  }
  if (type == "integration.status_changed") {
    const char* what = "integration";
    const auto& i = object(data, "integration", "integration.status_changed");
    return IntegrationStatusChanged{
        need(i, "id", what),     need(i, "provider", what),        need(i, "displayName", what),
        need(i, "status", what), nullable(data, "previousStatus"), nullable(i, "lastError")};
  }
  if (type == "ticket.reply_window_closing")
    return ReplyWindowClosing{ticket_from(object(data, "ticket", type.c_str()), workspace_id),
                              need(data, "closesAt", type.c_str())};
  if (type == "sla.warning" || type == "sla.breached")
    return SlaAlert{type == "sla.breached", ticket_from(object(data, "ticket", type.c_str()), workspace_id),
                    need(data, "target", type.c_str()), need(data, "dueAt", type.c_str())};
  throw UnknownEventType("unknown ticket.events type '" + type + "'");
}
}  // namespace

void write_csat(core::JsonWriter& w, const Ticket& t) {
  if (!t.csat_score) {
    w.Null();
    return;
  }
  w.StartObject();
  json_put(w, "score");
  w.Int(*t.csat_score);
  json_kv_opt(w, "comment", t.csat_comment);
  w.EndObject();
}

void write_json(core::JsonWriter& w, const Ticket& t) {
  w.StartObject();
  json_kv(w, "id", t.id);
  json_put(w, "number");
  w.Int64(t.number);
  json_kv(w, "subject", t.subject);
  json_kv(w, "status", t.status);
  json_kv(w, "priority", t.priority);
  json_kv(w, "channel", t.channel);
  json_kv_opt(w, "integrationId", t.integration_id);
  json_kv_opt(w, "requesterName", t.requester_name);
  json_kv_opt(w, "requesterEmail", t.requester_email);
  json_kv_opt(w, "requesterPhone", t.requester_phone);
  json_kv_opt(w, "assigneeId", t.assignee_id);
  json_kv_opt(w, "inboxId", t.inbox_id);
  json_kv_opt(w, "teamId", t.team_id);
  json_kv_opt(w, "contactId", t.contact_id);
  json_kv_opt(w, "mergedIntoId", t.merged_into_id);
  json_kv_opt(w, "snoozedUntil", t.snoozed_until);
  json_put(w, "tags");
  put_list(w, t.tags);
  json_kv(w, "createdAt", t.created_at);
  json_kv(w, "updatedAt", t.updated_at);
  json_kv_opt(w, "firstResponseAt", t.first_response_at);
  json_kv_opt(w, "resolvedAt", t.resolved_at);
  json_put(w, "csat");
  write_csat(w, t);
  json_put(w, "sla");
  if (t.sla)
    w.RawValue(t.sla->data(), t.sla->size(), rapidjson::kObjectType);
  else
    w.Null();
  if (t.reply_window) {
    json_put(w, "replyWindow");
    w.StartObject();
    json_kv(w, "closesAt", t.reply_window->closes_at);
    json_put(w, "tag");
    if (t.reply_window->tag) {
      w.StartObject();
      json_kv(w, "name", *t.reply_window->tag);
      json_kv_opt(w, "closesAt", t.reply_window->tag_closes_at);
      w.EndObject();
    } else {
      w.Null();
    }
    w.EndObject();
  }
  w.EndObject();
}

void write_json(core::JsonWriter& w, const Attachment& a) {
  w.StartObject();
  json_kv(w, "id", a.id);
  json_kv(w, "filename", a.filename);
  json_kv(w, "contentType", a.content_type);
  json_put(w, "size");
  w.Int64(a.size);
  json_kv(w, "status", a.status);
  json_kv(w, "createdAt", a.created_at);
  w.EndObject();
}

void write_json(core::JsonWriter& w, const Message& m) {
  w.StartObject();
  json_kv(w, "id", m.id);
  json_kv(w, "ticketId", m.ticket_id);
  json_kv(w, "authorType", m.author_type);
  json_kv(w, "authorName", m.author_name);
  json_kv(w, "body", m.body);
  json_put(w, "internal");
  w.Bool(m.internal);
  json_kv(w, "createdAt", m.created_at);
  if (m.seq > 0) {
    json_put(w, "seq");
    w.Int64(m.seq);
  }
  json_put(w, "attachments");
  w.StartArray();
  for (const auto& a : m.attachments) write_json(w, a);
  w.EndArray();
  json_put(w, "delivery");
  if (m.delivery_status) {
    w.StartObject();
    json_kv(w, "status", *m.delivery_status);
    json_kv_opt(w, "error", m.delivery_error);
    json_kv_opt(w, "deliveredAt", m.delivered_at);
    w.EndObject();
  } else {
    w.Null();
  }
  // Only where the channel has them (email), so other messages keep their shape.
  if (m.quoted_text) json_kv(w, "quotedText", *m.quoted_text);
  if (!m.cc.empty()) {
    json_put(w, "cc");
    put_list(w, m.cc);
  }
  if (m.has_raw) {
    json_put(w, "hasRaw");
    w.Bool(true);
  }
  if (m.merged_from) json_kv(w, "mergedFromTicketId", *m.merged_from);  // only on merged messages
  w.EndObject();
}

std::string TicketEvent::type() const { return std::visit(TypeName{}, data); }

TicketEvent new_ticket_event(std::string workspace_id, std::string ticket_id, TicketEvent::Data data) {
  return TicketEvent{core::new_id("evt"), core::now_rfc3339(), std::move(workspace_id), std::move(ticket_id),
                     std::move(data)};
}

std::string to_json(const TicketEvent& e) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  record::start(w, e.event_id);
  json_kv(w, "type", e.type());
  json_kv(w, "occurredAt", e.occurred_at);
  json_kv(w, "workspaceId", e.workspace_id);
  json_kv(w, "ticketId", e.ticket_id);
  json_put(w, "data");
  std::visit(DataWriter{w}, e.data);
  w.EndObject();
  return sb.GetString();
}

TicketEvent ticket_event_from_json(const std::string& json) {
  const char* what = "ticket event";
  auto d = record::parse(json, what);
  TicketEvent e;
  e.event_id = need(d, "eventId", what);
  e.occurred_at = need(d, "occurredAt", what);
  e.workspace_id = need(d, "workspaceId", what);
  e.ticket_id = need(d, "ticketId", what);
  e.data = data_from(need(d, "type", what), object(d, "data", what), e.workspace_id);
  return e;
}

}  // namespace loket::events
