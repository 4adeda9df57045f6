#include "loket/http/server.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <array>
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

#include "loket/core/log.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/url.hpp"

namespace loket::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = beast::http;
using tcp = asio::ip::tcp;

std::string Request::header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? std::string() : it->second;
}

std::string Request::query_param(const std::string& name) const {
  auto it = query.find(name);
  return it == query.end() ? std::string() : it->second;
}

namespace {
namespace websocket = beast::websocket;
constexpr std::size_t kMaxQueuedMessages = 1000;

// One accepted WebSocket, driven by an io_context on its connection's thread.
class WsConnection final : public WebSocket, public std::enable_shared_from_this<WsConnection> {
 public:
  explicit WsConnection(tcp::socket socket) : ws_(std::move(socket)) {}

  bool send(std::string text) override {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    asio::post(ws_.get_executor(), [self = shared_from_this(), t = std::move(text)]() mutable {
      if (self->queue_.size() >= kMaxQueuedMessages) {
        beast::get_lowest_layer(self->ws_).close();  // too slow: drop the client
        return;
      }
      self->queue_.push_back(std::move(t));
      if (self->queue_.size() == 1) self->write_next();
    });
    return true;
  }

  void close(const std::string& reason) override {
    std::lock_guard lock(mu_);
    if (closed_) return;
    asio::post(ws_.get_executor(), [self = shared_from_this(), reason] {
      self->ws_.async_close(websocket::close_reason(websocket::close_code::normal, reason),
                            [self](boost::system::error_code) {});
    });
  }

  // Handshake, then serve until the connection ends. Returns after every queued handler ran.
  void run(bhttp::request<bhttp::string_body>&& req, const Upgrade& up, asio::io_context& io) {
    ws_.set_option(websocket::stream_base::timeout::suggested(beast::role_type::server));
    boost::system::error_code ec;
    ws_.accept(req, ec);
    if (ec) return;
    if (up.on_open) up.on_open(shared_from_this());
    read_next();
    io.run();
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    io.restart();
    io.run();  // drain sends posted before closed_ was set
  }

 private:
  void read_next() {
    ws_.async_read(buffer_, [self = shared_from_this()](boost::system::error_code ec, std::size_t n) {
      if (ec) return;            // closed or broken; pending writes fail and run() returns
      self->buffer_.consume(n);  // clients have nothing to say; keep reading for close/ping frames
      self->read_next();
    });
  }

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

  websocket::stream<tcp::socket> ws_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;  // touched only on the io thread
  std::mutex mu_;
  bool closed_ = false;
};
}  // namespace

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  UpgradeHandler upgrade_handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::uint16_t port = 0;
  std::mutex conn_mu;
  std::condition_variable conn_cv;
  std::set<int> conns;  // native handles of open connections, shut down by stop()

  void serve(tcp::socket socket) {
    const int fd = socket.native_handle();
    {
      std::lock_guard lock(conn_mu);
      conns.insert(fd);
    }
    serve_requests(socket);
    std::lock_guard lock(conn_mu);
    conns.erase(fd);
    boost::system::error_code ec;
    socket.close(ec);
    conn_cv.notify_all();
  }

  void serve_requests(tcp::socket& socket) {
    timeval tv{options.idle_timeout_seconds, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    socket.set_option(tcp::no_delay(true));
    beast::flat_buffer buffer;
    boost::system::error_code ec;
    std::string remote = socket.remote_endpoint(ec).address().to_string();
    for (;;) {
      bhttp::request_parser<bhttp::string_body> parser;
      parser.body_limit(options.max_body_bytes);
      parser.header_limit(64 * 1024);
      bhttp::read(socket, buffer, parser, ec);
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof || ec == bhttp::error::partial_message)
        break;  // the client went away
      if (ec && ec.category() == bhttp::make_error_code(bhttp::error::body_limit).category()) {
        core::log(core::Level::kWarn, "request refused before its handler",
                  {{"remote", remote}, {"error", ec.message()}});
        refuse_unread(socket, refusal(ec));
        return;
      }
      if (ec) break;
      auto& msg = parser.get();
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
      if (upgrade_handler && websocket::is_upgrade(msg)) {
        Upgrade up = upgrade_handler(req);
        if (up.refuse) {
          write(socket, msg.version(), *up.refuse, false);
          break;
        }
        serve_websocket(socket, parser.release(), up);
        return;
      }
      bool keep_alive = msg.keep_alive();
      Response res;
      try {
        res = handler(req);
      } catch (const std::exception& e) {
        core::log(core::Level::kError, "request handler failed", {{"path", req.path}, {"error", e.what()}});
        res = json_error(500, "INTERNAL", "internal error; see the server log");
      }
      if (!write(socket, msg.version(), res, keep_alive) || !keep_alive) break;
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  /// The answer to a request the parser refused: 413 past the body limit, 431 past the header
  /// limit, 400 for anything that is not HTTP/1.1.
  Response refusal(const boost::system::error_code& ec) const {
    if (ec == bhttp::error::body_limit)
      return json_error(413, "PAYLOAD_TOO_LARGE",
                        "request body is larger than " + std::to_string(options.max_body_bytes) + " bytes");
    if (ec == bhttp::error::header_limit)
      return json_error(431, "PAYLOAD_TOO_LARGE", "request headers are larger than 64 KiB");
    return json_error(400, "VALIDATION_ERROR", "malformed HTTP request: " + ec.message());
  }

  /// Answers a request whose body was not read and closes the connection without losing the
  /// answer: closing a socket with unread bytes makes the kernel send RST, which can discard the
  /// response before the client reads it (a client still uploading sees "connection reset").
  /// So the send side is shut first and what the client still sends is read and dropped, for at
  /// most 2 s of silence or 10 s in all (a "lingering close", as Apache and nginx do).
  static void refuse_unread(tcp::socket& socket, const Response& res) {
    write(socket, 11, res, false);
    boost::system::error_code ec;
    socket.shutdown(tcp::socket::shutdown_send, ec);
    timeval tv{2, 0};
    ::setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    std::array<char, 64 * 1024> sink;
    while (!ec && std::chrono::steady_clock::now() < deadline) socket.read_some(asio::buffer(sink), ec);
    socket.shutdown(tcp::socket::shutdown_both, ec);
  }

  // Moves the socket onto an io_context of this thread and serves the WebSocket until it ends.
  static void serve_websocket(tcp::socket& socket, bhttp::request<bhttp::string_body>&& req, const Upgrade& up) {
    asio::io_context io;
    boost::system::error_code ec;
    auto protocol = socket.local_endpoint(ec).protocol();
    if (ec) return;
    tcp::socket own(io);
    own.assign(protocol, socket.release(), ec);
    if (ec) return;
    {
      auto conn = std::make_shared<WsConnection>(std::move(own));
      conn->run(std::move(req), up, io);
      if (up.on_close) up.on_close();
    }
  }

  static bool write(tcp::socket& socket, unsigned version, const Response& res, bool keep_alive) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(res.status), version};
    out.set(bhttp::field::server, "loket");
    if (!res.content_type.empty()) out.set(bhttp::field::content_type, res.content_type);
    for (const auto& [k, v] : res.headers) out.set(k, v);
    out.keep_alive(keep_alive);
    out.body() = res.body;
    out.prepare_payload();
    boost::system::error_code ec;
    bhttp::write(socket, out, ec);
    return !ec;
  }
};

Server::Server(ServerOptions options, Handler handler) : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->handler = std::move(handler);
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
  im.accept_thread = std::thread([&im] {
    while (!im.stopping) {
      boost::system::error_code aec;
      tcp::socket socket(im.io);
      im.acceptor.accept(socket, aec);
      if (aec) {
        if (im.stopping) break;
        continue;
      }
      std::thread([&im, s = std::move(socket)]() mutable { im.serve(std::move(s)); }).detach();
    }
  });
}

void Server::set_upgrade_handler(UpgradeHandler handler) { impl_->upgrade_handler = std::move(handler); }

std::uint16_t Server::port() const { return impl_->port; }

void Server::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  boost::system::error_code ec;
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->acceptor.close(ec);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::unique_lock lock(impl_->conn_mu);
  // Graceful: ending the read side stops idle keep-alive connections at once, while a request
  // being handled still gets its response; whatever is still open after 5 s is cut.
  for (int fd : impl_->conns) ::shutdown(fd, SHUT_RD);
  if (!impl_->conn_cv.wait_for(lock, std::chrono::seconds(5), [&] { return impl_->conns.empty(); })) {
    for (int fd : impl_->conns) ::shutdown(fd, SHUT_RDWR);
    impl_->conn_cv.wait_for(lock, std::chrono::seconds(1), [&] { return impl_->conns.empty(); });
  }
}

}  // namespace loket::http
