// /api/v1/channels: connect, list and disconnect integrations (seed 000 "Managing
// integrations"); what each provider asks for and checks is its adapter's connect().
#include <functional>

#include "api.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"
#include "loket/providers/error.hpp"
#include "loket/store/webhooks.hpp"

namespace loket::api {

namespace {
http::Response bad(const std::string& msg) { return http::json_error(400, "VALIDATION_ERROR", msg); }

// The answer to a provider that could not be reached (502) "to <purpose>", or refused (400:
// "<provider> <refused>: …").
http::Response provider_failure(const std::string& provider, const providers::ProviderError& e,
                                const std::string& purpose = "validate the credentials",
                                const std::string& refused = "rejected the credentials") {
  if (e.retryable())
    return http::json_error(502, "PROVIDER_UNAVAILABLE",
                            "could not reach " + provider + " to " + purpose + ": " + e.what());
  return http::json_error(400, "PROVIDER_REJECTED", provider + " " + refused + ": " + e.what());
}

struct Saved {
  std::string id;
  bool refreshed = false;
  std::string conflict;                         ///< why another workspace owns this identity, "" when none
  std::string unsigned_refused;                 ///< why the workspace's policy refuses these credentials, "" when none
  std::string reply_endpoint_id, reply_secret;  ///< an API inbox's reply webhook, its secret shown once
};

// The endpoint an API inbox's agent replies are POSTed to (Connection::reply_webhook_url),
// signed with a secret of its own like every webhook endpoint; returns its id and secret.
std::pair<std::string, std::string> save_reply_endpoint(Context& ctx, pqxx::work& tx, const std::string& ws,
                                                        const std::string& integration_id,
                                                        const providers::Connection& c) {
  store::WebhookEndpoint e;
  if (auto existing = store::inbox_webhook_endpoint(tx, integration_id)) e = *existing;
  if (e.id.empty()) e.id = core::new_id("whe");
  e.workspace_id = ws;
  e.integration_id = integration_id;
  e.url = c.reply_webhook_url;
  e.description = "Agent replies of API inbox " + c.display_name;
  e.events = {"message.created"};
  e.enabled = true;
  const std::string secret = crypto::new_webhook_secret();
  e.secret = ctx.keys.encrypt(secret, e.id);
  e.secret_key_id = ctx.keys.active_key_id();
  store::save_webhook_endpoint(tx, e);
  return {e.id, secret};
}

// Inserts or refreshes (in place) the integration of `adapter`, in one transaction serialized
// per identity and per workspace webhook policy; `secrets` receives what the connection built
// from the previous credentials.
Saved save(Context& ctx, const std::string& ws, const providers::Adapter& adapter, const providers::Connection& c,
           const std::string& status, providers::Secrets& secrets) {
  const std::string& provider = adapter.descriptor().name;
  Saved out;
  try {
    store::with_tx(ctx.pool, [&](pqxx::work& tx) {
      out = Saved{};
      store::lock_webhook_policy(tx, ws);
      store::lock_integration_identity(tx, provider, c.routing_key, c.number);
      if (!c.number.empty() && store::number_connected_elsewhere(tx, c.number, ws)) {
        out.conflict = c.number + " is connected to another workspace";
        return;
      }
      auto existing = store::find_live_integration(tx, provider, c.routing_key);
      if (existing && existing->workspace_id != ws) {
        out.conflict = "this " + provider + " identity (" + c.routing_key + ") is connected to another workspace";
        return;
      }
      out.refreshed = existing.has_value();
      out.id = existing ? existing->id : core::new_id("int");
      std::string previous;
      if (existing && !existing->credentials.empty()) {
        try {
          previous = ctx.keys.decrypt(existing->credentials, existing->credentials_key_id, existing->id);
        } catch (const std::exception&) {
          // unreadable (e.g. a retired key): start afresh
        }
      }
      secrets = c.secrets(previous);
      if (adapter.webhook() && !adapter.verifies_webhooks(secrets.credentials) &&
          store::load_workspace(tx, ws)->require_signed_webhooks) {
        out.unsigned_refused = "this workspace requires signed webhooks (requireSignedWebhooks); give the " +
                               adapter.descriptor().label + " credentials that sign them";
        return;
      }
      store::Integration row;
      row.id = out.id;
      row.workspace_id = ws;
      row.provider = provider;
      row.status = status;
      row.display_name = c.display_name;
      row.routing_key = c.routing_key;
      row.credentials = ctx.keys.encrypt(secrets.credentials, out.id);
      row.credentials_key_id = ctx.keys.active_key_id();
      row.webhook_secret_hash = secrets.webhook_secret_hash;
      row.number = c.number;
      store::save_integration(tx, row, existing.has_value());
      if (!c.reply_webhook_url.empty())
        std::tie(out.reply_endpoint_id, out.reply_secret) = save_reply_endpoint(ctx, tx, ws, out.id, c);
    });
  } catch (const pqxx::unique_violation&) {
    out.conflict = "this " + provider + " identity is being connected concurrently; try again";
  }
  return out;
}

// The integration's JSON: its public fields and the adapter's (`phoneNumberId`), whether its
// webhooks are verified, then `shown` (what the connect response shows once: webhook URL,
// verify token, setup note, a warning).
std::string integration_json(const Context& ctx, const store::Integration& i,
                             const std::vector<std::pair<std::string, std::string>>& shown = {}) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", i.id);
  core::json_kv(w, "provider", i.provider);
  core::json_kv(w, "status", i.status);
  core::json_kv(w, "displayName", i.display_name);
  if (!i.number.empty()) core::json_kv(w, "number", i.number);
  if (const auto* adapter = ctx.providers.find(i.provider))
    for (const auto& [k, v] : adapter->public_fields({i.id, i.workspace_id, i.provider, i.routing_key, i.number}))
      core::json_kv(w, k, v);
  if (auto verified = i.status == "disconnected" ? std::nullopt : webhooks_verified(ctx, i)) {
    w.Key("signatureVerified");
    w.Bool(*verified);
  }
  core::json_kv_opt(w, "lastError", i.last_error.empty() ? std::nullopt : std::optional(i.last_error));
  core::json_kv(w, "createdAt", i.created_at);
  core::json_kv(w, "connectedAt", i.connected_at);
  for (const auto& [k, v] : shown) core::json_kv(w, k, v);
  w.EndObject();
  return sb.GetString();
}

http::Response create(Context& ctx, const http::Request& req, const std::string& ws) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  auto provider = core::json_string(d, "provider").value_or("");
  if (provider.empty()) return bad("provider is required");
  const auto* adapter = ctx.providers.find(provider);
  if (!adapter) return bad("provider '" + provider + "' is not supported yet");
  const std::string& label = adapter->descriptor().label;
  providers::Connection c;
  try {
    c = adapter->connect(d);
  } catch (const providers::Refusal& r) {
    return http::json_error(r.status(), r.code(), r.what());
  } catch (const providers::ProviderError& e) {
    return provider_failure(label, e);
  }
  providers::Secrets secrets;
  auto s = save(ctx, ws, *adapter, c, c.activate ? "pending" : "active", secrets);
  if (!s.conflict.empty()) return http::json_error(409, "CONFLICT", s.conflict);
  if (!s.unsigned_refused.empty()) return bad(s.unsigned_refused);
  if (!s.reply_secret.empty()) {  // see docs/channels/api-channel.md "Receiving agent replies"
    secrets.shown.emplace_back("webhookEndpointId", s.reply_endpoint_id);
    secrets.shown.emplace_back("webhookSecret", s.reply_secret);
  }
  if (c.activate) {  // e.g. register the webhook URL, which names the integration id
    std::string status = "active", last_error;
    try {
      c.activate(s.id);
    } catch (const providers::ProviderError& e) {
      status = "error";
      last_error = e.what();
    }
    store::with_tx(ctx.pool, [&](pqxx::work& tx) { store::set_integration_status(tx, s.id, status, last_error); });
    if (status == "error") return http::json_error(400, "PROVIDER_REJECTED", last_error + " — connect again to retry");
  }
  core::log(core::Level::kInfo, "integration connected",
            {{"workspaceId", ws},
             {"integrationId", s.id},
             {"provider", provider},
             {"refreshed", s.refreshed ? "true" : "false"}});
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(s.refreshed ? 200 : 201,
                       integration_json(ctx, *store::find_integration(tx, s.id), secrets.shown));
}

http::Response list(Context& ctx, const std::string& ws) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  std::string out = "{\"integrations\":[";
  bool first = true;
  for (const auto& integ : store::list_integrations(tx, ws)) {
    if (const auto* a = ctx.providers.find(integ.provider); a && a->descriptor().platform) continue;
    out += first ? "" : ",";
    first = false;
    out += integration_json(ctx, integ);
  }
  out += "],\"platformChannels\":[";
  // The channels every workspace has: the email alias when the operator configured it.
  for (const auto& a : ctx.providers.adapters()) {
    if (!a->descriptor().platform) continue;
    auto address = a->platform_address(ws);
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    core::json_kv(w, "channel", a->descriptor().channel);
    core::json_kv(w, "status", address ? "live" : "not_configured");
    core::json_kv_opt(w, "address", address);
    w.EndObject();
    out += std::string(sb.GetString()) + ",";
  }
  out +=
      "{\"channel\":\"manual\",\"status\":\"live\"},{\"channel\":\"api\",\"status\":\"live\"},"
      "{\"channel\":\"whatsapp_platform_number\",\"status\":\"pending\"}]}";
  return http::json_ok(200, out);
}

http::Response remove(Context& ctx, const std::string& ws, const std::string& id) {
  std::optional<store::Integration> integ;
  {
    auto conn = ctx.pool.acquire();
    pqxx::read_transaction tx(*conn);
    integ = store::find_integration(tx, id);
  }
  const auto* adapter = integ ? ctx.providers.find(integ->provider) : nullptr;
  if (!integ || integ->workspace_id != ws || integ->status == "disconnected" ||
      (adapter && adapter->descriptor().platform))  // the email alias is the workspace's own
    return http::json_error(404, "NOT_FOUND", "no such integration");
  if (adapter && !integ->credentials.empty()) {
    try {  // e.g. Telegram's deleteWebhook
      adapter->disconnect(ctx.keys.decrypt(integ->credentials, integ->credentials_key_id, integ->id));
    } catch (const std::exception& e) {
      core::log(core::Level::kWarn, "the provider did not confirm the disconnect; disconnecting anyway",
                {{"integrationId", id}, {"error", e.what()}});
    }
  }
  store::with_tx(ctx.pool, [&](pqxx::work& tx) { store::disconnect_integration(tx, id); });
  integ->status = "disconnected";
  return http::json_ok(200, integration_json(ctx, *integ));
}
}  // namespace

std::variant<std::vector<providers::MessageTemplate>, http::Response> channel_templates(
    const Context& ctx, const std::string& ws, const std::optional<store::Integration>& i) {
  const auto* adapter = i ? ctx.providers.find(i->provider) : nullptr;
  if (!i || i->workspace_id != ws || i->status == "disconnected" || i->credentials.empty() || !adapter)
    return http::json_error(404, "NOT_FOUND", "no such integration");
  const std::string& label = adapter->descriptor().label;
  try {
    auto found = adapter->templates({i->id, i->workspace_id, i->provider, i->routing_key, i->number},
                                    ctx.keys.decrypt(i->credentials, i->credentials_key_id, i->id));
    if (!found) return http::json_error(404, "NOT_FOUND", label + " integrations have no message templates");
    return std::move(*found);
  } catch (const providers::Refusal& r) {
    return http::json_error(r.status(), r.code(), r.what());
  } catch (const providers::ProviderError& e) {
    return provider_failure(label, e, "list its templates", "refused to list the templates");
  }
}

std::optional<bool> webhooks_verified(const Context& ctx, const store::Integration& i) {
  const auto* adapter = ctx.providers.find(i.provider);
  if (!adapter || !adapter->webhook() || i.credentials.empty()) return std::nullopt;
  try {
    return adapter->verifies_webhooks(ctx.keys.decrypt(i.credentials, i.credentials_key_id, i.id));
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

std::string unverified_integrations(pqxx::transaction_base& tx, const Context& ctx, const std::string& ws) {
  std::string out;
  for (const auto& i : store::list_integrations(tx, ws))
    if (webhooks_verified(ctx, i) == false) out += (out.empty() ? "" : ", ") + i.id + " (" + i.display_name + ")";
  return out;
}

namespace {
// GET /api/v1/channels/:id/templates (issue 19): what an agent may send after the reply window.
http::Response templates(Context& ctx, const std::string& ws, const std::string& id) {
  std::optional<store::Integration> integ;
  {
    auto conn = ctx.pool.acquire();
    pqxx::read_transaction tx(*conn);
    integ = store::find_integration(tx, id);
  }
  auto found = channel_templates(ctx, ws, integ);
  if (auto* refused = std::get_if<http::Response>(&found)) return std::move(*refused);
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_put(w, "templates");
  w.StartArray();
  for (const auto& t : std::get<std::vector<providers::MessageTemplate>>(found)) {
    w.StartObject();
    core::json_kv(w, "id", t.id);
    core::json_kv(w, "name", t.name);
    core::json_kv(w, "language", t.language);
    core::json_kv(w, "category", t.category);
    core::json_kv(w, "text", t.text);
    core::json_put(w, "variables");
    w.StartArray();
    for (const auto& v : t.variables) core::json_put(w, v);
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return http::json_ok(200, sb.GetString());
}
}  // namespace

void add_channel_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const store::Principal&;
  add(r, ctx, "GET", "/api/v1/channels", Access::kAgent, [&ctx](Q, P p) { return list(ctx, p.workspace_id); });
  add(r, ctx, "POST", "/api/v1/channels", Access::kAdmin, [&ctx](Q q, P p) { return create(ctx, q, p.workspace_id); });
  add(r, ctx, "GET", "/api/v1/channels/:id/templates", Access::kAgent,
      [&ctx](Q q, P p) { return templates(ctx, p.workspace_id, q.params.at("id")); });
  add(r, ctx, "DELETE", "/api/v1/channels/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return remove(ctx, p.workspace_id, q.params.at("id")); });
}

}  // namespace loket::api
