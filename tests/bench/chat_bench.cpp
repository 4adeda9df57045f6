// loket-bench-chat: live-chat visitors at scale against one loket-api (issue 17; not a test).
//   loket-bench-chat API_URL ACCOUNT_ID AGENT_KEY VISITORS API_PID REPLIES_PER_S REPLY_SECONDS RECONNECTS
// 1. Starts VISITORS visitor sessions, each with a first message (a chat ticket each), over 32
//    keep-alive connections, and opens each visitor's WebSocket (/api/v1/widget/realtime).
// 2. Idle for 10 s: the api's CPU (cores) and RSS from /proc/API_PID.
// 3. Agent replies at REPLIES_PER_S for REPLY_SECONDS to tickets taking turns; latency = the
//    reply arriving on its visitor's socket − the request sent (the body carries the send time).
// 4. A deploy: RECONNECTS sockets drop at once; one agent reply goes to each of their tickets
//    while they are away; all reconnect at once and catch up by sequence
//    (GET /api/v1/widget/conversation?after=<last seq seen>). Counts how many got exactly the
//    one message they missed, and the time from reconnecting until the last one did.
// Prints one JSON line with the figures.
#include <rapidjson/document.h>
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
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

struct Visitor {
  std::string token, ticket;
  std::atomic<long long> last_seq{0};
  std::shared_ptr<websocket::stream<beast::tcp_stream>> ws;
  std::atomic<bool> live{false};
};

struct Shared {
  std::string host, port, account, key;
  std::vector<std::unique_ptr<Visitor>> visitors;
  std::atomic<int> ready{0}, failed{0}, setup_failed{0};
  std::mutex mu;
  std::vector<double> latencies;  // ms
  std::atomic<long> deliveries{0};
  std::atomic<int> resumed{0}, resume_wrong{0};
  std::atomic<long long> last_resumed_ms{0};
};

// One HTTP exchange on a keep-alive stream.
asio::awaitable<http::response<http::string_body>> exchange(beast::tcp_stream& s, Shared& sh, http::verb verb,
                                                            const std::string& target, const std::string& auth,
                                                            const std::string& body) {
  http::request<http::string_body> req{verb, target, 11};
  req.set(http::field::host, sh.host + ":" + sh.port);
  if (!auth.empty()) req.set(http::field::authorization, "Bearer " + auth);
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  co_await http::async_write(s, req, asio::use_awaitable);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  co_await http::async_read(s, buf, res, asio::use_awaitable);
  co_return res;
}

// Visitors i, i + stride, …: a session, a first message, the ticket id.
asio::awaitable<void> setup(Shared& sh, std::size_t first, std::size_t stride) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream s(ex);
  co_await s.async_connect(co_await tcp::resolver(ex).async_resolve(sh.host, sh.port, asio::use_awaitable),
                           asio::use_awaitable);
  for (std::size_t i = first; i < sh.visitors.size(); i += stride) {
    auto& v = *sh.visitors[i];
    rapidjson::Document d;
    auto r = co_await exchange(s, sh, http::verb::post, "/api/v1/widget/sessions", "",
                               "{\"accountId\":\"" + sh.account + "\"}");
    d.Parse(r.body().c_str());
    if (r.result_int() != 201) {
      ++sh.setup_failed;
      continue;
    }
    v.token = d["data"]["visitorToken"].GetString();
    r = co_await exchange(s, sh, http::verb::post, "/api/v1/widget/conversation/messages", v.token,
                          "{\"clientMessageId\":\"b1\",\"body\":\"hello from visitor " + std::to_string(i) + "\"}");
    if (r.result_int() != 201) {
      ++sh.setup_failed;
      continue;
    }
    r = co_await exchange(s, sh, http::verb::get, "/api/v1/widget/conversation", v.token, "");
    d.Parse(r.body().c_str());
    v.ticket = d["data"]["ticketId"].GetString();
    v.last_seq = d["data"]["messages"][d["data"]["messages"].Size() - 1]["seq"].GetInt64();
  }
}

// Catches visitor `v` up after a reconnect: expects exactly one agent message after last_seq.
asio::awaitable<void> resume(Shared& sh, Visitor& v) {
  auto ex = co_await asio::this_coro::executor;
  beast::tcp_stream s(ex);
  co_await s.async_connect(co_await tcp::resolver(ex).async_resolve(sh.host, sh.port, asio::use_awaitable),
                           asio::use_awaitable);
  auto r = co_await exchange(s, sh, http::verb::get,
                             "/api/v1/widget/conversation?after=" + std::to_string(v.last_seq.load()), v.token, "");
  rapidjson::Document d;
  d.Parse(r.body().c_str());
  bool one = r.result_int() == 200 && d["data"]["messages"].Size() == 1 &&
             std::string(d["data"]["messages"][0]["body"].GetString()).rfind("missed ", 0) == 0;
  if (one) {
    v.last_seq = d["data"]["messages"][0]["seq"].GetInt64();
    ++sh.resumed;
    sh.last_resumed_ms = std::max(sh.last_resumed_ms.load(), wall_ms());
  } else {
    ++sh.resume_wrong;
  }
}

asio::awaitable<void> client(Shared& sh, Visitor& v, bool resuming) {
  try {
    auto ex = co_await asio::this_coro::executor;
    auto ws = std::make_shared<websocket::stream<beast::tcp_stream>>(ex);
    auto endpoints = co_await tcp::resolver(ex).async_resolve(sh.host, sh.port, asio::use_awaitable);
    beast::get_lowest_layer(*ws).expires_after(std::chrono::seconds(60));
    co_await beast::get_lowest_layer(*ws).async_connect(endpoints, asio::use_awaitable);
    co_await ws->async_handshake(sh.host + ":" + sh.port, "/api/v1/widget/realtime?visitor_token=" + v.token,
                                 asio::use_awaitable);
    beast::get_lowest_layer(*ws).expires_never();
    ws->set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    v.ws = ws;
    beast::flat_buffer buf;
    bool counted = false;
    for (;;) {
      co_await ws->async_read(buf, asio::use_awaitable);
      std::string text = beast::buffers_to_string(buf.data());
      buf.consume(buf.size());
      if (!counted && text.find("\"type\":\"ready\"") != std::string::npos) {
        counted = true;
        v.live = true;
        if (resuming)
          asio::co_spawn(ex, resume(sh, v), asio::detached);
        else
          ++sh.ready;
        continue;
      }
      auto at = text.find("chatbench ");
      if (at == std::string::npos) continue;
      double sent = std::stod(text.substr(at + 10, 13));
      auto seq_at = text.find("\"seq\":");
      if (seq_at != std::string::npos) v.last_seq = std::stoll(text.substr(seq_at + 6));
      ++sh.deliveries;
      std::lock_guard lock(sh.mu);
      sh.latencies.push_back(static_cast<double>(wall_ms()) - sent);
    }
  } catch (const std::exception&) {
    if (!v.live && !resuming) ++sh.failed;
    v.live = false;
  }
}

// Posts `body` as an agent reply on `ticket` over the blocking keep-alive socket `sock`.
bool reply(tcp::socket& sock, Shared& sh, const std::string& ticket, const std::string& body) {
  http::request<http::string_body> req{http::verb::post, "/api/v1/tickets/" + ticket + "/messages", 11};
  req.set(http::field::host, sh.host + ":" + sh.port);
  req.set(http::field::authorization, "Bearer " + sh.key);
  req.set(http::field::content_type, "application/json");
  req.body() = "{\"body\":\"" + body + "\"}";
  req.prepare_payload();
  boost::system::error_code ec;
  http::write(sock, req, ec);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  if (!ec) http::read(sock, buf, res, ec);
  return !ec && res.result_int() == 201;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr,
                 "usage: loket-bench-chat API_URL ACCOUNT_ID AGENT_KEY VISITORS API_PID REPLIES_PER_S REPLY_SECONDS "
                 "RECONNECTS\n");
    return 2;
  }
  Shared sh;
  std::string url = argv[1], pid = argv[5];
  sh.account = argv[2];
  sh.key = argv[3];
  const int visitors = std::stoi(argv[4]), per_s = std::stoi(argv[6]), reply_seconds = std::stoi(argv[7]),
            reconnects = std::min(std::stoi(argv[8]), visitors);
  auto hostport = url.substr(url.find("//") + 2);
  sh.host = hostport.substr(0, hostport.find(':'));
  sh.port = hostport.substr(hostport.find(':') + 1);
  for (int i = 0; i < visitors; ++i) sh.visitors.push_back(std::make_unique<Visitor>());

  asio::io_context io;
  auto started = Clock::now();
  for (std::size_t w = 0; w < 32; ++w) asio::co_spawn(io, setup(sh, w, 32), asio::detached);
  io.run();
  const double setup_s = std::chrono::duration<double>(Clock::now() - started).count();
  io.restart();

  started = Clock::now();
  for (int i = 0; i < visitors; ++i) {
    if (sh.visitors[i]->ticket.empty()) continue;
    asio::co_spawn(io, client(sh, *sh.visitors[i], false), asio::detached);
    if (i % 200 == 199) io.run_for(std::chrono::milliseconds(50));  // do not flood the listen backlog
  }
  std::thread loop([&] {
    auto guard = asio::make_work_guard(io);
    io.run();
  });
  const int want = visitors - sh.setup_failed;
  while (sh.ready + sh.failed < want && Clock::now() - started < std::chrono::seconds(180))
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const double connect_s = std::chrono::duration<double>(Clock::now() - started).count();
  auto [cpu0, rss0] = cpu_and_rss(pid);
  std::this_thread::sleep_for(std::chrono::seconds(10));
  auto [cpu1, rss1] = cpu_and_rss(pid);

  // 3. Replies at a fixed rate, tickets taking turns.
  asio::io_context pio;
  tcp::socket sock(pio);
  asio::connect(sock, tcp::resolver(pio).resolve(sh.host, sh.port));
  long posted = 0, post_errors = 0;
  const auto post_start = Clock::now();
  for (int n = 0; n < per_s * reply_seconds; ++n) {
    std::this_thread::sleep_until(post_start + std::chrono::microseconds(1000000LL * n / per_s));
    const auto& v = *sh.visitors[static_cast<std::size_t>(n * 7919) % sh.visitors.size()];
    if (v.ticket.empty()) continue;
    (reply(sock, sh, v.ticket, "chatbench " + std::to_string(wall_ms())) ? posted : post_errors) += 1;
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));  // the last replies arrive
  auto [cpu2, rss2] = cpu_and_rss(pid);

  // 4. A deploy: RECONNECTS visitors drop, miss one reply each, and come back at once.
  std::vector<Visitor*> away;
  for (int i = 0; i < visitors && static_cast<int>(away.size()) < reconnects; ++i)
    if (sh.visitors[i]->live) away.push_back(sh.visitors[i].get());
  for (auto* v : away) {
    auto ws = v->ws;
    asio::post(io, [ws] { beast::get_lowest_layer(*ws).close(); });
  }
  std::this_thread::sleep_for(std::chrono::seconds(1));
  long missed_posted = 0;
  for (auto* v : away) missed_posted += reply(sock, sh, v->ticket, "missed " + std::to_string(wall_ms()));
  const long long back_at = wall_ms();
  for (auto* v : away) asio::post(io, [&sh, v, &io] { asio::co_spawn(io, client(sh, *v, true), asio::detached); });
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (sh.resumed + sh.resume_wrong < static_cast<int>(away.size()) && Clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const double resume_s = sh.resumed ? static_cast<double>(sh.last_resumed_ms - back_at) / 1000 : -1;

  std::vector<double> lat;
  {
    std::lock_guard lock(sh.mu);
    lat = sh.latencies;
  }
  std::printf(
      "{\"visitors\":%d,\"setup_failed\":%d,\"setup_seconds\":%.1f,\"ready\":%d,\"failed\":%d,"
      "\"connect_seconds\":%.1f,\"idle_cpu_cores\":%.3f,\"idle_rss_mb\":%.1f,\"peak_rss_mb\":%.1f,"
      "\"replies_posted\":%ld,\"reply_errors\":%ld,\"replies_per_s\":%d,\"deliveries\":%ld,\"p50_ms\":%.1f,"
      "\"p99_ms\":%.1f,\"max_ms\":%.1f,\"reconnected\":%zu,\"missed_posted\":%ld,\"resumed_exactly\":%d,"
      "\"resumed_wrong\":%d,\"resume_seconds\":%.2f}\n",
      visitors, sh.setup_failed.load(), setup_s, sh.ready.load(), sh.failed.load(), connect_s, (cpu1 - cpu0) / 10, rss1,
      std::max(rss1, rss2), posted, post_errors, per_s, sh.deliveries.load(), percentile(lat, 0.5),
      percentile(lat, 0.99), lat.empty() ? 0 : *std::max_element(lat.begin(), lat.end()), away.size(), missed_posted,
      sh.resumed.load(), sh.resume_wrong.load(), resume_s);
  std::fflush(stdout);
  std::_Exit(0);  // thousands of sockets: let the kernel close them
}
