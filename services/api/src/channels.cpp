// /api/v1/channels: connect, list and disconnect integrations (seed 000 "Managing integrations").
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/telegram/telegram.hpp"
#include "api.hpp"

namespace loket::api {
namespace tg = providers::telegram;

namespace {
http::Response connect_telegram(Context& ctx, const std::string& ws, const std::string& token) {
  std::string bot_id = tg::bot_id_from_token(token);
  if (bot_id.empty())
    return http::json_error(400, "VALIDATION_ERROR",
                            "botToken must look like 123456789:AA… (the token @BotFather gave you)");
  tg::Client client(ctx.options.telegram_api_base);
  tg::BotInfo bot;
  try {
    bot = client.get_me(token);
  } catch (const providers::ProviderError& e) {
    if (e.retryable())
      return http::json_error(502, "PROVIDER_UNAVAILABLE",
                              std::string("could not reach Telegram to validate the token: ") + e.what());
    return http::json_error(400, "PROVIDER_REJECTED",
                            std::string("Telegram rejected the bot token: ") + e.what());
  }
  std::string secret = core::base64url(core::random_bytes(32));
  pqxx::binarystring secret_hash(crypto::sha256(secret));
  std::string display = bot.username.empty() ? bot.first_name : "@" + bot.username;
  std::string id;
  bool refreshed = false;
  try {
    auto conflict = store::with_tx(ctx.pool, [&](pqxx::work& tx) -> bool {
      auto r = tx.exec_params(
          "SELECT id, workspace_id FROM integrations WHERE provider = 'telegram_bot' AND "
          "routing_key = $1 AND status <> 'disconnected' FOR UPDATE",
          bot_id);
      if (!r.empty() && r[0][1].as<std::string>() != ws) return true;
      refreshed = !r.empty();
      id = refreshed ? r[0][0].as<std::string>() : core::new_id("int");
      pqxx::binarystring creds(ctx.keys.encrypt(token, id));
      if (refreshed)
        tx.exec_params0(
            "UPDATE integrations SET credentials = $2, credentials_key_id = $3, display_name = $4, "
            "webhook_secret_hash = $5, status = 'pending', last_error = NULL, updated_at = now() "
            "WHERE id = $1",
            id, creds, ctx.keys.active_key_id(), display, secret_hash);
      else
        tx.exec_params0(
            "INSERT INTO integrations (id, workspace_id, provider, status, display_name, routing_key, "
            "credentials, credentials_key_id, webhook_secret_hash) "
            "VALUES ($1, $2, 'telegram_bot', 'pending', $3, $4, $5, $6, $7)",
            id, ws, display, bot_id, creds, ctx.keys.active_key_id(), secret_hash);
      return false;
    });
    if (conflict)
      return http::json_error(409, "CONFLICT", "this Telegram bot is connected to another workspace");
  } catch (const pqxx::unique_violation&) {
    return http::json_error(409, "CONFLICT", "this Telegram bot is being connected concurrently");
  }
  std::string status = "active", last_error;
  try {
    client.set_webhook(token, ctx.options.public_webhook_url + "/api/v1/webhooks/telegram/" + id, secret);
  } catch (const providers::ProviderError& e) {
    status = "error";
    last_error = std::string("setWebhook failed: ") + e.what();
  }
  store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    tx.exec_params0(
        "UPDATE integrations SET status = $2, last_error = nullif($3, ''), updated_at = now() WHERE id = $1",
        id, status, last_error);
  });
  core::log(core::Level::kInfo, "telegram bot connected",
            {{"workspaceId", ws}, {"integrationId", id}, {"status", status}});
  if (status == "error")
    return http::json_error(400, "PROVIDER_REJECTED", last_error + " — connect again to retry");
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(refreshed ? 200 : 201, store::integration_json(*store::find_integration(tx, id)));
}

http::Response create(Context& ctx, const http::Request& req, const std::string& ws) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  auto provider = core::json_string(d, "provider").value_or("");
  if (provider == "telegram_bot") {
    auto token = core::json_string(d, "botToken").value_or("");
    if (token.empty()) return http::json_error(400, "VALIDATION_ERROR", "botToken is required");
    return connect_telegram(ctx, ws, token);
  }
  if (provider.empty()) return http::json_error(400, "VALIDATION_ERROR", "provider is required");
  return http::json_error(400, "VALIDATION_ERROR", "provider '" + provider + "' is not supported yet");
}

http::Response list(Context& ctx, const std::string& ws) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto r = tx.exec_params(
      "SELECT id FROM integrations WHERE workspace_id = $1 AND status <> 'disconnected' ORDER BY created_at",
      ws);
  std::string out = "{\"integrations\":[";
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (i) out += ",";
    out += store::integration_json(*store::find_integration(tx, r[i][0].as<std::string>()));
  }
  out += "],\"platformChannels\":[{\"channel\":\"manual\",\"status\":\"live\"},"
         "{\"channel\":\"api\",\"status\":\"live\"}]}";
  return http::json_ok(200, out);
}

http::Response remove(Context& ctx, const std::string& ws, const std::string& id) {
  std::optional<store::Integration> integ;
  {
    auto conn = ctx.pool.acquire();
    pqxx::read_transaction tx(*conn);
    integ = store::find_integration(tx, id);
  }
  if (!integ || integ->workspace_id != ws || integ->status == "disconnected")
    return http::json_error(404, "NOT_FOUND", "no such integration");
  if (integ->provider == "telegram_bot" && !integ->credentials.empty()) {
    try {
      tg::Client(ctx.options.telegram_api_base)
          .delete_webhook(ctx.keys.decrypt(integ->credentials, integ->credentials_key_id, integ->id));
    } catch (const std::exception& e) {
      core::log(core::Level::kWarn, "deleteWebhook failed; disconnecting anyway",
                {{"integrationId", id}, {"error", e.what()}});
    }
  }
  store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    tx.exec_params0(
        "UPDATE integrations SET status = 'disconnected', credentials = NULL, "
        "webhook_secret_hash = NULL, updated_at = now() WHERE id = $1",
        id);
  });
  integ->status = "disconnected";
  return http::json_ok(200, store::integration_json(*integ));
}
}  // namespace

void add_channel_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const store::Principal&;
  add(r, ctx, "GET", "/api/v1/channels", Access::kAgent, [&ctx](Q, P p) { return list(ctx, p.workspace_id); });
  add(r, ctx, "POST", "/api/v1/channels", Access::kAdmin,
      [&ctx](Q q, P p) { return create(ctx, q, p.workspace_id); });
  add(r, ctx, "DELETE", "/api/v1/channels/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return remove(ctx, p.workspace_id, q.params.at("id")); });
}

}  // namespace loket::api
