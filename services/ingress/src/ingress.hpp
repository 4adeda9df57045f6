#pragma once
#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "loket/core/lru.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/message.hpp"
#include "loket/http/server.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/store.hpp"

/// The ingress service: authenticates provider webhooks and publishes them raw to
/// `channel.webhook.<provider>`, answering 2xx only after the broker acknowledged
/// (DESIGN.md "ingress"). Parses nothing beyond routing and authentication.
///
/// Every provider adapter with a webhook (providers::Adapter::webhook()) gets its endpoint:
/// POST is routed (adapter.route) to its integrations, authenticated (adapter.authenticate)
/// against each one's stored secret hash and signing key, and published once per integration;
/// GET is the provider's verification handshake where it has one. Which paths exist is in
/// each provider's channel guide (docs/channels/).
namespace loket::ingress {

/// Settings (LOKET_INGRESS_ACK_TIMEOUT_MS, LOKET_INGRESS_CACHE_TTL_MS, LOKET_PUBLIC_WEBHOOK_URL).
struct Options {
  std::chrono::milliseconds ack_timeout{5000};  ///< broker ack wait before answering 503
  std::chrono::milliseconds cache_ttl{10000};   ///< routing data cache lifetime
  std::size_t cache_entries = 20000;            ///< routing cache bound (entries, LRU)
  std::size_t cache_bytes = 8u << 20;           ///< routing cache bound (bytes, LRU)
  /// Refused webhooks (401, 403, 404) a source address may cause per minute; past it, webhooks
  /// from it that need a database lookup (not in the routing cache) get 429, so random ids cost
  /// no lookups, while the routes already known keep flowing (providers share addresses).
  int failures_per_minute = 600;
  /// The public base URL providers call (scheme://host[:port]), as configured at the provider;
  /// Twilio signs the full URL, so it must be exactly what Twilio sees.
  std::string public_base_url;
};

/// Finds the integration a webhook names: by id (any provider), or the live integration of
/// `provider` (its descriptor().name) with that routing key or webhook secret hash. The
/// database in production (database_lookup), a map in tests. May throw on database failure.
using Lookup = std::function<std::optional<store::Integration>(providers::RouteBy by, const std::string& provider,
                                                               const std::string& key)>;

/// Publishes one record; `done` runs once, from any thread, with "" when the broker
/// acknowledged or the error (timeouts included). Must not block.
using Publish = std::function<void(const std::string& topic, const std::string& key, const std::string& value,
                                   std::function<void(const std::string& error)> done)>;

/// The Lookup over PostgreSQL (store::find_integration and friends, one read transaction each).
Lookup database_lookup(store::Pool& pool);

/// The Publish through `producer` (its `message.timeout.ms` bounds the wait for the
/// acknowledgement; `done` runs on its delivery-report thread).
Publish broker_publish(kafka::Producer& producer);

/// The webhook paths of `registry` that take a body of another size than the server's default
/// (providers::WebhookEndpoint::max_body_bytes), for http::ServerOptions::body_limits.
std::vector<std::pair<std::string, std::size_t>> body_limits(const providers::Registry& registry);

/// Handles webhook requests. Thread-safe when `lookup` and `publish` are.
class Ingress {
 public:
  Ingress(Lookup lookup, Publish publish, const crypto::Keyring& keys, const providers::Registry& registry,
          Options options);
  /// Dispatches one HTTP request (webhooks, /healthz) without waiting for the broker:
  /// `respond` runs once, here or from the publisher's thread once the broker acknowledged
  /// (http::AsyncHandler). Counts every outcome in `loket_webhooks_total{provider,outcome}` and
  /// times it in `loket_http_request_duration_seconds{route,method,status}` (ops::metrics()).
  void handle_async(const http::Request& req, http::Respond respond);
  /// handle_async() waited for (tests).
  http::Response handle(const http::Request& req);

 private:
  /// What ingress needs to know about an integration: owner, and how to authenticate it.
  struct Route {
    std::string integration_id, workspace_id;
    providers::WebhookSecrets secrets;
    bool unreadable = false;  ///< its credentials did not decrypt: every webhook is refused
    std::chrono::steady_clock::time_point fetched;
  };
  /// Refusals of one source address in the current minute.
  struct Failures {
    std::chrono::steady_clock::time_point window;
    int count = 0;
  };
  /// A provider's webhook endpoint.
  struct Endpoint {
    const providers::Adapter* adapter;
    providers::WebhookEndpoint spec;
  };
  /// The route of `key`, from the cache or (unless `throttled` is set by the caller's check,
  /// which then stays set on a miss) the lookup.
  std::optional<Route> route(const providers::Adapter& adapter, providers::RouteBy by, const std::string& key,
                             bool refresh, bool& throttled);
  /// Whether `source` caused more than failures_per_minute refusals this minute.
  bool over_failure_limit(const std::string& source);
  void receive(const Endpoint& ep, const http::Request& req, const std::string& path_id, http::Respond respond);
  http::Response handshake(const Endpoint& ep, const http::Request& req);
  void dispatch(const http::Request& req, std::string& route, http::Respond respond);
  http::Response reject(int status, const std::string& why, const std::string& provider, const http::Request& req);
  /// Publishes `req` for `r` under `event_id`; `done` gets "" or the broker's error.
  void publish(const std::string& provider, const Route& r, const providers::WebhookTarget& target,
               const http::Request& req, const std::string& event_id, std::function<void(const std::string&)> done);

  Lookup lookup_;
  Publish publish_;
  const crypto::Keyring& keys_;
  Options options_;
  const providers::Registry& providers_;
  std::vector<Endpoint> endpoints_;
  std::mutex mu_;
  core::LruMap<Route> cache_;
  core::LruMap<Failures> failures_;
};

}  // namespace loket::ingress
