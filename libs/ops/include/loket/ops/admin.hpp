#pragma once
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace loket::http {
class Server;
}

namespace loket::ops {

/// One readiness condition, e.g. {"postgres", [&]{ return db_reachable(); }}. `ready` returns
/// "" when usable, else why not; it must answer within about a second.
struct Check {
  std::string name;
  std::function<std::string()> ready;
};

/// The admin endpoints of a service, on their own port so they are never public:
/// - `GET /healthz`: 200 while the process serves requests (liveness);
/// - `GET /readyz`: 200 when every Check passes, else 503 with the failing ones (readiness);
/// - `GET /metrics`: metrics() in the Prometheus text format.
/// Thread-safe; checks run on the request's thread.
class AdminServer {
 public:
  /// Listens on `address`:`port` (0 = any free port). @throws std::runtime_error when the
  /// port cannot be bound.
  AdminServer(const std::string& address, std::uint16_t port, std::vector<Check> checks);
  ~AdminServer();
  /// The bound port.
  std::uint16_t port() const;

 private:
  std::vector<Check> checks_;
  std::unique_ptr<http::Server> server_;
};

/// An AdminServer on LOKET_ADMIN_ADDRESS (default 0.0.0.0) and LOKET_ADMIN_PORT (default
/// `default_port`), logging where it listens.
std::unique_ptr<AdminServer> admin_from_env(std::uint16_t default_port, std::vector<Check> checks);

}  // namespace loket::ops
