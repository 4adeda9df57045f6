// /api/v1/tickets: list, read, log, update and reply (seed 002 shapes; DESIGN.md "Threading").
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/tickets.hpp"
#include "api.hpp"

namespace loket::api {
namespace {
constexpr std::size_t kMaxBodyChars = 20000;
constexpr std::size_t kMaxSubjectChars = 300;
const char* const kChannels[] = {"web", "email", "phone", "whatsapp", "telegram", "chat", "api", "other"};

std::optional<http::Response> parse(const http::Request& req, rapidjson::Document& d) {
  d.Parse(req.body.c_str(), req.body.size());
  if (d.HasParseError() || !d.IsObject())
    return http::json_error(400, "VALIDATION_ERROR", "body must be a JSON object");
  return std::nullopt;
}

http::Response not_found() { return http::json_error(404, "NOT_FOUND", "no such ticket"); }

http::Response list(Context& ctx, const http::Request& req, const std::string& ws) {
  std::string status = req.query_param("status"), channel = req.query_param("channel");
  if (!status.empty() && !store::is_valid_status(status))
    return http::json_error(400, "VALIDATION_ERROR", "status must be open, pending, resolved or closed");
  long limit = 25;
  std::int64_t cursor = 0;
  try {
    if (auto l = req.query_param("limit"); !l.empty()) limit = std::stol(l);
    if (auto c = req.query_param("cursor"); !c.empty()) cursor = std::stoll(c);
  } catch (const std::exception&) {
    return http::json_error(400, "VALIDATION_ERROR", "limit and cursor must be whole numbers");
  }
  if (limit < 1 || limit > 100) return http::json_error(400, "VALIDATION_ERROR", "limit must be 1..100");
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto tickets = store::list_tickets(tx, ws, status, channel, cursor, limit + 1);
  std::string items;
  std::int64_t last = 0;
  for (std::size_t i = 0; i < tickets.size() && static_cast<long>(i) < limit; ++i) {
    if (!items.empty()) items += ",";
    items += store::ticket_json(tickets[i]);
    last = tickets[i].number;
  }
  std::string next = static_cast<long>(tickets.size()) > limit ? "\"" + std::to_string(last) + "\"" : "null";
  return http::json_ok(200, "{\"items\":[" + items + "],\"nextCursor\":" + next + "}");
}

std::string ticket_with_messages(pqxx::transaction_base& tx, const store::Ticket& t) {
  std::string out = store::ticket_json(t);
  out.pop_back();
  out += ",\"messages\":[";
  bool first = true;
  for (const auto& m : store::load_messages(tx, t.id, true)) {
    if (!first) out += ",";
    first = false;
    out += store::message_json(m);
  }
  return out + "]}";
}

http::Response get(Context& ctx, const std::string& ws, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto t = store::load_ticket(tx, ws, id);
  if (!t) return not_found();
  return http::json_ok(200, ticket_with_messages(tx, *t));
}

std::optional<std::string> opt_field(const rapidjson::Value& d, const char* k) {
  auto v = core::json_string(d, k);
  if (v && core::trim(*v).empty()) return std::nullopt;
  return v;
}

http::Response create(Context& ctx, const http::Request& req, const std::string& ws) {
  rapidjson::Document d;
  if (auto err = parse(req, d)) return *err;
  std::string body = core::json_string(d, "body").value_or("");
  std::string channel = core::json_string(d, "channel").value_or("web");
  std::string subject = core::trim(core::json_string(d, "subject").value_or(""));
  if (core::trim(body).empty() || core::utf8_length(body) > kMaxBodyChars)
    return http::json_error(400, "VALIDATION_ERROR", "body is required (1–20000 characters)");
  if (core::utf8_length(subject) > kMaxSubjectChars)
    return http::json_error(400, "VALIDATION_ERROR", "subject must be at most 300 characters");
  if (std::find(std::begin(kChannels), std::end(kChannels), channel) == std::end(kChannels))
    return http::json_error(400, "VALIDATION_ERROR", "channel '" + channel + "' is not known");
  store::NewTicket n;
  n.workspace_id = ws;
  n.channel = channel;
  n.subject = subject.empty() ? store::subject_from_text(body, channel) : subject;
  n.requester_name = opt_field(d, "requesterName");
  n.requester_email = opt_field(d, "requesterEmail");
  n.requester_phone = opt_field(d, "requesterPhone");
  if (n.requester_email && n.requester_email->find('@') == std::string::npos)
    return http::json_error(400, "VALIDATION_ERROR", "requesterEmail is not an email address");
  if (auto p = core::json_string(d, "priority")) n.priority = *p;
  if (n.priority != "low" && n.priority != "normal" && n.priority != "high" && n.priority != "urgent")
    return http::json_error(400, "VALIDATION_ERROR", "priority must be low, normal, high or urgent");
  auto json = store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    auto t = store::create_ticket(tx, n);
    store::NewMessage m;
    m.author_type = "requester";
    m.author_name = n.requester_name.value_or("");
    m.body = body;
    store::add_message(tx, t, m);
    return ticket_with_messages(tx, t);
  });
  return http::json_ok(201, json);
}

http::Response patch(Context& ctx, const http::Request& req, const std::string& ws, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse(req, d)) return *err;
  auto status = core::json_string(d, "status");
  auto priority = core::json_string(d, "priority");
  auto subject = core::json_string(d, "subject");
  if (status && !store::is_valid_status(*status))
    return http::json_error(400, "VALIDATION_ERROR", "status must be open, pending, resolved or closed");
  if (priority && *priority != "low" && *priority != "normal" && *priority != "high" && *priority != "urgent")
    return http::json_error(400, "VALIDATION_ERROR", "priority must be low, normal, high or urgent");
  if (subject && (core::trim(*subject).empty() || core::utf8_length(*subject) > kMaxSubjectChars))
    return http::json_error(400, "VALIDATION_ERROR", "subject must be 1–300 characters");
  auto json = store::with_tx(ctx.pool, [&](pqxx::work& tx) -> std::optional<std::string> {
    auto t = store::load_ticket(tx, ws, id, true);
    if (!t) return std::nullopt;
    if (priority || subject) {
      tx.exec_params0(
          "UPDATE tickets SET priority = coalesce($2, priority), subject = coalesce($3, subject), "
          "updated_at = now() WHERE id = $1",
          id, priority, subject);
      t = store::load_ticket(tx, ws, id);
      if (!status || *status == t->status)
        store::emit_ticket_event(tx, "ticket.updated", ws, id,
                                 "{\"changes\":{},\"ticket\":" + store::ticket_json(*t) + "}");
    }
    if (status) store::set_status(tx, *t, *status);
    return store::ticket_json(*t);
  });
  if (!json) return not_found();
  return http::json_ok(200, *json);
}

http::Response messages(Context& ctx, const std::string& ws, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto t = store::load_ticket(tx, ws, id);
  if (!t) return not_found();
  std::string out = "[";
  for (const auto& m : store::load_messages(tx, id, true)) {
    if (out.size() > 1) out += ",";
    out += store::message_json(m);
  }
  return http::json_ok(200, out + "]");
}

http::Response reply(Context& ctx, const http::Request& req, const std::string& ws, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse(req, d)) return *err;
  std::string body = core::json_string(d, "body").value_or("");
  if (core::trim(body).empty() || core::utf8_length(body) > kMaxBodyChars)
    return http::json_error(400, "VALIDATION_ERROR", "body is required (1–20000 characters)");
  const auto* internal_v = core::json_member(d, "internal");
  if (internal_v && !internal_v->IsBool())
    return http::json_error(400, "VALIDATION_ERROR", "internal must be true or false");
  bool internal = internal_v && internal_v->GetBool();
  std::string author = core::json_string(d, "authorName").value_or("Support");
  auto json = store::with_tx(ctx.pool, [&](pqxx::work& tx) -> std::optional<std::string> {
    auto t = store::load_ticket(tx, ws, id, true);
    if (!t) return std::nullopt;
    store::NewMessage m;
    m.author_type = "agent";
    m.author_name = author;
    m.body = body;
    m.internal = internal;
    // A public reply on a ticket with a connected channel thread is delivered by outbound.
    if (!internal && t->channel == "telegram" && t->integration_id && t->external_thread_id)
      m.delivery_status = "pending";
    auto msg = store::add_message(tx, *t, m);
    if (!internal) {
      tx.exec_params0(
          "UPDATE tickets SET first_response_at = coalesce(first_response_at, now()), "
          "updated_at = now() WHERE id = $1",
          id);
      store::set_status(tx, *t, "pending");
    }
    return store::message_json(msg);
  });
  if (!json) return not_found();
  return http::json_ok(201, *json);
}

http::Response attachment(Context& ctx, const std::string& ws, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto r = tx.exec_params(
      "SELECT filename, content_type, data FROM attachments WHERE workspace_id = $1 AND id = $2", ws, id);
  if (r.empty()) return http::json_error(404, "NOT_FOUND", "no such attachment");
  if (r[0][2].is_null())
    return http::json_error(404, "NOT_FOUND", "the provider could not serve this attachment");
  http::Response res;
  res.content_type = r[0][1].as<std::string>();
  std::string name = r[0][0].as<std::string>();
  for (auto& c : name)
    if (c == '"' || c == '\\' || static_cast<unsigned char>(c) < 0x20) c = '_';
  res.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + name + "\"");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.body = pqxx::binarystring(r[0][2]).str();
  return res;
}
}  // namespace

void add_ticket_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using W = const std::string&;
  r.add("GET", "/api/v1/tickets", authed(ctx, [&ctx](Q q, W ws) { return list(ctx, q, ws); }));
  r.add("POST", "/api/v1/tickets", authed(ctx, [&ctx](Q q, W ws) { return create(ctx, q, ws); }));
  r.add("GET", "/api/v1/tickets/:id", authed(ctx, [&ctx](Q q, W ws) { return get(ctx, ws, q.params.at("id")); }));
  r.add("PATCH", "/api/v1/tickets/:id",
        authed(ctx, [&ctx](Q q, W ws) { return patch(ctx, q, ws, q.params.at("id")); }));
  r.add("GET", "/api/v1/tickets/:id/messages",
        authed(ctx, [&ctx](Q q, W ws) { return messages(ctx, ws, q.params.at("id")); }));
  r.add("POST", "/api/v1/tickets/:id/messages",
        authed(ctx, [&ctx](Q q, W ws) { return reply(ctx, q, ws, q.params.at("id")); }));
  r.add("GET", "/api/v1/attachments/:id",
        authed(ctx, [&ctx](Q q, W ws) { return attachment(ctx, ws, q.params.at("id")); }));
}

}  // namespace loket::api
