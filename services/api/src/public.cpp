// The public surface for requesters (seed 002): submit a ticket, follow it with the access
// token, reply, rate, and token-scoped attachments. Unauthenticated; rate-limited per client IP
// by the guard and per workspace here.
#include "api.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/access.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxBody = 20000, kMaxSubject = 300, kMaxName = 200, kMaxComment = 2000;

http::Response bad(const std::string& field, const std::string& msg) { return invalid_field(field, msg); }

http::Response unknown_token() { return http::json_error(404, "NOT_FOUND", "no ticket for this link"); }

// The ticket of `token`, read inside `tx`.
std::optional<store::Ticket> by_token(pqxx::transaction_base& tx, const std::string& token, bool for_update = false) {
  auto t = store::find_by_access_token(tx, token);
  if (t && for_update) t = store::load_ticket(tx, t->workspace_id, t->id, true);
  return t;
}

http::Response submit(Context& ctx, const http::Request& req) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string account = core::json_string(d, "accountId").value_or("");
  std::string subject = core::trim(core::json_string(d, "subject").value_or(""));
  std::string body = core::json_string(d, "body").value_or("");
  std::string email = core::trim(core::json_string(d, "email").value_or(""));
  std::string name = core::trim(core::json_string(d, "name").value_or(""));
  if (account.empty()) return bad("accountId", "accountId is required (the acc_… id in your form URL)");
  if (subject.empty() || core::utf8_length(subject) > kMaxSubject)
    return bad("subject", "subject is required (1–300 characters)");
  if (core::trim(body).empty() || core::utf8_length(body) > kMaxBody)
    return bad("body", "body is required (1–20000 characters)");
  if (!valid_email(email)) return bad("email", "email must be a valid email address");
  if (core::utf8_length(name) > kMaxName) return bad("name", "name must be at most 200 characters");
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    if (!store::workspace_exists(tx, account)) return http::json_error(404, "NOT_FOUND", "no workspace " + account);
    auto window = store::rate_limit_hit(tx, "public-tickets:" + account, 60);
    if (window.hits > ctx.options.public_tickets_per_workspace_per_minute) {
      auto res =
          http::json_error(429, "RATE_LIMITED", "this support form is receiving too many requests; retry shortly");
      res.headers.emplace_back("Retry-After", std::to_string(window.reset_s));
      throw Rejected{res};  // roll back: the hit is not a ticket
    }
    store::NewTicket n;
    n.workspace_id = account;
    n.channel = "web";
    n.subject = subject;
    n.requester_email = core::to_lower(email);
    if (!name.empty()) n.requester_name = name;
    std::string token;
    auto t = store::create_ticket(tx, n, ctx.keys, &token);
    store::NewMessage m;
    m.author_type = "requester";
    m.author_name = name.empty() ? email : name;
    m.body = body;
    store::add_message(tx, t, m, {});
    store::add_auto_replies(tx, {t});
    core::log(core::Level::kInfo, "hosted form ticket", {{"workspaceId", account}, {"ticketId", t.id}});
    return http::json_ok(201, "{\"number\":" + std::to_string(t.number) + ",\"accessToken\":\"" + token + "\"}");
  });
}

http::Response view(Context& ctx, const std::string& token) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto t = by_token(tx, token);
  if (!t) return unknown_token();
  return http::json_ok(
      200, public_ticket_json(*t, store::load_messages(tx, t->id, false), ctx.options.public_app_url + "/t/" + token));
}

http::Response reply(Context& ctx, const http::Request& req, const std::string& token) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string body = core::json_string(d, "body").value_or("");
  if (core::trim(body).empty() || core::utf8_length(body) > kMaxBody)
    return bad("body", "body is required (1–20000 characters)");
  std::vector<std::string> ids;
  if (auto err = read_attachment_ids(d, ids)) return *err;
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto t = by_token(tx, token, true);
    if (!t) return unknown_token();
    store::NewMessage m;
    m.author_type = "requester";
    m.author_name = t->requester_name.value_or(t->requester_email.value_or(""));
    m.body = body;
    auto msg = store::add_message(tx, *t, m, {}, false);
    attach_or_reject(tx, t->workspace_id, msg, ids, "ticket:" + t->id);
    store::emit_message_created(tx, *t, msg);
    store::set_status(tx, *t, "open");  // always, also from resolved and closed
    return http::json_ok(201, "{\"id\":\"" + msg.id + "\",\"status\":\"open\"}");
  });
}

http::Response rate(Context& ctx, const http::Request& req, const std::string& token) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  auto score = core::json_int(d, "score");
  const auto* comment_v = core::json_member(d, "comment");
  if (!score || *score < 1 || *score > 5) return bad("score", "score must be a whole number from 1 to 5");
  if (comment_v && !comment_v->IsNull() && !comment_v->IsString()) return bad("comment", "comment must be text");
  const std::string comment_text = comment_v && comment_v->IsString() ? core::trim(comment_v->GetString()) : "";
  const auto comment = comment_text.empty() ? std::nullopt : std::optional<std::string>(comment_text);
  if (comment && core::utf8_length(*comment) > kMaxComment)
    return bad("comment", "comment must be at most 2000 characters");
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto t = by_token(tx, token, true);
    if (!t) return unknown_token();
    if (t->status != "resolved" && t->status != "closed")
      return http::json_error(409, "CONFLICT", "a ticket can be rated once it is resolved or closed");
    if (!store::record_csat(tx, *t, static_cast<int>(*score), comment))
      return http::json_error(409, "CONFLICT", "this ticket was rated more than 24 hours ago");
    return http::json_ok(201, csat_json(*t));
  });
}

http::Response upload(Context& ctx, const http::Request& req, const std::string& token) {
  std::string ws, ticket_id;
  {
    auto conn = ctx.pool.acquire();
    pqxx::read_transaction tx(*conn);
    auto t = by_token(tx, token);
    if (!t) return unknown_token();
    ws = t->workspace_id;
    ticket_id = t->id;
  }
  return upload_attachment(ctx, req, ws, "ticket:" + ticket_id);
}

http::Response download(Context& ctx, const std::string& token, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto t = by_token(tx, token);
  if (!t) return unknown_token();
  auto a = store::load_attachment(tx, t->workspace_id, id);
  // Only files on this ticket's public messages: not another ticket's, not an internal note's.
  bool visible = a && a->ticket_id == t->id && !a->internal;
  if (!visible) return http::json_error(404, "NOT_FOUND", "no such attachment on this ticket");
  return send_attachment(tx, *a);
}
}  // namespace

void add_public_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  const std::string base = "/api/v1/public/tickets";
  add(r, ctx, "POST", base, Access::kPublic, [&ctx](Q q, P) { return submit(ctx, q); });
  add(r, ctx, "GET", base + "/:accessToken", Access::kPublic,
      [&ctx](Q q, P) { return view(ctx, q.params.at("accessToken")); });
  add(r, ctx, "POST", base + "/:accessToken/messages", Access::kPublic,
      [&ctx](Q q, P) { return reply(ctx, q, q.params.at("accessToken")); });
  add(r, ctx, "POST", base + "/:accessToken/csat", Access::kPublic,
      [&ctx](Q q, P) { return rate(ctx, q, q.params.at("accessToken")); });
  add(
      r, ctx, "POST", base + "/:accessToken/attachments", Access::kPublic,
      [&ctx](Q q, P) { return upload(ctx, q, q.params.at("accessToken")); }, true);
  add(r, ctx, "GET", base + "/:accessToken/attachments/:id", Access::kPublic,
      [&ctx](Q q, P) { return download(ctx, q.params.at("accessToken"), q.params.at("id")); });
}

}  // namespace loket::api
