#include "loket/events/events.hpp"

#include <stdexcept>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "record.hpp"

namespace loket::events {
using core::json_kv;
using core::json_put;

using record::need;
using record::parse;

namespace {
std::string opt(const rapidjson::Value& v, const char* key) { return core::json_string(v, key).value_or(""); }

// Bytes carried as base64 in `key`; "" when absent. @throws std::invalid_argument when not base64.
std::string base64_field(const rapidjson::Value& v, const char* key, const char* what) {
  std::string text = opt(v, key);
  if (text.empty()) return text;
  auto bytes = core::from_base64(text);
  if (!bytes) throw std::invalid_argument(std::string(what) + ": " + key + " is not base64");
  return std::move(*bytes);
}

std::vector<std::string> strings_of(const rapidjson::Value& v, const char* key) {
  std::vector<std::string> out;
  if (auto* a = core::json_member(v, key); a && a->IsArray())
    for (const auto& e : a->GetArray())
      if (e.IsString()) out.emplace_back(e.GetString(), e.GetStringLength());
  return out;
}

void strings(core::JsonWriter& j, const char* key, const std::vector<std::string>& values) {
  json_put(j, key);
  j.StartArray();
  for (const auto& v : values) j.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  j.EndArray();
}
}  // namespace

std::string thread_key(const std::string& integration_id, const std::string& thread_id) {
  return integration_id + ":" + thread_id;
}

std::string to_json(const RawWebhook& w) {
  rapidjson::StringBuffer sb;
  core::JsonWriter j(sb);
  record::start(j, w.event_id);
  json_kv(j, "provider", w.provider);
  json_kv(j, "integrationId", w.integration_id);
  json_kv(j, "workspaceId", w.workspace_id);
  if (!w.routing_key.empty()) json_kv(j, "routingKey", w.routing_key);
  json_put(j, "receivedAtMs");
  j.Int64(w.received_at_ms);
  json_put(j, "headers");
  j.StartObject();
  for (const auto& [k, v] : w.headers) json_kv(j, k, v);
  j.EndObject();
  json_kv(j, "query", w.query);
  json_kv(j, "contentType", w.content_type);
  if (core::is_storable_text(w.body)) {
    json_kv(j, "body", w.body);
  } else {  // bytes JSON text cannot carry (an 8-bit email, a NUL): base64
    json_kv(j, "bodyEncoding", "base64");
    json_kv(j, "body", core::base64(w.body));
  }
  j.EndObject();
  return sb.GetString();
}

RawWebhook raw_webhook_from_json(const std::string& json) {
  auto d = parse(json, "raw webhook");
  RawWebhook w;
  w.event_id = need(d, "eventId", "raw webhook");
  w.provider = need(d, "provider", "raw webhook");
  w.integration_id = need(d, "integrationId", "raw webhook");
  w.workspace_id = need(d, "workspaceId", "raw webhook");
  w.routing_key = opt(d, "routingKey");
  w.received_at_ms = core::json_int(d, "receivedAtMs").value_or(0);
  if (auto* h = core::json_member(d, "headers"); h && h->IsObject())
    for (auto it = h->MemberBegin(); it != h->MemberEnd(); ++it)
      if (it->value.IsString()) w.headers[it->name.GetString()] = it->value.GetString();
  w.query = opt(d, "query");
  w.content_type = opt(d, "contentType");
  w.body = need(d, "body", "raw webhook");
  if (auto encoding = opt(d, "bodyEncoding"); !encoding.empty()) {
    auto bytes = encoding == "base64" ? core::from_base64(w.body) : std::nullopt;
    if (!bytes) throw std::invalid_argument("raw webhook: body is not " + encoding);
    w.body = std::move(*bytes);
  }
  return w;
}

std::string to_json(const InboundMessage& m) {
  rapidjson::StringBuffer sb;
  core::JsonWriter j(sb);
  record::start(j, m.event_id);
  json_kv(j, "integrationId", m.integration_id);
  json_kv(j, "workspaceId", m.workspace_id);
  json_kv(j, "provider", m.provider);
  json_kv(j, "channel", m.channel);
  json_kv(j, "externalThreadId", m.external_thread_id);
  json_kv(j, "externalMessageId", m.external_message_id);
  json_put(j, "sender");
  j.StartObject();
  json_kv(j, "externalId", m.sender.external_id);
  json_kv(j, "name", m.sender.name);
  json_kv(j, "handle", m.sender.handle);
  json_kv(j, "phone", m.sender.phone);
  json_kv(j, "email", m.sender.email);
  j.EndObject();
  if (!m.subject.empty()) json_kv(j, "subject", m.subject);
  json_kv(j, "text", m.text);
  json_put(j, "attachments");
  j.StartArray();
  for (const auto& a : m.attachments) {
    j.StartObject();
    json_kv(j, "externalRef", a.external_ref);
    json_kv(j, "filename", a.filename);
    json_kv(j, "contentType", a.content_type);
    json_put(j, "size");
    j.Int64(a.size);
    if (!a.data.empty()) json_kv(j, "data", core::base64(a.data));
    j.EndObject();
  }
  j.EndArray();
  json_put(j, "sentAtMs");
  j.Int64(m.sent_at_ms);
  if (!m.quoted_text.empty()) json_kv(j, "quotedText", m.quoted_text);
  if (!m.cc.empty()) strings(j, "cc", m.cc);
  if (!m.automated.empty()) json_kv(j, "automated", m.automated);
  if (m.from_business) {
    json_put(j, "fromBusiness");
    j.Bool(true);
  }
  if (!m.thread_hints.empty()) {
    json_put(j, "threadHints");
    j.StartObject();
    json_put(j, "ticketNumber");
    j.Int64(m.thread_hints.ticket_number);
    strings(j, "references", m.thread_hints.references);
    json_put(j, "subjectNumber");
    j.Int64(m.thread_hints.subject_number);
    j.EndObject();
  }
  if (!m.source.empty()) json_kv(j, "source", core::base64(m.source));
  j.EndObject();
  return sb.GetString();
}

InboundMessage inbound_message_from_json(const std::string& json) {
  auto d = parse(json, "inbound message");
  InboundMessage m;
  const char* what = "inbound message";
  m.event_id = need(d, "eventId", what);
  m.integration_id = need(d, "integrationId", what);
  m.workspace_id = need(d, "workspaceId", what);
  m.provider = need(d, "provider", what);
  m.channel = need(d, "channel", what);
  m.external_thread_id = need(d, "externalThreadId", what);
  m.external_message_id = need(d, "externalMessageId", what);
  if (auto* s = core::json_member(d, "sender")) {
    m.sender.external_id = opt(*s, "externalId");
    m.sender.name = opt(*s, "name");
    m.sender.handle = opt(*s, "handle");
    m.sender.phone = opt(*s, "phone");
    m.sender.email = opt(*s, "email");
  }
  m.subject = opt(d, "subject");
  m.text = opt(d, "text");
  if (auto* a = core::json_member(d, "attachments"); a && a->IsArray())
    for (const auto& e : a->GetArray()) {
      AttachmentRef r;
      r.external_ref = need(e, "externalRef", "attachment");
      r.filename = opt(e, "filename");
      r.content_type = opt(e, "contentType");
      r.size = core::json_int(e, "size").value_or(0);
      r.data = base64_field(e, "data", "attachment");
      m.attachments.push_back(std::move(r));
    }
  m.sent_at_ms = core::json_int(d, "sentAtMs").value_or(0);
  m.quoted_text = opt(d, "quotedText");
  m.cc = strings_of(d, "cc");
  m.automated = opt(d, "automated");
  if (const auto* b = core::json_member(d, "fromBusiness"); b && b->IsBool()) m.from_business = b->GetBool();
  if (auto* h = core::json_member(d, "threadHints"); h && h->IsObject()) {
    m.thread_hints.ticket_number = core::json_int(*h, "ticketNumber").value_or(0);
    m.thread_hints.references = strings_of(*h, "references");
    m.thread_hints.subject_number = core::json_int(*h, "subjectNumber").value_or(0);
  }
  m.source = base64_field(d, "source", what);
  return m;
}

std::string to_json(const DeliveryReceipt& r) {
  rapidjson::StringBuffer sb;
  core::JsonWriter j(sb);
  record::start(j, r.event_id);
  json_kv(j, "kind", "delivery_receipt");
  json_kv(j, "integrationId", r.integration_id);
  json_kv(j, "workspaceId", r.workspace_id);
  json_kv(j, "provider", r.provider);
  json_kv(j, "recipient", r.recipient);
  json_kv(j, "externalMessageId", r.external_message_id);
  json_kv(j, "status", r.status);
  json_kv(j, "error", r.error);
  json_put(j, "atMs");
  j.Int64(r.at_ms);
  if (!r.sent_message_id.empty()) json_kv(j, "sentMessageId", r.sent_message_id);
  j.EndObject();
  return sb.GetString();
}

bool is_delivery_receipt(const std::string& json) {
  rapidjson::Document d;
  core::parse_json(d, json, kRecordLimits);
  return d.IsObject() && core::json_string(d, "kind").value_or("") == "delivery_receipt";
}

DeliveryReceipt delivery_receipt_from_json(const std::string& json) {
  auto d = parse(json, "delivery receipt");
  const char* what = "delivery receipt";
  DeliveryReceipt r;
  r.event_id = need(d, "eventId", what);
  r.integration_id = need(d, "integrationId", what);
  r.workspace_id = need(d, "workspaceId", what);
  r.provider = need(d, "provider", what);
  r.recipient = opt(d, "recipient");
  r.external_message_id = need(d, "externalMessageId", what);
  r.status = need(d, "status", what);
  r.error = opt(d, "error");
  r.at_ms = core::json_int(d, "atMs").value_or(0);
  r.sent_message_id = opt(d, "sentMessageId");
  return r;
}

std::string dead_letter_topic(const std::string& topic) { return topic + ".dlq"; }

std::string to_json(const DeliveryRetry& d) {
  rapidjson::StringBuffer sb;
  core::JsonWriter j(sb);
  record::start(j, d.event_id);
  json_put(j, "attempt");
  j.Int(d.attempt);
  json_put(j, "notBeforeMs");
  j.Int64(d.not_before_ms);
  json_kv(j, "lastError", d.last_error);
  if (!d.target.empty()) json_kv(j, "target", d.target);
  json_put(j, "event");
  j.RawValue(d.event.data(), d.event.size(), rapidjson::kObjectType);
  j.EndObject();
  return sb.GetString();
}

DeliveryRetry delivery_retry_from_json(const std::string& json) {
  const char* what = "delivery retry";
  auto d = parse(json, what);
  DeliveryRetry r;
  r.event_id = need(d, "eventId", what);
  r.attempt = static_cast<int>(core::json_int(d, "attempt").value_or(1));
  r.not_before_ms = core::json_int(d, "notBeforeMs").value_or(0);
  r.last_error = opt(d, "lastError");
  r.target = opt(d, "target");
  const auto* event = core::json_member(d, "event");
  if (!event || !event->IsObject()) throw std::invalid_argument("delivery retry lacks object field 'event'");
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  event->Accept(w);
  r.event = sb.GetString();
  return r;
}

std::string to_json(const DeadLetter& l) {
  rapidjson::StringBuffer sb;
  core::JsonWriter j(sb);
  record::start(j, l.event_id);
  json_kv(j, "topic", l.topic);
  json_put(j, "partition");
  j.Int(l.partition);
  json_put(j, "offset");
  j.Int64(l.offset);
  json_kv(j, "key", l.key);
  json_kv(j, "value", l.value);
  json_kv(j, "error", l.error);
  json_kv(j, "consumer", l.consumer);
  json_put(j, "failedAtMs");
  j.Int64(l.failed_at_ms);
  j.EndObject();
  return sb.GetString();
}

DeadLetter dead_letter_from_json(const std::string& json) {
  const char* what = "dead letter";
  auto d = parse(json, what);
  DeadLetter l;
  l.event_id = need(d, "eventId", what);
  l.topic = need(d, "topic", what);
  l.partition = static_cast<std::int32_t>(core::json_int(d, "partition").value_or(0));
  l.offset = core::json_int(d, "offset").value_or(0);
  l.key = opt(d, "key");
  l.value = need(d, "value", what);
  l.error = opt(d, "error");
  l.consumer = opt(d, "consumer");
  l.failed_at_ms = core::json_int(d, "failedAtMs").value_or(0);
  return l;
}

}  // namespace loket::events
