#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "loket/http/message.hpp"

namespace loket::http {

/// A server-side WebSocket connection (RFC 6455) accepted by Server. send() and close() are
/// thread-safe and never block: messages are queued and written in order by the connection's
/// own thread. A client that does not keep up (over 1,000 queued messages) is disconnected.
class WebSocket {
 public:
  virtual ~WebSocket() = default;
  /// Queues one text message; false when the connection is already closed.
  virtual bool send(std::string text) = 0;
  /// Starts a normal close handshake (code 1000) with `reason`.
  virtual void close(const std::string& reason) = 0;
};

/// The answer to a WebSocket upgrade request.
struct Upgrade {
  std::optional<Response> refuse;  ///< send this HTTP response instead of upgrading (e.g. 401)
  /// Runs once the handshake is done, on the connection's thread.
  std::function<void(const std::shared_ptr<WebSocket>&)> on_open;
  /// Runs once after the connection ended; after it returns nothing is sent any more.
  std::function<void()> on_close;
};

/// Decides on an upgrade request (`GET` with `Upgrade: websocket`); called like a Handler,
/// concurrently from connection threads.
using UpgradeHandler = std::function<Upgrade(const Request&)>;

}  // namespace loket::http
