#include "loket/http/server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "loket/core/config.hpp"
#include "loket/core/log.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/url.hpp"

namespace loket::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using asio::awaitable;
using std::chrono::seconds;

std::string Request::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

namespace {
constexpr std::size_t kMaxQueuedMessages = 1000;
constexpr std::size_t kHeaderLimit = 64 * 1024;
// The slowest a body or response may move: deadlines grow by one second per this many bytes.
constexpr std::size_t kMinBytesPerSecond = 64 * 1024;

auto tolerant() { return asio::as_tuple(asio::use_awaitable); }

// How long transferring `bytes` may take at the slowest acceptable rate, on top of `base`.
std::chrono::steady_clock::duration transfer_time(std::chrono::seconds base, std::size_t bytes) {
  return base + seconds(bytes / kMinBytesPerSecond);
}

// One accepted WebSocket. Every operation on the stream runs on the connection's strand;
// send() and close() may be called from any thread and only post to it.
class WsConnection final : public WebSocket, public std::enable_shared_from_this<WsConnection> {
 public:
  explicit WsConnection(beast::tcp_stream&& stream) : ws_(std::move(stream)) {}

  bool send(std::string text) override {
    if (closed_) return false;
    asio::post(ws_.get_executor(), [self = shared_from_this(), t = std::move(text)]() mutable {
      if (self->closed_) return;
      if (self->queue_.size() >= kMaxQueuedMessages) {  // too slow: drop the client
        beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_both);
        return;
      }
      self->queue_.push_back(std::move(t));
      if (self->queue_.size() == 1) self->write_next();
    });
    return true;
  }

  void close(const std::string& reason) override {
    if (closed_) return;
    asio::post(ws_.get_executor(), [self = shared_from_this(), reason] {
      if (self->closed_ || self->closing_) return;
      self->closing_ = true;
      self->ws_.async_close(websocket::close_reason(websocket::close_code::normal, reason),
                            [self](boost::system::error_code) {});
    });
  }

  // Handshake, then read (pings, pongs, close) until the connection ends.
  awaitable<void> run(bhttp::request<bhttp::string_body> req, const Upgrade& up, std::chrono::seconds idle) {
    websocket::stream_base::timeout t{};
    t.handshake_timeout = seconds(10);
    t.idle_timeout = idle;  // a ping at half of it; a peer silent for all of it is closed
    t.keep_alive_pings = true;
    beast::get_lowest_layer(ws_).expires_never();  // the websocket's own timeouts from here on
    ws_.set_option(t);
    ws_.read_message_max(64 * 1024);
    auto [ec] = co_await ws_.async_accept(req, tolerant());
    if (ec) co_return;
    if (up.on_open) up.on_open(shared_from_this());
    beast::flat_buffer buffer;
    for (;;) {
      auto [rec, n] = co_await ws_.async_read(buffer, tolerant());
      if (rec) break;     // closed, timed out or broken
      buffer.consume(n);  // clients have nothing to say; reading serves control frames
    }
    closed_ = true;
    queue_.clear();
  }

 private:
  void write_next() {
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()),
                    [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                      if (ec) {
                        self->queue_.clear();
                        return;
                      }
                      self->queue_.pop_front();
                      if (!self->queue_.empty()) self->write_next();
                    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::deque<std::string> queue_;  // touched only on the strand
  std::atomic<bool> closed_{false};
  bool closing_ = false;
};

bhttp::response<bhttp::string_body> to_beast(const Response& res, unsigned version, bool keep_alive) {
  bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
  out.set(bhttp::field::server, "loket");
  if (!res.content_type.empty()) out.set(bhttp::field::content_type, res.content_type);
  for (const auto& [k, v] : res.headers) out.set(k, v);
  out.keep_alive(keep_alive);
  out.body() = res.body;
  out.prepare_payload();
  return out;
}

Request to_request(bhttp::request<bhttp::string_body>& msg, const std::string& remote) {
  Request req;
  req.method = std::string(msg.method_string());
  req.target = std::string(msg.target());
  auto q = req.target.find('?');
  req.path = percent_decode(req.target.substr(0, q));
  if (q != std::string::npos) req.query = parse_query(req.target.substr(q + 1));
  for (const auto& f : msg) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers[name] = std::string(f.value());
  }
  req.body = std::move(msg.body());
  req.remote_address = remote;
  return req;
}
}  // namespace

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  AsyncHandler async_handler;
  UpgradeHandler upgrade_handler;
  asio::io_context io;
  std::unique_ptr<asio::thread_pool> handlers;  // blocking handlers run here, never on io threads
  tcp::acceptor acceptor{io};
  std::vector<std::thread> io_threads;
  std::atomic<bool> stopping{false};
  std::uint16_t port = 0;
  std::mutex conn_mu;
  std::condition_variable conn_cv;
  std::set<int> conns;  // native handles of open connections, shut down by stop()

  awaitable<void> accept_loop() {
    for (;;) {
      auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(io), tolerant());
      if (stopping) co_return;
      if (ec) continue;  // e.g. EMFILE: keep serving the connections we have
      const int fd = socket.native_handle();
      bool over = false;
      {
        std::lock_guard lock(conn_mu);
        over = conns.size() >= options.max_connections;
        if (!over) conns.insert(fd);
      }
      auto ex = socket.get_executor();
      if (over)
        asio::co_spawn(ex, turn_away(beast::tcp_stream(std::move(socket))), asio::detached);
      else
        asio::co_spawn(ex, session(beast::tcp_stream(std::move(socket)), fd), asio::detached);
    }
  }

  // Past max_connections: 503 at once, without reading the request.
  awaitable<void> turn_away(beast::tcp_stream stream) {
    core::log(core::Level::kWarn, "connection refused: at max_connections",
              {{"max", std::to_string(options.max_connections)}});
    auto res = json_error(503, "UNAVAILABLE", "the server is at its connection limit; retry shortly");
    res.headers.emplace_back("Retry-After", "1");
    co_await lingering_refusal(stream, res);
  }

  void forget(int fd) {
    std::lock_guard lock(conn_mu);
    conns.erase(fd);
    conn_cv.notify_all();
  }

  awaitable<void> session(beast::tcp_stream stream, int fd) {
    boost::system::error_code ec;
    std::string remote = stream.socket().remote_endpoint(ec).address().to_string();
    stream.socket().set_option(tcp::no_delay(true), ec);
    beast::flat_buffer buffer;
    bool first = true;
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(largest_body_limit());  // the path's own limit is applied once its header is read
      parser.header_limit(kHeaderLimit);
      // Headers: within header_timeout of the first byte's chance (idle_timeout between
      // keep-alive requests).
      stream.expires_after(first ? options.header_timeout : seconds(options.idle_timeout_seconds));
      first = false;
      auto [hec, hn] = co_await bhttp::async_read_header(stream, buffer, parser, tolerant());
      if (hec) {
        if (refused_by_parser(hec)) co_await refuse(stream, remote, hec, body_limit_for(parser.get().target()));
        break;  // timed out, went away, or refused
      }
      if (!parser.is_done()) {
        const std::size_t limit = body_limit_for(parser.get().target());
        if (parser.content_length().value_or(0) > limit) {
          co_await refuse(stream, remote, bhttp::error::body_limit, limit);
          break;
        }
        parser.body_limit(limit);  // a chunked body is held to it as it arrives
      }
      if (!parser.is_done()) {  // the body: progress every header_timeout, all of it in time
        std::size_t declared = parser.content_length().value_or(options.max_body_bytes);
        auto deadline = std::chrono::steady_clock::now() + transfer_time(options.header_timeout, declared);
        boost::system::error_code bec;
        while (!bec && !parser.is_done()) {
          auto left = deadline - std::chrono::steady_clock::now();
          stream.expires_after(std::min<std::chrono::steady_clock::duration>(left, options.header_timeout));
          std::tie(bec, std::ignore) = co_await bhttp::async_read_some(stream, buffer, parser, tolerant());
        }
        if (bec) {
          if (refused_by_parser(bec))
            co_await refuse(stream, remote, bec, body_limit_for(parser.get().target()));
          else if (bec == beast::error::timeout)
            core::log(core::Level::kWarn, "request body too slow; connection closed", {{"remote", remote}});
          break;
        }
      }
      auto& msg = parser.get();
      Request req = to_request(msg, remote);
      if (upgrade_handler && websocket::is_upgrade(msg)) {
        Upgrade up = co_await run_blocking([&] {
          try {
            return upgrade_handler(req);
          } catch (const std::exception& e) {
            core::log(core::Level::kError, "upgrade handler failed", {{"path", req.path}, {"error", e.what()}});
            Upgrade refused;
            refused.refuse = json_error(500, "INTERNAL", "internal error; see the server log");
            return refused;
          }
        });
        if (up.refuse) {
          stream.expires_after(seconds(30));
          co_await bhttp::async_write(stream, to_beast(*up.refuse, msg.version(), false), tolerant());
          break;
        }
        {
          auto conn = std::make_shared<WsConnection>(std::move(stream));
          co_await conn->run(parser.release(), up, options.websocket_idle_timeout);
        }
        if (up.on_close) up.on_close();
        forget(fd);
        co_return;
      }
      const bool keep_alive = msg.keep_alive() && !stopping;
      const unsigned version = msg.version();
      Response res;  // (no co_await inside ?: — GCC 12 destroys its temporary twice)
      if (async_handler) {
        res = co_await call_async(req);
      } else {
        res = co_await run_blocking([&] {
          try {
            return handler(req);
          } catch (const std::exception& e) {
            core::log(core::Level::kError, "request handler failed", {{"path", req.path}, {"error", e.what()}});
            return internal_error();
          }
        });
      }
      auto out = to_beast(res, version, keep_alive);
      stream.expires_after(transfer_time(seconds(30), res.body.size()));
      auto [wec, wn] = co_await bhttp::async_write(stream, out, tolerant());
      if (wec || !keep_alive) break;
    }
    forget(fd);
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream.close();
  }

  static Response internal_error() { return json_error(500, "INTERNAL", "internal error; see the server log"); }

  // Calls the AsyncHandler and waits, on the connection's strand, for what it responds: the
  // Respond stores the answer and cancels a timer the coroutine waits on (from the strand).
  struct Answer {
    explicit Answer(const asio::any_io_executor& ex) : ready(ex, asio::steady_timer::time_point::max()) {}
    asio::steady_timer ready;
    std::optional<Response> response;
    std::atomic<bool> done{false};
  };
  // Held only by the copies of a Respond: when the last goes unanswered, answers 500.
  struct Responder {
    std::shared_ptr<Answer> answer;
    void finish(Response r) {
      if (answer->done.exchange(true)) return;
      asio::post(answer->ready.get_executor(), [a = answer, r = std::move(r)]() mutable {
        a->response = std::move(r);
        a->ready.cancel();
      });
    }
    ~Responder() {
      if (!answer || answer->done) return;
      core::log(core::Level::kError, "request handler never responded");
      finish(internal_error());
    }
  };

  awaitable<Response> call_async(const Request& req) {
    auto answer = std::make_shared<Answer>(co_await asio::this_coro::executor);
    {
      auto responder = std::make_shared<Responder>();  // built in place: a temporary's destructor would answer 500
      responder->answer = answer;
      try {
        async_handler(req, [responder](Response r) { responder->finish(std::move(r)); });
      } catch (const std::exception& e) {
        core::log(core::Level::kError, "request handler failed", {{"path", req.path}, {"error", e.what()}});
        responder->finish(internal_error());
      }
    }
    while (!answer->response) co_await answer->ready.async_wait(tolerant());
    co_return std::move(*answer->response);
  }

  // Runs `fn` on the handler pool and resumes on the connection's strand with its result; with
  // no pool, runs it right here on the io thread.
  template <typename Fn>
  awaitable<std::invoke_result_t<Fn>> run_blocking(Fn&& fn) {
    using T = std::invoke_result_t<Fn>;
    if (!handlers) co_return fn();  // handler_threads = 0: on this io thread
    co_return co_await asio::co_spawn(
        *handlers, [&]() -> awaitable<T> { co_return fn(); }, asio::use_awaitable);
  }

  static bool refused_by_parser(const boost::system::error_code& ec) {
    return ec.category() == bhttp::make_error_code(bhttp::error::body_limit).category() &&
           ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message;
  }

  // The answer to a request the parser refused: 413 past the body limit, 431 past the header
  // limit, 400 for anything that is not HTTP/1.1; logged with the remote address.
  // The body limit of a request target: its path's entry in body_limits, else max_body_bytes.
  std::size_t body_limit_for(std::string_view target) const {
    std::string_view path = target.substr(0, target.find('?'));
    for (const auto& [p, limit] : options.body_limits)
      if (path == p) return limit;
    return options.max_body_bytes;
  }

  std::size_t largest_body_limit() const {
    std::size_t most = options.max_body_bytes;
    for (const auto& entry : options.body_limits) most = std::max(most, entry.second);
    return most;
  }

  awaitable<void> refuse(beast::tcp_stream& stream, const std::string& remote, const boost::system::error_code& ec,
                         std::size_t limit = 0) {
    core::log(core::Level::kWarn, "request refused before its handler", {{"remote", remote}, {"error", ec.message()}});
    Response res;
    if (ec == bhttp::error::body_limit)
      res = json_error(
          413, "PAYLOAD_TOO_LARGE",
          "request body is larger than " + std::to_string(limit ? limit : options.max_body_bytes) + " bytes");
    else if (ec == bhttp::error::header_limit)
      res = json_error(431, "PAYLOAD_TOO_LARGE", "request headers are larger than 64 KiB");
    else
      res = json_error(400, "VALIDATION_ERROR", "malformed HTTP request: " + ec.message());
    co_await lingering_refusal(stream, res);
  }

  // Answers and closes without losing the answer: closing a socket with unread bytes makes the
  // kernel send RST, which can discard the response before the client reads it. So the send
  // side is shut first and what the client still sends is read and dropped, for at most 2 s of
  // silence or 10 s in all (a "lingering close", as Apache and nginx do).
  static awaitable<void> lingering_refusal(beast::tcp_stream& stream, const Response& res) {
    stream.expires_after(seconds(10));
    auto [wec, wn] = co_await bhttp::async_write(stream, to_beast(res, 11, false), tolerant());
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    const auto deadline = std::chrono::steady_clock::now() + seconds(10);
    std::array<char, 16 * 1024> sink;
    while (!wec && std::chrono::steady_clock::now() < deadline) {
      stream.expires_after(
          std::min<std::chrono::steady_clock::duration>(seconds(2), deadline - std::chrono::steady_clock::now()));
      auto [rec, n] = co_await stream.async_read_some(asio::buffer(sink), tolerant());
      if (rec) break;
    }
    stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  }
};

ServerOptions with_env(ServerOptions o) {
  o.max_connections = static_cast<std::size_t>(
      core::env_int("LOKET_HTTP_MAX_CONNECTIONS", static_cast<std::int64_t>(o.max_connections)));
  o.io_threads = static_cast<int>(core::env_int("LOKET_HTTP_IO_THREADS", o.io_threads));
  o.handler_threads = static_cast<int>(core::env_int("LOKET_HTTP_HANDLER_THREADS", o.handler_threads));
  o.header_timeout = seconds(core::env_int("LOKET_HTTP_HEADER_TIMEOUT_SECONDS", o.header_timeout.count()));
  o.websocket_idle_timeout =
      seconds(core::env_int("LOKET_WEBSOCKET_IDLE_TIMEOUT_SECONDS", o.websocket_idle_timeout.count()));
  return o;
}

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
}

Server::Server(ServerOptions options, AsyncHandler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->async_handler = std::move(handler);
}

Server::~Server() { stop(); }

void Server::start() {
  auto& im = *impl_;
  boost::system::error_code ec;
  tcp::endpoint ep(asio::ip::make_address(im.options.address, ec), im.options.port);
  if (ec) throw std::runtime_error("bad listen address " + im.options.address);
  im.acceptor.open(ep.protocol());
  im.acceptor.set_option(asio::socket_base::reuse_address(true));
  im.acceptor.bind(ep, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + im.options.address + ":" + std::to_string(im.options.port) + ": " +
                             ec.message());
  im.acceptor.listen(asio::socket_base::max_listen_connections);
  im.port = im.acceptor.local_endpoint().port();
  if (im.options.handler_threads > 0)
    im.handlers = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(im.options.handler_threads));
  asio::co_spawn(im.io, im.accept_loop(), asio::detached);
  for (int i = 0; i < std::max(1, im.options.io_threads); ++i) im.io_threads.emplace_back([&im] { im.io.run(); });
}

void Server::set_upgrade_handler(UpgradeHandler handler) { impl_->upgrade_handler = std::move(handler); }

std::uint16_t Server::port() const { return impl_->port; }

void Server::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  auto& im = *impl_;
  if (im.io_threads.empty()) return;  // never started
  asio::post(im.io, [&im] {
    boost::system::error_code ec;
    im.acceptor.close(ec);
  });
  {
    std::unique_lock lock(im.conn_mu);
    // Graceful: ending the read side stops idle keep-alive connections and WebSockets at once,
    // while a request being handled still gets its response; whatever is open after 5 s is cut.
    for (int fd : im.conns) ::shutdown(fd, SHUT_RD);
    if (!im.conn_cv.wait_for(lock, seconds(5), [&] { return im.conns.empty(); })) {
      for (int fd : im.conns) ::shutdown(fd, SHUT_RDWR);
      im.conn_cv.wait_for(lock, seconds(1), [&] { return im.conns.empty(); });
    }
  }
  im.io.stop();
  for (auto& t : im.io_threads) t.join();
  if (im.handlers) im.handlers->join();
}

}  // namespace loket::http
