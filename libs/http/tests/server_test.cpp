// The asynchronous server under hostile and unusual clients: deadlines, the connection cap,
// dead WebSocket peers, graceful drain, and idle connections that cost no thread.
#include <dirent.h>

#include <array>
#include <atomic>
#include <boost/asio.hpp>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <thread>

#include "loket/http/client.hpp"
#include "loket/http/server.hpp"

using namespace loket::http;
using boost::asio::ip::tcp;
using namespace std::chrono_literals;

namespace {
ServerOptions quick_options() {
  ServerOptions o{"127.0.0.1", 0, 1 << 20, 2};
  o.header_timeout = std::chrono::seconds(1);
  o.websocket_idle_timeout = std::chrono::seconds(2);
  return o;
}

ClientResponse get(const std::string& url) {
  ClientRequest req;
  req.url = url;
  return fetch(req);
}

Response ok(const Request&) {
  Response r;
  r.body = "{\"ok\":true}";
  return r;
}

tcp::socket connect(boost::asio::io_context& io, std::uint16_t port) {
  tcp::socket s(io);
  s.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  return s;
}

// Reads until the server closes the connection; returns what it sent and how long that took.
std::pair<std::string, std::chrono::steady_clock::duration> read_until_closed(tcp::socket& s) {
  auto start = std::chrono::steady_clock::now();
  std::string got;
  std::array<char, 4096> buf;
  boost::system::error_code ec;
  while (!ec) {
    auto n = s.read_some(boost::asio::buffer(buf), ec);
    got.append(buf.data(), n);
  }
  return {got, std::chrono::steady_clock::now() - start};
}

int threads_of_this_process() {
  int n = 0;
  if (DIR* d = opendir("/proc/self/task")) {
    while (auto* e = readdir(d))
      if (e->d_name[0] != '.') ++n;
    closedir(d);
  }
  return n;
}
}  // namespace

TEST_CASE("a client that never finishes its headers or body is cut off by the deadline") {
  Server server(quick_options(), ok);
  server.start();
  boost::asio::io_context io;
  auto slow_headers = connect(io, server.port());
  boost::asio::write(slow_headers, boost::asio::buffer(std::string("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: ")));
  auto slow_body = connect(io, server.port());
  boost::asio::write(
      slow_body, boost::asio::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 20000000\r\n\r\nabc")));
  // Meanwhile a normal request is served.
  auto res = get("http://127.0.0.1:" + std::to_string(server.port()) + "/");
  CHECK(res.status == 200);
  auto [h, h_took] = read_until_closed(slow_headers);
  auto [b, b_took] = read_until_closed(slow_body);
  CHECK(h.empty());  // closed without an answer: there was no request to answer
  CHECK(h_took < 5s);
  CHECK(b.rfind("HTTP/1.1 413", 0) == 0);  // 20 MB is over the cap: refused from its headers
  CHECK(b_took < 5s);
  server.stop();
}

TEST_CASE("a path with its own body limit takes bodies up to it; every other path keeps max_body_bytes") {
  auto options = quick_options();
  options.max_body_bytes = 1000;
  options.body_limits = {{"/big", 100000}};
  Server server(options, [](const Request& req) {
    Response r;
    r.body = std::to_string(req.body.size());
    return r;
  });
  server.start();
  auto post = [&](const std::string& target, std::size_t bytes, bool chunked = false) {
    boost::asio::io_context io;
    auto s = connect(io, server.port());
    std::string body(bytes, 'x');
    std::string req = "POST " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n";
    if (chunked) {
      char size[32];
      std::snprintf(size, sizeof size, "%zx", bytes);
      req += "Transfer-Encoding: chunked\r\n\r\n" + std::string(size) + "\r\n" + body + "\r\n0\r\n\r\n";
    } else {
      req += "Content-Length: " + std::to_string(bytes) + "\r\n\r\n" + body;
    }
    boost::system::error_code ec;
    boost::asio::write(s, boost::asio::buffer(req), ec);
    return read_until_closed(s).first;
  };
  CHECK(post("/big", 50000).rfind("HTTP/1.1 200", 0) == 0);
  CHECK(post("/big?recipient=a%40b", 50000).find("\r\n\r\n50000") != std::string::npos);  // the query does not matter
  CHECK(post("/big", 50000, true).find("\r\n\r\n50000") != std::string::npos);
  auto over = post("/big", 100001);
  CHECK(over.rfind("HTTP/1.1 413", 0) == 0);
  CHECK(over.find("larger than 100000 bytes") != std::string::npos);
  CHECK(post("/big", 100001, true).rfind("HTTP/1.1 413", 0) == 0);
  CHECK(post("/other", 50000).rfind("HTTP/1.1 413", 0) == 0);  // the larger limit is that path's only
  CHECK(post("/other", 50000, true).rfind("HTTP/1.1 413", 0) == 0);
  CHECK(post("/bigger", 50000).rfind("HTTP/1.1 413", 0) == 0);  // exact paths, not prefixes
  CHECK(post("/other", 900).rfind("HTTP/1.1 200", 0) == 0);
  server.stop();
}

TEST_CASE("a declared body under the cap that stops arriving is closed after the progress deadline") {
  Server server(quick_options(), ok);
  server.start();
  boost::asio::io_context io;
  auto s = connect(io, server.port());
  boost::asio::write(
      s, boost::asio::buffer(std::string("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\nabc")));
  auto [got, took] = read_until_closed(s);
  CHECK(got.empty());
  CHECK(took >= 900ms);
  CHECK(took < 5s);
  server.stop();
}

TEST_CASE("past max_connections a new connection gets 503 at once; below it, service resumes") {
  auto options = quick_options();
  options.max_connections = 5;
  options.header_timeout = std::chrono::seconds(30);
  Server server(options, ok);
  server.start();
  boost::asio::io_context io;
  std::vector<tcp::socket> held;
  for (int i = 0; i < 5; ++i) held.push_back(connect(io, server.port()));
  std::this_thread::sleep_for(200ms);  // let the server accept them
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/";
  auto refused = get(url);
  CHECK(refused.status == 503);
  CHECK(refused.body.find("\"code\":\"UNAVAILABLE\"") != std::string::npos);
  held.clear();  // the held connections close
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    std::this_thread::sleep_for(50ms);
    served = get(url).status == 200;
  }
  CHECK(served);
  server.stop();
}

TEST_CASE("a WebSocket peer that stops answering pings is closed within the idle timeout") {
  Server server(quick_options(), ok);
  std::atomic<int> opened{0}, closed{0};
  server.set_upgrade_handler([&](const Request&) {
    Upgrade up;
    up.on_open = [&](const std::shared_ptr<WebSocket>& ws) {
      ++opened;
      ws->send("{\"type\":\"ready\"}");
    };
    up.on_close = [&] { ++closed; };
    return up;
  });
  server.start();
  boost::asio::io_context io;
  auto s = connect(io, server.port());
  boost::asio::write(s, boost::asio::buffer(std::string("GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                                                        "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n")));
  // Never answers the server's pings: like a phone that lost its network without a close frame.
  auto [got, took] = read_until_closed(s);
  CHECK(got.rfind("HTTP/1.1 101", 0) == 0);
  CHECK(got.find("{\"type\":\"ready\"}") != std::string::npos);
  CHECK(took < 6s);
  for (int i = 0; i < 20 && closed == 0; ++i) std::this_thread::sleep_for(50ms);
  CHECK(opened == 1);
  CHECK(closed == 1);
  server.stop();
}

TEST_CASE("idle connections cost no thread, and stop() lets a request in progress finish") {
  std::atomic<bool> entered{false};
  Server server(quick_options(), [&](const Request& r) {
    if (r.path == "/slow") {
      entered = true;
      std::this_thread::sleep_for(500ms);
    }
    return ok(r);
  });
  server.start();
  const int before = threads_of_this_process();
  boost::asio::io_context io;
  std::vector<tcp::socket> idle;
  for (int i = 0; i < 300; ++i) idle.push_back(connect(io, server.port()));
  std::this_thread::sleep_for(300ms);
  CHECK(threads_of_this_process() - before < 5);  // was one thread per connection: +300

  ClientResponse slow;
  std::thread client([&] { slow = get("http://127.0.0.1:" + std::to_string(server.port()) + "/slow"); });
  while (!entered) std::this_thread::sleep_for(5ms);
  auto started = std::chrono::steady_clock::now();
  server.stop();  // idle connections end at once; the slow request gets its answer
  client.join();
  CHECK(slow.status == 200);
  CHECK(std::chrono::steady_clock::now() - started < 4s);
  auto [got, took] = read_until_closed(idle.front());
  CHECK(got.empty());
}

TEST_CASE("an async handler answers from another thread, and a dropped Respond answers 500") {
  auto options = quick_options();
  options.handler_threads = 0;
  Server server(options, [](const Request& r, Respond respond) {
    if (r.path == "/later")
      std::thread([respond] {
        std::this_thread::sleep_for(50ms);
        Response res;
        res.body = "{\"late\":true}";
        respond(res);
        respond(res);  // a second call is ignored
      }).detach();
    // "/dropped": respond goes out of scope unanswered
  });
  server.start();
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  auto later = get(base + "/later");
  CHECK(later.status == 200);
  CHECK(later.body == "{\"late\":true}");
  auto dropped = get(base + "/dropped");
  CHECK(dropped.status == 500);
  CHECK(get(base + "/later").status == 200);  // the connection pool still serves
  std::this_thread::sleep_for(100ms);         // the responders' threads end
  server.stop();
}
