#pragma once
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "loket/http/ssrf.hpp"

namespace loket::http {

/// The outcome of an outgoing HTTP call. `status` is 0 when no HTTP response arrived
/// (connection refused, DNS failure, timeout); `error` then says why.
struct ClientResponse {
  int status = 0;
  std::string body;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string error;                           ///< transport error, empty on a response
  bool too_large = false;                      ///< the body passed max_response_bytes (status is then 0)
  bool refused = false;                        ///< the SSRF guard refused the URL (status is then 0)
  std::chrono::microseconds elapsed{0};        ///< from start to the end of the transfer (last hop)

  /// True for a 2xx response.
  bool ok() const { return status >= 200 && status < 300; }
  /// The `Retry-After` header in seconds (RFC 9110 §10.2.3, the delay form); 0 when absent or
  /// not a number.
  int retry_after_seconds() const {
    auto it = headers.find("retry-after");
    return it == headers.end() ? 0 : std::max(0, std::atoi(it->second.c_str()));
  }
};

/// An outgoing request.
struct ClientRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::chrono::milliseconds timeout{10000};    ///< whole-request timeout
  std::size_t max_response_bytes = 25u << 20;  ///< larger responses fail with an error
  std::string basic_auth;                      ///< "user:password" or empty
  /// Redirects to follow (0: none). Credentials (basic_auth, an Authorization header) are not
  /// sent to a redirect on another host.
  int max_redirects = 0;
  /// When set, the URL comes from a user or a provider: every hop (redirects included) is
  /// checked by the SSRF guard (check_url) and the connection pinned to the checked address;
  /// a refused URL fails the request with `error` "refused: …". Use &ssrf_policy().
  const SsrfPolicy* guard = nullptr;
};

/// Performs `req` with libcurl (HTTP and HTTPS, up to req.max_redirects redirects). Never throws on
/// network or HTTP errors: they come back in the response. Thread-safe (one handle per call).
ClientResponse fetch(const ClientRequest& req);

/// Connections kept alive between calls (libcurl's connection cache, at most 64), for a worker
/// that sends many requests to the same few hosts — outgoing webhooks. Not thread-safe: one
/// Session per thread.
class Session {
 public:
  /// @throws std::runtime_error when libcurl cannot make a multi handle.
  Session();
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  /// Performs `reqs` concurrently, at most `max_parallel` at a time, and returns their responses
  /// in the same order once all are done (each bounded by its own timeout). Like fetch(), never
  /// throws on network or HTTP errors; unlike fetch(), redirects are never followed when a
  /// request has a guard (a 3xx comes back as it is), and a guarded URL is checked once per call.
  std::vector<ClientResponse> fetch_all(const std::vector<ClientRequest>& reqs, int max_parallel);

 private:
  void* multi_;  // CURLM*
};

}  // namespace loket::http
