// loket-bench-ws: realtime WebSockets at scale against one loket-api (not a test).
//   loket-bench-ws API_URL KEYS_FILE CONNECTIONS API_PID READY_FILE HOLD_SECONDS POSTS_PER_S POST_SECONDS
// 1. Opens CONNECTIONS authenticated WebSockets to /api/v1/realtime, the API keys of KEYS_FILE
//    (one workspace each) taking turns, and waits for every `ready`.
// 2. Idle for 10 s: the api's CPU (cores) and RSS from /proc/API_PID.
// 3. Creates READY_FILE and holds the sockets HOLD_SECONDS (the caller measures other requests).
// 4. Fan-out: POST /api/v1/tickets at POSTS_PER_S for POST_SECONDS, workspaces taking turns;
//    each ticket's events (ticket.created, message.created) reach every socket of its workspace.
//    Latency = event received − request sent (the subject and body carry the send time).
// Prints one JSON line with the figures.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ws_common.hpp"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {
using bench::cpu_and_rss;
using bench::percentile;
using bench::wall_ms;

struct Shared {
  std::atomic<int> ready{0}, failed{0};
  std::mutex mu;
  std::vector<double> latencies;  // ms
  std::atomic<long> deliveries{0};
};

asio::awaitable<void> client(std::string host, std::string port, std::string key, Shared& shared) {
  try {
    auto ex = co_await asio::this_coro::executor;
    websocket::stream<beast::tcp_stream> ws(ex);
    auto endpoints = co_await tcp::resolver(ex).async_resolve(host, port, asio::use_awaitable);
    beast::get_lowest_layer(ws).expires_after(std::chrono::seconds(60));
    co_await beast::get_lowest_layer(ws).async_connect(endpoints, asio::use_awaitable);
    co_await ws.async_handshake(host + ":" + port, "/api/v1/realtime?access_token=" + key, asio::use_awaitable);
    beast::get_lowest_layer(ws).expires_never();
    ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    beast::flat_buffer buf;
    bool counted = false;
    for (;;) {
      co_await ws.async_read(buf, asio::use_awaitable);
      std::string text = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      if (!counted && text.find("\"type\":\"ready\"") != std::string::npos) {
        counted = true;
        ++shared.ready;
        continue;
      }
      auto at = text.find("wsbench ");
      if (at == std::string::npos) continue;
      double sent = std::stod(text.substr(at + 8, 13));
      ++shared.deliveries;
      std::lock_guard lock(shared.mu);
      shared.latencies.push_back(static_cast<double>(wall_ms()) - sent);
    }
  } catch (const std::exception&) {
    ++shared.failed;
  }
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr,
                 "usage: loket-bench-ws API_URL KEYS_FILE CONNECTIONS API_PID READY_FILE HOLD_SECONDS POSTS_PER_S "
                 "POST_SECONDS\n");
    return 2;
  }
  std::string url = argv[1], keys_file = argv[2], pid = argv[4], ready_file = argv[5];
  const int connections = std::stoi(argv[3]), hold = std::stoi(argv[6]), posts_per_s = std::stoi(argv[7]),
            post_seconds = std::stoi(argv[8]);
  auto hostport = url.substr(url.find("//") + 2);
  std::string host = hostport.substr(0, hostport.find(':')), port = hostport.substr(hostport.find(':') + 1);
  std::vector<std::string> keys;
  std::ifstream in(keys_file);
  for (std::string k; std::getline(in, k);)
    if (!k.empty()) keys.push_back(k);
  if (keys.empty()) return 2;

  Shared shared;
  asio::io_context io;
  auto started = Clock::now();
  for (int i = 0; i < connections; ++i) {
    asio::co_spawn(io, client(host, port, keys[i % keys.size()], shared), asio::detached);
    if (i % 200 == 199) io.run_for(std::chrono::milliseconds(50));  // do not flood the listen backlog
  }
  std::thread loop([&] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });
  while (shared.ready + shared.failed < connections && Clock::now() - started < std::chrono::seconds(180))
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const double connect_s = std::chrono::duration<double>(Clock::now() - started).count();

  auto [cpu0, rss0] = cpu_and_rss(pid);
  std::this_thread::sleep_for(std::chrono::seconds(10));
  auto [cpu1, rss1] = cpu_and_rss(pid);
  const double idle_cores = (cpu1 - cpu0) / 10;
  std::ofstream(ready_file) << "ready\n";
  std::this_thread::sleep_for(std::chrono::seconds(hold));

  // Fan-out: one keep-alive connection posting tickets at a fixed rate.
  asio::io_context pio;
  tcp::socket sock(pio);
  asio::connect(sock, tcp::resolver(pio).resolve(host, port));
  beast::flat_buffer buf;
  long posted = 0, post_errors = 0;
  const auto post_start = Clock::now();
  for (int n = 0; n < posts_per_s * post_seconds; ++n) {
    std::this_thread::sleep_until(post_start + std::chrono::microseconds(1000000LL * n / posts_per_s));
    std::string marker = "wsbench " + std::to_string(wall_ms());
    http::request<http::string_body> req{http::verb::post, "/api/v1/tickets", 11};
    req.set(http::field::host, hostport);
    req.set(http::field::authorization, "Bearer " + keys[static_cast<std::size_t>(n) % keys.size()]);
    req.set(http::field::content_type, "application/json");
    req.body() = "{\"subject\":\"" + marker + "\",\"body\":\"" + marker + "\",\"channel\":\"phone\"}";
    req.prepare_payload();
    boost::system::error_code ec;
    http::write(sock, req, ec);
    http::response<http::string_body> res;
    if (!ec) http::read(sock, buf, res, ec);
    if (ec || res.result_int() != 201)
      ++post_errors;
    else
      ++posted;
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the last events arrive
  auto [cpu2, rss2] = cpu_and_rss(pid);
  std::vector<double> lat;
  {
    std::lock_guard lock(shared.mu);
    lat = shared.latencies;
  }
  const int per_workspace = connections / static_cast<int>(keys.size());
  std::printf(
      "{\"connections\":%d,\"ready\":%d,\"failed\":%d,\"connect_seconds\":%.1f,\"idle_cpu_cores\":%.3f,"
      "\"idle_rss_mb\":%.1f,\"peak_rss_mb\":%.1f,\"workspaces\":%zu,\"sockets_per_workspace\":%d,"
      "\"tickets_posted\":%ld,\"post_errors\":%ld,\"events_per_s\":%.0f,\"deliveries\":%ld,"
      "\"expected_deliveries\":%ld,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f}\n",
      connections, shared.ready.load(), shared.failed.load(), connect_s, idle_cores, rss1, std::max(rss1, rss2),
      keys.size(), per_workspace, posted, post_errors, 2.0 * static_cast<double>(posted) / post_seconds,
      shared.deliveries.load(), 2L * posted * per_workspace, percentile(lat, 0.5), percentile(lat, 0.99),
      lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end()));
  std::fflush(stdout);
  std::_Exit(0);  // thousands of sockets: let the kernel close them
}
