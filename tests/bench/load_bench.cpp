// loket-bench-load: an open-loop webhook load generator for benchmarks (issue 7; not a test).
//   loket-bench-load URL INTEGRATION_ID SECRET RATE SECONDS CONNECTIONS RUN_ID [CHATS [FIRST_ID [CLOUD]]]
// Sends RATE unique Telegram Updates per second for SECONDS to URL/api/v1/webhooks/telegram/
// INTEGRATION_ID with the secret token, from CONNECTIONS keep-alive connections. With CLOUD
// ("PHONE_NUMBER_ID:APP_SECRET" of a connected WhatsApp Cloud API number), every other webhook
// is instead a Cloud API text message to URL/api/v1/webhooks/whatsapp-cloud, signed like Meta's
// (X-Hub-Signature-256: HMAC-SHA256 of the body with the app secret). Request i is due at
// start + i/RATE; its latency runs from that intended time to the answer, so a stall shows up
// as latency instead of silently lowering the offered load (no coordinated omission). Each
// message text is "bench RUN_ID i <intended epoch ms>", so the end-to-end latency can be
// computed in SQL from the committed message. Update, message and wamid numbers run from
// FIRST_ID (default 1): runs against one integration must not overlap, or the pipeline rightly
// drops the repeats as duplicates. Messages go round-robin to CHATS chats (default 1,000) per
// channel. Prints one JSON line.
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

#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"

namespace asio = boost::asio;
namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {
double percentile(std::vector<double>& v, double p) {
  if (v.empty()) return 0;
  auto k = static_cast<std::size_t>(std::min<double>(v.size() - 1, p * static_cast<double>(v.size())));
  std::nth_element(v.begin(), v.begin() + static_cast<long>(k), v.end());
  return v[k];
}

std::string text(const std::string& run, long long i, long long sent_ms) {
  return "bench " + run + " " + std::to_string(i) + " " + std::to_string(sent_ms);
}

// A Telegram Update (Bot API `Update` with a private text message).
std::string update(long long i, long long chats, const std::string& run, long long sent_ms) {
  long long chat = 5000000000LL + i % chats;
  std::string n = std::to_string(i);
  return "{\"update_id\":" + n + ",\"message\":{\"message_id\":" + n + ",\"from\":{\"id\":" + std::to_string(chat) +
         ",\"is_bot\":false,\"first_name\":\"Bench\"},\"chat\":{\"id\":" + std::to_string(chat) +
         ",\"type\":\"private\",\"first_name\":\"Bench\"},\"date\":1767225600,\"text\":\"" + text(run, i, sent_ms) + "\"}}";
}

// A WhatsApp Cloud API `messages` webhook with one text message from an Indonesian number.
std::string cloud_message(long long i, long long chats, const std::string& run, long long sent_ms,
                          const std::string& phone_number_id) {
  std::string wa_id = std::to_string(6289900000000LL + i % chats);
  return "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\",\"changes\":[{\"value\":"
         "{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"6281100000001\","
         "\"phone_number_id\":\"" + phone_number_id + "\"},\"contacts\":[{\"profile\":{\"name\":\"Bench\"},"
         "\"wa_id\":\"" + wa_id + "\"}],\"messages\":[{\"from\":\"" + wa_id + "\",\"id\":\"wamid.bench" +
         std::to_string(i) + "\",\"timestamp\":\"1767225600\",\"type\":\"text\",\"text\":{\"body\":\"" +
         text(run, i, sent_ms) + "\"}}]},\"field\":\"messages\"}]}]}";
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(stderr, "usage: loket-bench-load URL INTEGRATION_ID SECRET RATE SECONDS CONNECTIONS RUN_ID "
                         "[CHATS [FIRST_ID [PHONE_NUMBER_ID:APP_SECRET]]]\n");
    return 2;
  }
  std::string url = argv[1], integration = argv[2], secret = argv[3], run = argv[7];
  double rate = std::stod(argv[4]);
  double seconds = std::stod(argv[5]);
  int connections = std::stoi(argv[6]);
  long long chats = argc > 8 ? std::stoll(argv[8]) : 1000;
  long long first_id = argc > 9 ? std::stoll(argv[9]) : 1;
  std::string cloud = argc > 10 ? argv[10] : "";
  std::string cloud_number = cloud.substr(0, cloud.find(':'));
  std::string app_secret = cloud.find(':') == std::string::npos ? "" : cloud.substr(cloud.find(':') + 1);
  auto hostport = url.substr(url.find("//") + 2);
  std::string host = hostport.substr(0, hostport.find(':')), port = hostport.substr(hostport.find(':') + 1);
  const std::string target = "/api/v1/webhooks/telegram/" + integration;
  const long long total = static_cast<long long>(rate * seconds);

  std::atomic<long long> next{0};
  std::atomic<long> errors{0}, ok{0};
  std::mutex mu;
  std::vector<double> latencies;
  latencies.reserve(static_cast<std::size_t>(total));
  const auto start = Clock::now() + std::chrono::milliseconds(200);
  const auto wall_start_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch()).count() + 200;
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c) {
    threads.emplace_back([&] {
      std::vector<double> mine;
      asio::io_context io;
      asio::ip::tcp::socket sock(io);
      auto reconnect = [&] {
        boost::system::error_code ec;
        sock.close(ec);
        sock = asio::ip::tcp::socket(io);
        asio::connect(sock, asio::ip::tcp::resolver(io).resolve(host, port), ec);
        if (!ec) sock.set_option(asio::ip::tcp::no_delay(true));
      };
      reconnect();
      boost::beast::flat_buffer buf;
      for (long long i; (i = next++) < total;) {
        auto due = start + std::chrono::nanoseconds(static_cast<long long>(static_cast<double>(i) * 1e9 / rate));
        std::this_thread::sleep_until(due);
        long long due_ms = wall_start_ms + static_cast<long long>(static_cast<double>(i) * 1000.0 / rate);
        http::request<http::string_body> req{http::verb::post, target, 11};
        req.set(http::field::host, hostport);
        req.set(http::field::content_type, "application/json");
        if (!cloud.empty() && (first_id + i) % 2 == 1) {
          req.target("/api/v1/webhooks/whatsapp-cloud");
          req.body() = cloud_message(first_id + i, chats, run, due_ms, cloud_number);
          req.set("X-Hub-Signature-256", "sha256=" + loket::core::to_hex(loket::crypto::hmac_sha256(app_secret, req.body())));
        } else {
          req.set("X-Telegram-Bot-Api-Secret-Token", secret);
          req.body() = update(first_id + i, chats, run, due_ms);
        }
        req.prepare_payload();
        boost::system::error_code ec;
        http::write(sock, req, ec);
        http::response<http::string_body> res;
        if (!ec) http::read(sock, buf, res, ec);
        double ms = std::chrono::duration<double, std::milli>(Clock::now() - due).count();
        if (ec || res.result_int() != 200) {
          ++errors;
          if (ec) reconnect();
          continue;
        }
        ++ok;
        mine.push_back(ms);
      }
      std::lock_guard lock(mu);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::printf(
      "{\"offered_per_s\":%.0f,\"sent\":%lld,\"acknowledged\":%ld,\"errors\":%ld,\"acknowledged_per_s\":%.1f,"
      "\"p50_ms\":%.2f,\"p99_ms\":%.2f,\"p999_ms\":%.2f,\"max_ms\":%.2f,\"seconds\":%.2f}\n",
      rate, total, ok.load(), errors.load(), static_cast<double>(ok.load()) / elapsed, percentile(latencies, 0.50),
      percentile(latencies, 0.99), percentile(latencies, 0.999), percentile(latencies, 1.0), elapsed);
  return 0;
}
