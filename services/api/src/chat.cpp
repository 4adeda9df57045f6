// The live-chat visitor's side (issue 17; docs/channels/widget.md "How the widget talks to
// Loket"): a session, the conversation read from a sequence number on, and sending with a
// client message id, typing, files; and the agent's typing and read signals to the visitor.
// Unauthenticated but for the visitor's own session token (`Authorization: Bearer wvs_…`);
// the guard limits the chat surface per visitor session under a per-IP ceiling (api.cpp).
#include <algorithm>

#include "api.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/hours/hours.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/widget.hpp"
#include "realtime.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxBody = 5000, kMaxName = 200, kMaxClientId = 100, kMaxPhone = 32, kMaxIdentifier = 200;

http::Response no_session() {
  return http::json_error(401, "UNAUTHORIZED", "this chat session is not valid any more; start a new one");
}

// A new visitor: {visitorId, visitorToken}. The widget keeps the token in the site's storage.
http::Response start_session(Context& ctx, const http::Request& req) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string account = core::json_string(d, "accountId").value_or("");
  if (account.empty() || !core::is_storable_text(account))
    return invalid_field("accountId", "accountId is required (the data-account of the widget's script tag)");
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    if (!store::widget_enabled(tx, account)) return http::json_error(404, "NOT_FOUND", "no live chat for " + account);
    auto window = store::rate_limit_hit(tx, "chat-sessions:" + account, 60);
    if (window.hits > ctx.options.chat_sessions_per_workspace_per_minute) {
      auto res = http::json_error(429, "RATE_LIMITED", "this chat is very busy; try again in a minute");
      res.headers.emplace_back("Retry-After", std::to_string(window.reset_s));
      throw Rejected{res};
    }
    auto [visitor, token] = store::create_visitor(tx, account);
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    core::json_kv(w, "visitorId", visitor.id);
    core::json_kv(w, "visitorToken", token);
    w.EndObject();
    return http::json_ok(201, sb.GetString());
  });
}

// Whether the team is in now, for the widget: {open, awayMessage, backAt: null | {at, localTime,
// zone, weekday (1 = Monday), inDays}}. Without business hours the team is always in.
http::Response availability(Context& ctx, const http::Request& req) {
  std::string account = req.query_param("accountId");
  std::optional<store::Widget> w;
  if (!account.empty() && core::is_storable_text(account)) {
    auto conn = ctx.pool.acquire();
    pqxx::read_transaction tx(*conn);
    if (store::workspace_exists(tx, account)) w = store::load_widget(tx, account, ctx.keys);
  }
  if (!w || !w->enabled) return http::json_error(404, "NOT_FOUND", "no live chat for this account");
  std::optional<hours::Schedule> schedule;
  if (w->business_hours) {
    rapidjson::Document d;
    std::string error;
    if (!core::parse_json(d, *w->business_hours, core::JsonLimits{w->business_hours->size(), 8, true}).empty() ||
        !(schedule = hours::parse(d, error)))
      core::log(core::Level::kWarn, "stored business hours do not parse", {{"workspaceId", account}});
  }
  auto now = std::chrono::time_point_cast<std::chrono::seconds>(hours::Clock::now());
  auto next = schedule ? hours::next_open(*schedule, now) : std::optional(now);
  rapidjson::StringBuffer sb;
  core::JsonWriter jw(sb);
  jw.StartObject();
  core::json_put(jw, "open");
  jw.Bool(next == now);
  core::json_kv(jw, "awayMessage", w->away_message);
  core::json_put(jw, "backAt");
  if (next && next != now) {
    auto local = hours::local_time(*schedule, *next, now);
    jw.StartObject();
    core::json_kv(
        jw, "at",
        core::rfc3339_ms(std::chrono::duration_cast<std::chrono::milliseconds>(next->time_since_epoch()).count()));
    core::json_kv(jw, "localTime", local.hh_mm);
    core::json_kv(jw, "zone", local.zone);
    core::json_put(jw, "weekday");
    jw.Int(local.weekday);
    core::json_put(jw, "inDays");
    jw.Int(local.days_from);
    jw.EndObject();
  } else {
    jw.Null();
  }
  jw.EndObject();
  return http::json_ok(200, sb.GetString());
}

// {ticketId, status, lastSeq, visitor, messages}: the visitor's latest conversation, its
// messages after `after` (in order, notes left out).
std::string conversation_json(const store::Visitor& v, const std::optional<store::Ticket>& t,
                              const std::vector<store::Message>& messages, const std::string& status_link,
                              std::int64_t agent_read_seq) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv_opt(w, "ticketId", t ? std::optional(t->id) : std::nullopt);
  core::json_kv_opt(w, "status", t ? std::optional(public_status(t->status)) : std::nullopt);
  core::json_put(w, "agentReadSeq");
  w.Int64(agent_read_seq);
  core::json_put(w, "visitor");
  w.StartObject();
  core::json_kv(w, "id", v.id);
  core::json_kv_opt(w, "name", v.name);
  core::json_kv_opt(w, "email", v.email);
  core::json_kv_opt(w, "phone", v.phone);
  w.EndObject();
  core::json_put(w, "messages");
  w.StartArray();
  for (const auto& m : messages)
    if (!m.internal) write_public_message(w, m, status_link);
  w.EndArray();
  w.EndObject();
  return sb.GetString();
}

http::Response conversation(Context& ctx, const http::Request& req) {
  std::int64_t after = 0;
  if (auto err = read_after(req, after)) return *err;
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto v = store::find_visitor(tx, visitor_token(req), false);
  if (!v) return no_session();
  auto t = store::visitor_ticket(tx, *v);
  std::vector<store::Message> messages;
  std::int64_t read = 0;
  if (t) {
    messages = store::load_messages(tx, t->id, false, after);
    read = store::agent_read_seq(tx, t->id);
  }
  // The status link (a decrypt) only when a message carries its placeholder (an auto-reply).
  const bool linked = std::any_of(messages.begin(), messages.end(), [](const store::Message& m) {
    return m.body.find(store::kStatusLinkPlaceholder) != std::string::npos;
  });
  std::string link = linked ? ctx.options.public_app_url + "/t/" + store::access_token_of(tx, t->id, ctx.keys) : "";
  return http::json_ok(200, conversation_json(*v, t, messages, link, read));
}

// The site says who its signed-in user is: {identifier, name?, email?, hash?}, `hash` the hex
// HMAC-SHA256 of the identifier under the widget's identity secret. A valid hash links the
// visitor to that user (their conversation is then the same on every device); a wrong one is
// refused (403), and so is none when the widget requires verified identities. Without a hash
// (allowed only then) name and email are kept as contact details and the identifier is
// ignored: an unverified claim never opens anyone's conversation.
http::Response identify(Context& ctx, const http::Request& req) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string identifier = core::json_string(d, "identifier").value_or("");
  std::string hash = core::to_lower(core::json_string(d, "hash").value_or(""));
  if (identifier.empty() || identifier.size() > kMaxIdentifier)
    return invalid_field("identifier", "identifier is required (your user's id, 1–200 bytes)");
  std::optional<std::string> name, email;
  if (auto err = read_optional_text(d, "name", kMaxName, name)) return *err;
  if (auto err = read_optional_text(d, "email", 254, email)) return *err;
  if (email && !valid_email(*email)) return invalid_field("email", "email must be a valid email address");
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto v = store::find_visitor(tx, visitor_token(req), true);
    if (!v) return no_session();
    auto widget = store::load_widget(tx, v->workspace_id, ctx.keys);
    bool verified = !hash.empty() && crypto::constant_time_equal(
                                         hash, core::to_hex(crypto::hmac_sha256(widget.identity_secret, identifier)));
    if (!hash.empty() && !verified)
      return http::json_error(403, "FORBIDDEN",
                              "the identity hash does not match this identifier (see the widget guide)");
    if (!verified && widget.require_identity)
      return http::json_error(403, "FORBIDDEN", "this chat accepts only verified identities: send the hash");
    if (verified) v->identifier = identifier;
    if (name) v->name = name;
    if (email) v->email = core::to_lower(*email);
    store::save_visitor_contact(tx, *v);
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    core::json_kv(w, "visitorId", v->id);
    core::json_put(w, "verified");
    w.Bool(verified);
    w.EndObject();
    return http::json_ok(200, sb.GetString());
  });
}

// Reads the optional boolean `typing` (default true) of a typing signal's body.
std::optional<http::Response> read_typing(const http::Request& req, bool& typing) {
  typing = true;
  if (core::trim(req.body).empty()) return std::nullopt;
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return err;
  if (const auto* v = core::json_member(d, "typing")) {
    if (!v->IsBool()) return invalid_field("typing", "typing must be true or false");
    typing = v->GetBool();
  }
  return std::nullopt;
}

std::string signal_json(const char* type, const std::string& ticket_id,
                        std::initializer_list<std::pair<const char*, std::string>> text, std::optional<bool> typing,
                        std::optional<std::int64_t> seq) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "type", type);
  core::json_kv(w, "ticketId", ticket_id);
  for (const auto& [k, v] : text) core::json_kv(w, k, v);
  if (typing) {
    core::json_put(w, "typing");
    w.Bool(*typing);
  }
  if (seq) {
    core::json_put(w, "seq");
    w.Int64(*seq);
  }
  w.EndObject();
  return sb.GetString();
}

// The visitor is typing (or stopped): agents of the workspace get {"type":"chat.typing",
// ticketId, author:"requester", typing} on their realtime feed. Nothing before a first message.
http::Response visitor_typing(Context& ctx, const http::Request& req) {
  bool typing = true;
  if (auto err = read_typing(req, typing)) return *err;
  auto conn = ctx.pool.acquire();
  pqxx::work tx(*conn);
  auto v = store::find_visitor(tx, visitor_token(req), false);
  if (!v) return no_session();
  if (auto t = store::visitor_ticket(tx, *v); t && t->status != "closed") {
    Hub::signal(tx, v->workspace_id, "", signal_json("chat.typing", t->id, {{"author", "requester"}}, typing, {}),
                {true, t->inbox_id});
    tx.commit();
  }
  return http::json_ok(200, typing ? "{\"typing\":true}" : "{\"typing\":false}");
}

// An agent on chat ticket `id` is typing: its visitor sees "… is typing"; other agents get
// {"type":"chat.typing", author:"agent", agentId} (who else is answering).
http::Response agent_typing(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  bool typing = true;
  if (auto err = read_typing(req, typing)) return *err;
  auto conn = ctx.pool.acquire();
  pqxx::work tx(*conn);
  auto t = find_ticket(tx, p, id);
  if (!t) return http::json_error(404, "NOT_FOUND", "no such ticket");
  const std::string name = p.agent_name.empty() ? "Support" : p.agent_name;
  Hub::signal(tx, p.workspace_id, "",
              signal_json("chat.typing", t->id, {{"author", "agent"}, {"agentId", p.agent_id}}, typing, {}),
              {true, t->inbox_id});
  if (t->channel == store::kChatChannel && t->external_thread_id)
    Hub::signal(tx, p.workspace_id, *t->external_thread_id, signal_json("typing", t->id, {{"name", name}}, typing, {}));
  tx.commit();
  return http::json_ok(200, typing ? "{\"typing\":true}" : "{\"typing\":false}");
}

// An agent read chat ticket `id` up to message `seq`: the ticket remembers the highest, and
// its visitor sees "Seen" under their messages up to it.
http::Response agent_read(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  auto seq = core::json_int(d, "seq");
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto t = find_ticket(tx, p, id, true);
    if (!t) return http::json_error(404, "NOT_FOUND", "no such ticket");
    if (!seq || *seq < 1)
      return invalid_field("seq", "seq must be the sequence number of the last message read (1 or more)");
    auto read = store::mark_read(tx, t->id, *seq);
    if (t->channel == store::kChatChannel && t->external_thread_id)
      Hub::signal(tx, p.workspace_id, *t->external_thread_id, signal_json("read", id, {}, {}, read));
    return http::json_ok(200, "{\"agentReadSeq\":" + std::to_string(read) + "}");
  });
}

// A file from the visitor (multipart field `file`, the API's attachment limits), to send with
// their next message's `attachmentIds`.
http::Response visitor_upload(Context& ctx, const http::Request& req) {
  std::optional<store::Visitor> v;
  {
    auto conn = ctx.pool.acquire();
    pqxx::read_transaction tx(*conn);
    v = store::find_visitor(tx, visitor_token(req), false);
  }
  if (!v) return no_session();
  return upload_attachment(ctx, req, v->workspace_id, "visitor:" + v->id);
}

// A file on the visitor's own conversation (theirs or an agent's; never an internal note's).
http::Response visitor_download(Context& ctx, const http::Request& req, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto v = store::find_visitor(tx, visitor_token(req), false);
  if (!v) return no_session();
  auto a = store::load_attachment(tx, v->workspace_id, id);
  auto t = a && !a->ticket_id.empty() ? store::load_ticket(tx, v->workspace_id, a->ticket_id) : std::nullopt;
  if (!t || a->internal || t->channel != store::kChatChannel || t->external_thread_id != v->thread())
    return http::json_error(404, "NOT_FOUND", "no such file in this conversation");
  return send_attachment(tx, *a);
}

http::Response send(Context& ctx, const http::Request& req) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string client_id = core::json_string(d, "clientMessageId").value_or("");
  std::string body = core::json_string(d, "body").value_or("");
  if (client_id.empty() || client_id.size() > kMaxClientId)
    return invalid_field("clientMessageId", "clientMessageId is required (1–100 characters, unique per message)");
  if (core::trim(body).empty() || core::utf8_length(body) > kMaxBody)
    return invalid_field("body", "body is required (1–5000 characters)");
  std::optional<std::string> name, email, phone;
  if (auto err = read_optional_text(d, "name", kMaxName, name)) return *err;
  if (auto err = read_optional_text(d, "email", 254, email)) return *err;
  if (auto err = read_optional_text(d, "phone", kMaxPhone, phone)) return *err;
  if (email && !valid_email(*email)) return invalid_field("email", "email must be a valid email address");
  std::vector<std::string> attachment_ids;
  if (auto err = read_attachment_ids(d, attachment_ids)) return *err;
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto v = store::find_visitor(tx, visitor_token(req), true);  // one visitor's sends take turns
    if (!v) return no_session();
    auto widget = store::load_widget(tx, v->workspace_id, ctx.keys);
    if (name) v->name = name;
    if (email) v->email = core::to_lower(*email);
    if (phone) v->phone = phone;
    for (auto [field, mode, value] :
         {std::tuple{"name", widget.prechat_name, &v->name}, std::tuple{"email", widget.prechat_email, &v->email},
          std::tuple{"phone", widget.prechat_phone, &v->phone}})
      if (mode == store::FieldMode::kRequired && !*value)
        return invalid_field(field, std::string("this chat asks for your ") + field + " first");
    if (name || email || phone) store::save_visitor_contact(tx, *v);
    auto current = store::visitor_ticket(tx, *v);
    if (current)
      if (auto seen = store::find_client_message(tx, current->id, client_id)) {  // a retry: answer it again
        rapidjson::StringBuffer sb;
        core::JsonWriter w(sb);
        write_public_message(w, *seen, "");
        return http::json_ok(200, sb.GetString());
      }
    store::ThreadKey key{v->workspace_id, store::kChatChannel, v->thread()};
    auto open = store::find_open_threads(tx, {key});
    std::optional<store::Ticket> t;
    if (auto it = open.find(key); it != open.end()) t = it->second;
    bool opened = !t;
    if (opened) {
      auto window = store::rate_limit_hit(tx, "chat-conversations:" + v->id, 3600);
      if (window.hits > widget.conversations_per_visitor_per_hour) {
        auto res = http::json_error(429, "RATE_LIMITED",
                                    "you have started several conversations in a short time; please wait a little "
                                    "before starting another one");
        res.headers.emplace_back("Retry-After", std::to_string(window.reset_s));
        throw Rejected{res};  // roll back: the hit is not a conversation
      }
      store::NewTicket n;
      n.workspace_id = v->workspace_id;
      n.channel = store::kChatChannel;
      n.external_thread_id = v->thread();
      n.subject = store::subject_from_text(body, n.channel);
      n.requester_name = v->name;
      n.requester_email = v->email;
      n.requester_phone = v->phone;
      t = store::create_ticket(tx, n, ctx.keys);
    }
    store::NewMessage m;
    m.author_type = "requester";
    m.author_name = v->name.value_or(v->email.value_or("Visitor"));
    m.body = body;
    m.external_message_id = client_id;
    auto msg = store::add_message(tx, *t, m, {}, false);
    attach_or_reject(tx, v->workspace_id, msg, attachment_ids, "visitor:" + v->id);
    store::emit_message_created(tx, *t, msg);
    if (opened) store::add_auto_replies(tx, {*t});
    if (!opened && t->status != "open") store::set_status(tx, *t, "open");
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    write_public_message(w, msg, "");
    return http::json_ok(201, sb.GetString());
  });
}

// The conversation by email, on request (the panel offers it once a conversation is resolved):
// {"email"?} — given, it becomes the visitor's email; else the one they left. 202 {email,
// throughSeq}: outbound sends the public messages so far. At most kTranscriptsPerHour per
// conversation, so the address box is no way to mail someone else again and again.
http::Response transcript(Context& ctx, const http::Request& req) {
  constexpr int kTranscriptsPerHour = 3;
  rapidjson::Document d;
  if (core::trim(req.body).empty())
    d.SetObject();
  else if (auto err = parse_object(req, d))
    return *err;
  std::optional<std::string> email;
  if (auto err = read_optional_text(d, "email", 254, email)) return *err;
  if (email && !valid_email(*email)) return invalid_field("email", "email must be a valid email address");
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto v = store::find_visitor(tx, visitor_token(req), true);
    if (!v) return no_session();
    auto t = store::visitor_ticket(tx, *v);
    if (!t) return http::json_error(404, "NOT_FOUND", "there is no conversation to send yet");
    if (email) {
      v->email = core::to_lower(*email);
      store::save_visitor_contact(tx, *v);
    }
    const auto to = v->email ? v->email : t->requester_email;
    if (!to) return invalid_field("email", "which email address should we send the conversation to?");
    auto window = store::rate_limit_hit(tx, "chat-transcripts:" + t->id, 3600);
    if (window.hits > kTranscriptsPerHour) {
      auto res = http::json_error(429, "RATE_LIMITED", "this conversation was emailed several times in the last hour");
      res.headers.emplace_back("Retry-After", std::to_string(window.reset_s));
      throw Rejected{res};
    }
    auto through = store::request_transcript(tx, *t, *to, "visitor");
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    core::json_kv(w, "email", *to);
    core::json_put(w, "throughSeq");
    w.Int64(through);
    w.EndObject();
    return http::json_ok(202, sb.GetString());
  });
}
}  // namespace

void add_chat_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  add(r, ctx, "POST", "/api/v1/widget/sessions", Access::kPublic, [&ctx](Q q, P) { return start_session(ctx, q); });
  add(r, ctx, "GET", "/api/v1/widget/availability", Access::kPublic, [&ctx](Q q, P) { return availability(ctx, q); });
  add(r, ctx, "POST", "/api/v1/widget/identify", Access::kPublic, [&ctx](Q q, P) { return identify(ctx, q); });
  add(
      r, ctx, "POST", "/api/v1/widget/attachments", Access::kPublic, [&ctx](Q q, P) { return visitor_upload(ctx, q); },
      true);
  add(r, ctx, "GET", "/api/v1/widget/attachments/:id", Access::kPublic,
      [&ctx](Q q, P) { return visitor_download(ctx, q, q.params.at("id")); });
  add(r, ctx, "POST", "/api/v1/widget/typing", Access::kPublic, [&ctx](Q q, P) { return visitor_typing(ctx, q); });
  add(r, ctx, "POST", "/api/v1/tickets/:id/typing", Access::kAgent,
      [&ctx](Q q, P p) { return agent_typing(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "POST", "/api/v1/tickets/:id/read", Access::kAgent,
      [&ctx](Q q, P p) { return agent_read(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "GET", "/api/v1/widget/conversation", Access::kPublic, [&ctx](Q q, P) { return conversation(ctx, q); });
  add(r, ctx, "POST", "/api/v1/widget/conversation/messages", Access::kPublic, [&ctx](Q q, P) { return send(ctx, q); });
  add(r, ctx, "POST", "/api/v1/widget/conversation/transcript", Access::kPublic,
      [&ctx](Q q, P) { return transcript(ctx, q); });
  // The WebSocket itself is accepted by Hub::upgrade; a plain GET learns how to connect.
  add(r, ctx, "GET", "/api/v1/widget/realtime", Access::kPublic, [](Q, P) {
    auto res = http::json_error(426, "UPGRADE_REQUIRED", "connect to this URL with a WebSocket client");
    res.headers.emplace_back("Upgrade", "websocket");
    return res;
  });
}

}  // namespace loket::api
