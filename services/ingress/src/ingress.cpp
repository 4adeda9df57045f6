#include "ingress.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/events/events.hpp"
#include "loket/http/envelope.hpp"
#include "loket/providers/telegram/telegram.hpp"

namespace loket::ingress {
namespace tg = providers::telegram;

Ingress::Ingress(store::Pool& pool, kafka::Producer& producer, Options options)
    : pool_(pool), producer_(producer), options_(options) {}

std::optional<Ingress::Route> Ingress::route(const std::string& id, bool refresh) {
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(id);
    if (it != cache_.end() && now - it->second.fetched < options_.cache_ttl &&
        !(refresh && now - it->second.fetched > std::chrono::seconds(1)))
      return it->second.status.empty() ? std::nullopt : std::optional(it->second);
  }
  auto conn = pool_.acquire();
  pqxx::read_transaction tx(*conn);
  auto integ = store::find_integration(tx, id);
  Route r;
  r.fetched = now;
  if (integ && integ->status != "disconnected") {
    r.workspace_id = integ->workspace_id;
    r.provider = integ->provider;
    r.status = integ->status;
    r.secret_hash = integ->webhook_secret_hash;
  }
  std::lock_guard lock(mu_);
  if (cache_.size() > 100000) cache_.clear();
  cache_[id] = r;  // negative entries (empty status) are cached too
  return r.status.empty() ? std::nullopt : std::optional(r);
}

http::Response Ingress::handle(const http::Request& req) {
  static const std::string kTelegram = "/api/v1/webhooks/telegram/";
  if (req.path == "/healthz") return http::json_ok(200, "{\"status\":\"ok\"}");
  if (req.path.rfind(kTelegram, 0) == 0 && req.path.size() > kTelegram.size()) {
    if (req.method != "POST") return http::json_error(405, "METHOD_NOT_ALLOWED", "use POST");
    return telegram(req, req.path.substr(kTelegram.size()));
  }
  return http::json_error(404, "NOT_FOUND", "no webhook endpoint at " + req.path);
}

http::Response Ingress::telegram(const http::Request& req, const std::string& integration_id) {
  auto r = route(integration_id, false);
  if (!r || r->provider != "telegram_bot") {
    ++counters_.not_found;
    core::log(core::Level::kInfo, "webhook for unknown integration",
              {{"provider", "telegram"}, {"integrationId", integration_id}});
    return http::json_error(404, "NOT_FOUND", "unknown integration");
  }
  std::string given = crypto::sha256(req.header(tg::kSecretHeader));
  bool ok = !req.header(tg::kSecretHeader).empty() && crypto::constant_time_equal(given, r->secret_hash);
  if (!ok && !req.header(tg::kSecretHeader).empty()) {
    r = route(integration_id, true);  // the secret may have been rotated by a reconnect
    ok = r && crypto::constant_time_equal(given, r->secret_hash);
  }
  if (!ok) {
    ++counters_.unauthorized;
    core::log(core::Level::kWarn, "webhook rejected: bad secret token",
              {{"provider", "telegram"}, {"integrationId", integration_id}, {"remote", req.remote_address}});
    return http::json_error(401, "UNAUTHORIZED", "missing or wrong X-Telegram-Bot-Api-Secret-Token");
  }
  auto chat = tg::chat_id_of(req.body);
  if (!chat) {
    ++counters_.malformed;
    core::log(core::Level::kWarn, "webhook rejected: body is not a JSON object",
              {{"provider", "telegram"}, {"integrationId", integration_id}});
    return http::json_error(400, "VALIDATION_ERROR", "body must be a Telegram Update (JSON object)");
  }
  return publish("telegram", *r, integration_id, *chat, req);
}

http::Response Ingress::publish(const std::string& provider, const Route& r,
                                const std::string& integration_id, const std::string& thread,
                                const http::Request& req) {
  events::RawWebhook raw;
  raw.event_id = core::new_id("evt");
  raw.provider = provider;
  raw.integration_id = integration_id;
  raw.workspace_id = r.workspace_id;
  raw.received_at_ms = core::now_ms();
  raw.content_type = req.header("content-type");
  for (const char* h : {"user-agent", "x-forwarded-for"})
    if (auto v = req.header(h); !v.empty()) raw.headers[h] = v;
  auto q = req.target.find('?');
  if (q != std::string::npos) raw.query = req.target.substr(q + 1);
  raw.body = req.body;
  std::string err = producer_.produce_sync(kafka::kWebhookTopicPrefix + provider,
                                           events::thread_key(integration_id, thread),
                                           events::to_json(raw), options_.ack_timeout);
  if (!err.empty()) {
    ++counters_.broker_unavailable;
    core::log(core::Level::kError, "webhook not acknowledged by the broker; answering 503",
              {{"provider", provider}, {"integrationId", integration_id}, {"error", err}});
    auto res = http::json_error(503, "UNAVAILABLE", "could not store the webhook; retry later");
    res.headers.emplace_back("Retry-After", "1");
    return res;
  }
  ++counters_.accepted;
  return http::json_ok(200, "{\"accepted\":true,\"eventId\":\"" + raw.event_id + "\"}");
}

}  // namespace loket::ingress
