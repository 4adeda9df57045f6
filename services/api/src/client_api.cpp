// The API channel's public client API (issue 18; seed 004 "Creating an API channel inbox";
// docs/channels/api-channel.md): the integrator's backend or app, scoped by an inbox identifier,
// creates contacts by its own ids, opens conversations (tickets on channel "api"), posts and
// lists their public messages. No API key: the inbox identifier scopes every call and, when
// the inbox requires it, each call for a contact carries the HMAC-SHA256 of its source id
// (identifierHash). Limited per inbox under a per-IP ceiling (api.cpp).

#include "api.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/api_contacts.hpp"
#include "loket/store/widget.hpp"
#include "views.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxSourceId = 200, kMaxName = 200, kMaxPhone = 32, kMaxBody = 20000, kMaxClientId = 100;
constexpr int kConversationsPerContactPerHour = 30;

// An inbox of the client API, and how it checks identities.
struct Inbox {
  store::Integration integration;
  providers::ClientIdentity identity;
  std::string channel;  ///< the ticket channel of its conversations
};

http::Response no_inbox() {
  return http::json_error(404, "NOT_FOUND", "no API channel inbox has this identifier (see its settings)");
}

std::optional<Inbox> find_inbox(const Context& ctx, pqxx::transaction_base& tx, const std::string& identifier) {
  for (const auto& adapter : ctx.providers.adapters()) {
    if (!adapter->descriptor().client_api) continue;
    auto integ = store::find_live_integration(tx, adapter->descriptor().name, identifier);
    if (!integ || integ->status != "active" || integ->credentials.empty()) continue;
    auto identity =
        adapter->client_identity(ctx.keys.decrypt(integ->credentials, integ->credentials_key_id, integ->id));
    if (identity) return Inbox{std::move(*integ), std::move(*identity), adapter->descriptor().channel};
  }
  return std::nullopt;
}

// The contact's identifierHash (`hash`, hex) against the inbox's token: a wrong one is always
// refused, a missing one when the inbox makes it mandatory.
std::optional<http::Response> check_identity(const Inbox& inbox, const std::string& source_id,
                                             const std::string& hash) {
  if (hash.empty()) {
    if (!inbox.identity.mandatory) return std::nullopt;
    return http::json_error(401, "UNAUTHORIZED",
                            "this inbox requires identifierHash: the hex HMAC-SHA256 of the sourceId under the "
                            "inbox's hmacToken (header X-Loket-Identifier-Hash)");
  }
  const std::string expected = core::to_hex(crypto::hmac_sha256(inbox.identity.hmac_token, source_id));
  if (!crypto::constant_time_equal(core::to_lower(hash), expected))
    return http::json_error(401, "UNAUTHORIZED", "identifierHash does not match this sourceId");
  return std::nullopt;
}

bool valid_source_id(const std::string& s) {
  return !s.empty() && s.size() <= kMaxSourceId && core::is_storable_text(s) &&
         s.find_first_of("/?#\r\n\t") == std::string::npos;
}

std::string contact_json(const store::ApiContact& c) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", c.id);
  core::json_kv(w, "sourceId", c.source_id);
  core::json_kv_opt(w, "name", c.name);
  core::json_kv_opt(w, "email", c.email);
  core::json_kv_opt(w, "phone", c.phone);
  core::json_kv(w, "createdAt", c.created_at);
  w.EndObject();
  return sb.GetString();
}

std::string conversation_json(const store::Ticket& t) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", t.id);
  core::json_put(w, "number");
  w.Int64(t.number);
  core::json_kv(w, "status", public_status(t.status));
  core::json_kv(w, "createdAt", t.created_at);
  core::json_kv(w, "updatedAt", t.updated_at);
  w.EndObject();
  return sb.GetString();
}

// What every call for one contact starts with: the inbox, the identity check and the contact
// (locked when `for_update`, so one contact's writes take turns). Throws Rejected.
struct Scope {
  Inbox inbox;
  store::ApiContact contact;
};
Scope scope(Context& ctx, pqxx::transaction_base& tx, const http::Request& req, bool for_update) {
  const std::string& source_id = req.params.at("sourceId");
  auto inbox = find_inbox(ctx, tx, req.params.at("inboxIdentifier"));
  if (!inbox) throw Rejected{no_inbox()};
  if (auto err = check_identity(*inbox, source_id, req.header("x-loket-identifier-hash"))) throw Rejected{*err};
  if (for_update)
    tx.exec_params("SELECT 1 FROM api_contacts WHERE integration_id = $1 AND source_id = $2 FOR UPDATE",
                   inbox->integration.id, source_id);
  auto contact = store::find_api_contact(tx, inbox->integration.id, source_id);
  if (!contact)
    throw Rejected{http::json_error(404, "NOT_FOUND", "no contact with this sourceId in this inbox; create it first")};
  return {std::move(*inbox), std::move(*contact)};
}

template <typename Fn>
http::Response read(Context& ctx, Fn&& fn) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  try {
    return fn(tx);
  } catch (const Rejected& r) {
    return r.response;
  }
}

// {sourceId, name?, email?, phone?, identifierHash?} → the contact: 201 when new, 200 when it
// existed (given details replace the stored ones).
http::Response upsert_contact(Context& ctx, const http::Request& req) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  store::ApiContact c;
  c.source_id = core::json_string(d, "sourceId").value_or("");
  if (!valid_source_id(c.source_id))
    return invalid_field("sourceId",
                         "sourceId is required: your id for this user (1–200 bytes, no '/', '?', '#' or control "
                         "characters)");
  if (auto err = read_optional_text(d, "name", kMaxName, c.name)) return *err;
  if (auto err = read_optional_text(d, "email", 254, c.email)) return *err;
  if (auto err = read_optional_text(d, "phone", kMaxPhone, c.phone)) return *err;
  if (c.email && !valid_email(*c.email)) return invalid_field("email", "email must be a valid email address");
  if (c.email) c.email = core::to_lower(*c.email);
  std::string hash = core::json_string(d, "identifierHash").value_or(req.header("x-loket-identifier-hash"));
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto inbox = find_inbox(ctx, tx, req.params.at("inboxIdentifier"));
    if (!inbox) return no_inbox();
    if (auto err = check_identity(*inbox, c.source_id, hash)) return *err;
    c.workspace_id = inbox->integration.workspace_id;
    c.integration_id = inbox->integration.id;
    auto [contact, created] = store::upsert_api_contact(tx, c);
    return http::json_ok(created ? 201 : 200, contact_json(contact));
  });
}

http::Response get_contact(Context& ctx, const http::Request& req) {
  return read(ctx, [&](pqxx::transaction_base& tx) {
    auto s = scope(ctx, tx, req, false);
    return http::json_ok(200, contact_json(s.contact));
  });
}

// A new conversation for the contact, even when another is open: the integrator asked for it.
store::Ticket open_conversation(Context& ctx, pqxx::work& tx, const Scope& s) {
  auto window = store::rate_limit_hit(tx, "api-conversations:" + s.contact.id, 3600);
  if (window.hits > kConversationsPerContactPerHour) {
    auto res = http::json_error(429, "RATE_LIMITED",
                                "this contact opened " + std::to_string(kConversationsPerContactPerHour) +
                                    " conversations in the last hour; post to an open one instead");
    res.headers.emplace_back("Retry-After", std::to_string(window.reset_s));
    throw Rejected{res};
  }
  store::NewTicket n;
  n.workspace_id = s.contact.workspace_id;
  n.channel = s.inbox.channel;
  n.integration_id = s.inbox.integration.id;
  n.external_thread_id = s.contact.id;
  n.subject = s.inbox.integration.display_name + " conversation";
  n.requester_name = s.contact.name.value_or(s.contact.source_id);
  n.requester_email = s.contact.email;
  n.requester_phone = s.contact.phone;
  return store::create_ticket(tx, n, ctx.keys);
}

http::Response create_conversation(Context& ctx, const http::Request& req) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto s = scope(ctx, tx, req, true);
    return http::json_ok(201, conversation_json(open_conversation(ctx, tx, s)));
  });
}

http::Response list_conversations(Context& ctx, const http::Request& req) {
  return read(ctx, [&](pqxx::transaction_base& tx) {
    auto s = scope(ctx, tx, req, false);
    return http::json_ok(200, json_array(store::api_conversations(tx, s.contact, 100), conversation_json));
  });
}

store::Ticket conversation_or_reject(pqxx::transaction_base& tx, const Scope& s, const http::Request& req) {
  auto t = store::api_conversation(tx, s.contact, req.params.at("conversationId"));
  if (!t) throw Rejected{http::json_error(404, "NOT_FOUND", "no such conversation of this contact")};
  return *t;
}

http::Response get_conversation(Context& ctx, const http::Request& req) {
  return read(ctx, [&](pqxx::transaction_base& tx) {
    auto s = scope(ctx, tx, req, false);
    return http::json_ok(200, conversation_json(conversation_or_reject(tx, s, req)));
  });
}

std::string posted_json(const store::Ticket& t, const store::Message& m) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "conversationId", t.id);
  core::json_put(w, "message");
  write_public_message(w, m, "");
  w.EndObject();
  return sb.GetString();
}

// {body, clientMessageId, attachmentIds?}: the contact's message. A conversation that is
// closed no longer takes messages: they go to the contact's latest conversation that is not,
// else to a new one (the answer names it). A resolved one reopens. The same clientMessageId
// again answers 200 with the first message and adds nothing.
http::Response post_message(Context& ctx, const http::Request& req) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string client_id = core::json_string(d, "clientMessageId").value_or("");
  std::string body = core::json_string(d, "body").value_or("");
  if (client_id.empty() || client_id.size() > kMaxClientId || !core::is_storable_text(client_id))
    return invalid_field("clientMessageId", "clientMessageId is required (1–100 characters, unique per message)");
  std::vector<std::string> attachment_ids;
  if (auto err = read_attachment_ids(d, attachment_ids)) return *err;
  if ((core::trim(body).empty() && attachment_ids.empty()) || core::utf8_length(body) > kMaxBody)
    return invalid_field("body", "body is required (1–20,000 characters) unless attachmentIds are given");
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto s = scope(ctx, tx, req, true);
    auto asked = conversation_or_reject(tx, s, req);
    std::optional<store::Ticket> t = asked;
    if (asked.status == "closed") t = store::latest_open_api_conversation(tx, s.contact);
    for (const auto& candidate : {std::optional(asked), t})  // a retry: answer it again
      if (candidate)
        if (auto seen = store::find_client_message(tx, candidate->id, client_id))
          return http::json_ok(200, posted_json(*candidate, *seen));
    if (!t) t = open_conversation(ctx, tx, s);
    store::NewMessage m;
    m.author_type = "requester";
    m.author_name = s.contact.name.value_or(s.contact.source_id);
    m.body = body;
    m.external_message_id = client_id;
    auto msg = store::add_message(tx, *t, m, {}, false);
    attach_or_reject(tx, s.contact.workspace_id, msg, attachment_ids, "contact:" + s.contact.id);
    store::emit_message_created(tx, *t, msg);
    if (msg.seq == 1) store::add_auto_replies(tx, {*t});
    if (t->status != "open") store::set_status(tx, *t, "open");
    return http::json_ok(201, posted_json(*t, msg));
  });
}

// The conversation's public messages (notes never), oldest first, after sequence `after`.
http::Response list_messages(Context& ctx, const http::Request& req) {
  std::int64_t after = 0;
  if (auto err = read_after(req, after)) return *err;
  return read(ctx, [&](pqxx::transaction_base& tx) {
    auto s = scope(ctx, tx, req, false);
    auto t = conversation_or_reject(tx, s, req);
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    core::json_kv(w, "conversationId", t.id);
    core::json_kv(w, "status", public_status(t.status));
    core::json_put(w, "messages");
    w.StartArray();
    for (const auto& m : store::load_messages(tx, t.id, false, after))
      if (!m.internal) write_public_message(w, m, "");
    w.EndArray();
    w.EndObject();
    return http::json_ok(200, sb.GetString());
  });
}

// A file from the contact (multipart field `file`), to send with a message's attachmentIds.
http::Response upload(Context& ctx, const http::Request& req) {
  std::optional<Scope> s;
  if (auto refused = read(ctx,
                          [&](pqxx::transaction_base& tx) {
                            s = scope(ctx, tx, req, false);
                            return http::Response{};
                          });
      !s)
    return refused;
  return upload_attachment(ctx, req, s->contact.workspace_id, "contact:" + s->contact.id);
}
}  // namespace

void add_client_api_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  const std::string inbox = "/api/v1/public/inboxes/:inboxIdentifier/contacts";
  const std::string contact = inbox + "/:sourceId";
  const std::string conversation = contact + "/conversations/:conversationId";
  add(r, ctx, "POST", inbox, Access::kPublic, [&ctx](Q q, P) { return upsert_contact(ctx, q); });
  add(r, ctx, "GET", contact, Access::kPublic, [&ctx](Q q, P) { return get_contact(ctx, q); });
  add(r, ctx, "POST", contact + "/conversations", Access::kPublic,
      [&ctx](Q q, P) { return create_conversation(ctx, q); });
  add(r, ctx, "GET", contact + "/conversations", Access::kPublic,
      [&ctx](Q q, P) { return list_conversations(ctx, q); });
  add(r, ctx, "GET", conversation, Access::kPublic, [&ctx](Q q, P) { return get_conversation(ctx, q); });
  add(r, ctx, "POST", conversation + "/messages", Access::kPublic, [&ctx](Q q, P) { return post_message(ctx, q); });
  add(r, ctx, "GET", conversation + "/messages", Access::kPublic, [&ctx](Q q, P) { return list_messages(ctx, q); });
  add(
      r, ctx, "POST", contact + "/attachments", Access::kPublic, [&ctx](Q q, P) { return upload(ctx, q); }, true);
}

}  // namespace loket::api
