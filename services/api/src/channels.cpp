// /api/v1/channels: connect, list and disconnect integrations (seed 000 "Managing
// integrations", "WhatsApp via your own Twilio", "WhatsApp Cloud API — Meta direct").
#include <functional>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/resend/resend.hpp"
#include "loket/providers/telegram/telegram.hpp"
#include "loket/providers/twilio/twilio.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"
#include "api.hpp"

namespace loket::api {
namespace tg = providers::telegram;
namespace tw = providers::twilio;
namespace wc = providers::whatsapp_cloud;

namespace {
http::Response bad(const std::string& msg) { return http::json_error(400, "VALIDATION_ERROR", msg); }

// The answer to a provider that refused or could not be reached while validating.
http::Response provider_failure(const std::string& provider, const providers::ProviderError& e) {
  if (e.retryable())
    return http::json_error(502, "PROVIDER_UNAVAILABLE",
                            "could not reach " + provider + " to validate the credentials: " + e.what());
  return http::json_error(400, "PROVIDER_REJECTED", provider + " rejected the credentials: " + e.what());
}

/// An integration to store: its identity and how to build its encrypted credentials.
struct Connection {
  std::string provider, routing_key, display_name;
  std::string number;  ///< E.164 for WhatsApp: one workspace per number, across providers
  std::string status = "active";
  /// Builds {credentials plaintext, webhook secret hash} from the previous plaintext ("" for a
  /// new integration), so a reconnect can keep the webhook secret or verify token.
  std::function<std::pair<std::string, std::string>(const std::string& previous)> secrets;
};

struct Saved {
  std::string id;
  bool refreshed = false;
  std::string conflict;  ///< why another workspace owns this identity, "" when none
};

// Inserts or refreshes (in place) the integration, in one transaction serialized per identity.
Saved save(Context& ctx, const std::string& ws, const Connection& c) {
  Saved out;
  try {
    store::with_tx(ctx.pool, [&](pqxx::work& tx) {
      out = Saved{};
      tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "integration:" + c.provider + ":" + c.routing_key);
      if (!c.number.empty()) {
        tx.exec_params("SELECT pg_advisory_xact_lock(hashtext($1))", "number:" + c.number);
        if (!tx.exec_params("SELECT 1 FROM integrations WHERE number = $1 AND status <> 'disconnected' AND "
                            "workspace_id <> $2",
                            c.number, ws)
                 .empty()) {
          out.conflict = c.number + " is connected to another workspace";
          return;
        }
      }
      auto existing = store::find_live_integration(tx, c.provider, c.routing_key);
      if (existing && existing->workspace_id != ws) {
        out.conflict = "this " + c.provider + " identity is connected to another workspace";
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
      auto [plain, secret_hash] = c.secrets(previous);
      pqxx::binarystring creds(ctx.keys.encrypt(plain, out.id)), hash(secret_hash);
      if (existing)
        tx.exec_params0(
            "UPDATE integrations SET credentials = $2, credentials_key_id = $3, display_name = $4, "
            "webhook_secret_hash = $5, status = $6, number = nullif($7, ''), last_error = NULL, "
            "connected_at = now(), updated_at = now() WHERE id = $1",
            out.id, creds, ctx.keys.active_key_id(), c.display_name, hash, c.status, c.number);
      else
        tx.exec_params0(
            "INSERT INTO integrations (id, workspace_id, provider, status, display_name, routing_key, "
            "credentials, credentials_key_id, webhook_secret_hash, number) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nullif($10, ''))",
            out.id, ws, c.provider, c.status, c.display_name, c.routing_key, creds, ctx.keys.active_key_id(), hash,
            c.number);
    });
  } catch (const pqxx::unique_violation&) {
    out.conflict = "this " + c.provider + " identity is being connected concurrently; try again";
  }
  return out;
}

// The integration's JSON with `extra` members (`"k":v,…`) appended.
http::Response saved_response(Context& ctx, const Saved& s, const std::string& extra = "") {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  std::string json = store::integration_json(*store::find_integration(tx, s.id));
  if (!extra.empty()) json = json.substr(0, json.size() - 1) + "," + extra + "}";
  return http::json_ok(s.refreshed ? 200 : 201, json);
}

std::string kv(const char* key, const std::string& value) {
  return "\"" + std::string(key) + "\":\"" + core::json_escape(value) + "\"";
}

http::Response connect_telegram(Context& ctx, const std::string& ws, const rapidjson::Document& d) {
  auto token = core::json_string(d, "botToken").value_or("");
  if (token.empty()) return bad("botToken is required");
  std::string bot_id = tg::bot_id_from_token(token);
  if (bot_id.empty()) return bad("botToken must look like 123456789:AA… (the token @BotFather gave you)");
  tg::Client client(ctx.options.endpoints.telegram);
  tg::BotInfo bot;
  try {
    bot = client.get_me(token);
  } catch (const providers::ProviderError& e) {
    return provider_failure("Telegram", e);
  }
  std::string secret = core::base64url(core::random_bytes(32));
  Connection c{"telegram_bot", bot_id, bot.username.empty() ? bot.first_name : "@" + bot.username, "", "pending",
               [&](const std::string&) { return std::pair{token, crypto::sha256(secret)}; }};
  auto s = save(ctx, ws, c);
  if (!s.conflict.empty()) return http::json_error(409, "CONFLICT", "this Telegram bot is connected to another workspace");
  std::string status = "active", last_error;
  try {
    client.set_webhook(token, ctx.options.public_webhook_url + "/api/v1/webhooks/telegram/" + s.id, secret);
  } catch (const providers::ProviderError& e) {
    status = "error";
    last_error = std::string("setWebhook failed: ") + e.what();
  }
  store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    tx.exec_params0("UPDATE integrations SET status = $2, last_error = nullif($3, ''), updated_at = now() WHERE id = $1",
                    s.id, status, last_error);
  });
  core::log(core::Level::kInfo, "telegram bot connected", {{"workspaceId", ws}, {"integrationId", s.id}, {"status", status}});
  if (status == "error") return http::json_error(400, "PROVIDER_REJECTED", last_error + " — connect again to retry");
  return saved_response(ctx, s);
}

http::Response connect_twilio(Context& ctx, const std::string& ws, const rapidjson::Document& d) {
  tw::Credentials creds;
  creds.account_sid = core::trim(core::json_string(d, "accountSid").value_or(""));
  creds.auth_token = core::trim(core::json_string(d, "authToken").value_or(""));
  std::string number = core::trim(core::json_string(d, "whatsappNumber").value_or(""));
  if (number.rfind("whatsapp:", 0) == 0) number.erase(0, 9);
  if (!tw::is_account_sid(creds.account_sid))
    return bad("accountSid must be your Twilio Account SID: AC followed by 32 hex characters");
  if (creds.auth_token.empty()) return bad("authToken is required");
  if (!core::is_e164(number)) return bad("whatsappNumber must be in E.164 form, e.g. +6281234567890");
  try {
    auto account = tw::Client(ctx.options.endpoints.twilio).fetch_account(creds);
    if (account.status == "suspended" || account.status == "closed")
      return http::json_error(400, "PROVIDER_REJECTED", "the Twilio account is " + account.status);
  } catch (const providers::ProviderError& e) {
    return provider_failure("Twilio", e);
  }
  std::string secret;
  Connection c{tw::kIntegration, number, "WhatsApp " + number, number, "active", [&](const std::string& previous) {
                 try {  // keep the webhook URL the user already pasted into Twilio
                   secret = previous.empty() ? "" : tw::credentials_from_json(previous).webhook_secret;
                 } catch (const std::invalid_argument&) {
                 }
                 if (secret.empty()) secret = core::base64url(core::random_bytes(24));
                 creds.webhook_secret = secret;
                 return std::pair{tw::to_json(creds), crypto::sha256(secret)};
               }};
  auto s = save(ctx, ws, c);
  if (!s.conflict.empty()) return http::json_error(409, "CONFLICT", s.conflict);
  core::log(core::Level::kInfo, "twilio whatsapp number connected",
            {{"workspaceId", ws}, {"integrationId", s.id}, {"refreshed", s.refreshed ? "true" : "false"}});
  return saved_response(
      ctx, s,
      kv("webhookUrl", ctx.options.public_webhook_url + "/api/v1/webhooks/twilio/whatsapp?secret=" + secret) + "," +
          kv("note", "Point your Twilio number's incoming-message webhook at webhookUrl (POST)."));
}

http::Response connect_cloud(Context& ctx, const std::string& ws, const rapidjson::Document& d) {
  wc::Credentials creds;
  creds.access_token = core::trim(core::json_string(d, "accessToken").value_or(""));
  creds.app_secret = core::trim(core::json_string(d, "appSecret").value_or(""));
  creds.waba_id = core::trim(core::json_string(d, "wabaId").value_or(""));
  std::string given_verify = core::trim(core::json_string(d, "verifyToken").value_or(""));
  std::string id = core::trim(core::json_string(d, "phoneNumberId").value_or(""));
  std::string number = core::trim(core::json_string(d, "displayNumber").value_or(""));
  if (creds.access_token.empty()) return bad("accessToken is required (a System User token with whatsapp_business_messaging)");
  if (id.empty() || id.size() > 32 || id.find_first_not_of("0123456789") != std::string::npos)
    return bad("phoneNumberId must be the numeric Phone number ID from WhatsApp → API Setup (not the phone number)");
  if (!core::is_e164(number)) return bad("displayNumber must be the number in E.164 form, e.g. +6281234567890");
  if (!given_verify.empty() && (given_verify.size() < 8 || given_verify.size() > 200))
    return bad("verifyToken must be 8 to 200 characters");
  try {
    wc::Client(ctx.options.endpoints).phone_number(creds.access_token, id);
  } catch (const providers::ProviderError& e) {
    return provider_failure("Meta (Graph API)", e);
  }
  Connection c{wc::kProvider, id, "WhatsApp " + number, number, "active", [&](const std::string& previous) {
                 creds.verify_token = given_verify;
                 try {  // keep the verify token Meta already has unless a new one is given
                   if (creds.verify_token.empty() && !previous.empty())
                     creds.verify_token = wc::credentials_from_json(previous).verify_token;
                 } catch (const std::invalid_argument&) {
                 }
                 if (creds.verify_token.empty()) creds.verify_token = "wsv_" + core::base64url(core::random_bytes(18));
                 return std::pair{wc::to_json(creds), crypto::sha256(creds.verify_token)};
               }};
  auto s = save(ctx, ws, c);
  if (!s.conflict.empty()) return http::json_error(409, "CONFLICT", s.conflict);
  core::log(core::Level::kInfo, "whatsapp cloud number connected",
            {{"workspaceId", ws}, {"integrationId", s.id}, {"signed", creds.app_secret.empty() ? "false" : "true"}});
  return saved_response(
      ctx, s,
      kv("webhookUrl", ctx.options.public_webhook_url + "/api/v1/webhooks/whatsapp-cloud") + "," +
          kv("verifyToken", creds.verify_token) + "," +
          kv("note", "Meta App dashboard → WhatsApp → Configuration → Webhook: set the Callback URL + Verify token "
                     "above, then subscribe to the \"messages\" field."));
}

http::Response connect_resend(Context& ctx, const std::string& ws, const rapidjson::Document& d) {
  namespace rs = providers::resend;
  rs::Credentials creds{core::trim(core::json_string(d, "apiKey").value_or("")),
                        core::to_lower(core::trim(core::json_string(d, "fromEmail").value_or(""))),
                        core::trim(core::json_string(d, "fromName").value_or(""))};
  if (creds.api_key.rfind("re_", 0) != 0) return bad("apiKey must be a Resend API key (re_…)");
  auto at = creds.from_email.find('@');
  if (at == std::string::npos || at == 0 || creds.from_email.find('.', at) == std::string::npos ||
      creds.from_email.find_first_of(" <>\"\r\n,;") != std::string::npos)
    return bad("fromEmail must be an address on a domain you verified with Resend, e.g. support@yourstore.com");
  if (core::utf8_length(creds.from_name) > 100) return bad("fromName must be at most 100 characters");
  try {
    rs::Client(ctx.options.endpoints.resend).validate_key(creds.api_key);
  } catch (const providers::ProviderError& e) {
    return provider_failure("Resend", e);
  }
  Connection c{rs::kIntegration, creds.from_email,
               creds.from_name.empty() ? creds.from_email : creds.from_name + " <" + creds.from_email + ">", "", "active",
               [&](const std::string&) { return std::pair{rs::to_json(creds), std::string()}; }};
  auto s = save(ctx, ws, c);
  if (!s.conflict.empty()) return http::json_error(409, "CONFLICT", "this from address is connected to another workspace");
  core::log(core::Level::kInfo, "resend connected", {{"workspaceId", ws}, {"integrationId", s.id}});
  return saved_response(ctx, s);
}

http::Response create(Context& ctx, const http::Request& req, const std::string& ws) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  auto provider = core::json_string(d, "provider").value_or("");
  if (provider == "telegram_bot") return connect_telegram(ctx, ws, d);
  if (provider == tw::kIntegration) return connect_twilio(ctx, ws, d);
  if (provider == wc::kProvider) return connect_cloud(ctx, ws, d);
  if (provider == providers::resend::kIntegration) return connect_resend(ctx, ws, d);
  if (provider.empty()) return bad("provider is required");
  return bad("provider '" + provider + "' is not supported yet");
}

http::Response list(Context& ctx, const std::string& ws) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto r = tx.exec_params(
      "SELECT id FROM integrations WHERE workspace_id = $1 AND status <> 'disconnected' ORDER BY created_at", ws);
  std::string out = "{\"integrations\":[";
  for (std::size_t i = 0; i < r.size(); ++i) {
    if (i) out += ",";
    out += store::integration_json(*store::find_integration(tx, r[i][0].as<std::string>()));
  }
  out += "],\"platformChannels\":[{\"channel\":\"manual\",\"status\":\"live\"},"
         "{\"channel\":\"api\",\"status\":\"live\"},{\"channel\":\"whatsapp_platform_number\",\"status\":\"pending\"}]}";
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
      tg::Client(ctx.options.endpoints.telegram)
          .delete_webhook(ctx.keys.decrypt(integ->credentials, integ->credentials_key_id, integ->id));
    } catch (const std::exception& e) {
      core::log(core::Level::kWarn, "deleteWebhook failed; disconnecting anyway", {{"integrationId", id}, {"error", e.what()}});
    }
  }
  store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    tx.exec_params0(
        "UPDATE integrations SET status = 'disconnected', credentials = NULL, webhook_secret_hash = NULL, "
        "updated_at = now() WHERE id = $1",
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
  add(r, ctx, "POST", "/api/v1/channels", Access::kAdmin, [&ctx](Q q, P p) { return create(ctx, q, p.workspace_id); });
  add(r, ctx, "DELETE", "/api/v1/channels/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return remove(ctx, p.workspace_id, q.params.at("id")); });
}

}  // namespace loket::api
