// loket-bench-load: an open-loop webhook load generator for benchmarks (issue 7; not a test).
//   loket-bench-load URL INTEGRATION_ID SECRET RATE SECONDS CONNECTIONS RUN_ID [CHATS [FIRST_ID
//                    [cloud=PHONE_NUMBER_ID:APP_SECRET] [twilio=ACCOUNT_SID:AUTH_TOKEN:NUMBER:TARGET]
//                    [email=PASSWORD:RECIPIENT]]]
// Sends RATE unique webhooks per second for SECONDS from CONNECTIONS keep-alive connections:
// Telegram Updates to URL/api/v1/webhooks/telegram/INTEGRATION_ID with the secret token (none
// when INTEGRATION_ID is "-") and, taking turns with them, for each WhatsApp number given:
// - cloud=: Cloud API text messages to URL/api/v1/webhooks/whatsapp-cloud, signed like Meta's
//   (X-Hub-Signature-256: HMAC-SHA256 of the body with the app secret);
// - twilio=: Twilio WhatsApp message webhooks (form fields as Twilio posts them) to URL + TARGET
//   (the path and ?secret= query of the number's webhookUrl), with X-Twilio-Signature over
//   URL + TARGET and the parameters (the ingress's public URL must be URL);
// - email=: raw RFC 5322 messages to URL/api/v1/webhooks/email/mime?recipient=RECIPIENT as an MTA
//   posts them (HTTP Basic, the password LOKET_EMAIL_INGRESS_PASSWORD), a quarter each plain
//   text, HTML only, multipart/mixed with a 100 KB PDF attachment, and ISO-2022-JP text; each
//   from a sender of its own (one ticket per message, as new mail is). Request i is due at
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
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "emails.hpp"
#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/twilio/twilio.hpp"

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

// A Telegram Update (Bot API `Update` with a private text message).
std::string update(long long i, long long chats, const std::string& run, long long sent_ms) {
  long long chat = 5000000000LL + i % chats;
  std::string n = std::to_string(i);
  return "{\"update_id\":" + n + ",\"message\":{\"message_id\":" + n + ",\"from\":{\"id\":" + std::to_string(chat) +
         ",\"is_bot\":false,\"first_name\":\"Bench\"},\"chat\":{\"id\":" + std::to_string(chat) +
         ",\"type\":\"private\",\"first_name\":\"Bench\"},\"date\":1767225600,\"text\":\"" +
         bench::text(run, i, sent_ms) + "\"}}";
}

// A WhatsApp Cloud API `messages` webhook with one text message from an Indonesian number.
std::string cloud_message(long long i, long long chats, const std::string& run, long long sent_ms,
                          const std::string& phone_number_id) {
  std::string wa_id = std::to_string(6289900000000LL + i % chats);
  return "{\"object\":\"whatsapp_business_account\",\"entry\":[{\"id\":\"102290129340398\",\"changes\":[{\"value\":"
         "{\"messaging_product\":\"whatsapp\",\"metadata\":{\"display_phone_number\":\"6281100000001\","
         "\"phone_number_id\":\"" +
         phone_number_id +
         "\"},\"contacts\":[{\"profile\":{\"name\":\"Bench\"},"
         "\"wa_id\":\"" +
         wa_id + "\"}],\"messages\":[{\"from\":\"" + wa_id + "\",\"id\":\"wamid.bench" + std::to_string(i) +
         "\",\"timestamp\":\"1767225600\",\"type\":\"text\",\"text\":{\"body\":\"" + bench::text(run, i, sent_ms) +
         "\"}}]},\"field\":\"messages\"}]}]}";
}

// A Twilio WhatsApp message webhook's form parameters (as Twilio posts them, text only).
std::multimap<std::string, std::string> twilio_message(long long i, long long chats, const std::string& run,
                                                       long long sent_ms, const std::string& account_sid,
                                                       const std::string& number) {
  std::string from = "+" + std::to_string(6289800000000LL + i % chats);
  std::string sid = "SMbench" + std::to_string(i);
  return {{"SmsMessageSid", sid},
          {"NumMedia", "0"},
          {"ProfileName", "Bench"},
          {"MessageType", "text"},
          {"SmsSid", sid},
          {"WaId", from.substr(1)},
          {"SmsStatus", "received"},
          {"Body", bench::text(run, i, sent_ms)},
          {"To", "whatsapp:" + number},
          {"NumSegments", "1"},
          {"ReferralNumMedia", "0"},
          {"MessageSid", sid},
          {"AccountSid", account_sid},
          {"From", "whatsapp:" + from},
          {"ApiVersion", "2010-04-01"}};
}

// `s` split at its first `n` colons (the last part keeps any further ones); empty if fewer.
std::vector<std::string> fields(const std::string& s, std::size_t n) {
  std::vector<std::string> out;
  std::size_t at = 0;
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t colon = s.find(':', at);
    if (colon == std::string::npos) return {};
    out.push_back(s.substr(at, colon - at));
    at = colon + 1;
  }
  out.push_back(s.substr(at));
  return out;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc < 8) {
    std::fprintf(stderr,
                 "usage: loket-bench-load URL INTEGRATION_ID SECRET RATE SECONDS CONNECTIONS RUN_ID "
                 "[CHATS [FIRST_ID [cloud=PHONE_NUMBER_ID:APP_SECRET] [twilio=ACCOUNT_SID:AUTH_TOKEN:NUMBER:TARGET] "
                 "[email=PASSWORD:RECIPIENT]]]\n");
    return 2;
  }
  std::string url = argv[1], integration = argv[2], secret = argv[3], run = argv[7];
  double rate = std::stod(argv[4]);
  double seconds = std::stod(argv[5]);
  int connections = std::stoi(argv[6]);
  long long chats = argc > 8 ? std::stoll(argv[8]) : 1000;
  long long first_id = argc > 9 ? std::stoll(argv[9]) : 1;
  // The channels that take turns: Telegram, then each WhatsApp number and email alias given.
  enum class Channel { kTelegram, kCloud, kTwilio, kEmail };
  std::vector<Channel> channels;
  if (integration != "-") channels.push_back(Channel::kTelegram);
  // cloud: id, app secret; twilio: sid, token, number, target; email: password, recipient
  std::vector<std::string> cloud, twilio, email;
  for (int a = 10; a < argc; ++a) {
    std::string arg = argv[a];
    if (arg.rfind("cloud=", 0) == 0 && (cloud = fields(arg.substr(6), 1)).size() == 2)
      channels.push_back(Channel::kCloud);
    else if (arg.rfind("twilio=", 0) == 0 && (twilio = fields(arg.substr(7), 3)).size() == 4)
      channels.push_back(Channel::kTwilio);
    else if (arg.rfind("email=", 0) == 0 && (email = fields(arg.substr(6), 1)).size() == 2)
      channels.push_back(Channel::kEmail);
    else {
      std::fprintf(stderr, "loket-bench-load: cannot use %s\n", argv[a]);
      return 2;
    }
  }
  if (channels.empty()) {
    std::fprintf(stderr, "loket-bench-load: no channel to send to\n");
    return 2;
  }
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
  const auto wall_start_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count() +
      200;
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
        long long n = first_id + i;
        switch (channels[static_cast<std::size_t>(n) % channels.size()]) {
          case Channel::kTelegram:
            req.set("X-Telegram-Bot-Api-Secret-Token", secret);
            req.body() = update(n, chats, run, due_ms);
            break;
          case Channel::kCloud:
            req.target("/api/v1/webhooks/whatsapp-cloud");
            req.body() = cloud_message(n, chats, run, due_ms, cloud[0]);
            req.set("X-Hub-Signature-256",
                    "sha256=" + loket::core::to_hex(loket::crypto::hmac_sha256(cloud[1], req.body())));
            break;
          case Channel::kTwilio: {
            auto params = twilio_message(n, chats, run, due_ms, twilio[0], twilio[2]);
            req.target(twilio[3]);
            req.set(http::field::content_type, "application/x-www-form-urlencoded");
            std::string form;
            for (const auto& [k, v] : params)
              form += (form.empty() ? "" : "&") + k + "=" + loket::http::percent_encode(v);
            req.body() = std::move(form);
            req.set("X-Twilio-Signature", loket::providers::twilio::signature(twilio[1], url + twilio[3], params));
            break;
          }
          case Channel::kEmail:
            req.target("/api/v1/webhooks/email/mime?recipient=" + loket::http::percent_encode(email[1]));
            req.set(http::field::content_type, "message/rfc822");
            req.set(http::field::authorization, "Basic " + loket::core::base64("mta:" + email[0]));
            req.body() = bench::email_message(n, run, due_ms, email[1]);
            break;
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
