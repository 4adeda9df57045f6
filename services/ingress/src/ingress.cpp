#include "ingress.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/events/events.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/url.hpp"
#include "loket/ops/metrics.hpp"
#include "loket/providers/telegram/telegram.hpp"
#include "loket/providers/twilio/twilio.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"

namespace loket::ingress {
namespace tg = providers::telegram;
namespace tw = providers::twilio;
namespace wc = providers::whatsapp_cloud;

namespace {
constexpr const char* kTelegramPath = "/api/v1/webhooks/telegram/";
constexpr const char* kTwilioPath = "/api/v1/webhooks/twilio/whatsapp";
constexpr const char* kCloudPath = "/api/v1/webhooks/whatsapp-cloud";

std::string first_value(const std::multimap<std::string, std::string>& m, const std::string& k) {
  auto it = m.find(k);
  return it == m.end() ? std::string() : it->second;
}

std::string query_of(const http::Request& req) {
  auto q = req.target.find('?');
  return q == std::string::npos ? std::string() : req.target.substr(q + 1);
}

// The query string without the webhook secret and verify token: secrets never go to Kafka.
std::string scrubbed_query(const http::Request& req) {
  std::vector<std::pair<std::string, std::string>> kept;
  for (auto& [k, v] : http::parse_query(query_of(req)))
    if (k != "secret" && k != "hub.verify_token") kept.emplace_back(k, v);
  return http::build_query(kept);
}

// The process registry with this service's families described (on first use).
ops::Registry& registry() {
  static ops::Registry& r = [&]() -> ops::Registry& {
    auto& m = ops::metrics();
    m.describe("loket_webhooks_total", ops::Registry::Type::kCounter,
               "Provider webhooks by provider and outcome (accepted, malformed, unauthorized, forbidden, "
               "unknown_integration, broker_unavailable, verified).");
    m.describe("loket_webhook_publish_seconds", ops::Registry::Type::kHistogram,
               "Time for the broker to acknowledge a published webhook.");
    m.describe("loket_http_request_duration_seconds", ops::Registry::Type::kHistogram,
               "HTTP request latency by route, method and status class.");
    return m;
  }();
  return r;
}

bool secret_matches(const std::string& given, const std::string& stored_hash) {
  return !given.empty() && !stored_hash.empty() && crypto::constant_time_equal(crypto::sha256(given), stored_hash);
}
}  // namespace

Ingress::Ingress(store::Pool& pool, kafka::Producer& producer, const crypto::Keyring& keys, Options options)
    : pool_(pool), producer_(producer), keys_(keys), options_(std::move(options)) {
  while (!options_.public_base_url.empty() && options_.public_base_url.back() == '/')
    options_.public_base_url.pop_back();
}

std::optional<Ingress::Route> Ingress::route(By by, const std::string& provider, const std::string& key,
                                             bool refresh) {
  auto now = std::chrono::steady_clock::now();
  std::string cache_key = std::to_string(static_cast<int>(by)) + provider + ":" +
                          (by == By::kSecret ? core::to_hex(key) : key);
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(cache_key);
    if (it != cache_.end() && now - it->second.fetched < options_.cache_ttl &&
        !(refresh && now - it->second.fetched > std::chrono::seconds(1)))
      return it->second.integration_id.empty() ? std::nullopt : std::optional(it->second);
  }
  std::optional<store::Integration> integ;
  {
    auto conn = pool_.acquire();
    pqxx::read_transaction tx(*conn);
    if (by == By::kId) integ = store::find_integration(tx, key);
    else if (by == By::kRoutingKey) integ = store::find_live_integration(tx, provider, key);
    else integ = store::find_integration_by_secret(tx, provider, key);
  }
  Route r;
  r.fetched = now;
  if (integ && integ->provider == provider && integ->status != "disconnected") {
    r.integration_id = integ->id;
    r.workspace_id = integ->workspace_id;
    r.provider = integ->provider;
    r.secret_hash = integ->webhook_secret_hash;
    try {
      if (provider == tw::kIntegration && !integ->credentials.empty())
        r.signing_key = tw::credentials_from_json(keys_.decrypt(integ->credentials, integ->credentials_key_id, integ->id)).auth_token;
      else if (provider == wc::kProvider && !integ->credentials.empty())
        r.signing_key = wc::credentials_from_json(keys_.decrypt(integ->credentials, integ->credentials_key_id, integ->id)).app_secret;
    } catch (const std::exception& e) {
      core::log(core::Level::kError, "cannot decrypt integration credentials; its webhooks will be refused",
                {{"integrationId", integ->id}, {"error", e.what()}});
    }
  }
  std::lock_guard lock(mu_);
  if (cache_.size() > 100000) cache_.clear();
  cache_[cache_key] = r;  // negative entries (no integration id) are cached too
  return r.integration_id.empty() ? std::nullopt : std::optional(r);
}

http::Response Ingress::handle(const http::Request& req) {
  auto start = std::chrono::steady_clock::now();
  core::LogScope in_request("requestId", core::new_id("req"));
  std::string route = "other";
  auto res = dispatch(req, route);
  registry().observe_since("loket_http_request_duration_seconds",
                           {{"route", route}, {"method", req.method}, {"status", std::to_string(res.status / 100) + "xx"}},
                           start);
  return res;
}

http::Response Ingress::dispatch(const http::Request& req, std::string& route) {
  static const std::string telegram_path = kTelegramPath;
  if (req.path == "/healthz") {
    route = "/healthz";
    return http::json_ok(200, "{\"status\":\"ok\"}");
  }
  if (req.path.rfind(telegram_path, 0) == 0 && req.path.size() > telegram_path.size()) {
    route = telegram_path + ":id";
    if (req.method != "POST") return http::json_error(405, "METHOD_NOT_ALLOWED", "use POST");
    return telegram(req, req.path.substr(telegram_path.size()));
  }
  if (req.path == kTwilioPath || req.path == kCloudPath) route = req.path;
  if (req.path == kTwilioPath) {
    if (req.method != "POST") return http::json_error(405, "METHOD_NOT_ALLOWED", "use POST (Twilio: Webhook, HTTP POST)");
    return twilio(req);
  }
  if (req.path == kCloudPath) {
    if (req.method == "GET") return cloud_handshake(req);
    if (req.method == "POST") return cloud(req);
    return http::json_error(405, "METHOD_NOT_ALLOWED", "use GET (verification) or POST (notifications)");
  }
  return http::json_error(404, "NOT_FOUND", "no webhook endpoint at " + req.path);
}

http::Response Ingress::reject(int status, const std::string& why, const std::string& provider,
                               const http::Request& req) {
  static const std::map<int, std::string> kOutcomes = {
      {400, "malformed"}, {401, "unauthorized"}, {403, "forbidden"}, {404, "unknown_integration"}};
  registry().add("loket_webhooks_total", {{"provider", provider}, {"outcome", kOutcomes.at(status)}});
  core::log(status == 400 || status == 404 ? core::Level::kInfo : core::Level::kWarn, "webhook rejected",
            {{"provider", provider}, {"status", std::to_string(status)}, {"reason", why},
             {"remote", req.remote_address}});
  static const std::map<int, std::string> kCodes = {
      {400, "VALIDATION_ERROR"}, {401, "UNAUTHORIZED"}, {403, "FORBIDDEN"}, {404, "NOT_FOUND"}};
  return http::json_error(status, kCodes.at(status), why);
}

http::Response Ingress::telegram(const http::Request& req, const std::string& integration_id) {
  auto r = route(By::kId, "telegram_bot", integration_id, false);
  if (!r) return reject(404, "unknown integration", "telegram", req);
  const std::string given = req.header(tg::kSecretHeader);
  if (!secret_matches(given, r->secret_hash) && !given.empty())
    r = route(By::kId, "telegram_bot", integration_id, true);  // the secret may have been rotated
  if (!r || !secret_matches(given, r->secret_hash))
    return reject(401, "missing or wrong X-Telegram-Bot-Api-Secret-Token", "telegram", req);
  auto chat = tg::chat_id_of(req.body);
  if (!chat) return reject(400, "body must be a Telegram Update (JSON object)", "telegram", req);
  std::string event_id;
  return published("telegram", publish("telegram", *r, *chat, "", req, event_id), event_id);
}

http::Response Ingress::twilio(const http::Request& req) {
  auto params = http::parse_query(req.body);
  // Inbound messages are addressed To our number; status callbacks of our replies come From it.
  const bool status_callback = params.count("MessageStatus") > 0 && params.count("Body") == 0;
  std::string to = tw::whatsapp_number(first_value(params, status_callback ? "From" : "To"));
  std::string customer = tw::whatsapp_number(first_value(params, status_callback ? "To" : "From"));
  if (to.empty() || first_value(params, "MessageSid").empty())
    return reject(400, "expected a Twilio WhatsApp message webhook (form fields MessageSid, From, To=whatsapp:+…)",
                  "twilio", req);
  auto r = route(By::kRoutingKey, tw::kIntegration, to, false);
  if (!r) return reject(404, "no workspace has connected " + to, "twilio", req);
  const std::string secret = first_value(http::parse_query(query_of(req)), "secret");
  const std::string url = options_.public_base_url + req.target;
  const std::string signature = req.header(tw::kSignatureHeader);
  auto authentic = [&](const Route& x) {
    return secret_matches(secret, x.secret_hash) && tw::valid_signature(x.signing_key, url, params, signature);
  };
  bool ok = authentic(*r);
  if (!ok && (r = route(By::kRoutingKey, tw::kIntegration, to, true))) ok = authentic(*r);  // rotated token
  if (!ok)
    return reject(403, "webhook secret or X-Twilio-Signature does not match this number's integration",
                  "twilio", req);
  std::string event_id;
  auto err = publish("twilio", *r, customer, "", req, event_id);
  if (!err.empty()) return published("twilio", err, event_id);
  // Twilio expects TwiML; an empty <Response/> acknowledges without an automatic reply.
  http::Response res;
  res.content_type = "text/xml";
  res.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";
  return res;
}

http::Response Ingress::cloud_handshake(const http::Request& req) {
  auto q = http::parse_query(query_of(req));
  std::string mode = first_value(q, "hub.mode"), challenge = first_value(q, "hub.challenge"),
              token = first_value(q, "hub.verify_token");
  if (mode != "subscribe" || challenge.empty() || challenge.size() > 256 ||
      challenge.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") !=
          std::string::npos)
    return reject(400, "expected hub.mode=subscribe with a hub.challenge", "whatsapp_cloud", req);
  // An empty token never matches: secret_matches() refuses it before any lookup.
  auto r = token.empty() ? std::nullopt : route(By::kSecret, wc::kProvider, crypto::sha256(token), true);
  if (!r) return reject(403, "hub.verify_token matches no connected integration", "whatsapp_cloud", req);
  registry().add("loket_webhooks_total", {{"provider", "whatsapp_cloud"}, {"outcome", "verified"}});
  core::log(core::Level::kInfo, "Meta webhook verification passed", {{"integrationId", r->integration_id}});
  http::Response res;
  res.content_type = "text/plain";
  res.body = challenge;
  return res;
}

http::Response Ingress::cloud(const http::Request& req) {
  auto ids = wc::phone_number_ids(req.body);
  if (!ids || ids->empty())
    return reject(400, "expected a WhatsApp Business Account notification with metadata.phone_number_id",
                  "whatsapp_cloud", req);
  const std::string signature = req.header(wc::kSignatureHeader);
  std::vector<std::pair<Route, std::string>> targets;  // route, phone_number_id
  for (const auto& id : *ids) {
    auto r = route(By::kRoutingKey, wc::kProvider, id, false);
    if (!r) continue;
    if (!r->signing_key.empty() && !wc::valid_signature(r->signing_key, req.body, signature)) {
      r = route(By::kRoutingKey, wc::kProvider, id, true);  // the app secret may have changed
      if (r && !r->signing_key.empty() && !wc::valid_signature(r->signing_key, req.body, signature))
        return reject(403, "X-Hub-Signature-256 does not match the app secret of phone_number_id " + id,
                      "whatsapp_cloud", req);
      if (!r) continue;
    }
    targets.emplace_back(*r, id);
  }
  if (targets.empty())
    return reject(404, "no workspace has connected phone_number_id " + ids->front(), "whatsapp_cloud", req);
  std::string err, event_id;
  for (const auto& [r, id] : targets) {
    err = publish("whatsapp_cloud", r, wc::first_sender(req.body, id), id, req, event_id);
    if (!err.empty()) break;  // Meta redelivers the whole notification; replays are deduplicated
  }
  return published("whatsapp_cloud", err, event_id);
}

std::string Ingress::publish(const std::string& provider, const Route& r, const std::string& thread,
                             const std::string& routing_key, const http::Request& req, std::string& event_id) {
  events::RawWebhook raw;
  raw.event_id = event_id = core::new_id("evt");
  raw.provider = provider;
  raw.integration_id = r.integration_id;
  raw.workspace_id = r.workspace_id;
  raw.routing_key = routing_key;
  raw.received_at_ms = core::now_ms();
  raw.content_type = req.header("content-type");
  for (const char* h : {"user-agent", "x-forwarded-for"})
    if (auto v = req.header(h); !v.empty()) raw.headers[h] = v;
  raw.query = scrubbed_query(req);
  raw.body = req.body;
  auto start = std::chrono::steady_clock::now();
  auto err = producer_.produce_sync(kafka::kWebhookTopicPrefix + provider, events::thread_key(r.integration_id, thread),
                                    events::to_json(raw), options_.ack_timeout);
  registry().observe_since("loket_webhook_publish_seconds", {{"provider", provider}}, start);
  return err;
}

http::Response Ingress::published(const std::string& provider, const std::string& err, const std::string& event_id) {
  if (!err.empty()) {
    registry().add("loket_webhooks_total", {{"provider", provider}, {"outcome", "broker_unavailable"}});
    core::log(core::Level::kError, "webhook not acknowledged by the broker; answering 503",
              {{"provider", provider}, {"error", err}});
    auto res = http::json_error(503, "UNAVAILABLE", "could not store the webhook; retry later");
    res.headers.emplace_back("Retry-After", "1");
    return res;
  }
  registry().add("loket_webhooks_total", {{"provider", provider}, {"outcome", "accepted"}});
  return http::json_ok(200, "{\"accepted\":true,\"eventId\":\"" + event_id + "\"}");
}

}  // namespace loket::ingress
