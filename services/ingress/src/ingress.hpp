#pragma once
#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <unordered_map>

#include "loket/http/message.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/store/store.hpp"

/// The ingress service: authenticates provider webhooks and publishes them raw to
/// `channel.webhook.<provider>`, answering 2xx only after the broker acknowledged
/// (DESIGN.md "ingress"). Parses nothing beyond routing and authentication.
namespace loket::ingress {

/// Settings (from LOKET_INGRESS_ACK_TIMEOUT_MS, LOKET_INGRESS_CACHE_TTL_MS).
struct Options {
  std::chrono::milliseconds ack_timeout{5000};  ///< broker ack wait before answering 503
  std::chrono::milliseconds cache_ttl{10000};   ///< routing data cache lifetime
};

/// Counters an operator watches (exported as metrics by a later issue).
struct Counters {
  std::atomic<long> accepted{0}, unauthorized{0}, not_found{0}, malformed{0}, broker_unavailable{0};
};

/// Handles webhook requests. Thread-safe.
class Ingress {
 public:
  Ingress(store::Pool& pool, kafka::Producer& producer, Options options);
  /// Dispatches one HTTP request (webhooks, /healthz).
  http::Response handle(const http::Request& req);
  const Counters& counters() const { return counters_; }

 private:
  struct Route {
    std::string workspace_id, provider, status, secret_hash;
    std::chrono::steady_clock::time_point fetched;
  };
  std::optional<Route> route(const std::string& integration_id, bool refresh);
  http::Response telegram(const http::Request& req, const std::string& integration_id);
  http::Response publish(const std::string& provider, const Route& r,
                         const std::string& integration_id, const std::string& thread,
                         const http::Request& req);

  store::Pool& pool_;
  kafka::Producer& producer_;
  Options options_;
  Counters counters_;
  std::mutex mu_;
  std::unordered_map<std::string, Route> cache_;
};

}  // namespace loket::ingress
