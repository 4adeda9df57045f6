#include "views.hpp"

#include "loket/core/json.hpp"
#include "loket/core/text.hpp"

namespace loket::api {
using core::json_kv;
using core::json_kv_opt;
using core::json_put;

namespace {
template <typename T>
std::string written(const T& value) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  events::write_json(w, value);
  return sb.GetString();
}
}  // namespace

std::string ticket_json(const store::Ticket& t) { return written(t); }
std::string message_json(const store::Message& m) { return written(m); }
std::string attachment_json(const store::Attachment& a) { return written(a); }

void write_public_message(core::JsonWriter& w, const store::Message& m, const std::string& status_link) {
  w.StartObject();
  json_kv(w, "id", m.id);
  json_put(w, "seq");
  w.Int64(m.seq);
  json_kv(w, "authorType", m.author_type);
  json_kv(w, "authorName", m.author_name);
  json_kv(w, "body", core::replace_all(m.body, store::kStatusLinkPlaceholder, status_link));
  json_kv(w, "createdAt", m.created_at);
  json_put(w, "attachments");
  w.StartArray();
  for (const auto& a : m.attachments) events::write_json(w, a);
  w.EndArray();
  w.EndObject();
}

std::string public_ticket_json(const store::Ticket& t, const std::vector<store::Message>& messages,
                               const std::string& status_link) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  json_put(w, "number");
  w.Int64(t.number);
  json_kv(w, "subject", t.subject);
  json_kv(w, "status", public_status(t.status));
  json_kv(w, "createdAt", t.created_at);
  json_put(w, "csat");
  events::write_csat(w, t);
  json_put(w, "messages");
  w.StartArray();
  for (const auto& m : messages) {
    if (!m.internal) write_public_message(w, m, status_link);  // notes never on the public surface
  }
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

std::string csat_json(const store::Ticket& t) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  json_put(w, "csat");
  events::write_csat(w, t);
  w.EndObject();
  return sb.GetString();
}

std::string workspace_json(const store::Workspace& ws, const std::optional<std::string>& inbound_email) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  json_kv(w, "id", ws.id);
  json_kv(w, "name", ws.name);
  json_kv(w, "createdAt", ws.created_at);
  json_kv_opt(w, "autoReply", ws.auto_reply);
  w.Key("requireSignedWebhooks");
  w.Bool(ws.require_signed_webhooks);
  json_kv(w, "timeZone", ws.time_zone);
  json_kv_opt(w, "inboundEmailAddress", inbound_email);
  w.EndObject();
  return sb.GetString();
}

std::string agent_json(const store::Agent& a) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  json_kv(w, "id", a.id);
  json_kv(w, "email", a.email);
  json_kv(w, "name", a.name);
  json_kv(w, "role", store::to_string(a.role));
  json_put(w, "active");
  w.Bool(a.active);
  json_kv(w, "availability", a.away ? "away" : "online");
  json_kv_opt(w, "lastSeenAt", a.last_seen_at);
  json_kv(w, "createdAt", a.created_at);
  w.EndObject();
  return sb.GetString();
}

std::string api_key_json(const store::ApiKey& k) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  json_kv(w, "id", k.id);
  json_kv(w, "name", k.name);
  json_kv(w, "prefix", k.prefix);
  json_kv(w, "createdAt", k.created_at);
  json_kv_opt(w, "createdBy", k.created_by);
  json_kv_opt(w, "lastUsedAt", k.last_used_at);
  json_kv_opt(w, "revokedAt", k.revoked_at);
  w.EndObject();
  return sb.GetString();
}

}  // namespace loket::api
