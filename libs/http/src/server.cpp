#include "loket/http/server.hpp"

#include <sys/socket.h>
#include <sys/time.h>

#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
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

struct Server::Impl {
  ServerOptions options;
  Handler handler;
  asio::io_context io;
  tcp::acceptor acceptor{io};
  std::thread accept_thread;
  std::atomic<bool> stopping{false};
  std::uint16_t port = 0;
  std::mutex conn_mu;
  std::condition_variable conn_cv;
  std::set<int> conns;  // native handles of open connections, shut down by stop()

  void serve(tcp::socket socket) {
    {
      std::lock_guard lock(conn_mu);
      conns.insert(socket.native_handle());
    }
    serve_requests(socket);
    std::lock_guard lock(conn_mu);
    conns.erase(socket.native_handle());
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
      if (ec == bhttp::error::end_of_stream || ec == asio::error::eof) break;
      if (ec == bhttp::error::body_limit) {
        write(socket, 11, json_error(413, "PAYLOAD_TOO_LARGE",
                                     "request body is larger than " +
                                         std::to_string(options.max_body_bytes) + " bytes"),
              false);
        break;
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
      bool keep_alive = msg.keep_alive();
      Response res;
      try {
        res = handler(req);
      } catch (const std::exception& e) {
        core::log(core::Level::kError, "request handler failed",
                  {{"path", req.path}, {"error", e.what()}});
        res = json_error(500, "INTERNAL", "internal error; see the server log");
      }
      if (!write(socket, msg.version(), res, keep_alive) || !keep_alive) break;
    }
    socket.shutdown(tcp::socket::shutdown_both, ec);
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
    throw std::runtime_error("cannot listen on " + im.options.address + ":" +
                             std::to_string(im.options.port) + ": " + ec.message());
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

std::uint16_t Server::port() const { return impl_->port; }

void Server::stop() {
  if (!impl_ || impl_->stopping.exchange(true)) return;
  boost::system::error_code ec;
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  impl_->acceptor.close(ec);
  if (impl_->accept_thread.joinable()) impl_->accept_thread.join();
  std::unique_lock lock(impl_->conn_mu);
  for (int fd : impl_->conns) ::shutdown(fd, SHUT_RDWR);
  impl_->conn_cv.wait_for(lock, std::chrono::seconds(5), [&] { return impl_->conns.empty(); });
}

}  // namespace loket::http
