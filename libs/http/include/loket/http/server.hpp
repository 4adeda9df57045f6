#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "loket/http/message.hpp"
#include "loket/http/websocket.hpp"

namespace loket::http {

/// Handles one request; called concurrently from connection threads, so it must be
/// thread-safe. An exception escaping it becomes a 500 with the error envelope.
using Handler = std::function<Response(const Request&)>;

/// Settings for Server.
struct ServerOptions {
  std::string address = "0.0.0.0";       ///< listen address
  std::uint16_t port = 0;                ///< 0 picks a free port (see Server::port())
  std::size_t max_body_bytes = 1 << 20;  ///< larger bodies get 413 before the handler runs
  int idle_timeout_seconds = 60;         ///< keep-alive connections idle longer are closed
};

/// A small HTTP/1.1 server (Boost.Beast) with one thread per connection and keep-alive.
/// Blocking handlers (database, broker acknowledgements) are fine: they only hold their own
/// connection. Thread-safe; stop() or the destructor closes the listener and waits for the
/// accept thread (open connections finish their current request).
class Server {
 public:
  Server(ServerOptions options, Handler handler);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  /// Accepts WebSocket upgrades through `handler` (call before start()). Without one, an
  /// upgrade request is served by the ordinary Handler like any other request.
  void set_upgrade_handler(UpgradeHandler handler);

  /// Binds and starts accepting on a background thread.
  /// @throws std::runtime_error when the address cannot be bound.
  void start();
  /// The bound port (after start()).
  std::uint16_t port() const;
  /// Stops gracefully: no new connections; idle keep-alive connections end; requests being
  /// handled finish and get their response (up to 5 s, then their connections are cut).
  /// Idempotent.
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace loket::http
