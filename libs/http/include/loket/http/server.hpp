#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loket/http/message.hpp"
#include "loket/http/websocket.hpp"

namespace loket::http {

/// Handles one request; called concurrently from the server's handler threads, so it must be
/// thread-safe. It may block (database, broker acknowledgements): it holds one handler thread,
/// never the event loop. An exception escaping it becomes a 500 with the error envelope.
using Handler = std::function<Response(const Request&)>;

/// Completes one request, from any thread. Call it once; a Respond dropped without being
/// called answers 500, so a lost callback never leaves a connection hanging.
using Respond = std::function<void(Response)>;

/// Handles one request without blocking: called on an event-loop thread, it must return
/// promptly and have `respond` called later (or at once), e.g. from a broker's delivery report.
using AsyncHandler = std::function<void(const Request&, Respond respond)>;

/// Settings for Server.
struct ServerOptions {
  std::string address = "0.0.0.0";       ///< listen address
  std::uint16_t port = 0;                ///< 0 picks a free port (see Server::port())
  std::size_t max_body_bytes = 1 << 20;  ///< larger bodies get 413 before the handler runs
  int idle_timeout_seconds = 60;         ///< keep-alive connections idle longer are closed
  /// Most open connections (WebSockets included); past it a new connection gets 503 at once.
  std::size_t max_connections = 20000;
  int io_threads = 2;  ///< threads running the event loop (reads, writes, timers)
  /// Threads running handlers (so up to this many block at once). 0 runs handlers on the io
  /// threads instead (one thread hop less per request; then io_threads bounds the requests
  /// handled at once, and a connection waiting for bytes still holds no thread).
  int handler_threads = 64;
  /// Deadline for a request's headers, and for each read of its body to make progress; the
  /// whole body must arrive within this plus one second per 64 KiB declared.
  std::chrono::seconds header_timeout{10};
  /// A WebSocket peer silent this long (it is pinged at half of it) is closed.
  std::chrono::seconds websocket_idle_timeout{30};
  /// Paths (exact, without the query) allowed a larger or smaller body than max_body_bytes,
  /// e.g. {"/api/v1/webhooks/email/mime", 25 MiB}: whole email messages.
  std::vector<std::pair<std::string, std::size_t>> body_limits{};
};

/// `base` with the operator's settings applied where set: LOKET_HTTP_MAX_CONNECTIONS,
/// LOKET_HTTP_IO_THREADS, LOKET_HTTP_HANDLER_THREADS, LOKET_HTTP_HEADER_TIMEOUT_SECONDS and
/// LOKET_WEBSOCKET_IDLE_TIMEOUT_SECONDS (docs/operations.md).
ServerOptions with_env(ServerOptions base);

/// An asynchronous HTTP/1.1 and WebSocket server (Boost.Beast over Asio coroutines): a fixed
/// pool of io_threads serves every connection (an idle connection or WebSocket costs memory,
/// not a thread), and handlers run on a fixed pool of handler_threads. Every request has
/// deadlines (headers, body progress, the whole body, the response write); keep-alive
/// connections and WebSockets have idle timeouts (WebSockets are pinged); connections past
/// max_connections get 503. Thread-safe; stop() or the destructor drains gracefully.
class Server {
 public:
  Server(ServerOptions options, Handler handler);
  /// A server whose requests are answered through `handler`'s Respond (nothing blocks a thread
  /// while a request waits); run it with handler_threads = 0.
  Server(ServerOptions options, AsyncHandler handler);
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
