#include "ingress.hpp"

#include "loket/core/text.hpp"

#include <future>

#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/events/events.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/url.hpp"
#include "loket/ops/metrics.hpp"

namespace loket::ingress {
using providers::RouteBy;

namespace {
// The query string without the webhook secret and verify token: secrets never go to Kafka.
std::string scrubbed_query(const http::Request& req) {
  auto q = req.target.find('?');
  if (q == std::string::npos) return "";
  std::vector<std::pair<std::string, std::string>> kept;
  for (auto& [k, v] : http::parse_query(req.target.substr(q + 1)))
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
}  // namespace

Lookup database_lookup(store::Pool& pool) {
  return [&pool](RouteBy by, const std::string& provider, const std::string& key) {
    for (int attempt = 1;; ++attempt) {
      try {
        auto conn = pool.acquire();
        pqxx::read_transaction tx(*conn);
        if (by == RouteBy::kIntegrationId) return store::find_integration(tx, key);
        if (by == RouteBy::kRoutingKey) return store::find_live_integration(tx, provider, key);
        return store::find_integration_by_secret(tx, provider, key);
      } catch (const pqxx::broken_connection&) {
        // The first use after a database restart: the pool dropped its idle connections; a read
        // is safe to run again on a fresh one.
        if (attempt == 2) throw;
      }
    }
  };
}

Publish broker_publish(kafka::Producer& producer) {
  return [&producer](const std::string& topic, const std::string& key, const std::string& value,
                     std::function<void(const std::string&)> done) {
    producer.produce(topic, key, value, std::move(done));
  };
}

std::vector<std::pair<std::string, std::size_t>> body_limits(const providers::Registry& registry) {
  std::vector<std::pair<std::string, std::size_t>> out;
  for (const auto& a : registry.adapters())
    if (auto spec = a->webhook(); spec && spec->max_body_bytes > 0 && !spec->id_in_path)
      out.emplace_back(spec->path, spec->max_body_bytes);
  return out;
}

Ingress::Ingress(Lookup lookup, Publish publish, const crypto::Keyring& keys, const providers::Registry& providers,
                 Options options)
    : lookup_(std::move(lookup)),
      publish_(std::move(publish)),
      keys_(keys),
      options_(std::move(options)),
      providers_(providers),
      cache_(options_.cache_entries, options_.cache_bytes,
             [](const Route& r) {
               return r.integration_id.size() + r.workspace_id.size() + r.secrets.secret_hash.size() +
                      r.secrets.signing_key.size() + sizeof(Route);
             }),
      failures_(20000, 4u << 20, [](const Failures&) { return sizeof(Failures); }) {
  while (!options_.public_base_url.empty() && options_.public_base_url.back() == '/')
    options_.public_base_url.pop_back();
  for (const auto& a : providers.adapters())
    if (auto spec = a->webhook()) endpoints_.push_back({a.get(), *spec});
}

namespace {
// Whether `key` can name an integration at all: a secret's SHA-256, or 1–128 characters of ids,
// numbers and addresses. Anything else (a 1 MB "phone_number_id") is refused before any lookup
// or cache entry.
bool plausible_key(RouteBy by, const std::string& key) {
  if (by == RouteBy::kSecretHash) return key.size() == 32;
  return !key.empty() && key.size() <= 128 &&
         key.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.:+@-") ==
             std::string::npos;
}
}  // namespace

bool Ingress::over_failure_limit(const std::string& source) {
  std::lock_guard lock(mu_);
  const auto* f = failures_.find(source);
  return f && std::chrono::steady_clock::now() - f->window < std::chrono::minutes(1) &&
         f->count > options_.failures_per_minute;
}

std::optional<Ingress::Route> Ingress::route(const providers::Adapter& adapter, RouteBy by, const std::string& key,
                                             bool refresh, bool& throttled) {
  if (!plausible_key(by, key)) return std::nullopt;
  const std::string& provider = adapter.descriptor().name;
  auto now = std::chrono::steady_clock::now();
  std::string cache_key =
      std::to_string(static_cast<int>(by)) + provider + ":" + (by == RouteBy::kSecretHash ? core::to_hex(key) : key);
  {
    std::lock_guard lock(mu_);
    const Route* cached = cache_.find(cache_key);
    if (cached && now - cached->fetched < options_.cache_ttl &&
        !(refresh && now - cached->fetched > std::chrono::seconds(1)))
      return cached->integration_id.empty() ? std::nullopt : std::optional(*cached);
  }
  if (throttled) return std::nullopt;  // a source over its failure limit costs no lookup
  auto integ = lookup_(by, provider, key);
  Route r;
  r.fetched = now;
  if (integ && integ->provider == provider && integ->status != "disconnected") {
    r.integration_id = integ->id;
    r.workspace_id = integ->workspace_id;
    r.secrets.secret_hash = integ->webhook_secret_hash;
    try {
      if (!integ->credentials.empty())
        r.secrets.signing_key =
            adapter.signing_key(keys_.decrypt(integ->credentials, integ->credentials_key_id, integ->id));
    } catch (const std::exception& e) {  // fail closed: no signing key must not mean "unsigned is fine"
      r.unreadable = true;
      core::log(core::Level::kError, "cannot decrypt integration credentials; its webhooks will be refused",
                {{"integrationId", integ->id}, {"error", e.what()}});
    }
  }
  std::lock_guard lock(mu_);
  cache_.put(cache_key, r);  // negative entries (no integration id) are cached too
  return r.integration_id.empty() ? std::nullopt : std::optional(r);
}

void Ingress::handle_async(const http::Request& req, http::Respond respond) {
  auto start = std::chrono::steady_clock::now();
  core::LogScope in_request("requestId", core::new_id("req"));
  auto route = std::make_shared<std::string>("other");
  dispatch(req, *route, [route, method = req.method, start, respond = std::move(respond)](http::Response res) {
    registry().observe_since(
        "loket_http_request_duration_seconds",
        {{"route", *route}, {"method", method}, {"status", std::to_string(res.status / 100) + "xx"}}, start);
    respond(std::move(res));
  });
}

http::Response Ingress::handle(const http::Request& req) {
  auto answer = std::make_shared<std::promise<http::Response>>();
  auto got = answer->get_future();
  handle_async(req, [answer](http::Response res) { answer->set_value(std::move(res)); });
  return got.get();
}

void Ingress::dispatch(const http::Request& req, std::string& route, http::Respond respond) {
  if (req.path == "/healthz") {
    route = "/healthz";
    return respond(http::json_ok(200, "{\"status\":\"ok\"}"));
  }
  for (const auto& ep : endpoints_) {
    const auto& path = ep.spec.path;
    std::string path_id;
    if (ep.spec.id_in_path) {
      if (req.path.size() <= path.size() || req.path.compare(0, path.size(), path) != 0) continue;
      path_id = req.path.substr(path.size());
      route = path + ":id";
    } else {
      if (req.path != path) continue;
      route = path;
    }
    if (req.method == "POST") return receive(ep, req, path_id, std::move(respond));
    if (req.method == "GET" && ep.spec.handshake) return respond(handshake(ep, req));
    return respond(http::json_error(405, "METHOD_NOT_ALLOWED", ep.spec.method_hint));
  }
  respond(http::json_error(404, "NOT_FOUND", "no webhook endpoint at " + req.path));
}

http::Response Ingress::reject(int status, const std::string& why, const std::string& provider,
                               const http::Request& req) {
  static const std::map<int, std::string> kOutcomes = {
      {400, "malformed"}, {401, "unauthorized"}, {403, "forbidden"}, {404, "unknown_integration"}};
  static const std::map<int, std::string> kCodes = {
      {400, "VALIDATION_ERROR"}, {401, "UNAUTHORIZED"}, {403, "FORBIDDEN"}, {404, "NOT_FOUND"}};
  auto outcome = kOutcomes.find(status);
  auto code = kCodes.find(status);
  if (status == 401 || status == 403 || status == 404) {  // counted against the source
    std::lock_guard lock(mu_);
    auto now = std::chrono::steady_clock::now();
    Failures f;
    if (const auto* known = failures_.find(req.remote_address); known && now - known->window < std::chrono::minutes(1))
      f = *known;
    else
      f.window = now;
    ++f.count;
    failures_.put(req.remote_address, f);
  }
  registry().add("loket_webhooks_total",
                 {{"provider", provider}, {"outcome", outcome == kOutcomes.end() ? "refused" : outcome->second}});
  core::log(
      status == 400 || status == 404 ? core::Level::kInfo : core::Level::kWarn, "webhook rejected",
      {{"provider", provider}, {"status", std::to_string(status)}, {"reason", why}, {"remote", req.remote_address}});
  return http::json_error(status, code == kCodes.end() ? "VALIDATION_ERROR" : code->second, why);
}

void Ingress::receive(const Endpoint& ep, const http::Request& req, const std::string& path_id, http::Respond respond) {
  const auto& adapter = *ep.adapter;
  const std::string& provider = adapter.descriptor().webhook;
  std::vector<providers::WebhookTarget> targets;
  try {
    targets = adapter.route(req, path_id);
  } catch (const providers::Refusal& r) {
    return respond(reject(r.status(), r.what(), provider, req));
  }
  const std::string url = options_.public_base_url + req.target;
  std::vector<std::pair<Route, const providers::WebhookTarget*>> found;
  bool throttled = over_failure_limit(req.remote_address);
  auto authentic = [&](const Route& r) { return !r.unreadable && adapter.authenticate(req, url, r.secrets); };
  if (targets.empty()) {  // an event for no integration (Resend's email.sent): taken, not stored
    if (!adapter.authenticate(req, url, {}))
      return respond(reject(ep.spec.refused_status, ep.spec.refused_hint, provider, req));
    registry().add("loket_webhooks_total", {{"provider", provider}, {"outcome", "ignored"}});
    return respond(http::json_ok(200, "{\"accepted\":false,\"reason\":\"Loket does not take this event type\"}"));
  }
  try {
    for (const auto& t : targets) {
      // The integration may be another provider's (Resend Receiving delivers the aliases' mail).
      const auto* owner = t.provider.empty() ? &adapter : providers_.find(t.provider);
      if (!owner) continue;
      auto r = route(*owner, t.by, t.key, false, throttled);
      if (r && !authentic(*r)) {
        r = route(*owner, t.by, t.key, true, throttled);  // the secret or signing key may have been rotated
        if (r && !authentic(*r)) return respond(reject(ep.spec.refused_status, ep.spec.refused_hint, provider, req));
      }
      if (r) found.emplace_back(std::move(*r), &t);
    }
  } catch (const std::exception& e) {  // the database is unreachable: the provider redelivers
    registry().add("loket_webhooks_total", {{"provider", provider}, {"outcome", "database_unavailable"}});
    core::log(core::Level::kError, "webhook routing failed; answering 503",
              {{"provider", provider}, {"error", e.what()}});
    auto res = http::json_error(503, "UNAVAILABLE", "could not look up the integration; retry later");
    res.headers.emplace_back("Retry-After", "1");
    return respond(std::move(res));
  }
  if (found.empty() && throttled) {
    registry().add("loket_webhooks_total", {{"provider", provider}, {"outcome", "throttled"}});
    auto res = http::json_error(429, "RATE_LIMITED", "too many refused webhooks from this address; slow down");
    res.headers.emplace_back("Retry-After", "60");
    return respond(std::move(res));
  }
  if (found.empty())
    return respond(reject(404,
                          targets.empty() || targets.front().by == RouteBy::kIntegrationId
                              ? "unknown integration"
                              : "no workspace has connected " + core::utf8_truncate(targets.front().key, 64),
                          provider, req));
  // One record per integration; the answer once the broker acknowledged them all (or one failed:
  // the provider redelivers the whole webhook, and replays are deduplicated).
  struct Pending {
    std::mutex mu;
    std::size_t left;
    std::string error, event_id;
    http::Respond respond;
  };
  auto pending = std::make_shared<Pending>();
  pending->left = found.size();
  pending->respond = std::move(respond);
  auto ack = adapter.acknowledgement(req, found.front().first.secrets);
  for (const auto& [r, t] : found) {
    const std::string event_id = core::new_id("evt");
    if (pending->event_id.empty()) pending->event_id = event_id;
    publish(provider, r, *t, req, event_id, [pending, provider, ack](const std::string& err) {
      {
        std::lock_guard lock(pending->mu);
        if (!err.empty() && pending->error.empty()) pending->error = err;
        if (--pending->left > 0) return;
      }
      if (!pending->error.empty()) {
        registry().add("loket_webhooks_total", {{"provider", provider}, {"outcome", "broker_unavailable"}});
        core::log(core::Level::kError, "webhook not acknowledged by the broker; answering 503",
                  {{"provider", provider}, {"error", pending->error}});
        auto res = http::json_error(503, "UNAVAILABLE", "could not store the webhook; retry later");
        res.headers.emplace_back("Retry-After", "1");
        return pending->respond(std::move(res));
      }
      registry().add("loket_webhooks_total", {{"provider", provider}, {"outcome", "accepted"}});
      pending->respond(ack ? *ack
                           : http::json_ok(200, "{\"accepted\":true,\"eventId\":\"" + pending->event_id + "\"}"));
    });
  }
}

http::Response Ingress::handshake(const Endpoint& ep, const http::Request& req) {
  const auto& adapter = *ep.adapter;
  const std::string& provider = adapter.descriptor().webhook;
  providers::Handshake h;
  try {
    h = adapter.handshake(req);
  } catch (const providers::Refusal& r) {
    return reject(r.status(), r.what(), provider, req);
  }
  bool throttled = over_failure_limit(req.remote_address);
  auto r = route(adapter, RouteBy::kSecretHash, h.secret_hash, true, throttled);
  if (!r) return reject(403, "the verification token matches no connected integration", provider, req);
  registry().add("loket_webhooks_total", {{"provider", provider}, {"outcome", "verified"}});
  core::log(core::Level::kInfo, "webhook verification passed",
            {{"provider", provider}, {"integrationId", r->integration_id}});
  return h.answer;
}

void Ingress::publish(const std::string& provider, const Route& r, const providers::WebhookTarget& target,
                      const http::Request& req, const std::string& event_id,
                      std::function<void(const std::string&)> done) {
  events::RawWebhook raw;
  raw.event_id = event_id;
  raw.provider = provider;
  raw.integration_id = r.integration_id;
  raw.workspace_id = r.workspace_id;
  raw.routing_key = target.routing_key;
  raw.received_at_ms = core::now_ms();
  raw.content_type = req.header("content-type");
  for (const char* h : {"user-agent", "x-forwarded-for"})
    if (auto v = req.header(h); !v.empty()) raw.headers[h] = v;
  raw.query = scrubbed_query(req);
  raw.body = req.body;
  auto start = std::chrono::steady_clock::now();
  publish_(kafka::kWebhookTopicPrefix + provider, events::thread_key(r.integration_id, target.thread),
           events::to_json(raw), [provider, start, done = std::move(done)](const std::string& err) {
             registry().observe_since("loket_webhook_publish_seconds", {{"provider", provider}}, start);
             done(err);
           });
}

}  // namespace loket::ingress
