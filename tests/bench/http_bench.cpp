// loket-bench-http: a closed-loop HTTP load generator for benchmarks (not a test).
//   loket-bench-http URL TOKEN CONNECTIONS SECONDS [PATH ...]
// Each connection is one thread with one keep-alive connection sending GET requests back to
// back, cycling through the PATHs. Prints requests/s, errors and latency percentiles (ms) as
// one JSON line.
#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: loket-bench-http URL TOKEN CONNECTIONS SECONDS PATH [PATH ...]\n");
    return 2;
  }
  std::string url = argv[1], token = argv[2];
  int connections = std::stoi(argv[3]);
  auto duration = std::chrono::seconds(std::stoi(argv[4]));
  std::vector<std::string> paths(argv + 5, argv + argc);
  auto hostport = url.substr(url.find("//") + 2);
  std::string host = hostport.substr(0, hostport.find(':')), port = hostport.substr(hostport.find(':') + 1);

  std::mutex mu;
  std::vector<double> latencies;
  std::atomic<long> errors{0};
  auto end = Clock::now() + duration;
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&, c] {
      std::vector<double> mine;
      asio::io_context io;
      asio::ip::tcp::socket sock(io);
      asio::connect(sock, asio::ip::tcp::resolver(io).resolve(host, port));
      sock.set_option(asio::ip::tcp::no_delay(true));
      boost::beast::flat_buffer buf;
      for (std::size_t i = static_cast<std::size_t>(c); Clock::now() < end; ++i) {
        http::request<http::empty_body> req{http::verb::get, paths[i % paths.size()], 11};
        req.set(http::field::host, hostport);
        req.set(http::field::authorization, "Bearer " + token);
        auto t0 = Clock::now();
        boost::system::error_code ec;
        http::write(sock, req, ec);
        http::response<http::string_body> res;
        if (!ec) http::read(sock, buf, res, ec);
        if (ec) {
          ++errors;
          sock.close();
          sock = asio::ip::tcp::socket(io);
          asio::connect(sock, asio::ip::tcp::resolver(io).resolve(host, port));
          continue;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (res.result_int() != 200) ++errors;
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) {
    return latencies.empty()
               ? 0.0
               : latencies[std::min(latencies.size() - 1, static_cast<std::size_t>(p * latencies.size()))];
  };
  std::printf(
      "{\"requests\":%zu,\"errors\":%ld,\"rps\":%.0f,\"p50_ms\":%.2f,\"p90_ms\":%.2f,\"p99_ms\":%.2f,\"max_ms\":%.2f}"
      "\n",
      latencies.size(), errors.load(), latencies.size() / static_cast<double>(duration.count()), pct(0.5), pct(0.9),
      pct(0.99), latencies.empty() ? 0.0 : latencies.back());
  return errors.load() == 0 ? 0 : 1;
}
