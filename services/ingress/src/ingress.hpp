#pragma once
#include <atomic>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "loket/crypto/crypto.hpp"
#include "loket/http/message.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/store/store.hpp"

/// The ingress service: authenticates provider webhooks and publishes them raw to
/// `channel.webhook.<provider>`, answering 2xx only after the broker acknowledged
/// (DESIGN.md "ingress"). Parses nothing beyond routing and authentication.
///
/// Endpoints (shared/reference/providers.md §1–3):
/// - `POST /api/v1/webhooks/telegram/<integrationId>`: X-Telegram-Bot-Api-Secret-Token.
/// - `POST /api/v1/webhooks/twilio/whatsapp?secret=…`: routed by the receiving number (`To`;
///   `From` for status callbacks of our replies), the URL's secret and X-Twilio-Signature must
///   both match.
/// - `GET /api/v1/webhooks/whatsapp-cloud`: Meta's verify-token handshake.
/// - `POST /api/v1/webhooks/whatsapp-cloud`: routed by `metadata.phone_number_id`;
///   X-Hub-Signature-256 must match when the integration stored an app secret.
namespace loket::ingress {

/// Settings (LOKET_INGRESS_ACK_TIMEOUT_MS, LOKET_INGRESS_CACHE_TTL_MS, LOKET_PUBLIC_WEBHOOK_URL).
struct Options {
  std::chrono::milliseconds ack_timeout{5000};  ///< broker ack wait before answering 503
  std::chrono::milliseconds cache_ttl{10000};   ///< routing data cache lifetime
  /// The public base URL providers call (scheme://host[:port]), as configured at the provider;
  /// Twilio signs the full URL, so it must be exactly what Twilio sees.
  std::string public_base_url;
};

/// Handles webhook requests. Thread-safe.
class Ingress {
 public:
  Ingress(store::Pool& pool, kafka::Producer& producer, const crypto::Keyring& keys, Options options);
  /// Dispatches one HTTP request (webhooks, /healthz). Counts every outcome in
  /// `loket_webhooks_total{provider,outcome}` and times it in
  /// `loket_http_request_duration_seconds{route,method,status}` (ops::metrics()).
  http::Response handle(const http::Request& req);

 private:
  /// What ingress needs to know about an integration: owner, and how to authenticate it.
  struct Route {
    std::string integration_id, workspace_id, provider, secret_hash;
    std::string signing_key;  ///< decrypted Twilio auth token / Meta app secret, "" when none
    std::chrono::steady_clock::time_point fetched;
  };
  enum class By { kId, kRoutingKey, kSecret };
  std::optional<Route> route(By by, const std::string& provider, const std::string& key, bool refresh);
  http::Response telegram(const http::Request& req, const std::string& integration_id);
  http::Response twilio(const http::Request& req);
  http::Response cloud_handshake(const http::Request& req);
  http::Response cloud(const http::Request& req);
  http::Response dispatch(const http::Request& req, std::string& route);
  http::Response reject(int status, const std::string& why, const std::string& provider,
                        const http::Request& req);
  /// Publishes `req` for `r`; "" on success, else the broker's error.
  std::string publish(const std::string& provider, const Route& r, const std::string& thread,
                      const std::string& routing_key, const http::Request& req, std::string& event_id);
  http::Response published(const std::string& provider, const std::string& err,
                           const std::string& event_id);

  store::Pool& pool_;
  kafka::Producer& producer_;
  const crypto::Keyring& keys_;
  Options options_;
  std::mutex mu_;
  std::unordered_map<std::string, Route> cache_;
};

}  // namespace loket::ingress
