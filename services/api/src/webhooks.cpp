// /api/v1/webhook-endpoints: integrators' outgoing webhooks (issue 18; docs/webhooks.md).
// Owners and admins create endpoints (the signing secret is shown once), change, rotate the
// secret, read the delivery log, redeliver and replay. Outbound delivers (services/outbound).
#include <algorithm>
#include <set>

#include "api.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/ssrf.hpp"
#include "loket/store/webhooks.hpp"

namespace loket::api {
namespace {
constexpr std::size_t kMaxEndpoints = 20, kMaxUrl = 2000, kMaxDescription = 500;
constexpr int kPreviousSecretSeconds = 24 * 3600;  // a rotated-out secret still signs for a day

/// The ticket event types an endpoint may subscribe to (proto/ticket.events.*.schema.json).
const std::set<std::string>& event_types() {
  static const std::set<std::string> all = {"ticket.created",
                                            "ticket.updated",
                                            "message.created",
                                            "csat.recorded",
                                            "message.delivery_updated",
                                            "transcript.requested",
                                            "integration.status_changed",
                                            "ticket.reply_window_closing",
                                            "sla.warning",
                                            "sla.breached"};
  return all;
}

http::Response not_found() { return http::json_error(404, "NOT_FOUND", "no such webhook endpoint"); }

// An API inbox's reply endpoint follows its channel: its events are fixed and it goes with it.
http::Response owned_by_channel(const store::WebhookEndpoint& e) {
  return http::json_error(409, "CONFLICT",
                          "this endpoint receives the agent replies of API channel " + e.integration_id +
                              "; its events are fixed, and disconnecting the channel turns it off");
}

std::string endpoint_json(const store::WebhookEndpoint& e, const std::string& secret = "") {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", e.id);
  core::json_kv(w, "url", e.url);
  core::json_kv(w, "description", e.description);
  core::json_put(w, "events");
  w.StartArray();
  for (const auto& t : e.events) core::json_put(w, t);
  w.EndArray();
  core::json_put(w, "enabled");
  w.Bool(e.enabled);
  core::json_kv_opt(w, "disabledReason", e.disabled_reason.empty() ? std::nullopt : std::optional(e.disabled_reason));
  core::json_kv_opt(w, "failingSince", e.failing_since.empty() ? std::nullopt : std::optional(e.failing_since));
  core::json_kv_opt(w, "previousSecretValidUntil", e.previous_valid ? std::optional(e.previous_until) : std::nullopt);
  if (!secret.empty()) core::json_kv(w, "secret", secret);  // shown once
  core::json_kv_opt(w, "integrationId", e.integration_id.empty() ? std::nullopt : std::optional(e.integration_id));
  core::json_kv(w, "createdAt", e.created_at);
  core::json_kv(w, "updatedAt", e.updated_at);
  w.EndObject();
  return sb.GetString();
}

std::string delivery_json(const store::WebhookDelivery& d) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", d.id);
  core::json_kv(w, "eventId", d.event_id);
  core::json_kv(w, "eventType", d.event_type);
  core::json_kv(w, "ticketId", d.ticket_id);
  core::json_kv(w, "status", d.status);
  core::json_put(w, "attempts");
  w.Int(d.attempts);
  core::json_put(w, "lastStatusCode");
  d.last_status_code ? w.Int(*d.last_status_code) : w.Null();
  core::json_put(w, "lastLatencyMs");
  d.last_latency_ms ? w.Int(*d.last_latency_ms) : w.Null();
  core::json_kv_opt(w, "lastError", d.last_error.empty() ? std::nullopt : std::optional(d.last_error));
  core::json_kv_opt(w, "responseExcerpt",
                    d.response_excerpt.empty() ? std::nullopt : std::optional(d.response_excerpt));
  core::json_kv_opt(w, "nextAttemptAt", d.next_attempt_at.empty() ? std::nullopt : std::optional(d.next_attempt_at));
  core::json_kv(w, "createdAt", d.created_at);
  core::json_kv_opt(w, "deliveredAt", d.delivered_at.empty() ? std::nullopt : std::optional(d.delivered_at));
  w.EndObject();
  return sb.GetString();
}

// Reads and checks `url` (the SSRF guard decides before anything is stored: https, a public
// address) and `events` of a create or change; absent members keep `e`'s.
std::optional<http::Response> read_fields(const rapidjson::Value& d, store::WebhookEndpoint& e, bool creating) {
  if (const auto* v = core::json_member(d, "url"); v || creating) {
    if (!v || !v->IsString() || v->GetStringLength() == 0 || v->GetStringLength() > kMaxUrl)
      return invalid_field("url", "url is required: the https URL Loket POSTs events to (at most 2,000 characters)");
    try {
      http::check_url(v->GetString(), http::ssrf_policy());
    } catch (const http::SsrfRefused& refused) {
      return invalid_field("url", std::string("url is refused: ") + refused.what());
    }
    e.url = v->GetString();
  }
  if (const auto* v = core::json_member(d, "events"); v || creating) {
    if (!v || !v->IsArray() || v->Empty() || v->Size() > event_types().size())
      return invalid_field("events", "events must list the event types to send, e.g. [\"ticket.created\"]");
    std::set<std::string> chosen;
    for (const auto& t : v->GetArray()) {
      if (!t.IsString() || !event_types().count(t.GetString()))
        return invalid_field("events",
                             "unknown event type; one of ticket.created, ticket.updated, message.created, "
                             "message.delivery_updated, csat.recorded, transcript.requested, "
                             "integration.status_changed, ticket.reply_window_closing, sla.warning, sla.breached");
      chosen.insert(t.GetString());
    }
    e.events.assign(chosen.begin(), chosen.end());
  }
  if (const auto* v = core::json_member(d, "description")) {
    if (!v->IsString() || core::utf8_length(v->GetString()) > kMaxDescription)
      return invalid_field("description", "description must be text of at most 500 characters");
    e.description = v->GetString();
  }
  if (const auto* v = core::json_member(d, "enabled")) {
    if (!v->IsBool()) return invalid_field("enabled", "enabled must be true or false");
    e.enabled = v->GetBool();
  }
  return std::nullopt;
}

http::Response create(Context& ctx, const http::Request& req, const std::string& ws) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  store::WebhookEndpoint e;
  e.id = core::new_id("whe");
  e.workspace_id = ws;
  if (auto err = read_fields(d, e, true)) return *err;
  const std::string secret = crypto::new_webhook_secret();
  e.secret = ctx.keys.encrypt(secret, e.id);
  e.secret_key_id = ctx.keys.active_key_id();
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    tx.exec_params("SELECT 1 FROM workspaces WHERE id = $1 FOR UPDATE", ws);  // count, then insert
    auto all = store::list_webhook_endpoints(tx, ws);
    if (std::count_if(all.begin(), all.end(), [](const auto& x) { return x.integration_id.empty(); }) >=
        static_cast<long>(kMaxEndpoints))
      return http::json_error(409, "CONFLICT", "a workspace has at most 20 webhook endpoints; delete one first");
    return http::json_ok(201, endpoint_json(store::save_webhook_endpoint(tx, e), secret));
  });
}

http::Response list(Context& ctx, const std::string& ws) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(200, json_array(store::list_webhook_endpoints(tx, ws),
                                       [](const store::WebhookEndpoint& e) { return endpoint_json(e); }));
}

http::Response get(Context& ctx, const std::string& ws, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto e = store::find_webhook_endpoint(tx, ws, id);
  return e ? http::json_ok(200, endpoint_json(*e)) : not_found();
}

http::Response change(Context& ctx, const http::Request& req, const std::string& ws, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto e = store::find_webhook_endpoint(tx, ws, id);
    if (!e) return not_found();
    if (!e->integration_id.empty() && core::json_member(d, "events")) return owned_by_channel(*e);
    if (auto err = read_fields(d, *e, false)) return *err;
    return http::json_ok(200, endpoint_json(store::save_webhook_endpoint(tx, *e)));
  });
}

http::Response remove(Context& ctx, const std::string& ws, const std::string& id) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto e = store::find_webhook_endpoint(tx, ws, id);
    if (e && !e->integration_id.empty()) return owned_by_channel(*e);
    if (!store::delete_webhook_endpoint(tx, ws, id)) return not_found();
    return http::json_ok(200, "{\"deleted\":true}");
  });
}

// A new signing secret, shown once; the old one keeps signing beside it for 24 hours, so
// receivers can switch without losing a delivery.
http::Response rotate(Context& ctx, const std::string& ws, const std::string& id) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto e = store::find_webhook_endpoint(tx, ws, id);
    if (!e) return not_found();
    e->previous_secret = e->secret;
    e->previous_secret_key_id = e->secret_key_id;
    const std::string secret = crypto::new_webhook_secret();
    e->secret = ctx.keys.encrypt(secret, e->id);
    e->secret_key_id = ctx.keys.active_key_id();
    return http::json_ok(200, endpoint_json(store::save_webhook_endpoint(tx, *e, kPreviousSecretSeconds), secret));
  });
}

http::Response deliveries(Context& ctx, const http::Request& req, const std::string& ws, const std::string& id) {
  const std::string status = req.query_param("status");
  if (!status.empty() && status != "pending" && status != "delivered" && status != "failed")
    return invalid_field("status", "status must be pending, delivered or failed");
  int limit = 50;
  if (auto l = req.query_param("limit"); !l.empty()) {
    if (l.size() > 3 || l.find_first_not_of("0123456789") != std::string::npos || std::stoi(l) < 1 ||
        std::stoi(l) > 200)
      return invalid_field("limit", "limit must be 1–200");
    limit = std::stoi(l);
  }
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  if (!store::find_webhook_endpoint(tx, ws, id)) return not_found();
  return http::json_ok(200, json_array(store::list_webhook_deliveries(tx, id, status, limit), delivery_json));
}

http::Response redeliver(Context& ctx, const std::string& ws, const std::string& id, const std::string& delivery) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    if (!store::find_webhook_endpoint(tx, ws, id)) return not_found();
    auto d = store::redeliver_webhook(tx, id, delivery);
    if (!d) return http::json_error(404, "NOT_FOUND", "no such delivery of this endpoint");
    return http::json_ok(202, delivery_json(*d));
  });
}

// Every delivery of a time range again (after the receiver lost data in an outage).
http::Response replay(Context& ctx, const http::Request& req, const std::string& ws, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  auto from = core::json_string(d, "from").value_or(""), to = core::json_string(d, "to").value_or("");
  auto instant = [](const std::string& s) { return s.size() >= 20 && s.size() <= 35 && s[4] == '-' && s[10] == 'T'; };
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    if (!store::find_webhook_endpoint(tx, ws, id)) return not_found();  // another workspace's: 404 first
    if (!instant(from) || !instant(to) || from >= to)
      return invalid_field("from", "from and to must be RFC 3339 times with from before to");
    int n = 0;
    try {
      n = store::replay_webhooks(tx, id, from, to);
    } catch (const pqxx::data_exception&) {
      throw Rejected{invalid_field("from", "from and to must be RFC 3339 times")};
    }
    return http::json_ok(202, "{\"queued\":" + std::to_string(n) + "}");
  });
}
}  // namespace

void add_webhook_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const store::Principal&;
  const std::string base = "/api/v1/webhook-endpoints";
  add(r, ctx, "GET", base, Access::kAdmin, [&ctx](Q, P p) { return list(ctx, p.workspace_id); });
  add(r, ctx, "POST", base, Access::kAdmin, [&ctx](Q q, P p) { return create(ctx, q, p.workspace_id); });
  add(r, ctx, "GET", base + "/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return get(ctx, p.workspace_id, q.params.at("id")); });
  add(r, ctx, "PATCH", base + "/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return change(ctx, q, p.workspace_id, q.params.at("id")); });
  add(r, ctx, "DELETE", base + "/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return remove(ctx, p.workspace_id, q.params.at("id")); });
  add(r, ctx, "POST", base + "/:id/rotate-secret", Access::kAdmin,
      [&ctx](Q q, P p) { return rotate(ctx, p.workspace_id, q.params.at("id")); });
  add(r, ctx, "GET", base + "/:id/deliveries", Access::kAdmin,
      [&ctx](Q q, P p) { return deliveries(ctx, q, p.workspace_id, q.params.at("id")); });
  add(r, ctx, "POST", base + "/:id/deliveries/:deliveryId/redeliver", Access::kAdmin,
      [&ctx](Q q, P p) { return redeliver(ctx, p.workspace_id, q.params.at("id"), q.params.at("deliveryId")); });
  add(r, ctx, "POST", base + "/:id/replay", Access::kAdmin,
      [&ctx](Q q, P p) { return replay(ctx, q, p.workspace_id, q.params.at("id")); });
}

}  // namespace loket::api
