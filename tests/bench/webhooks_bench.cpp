// loket-bench-webhooks: integrators' outgoing webhooks through the real outbound (issue 18; not
// a test).
//   loket-bench-webhooks API_URL API_KEY ACCOUNT_ID BROKERS BURST RATE SECONDS
// A local receiver (answers 200 at once on /fast/…, after 10 s on /slow/…) and one endpoint of
// the workspace on /fast subscribed to csat.recorded. Events are produced straight onto
// ticket.events (the writer's output), each on a ticket of its own among 1,000, so outbound's
// fan-out and dispatcher are what is measured:
// 1. Throughput: BURST events at once; deliveries/s from the first produce to the last receipt.
// 2. Latency: RATE events/s for SECONDS; event (occurredAt) → received, p50/p99.
// 3. The same with a second endpoint on /slow (every attempt times out): the /fast p99 again.
// Prints one JSON line, and deletes its endpoints.
#include <rapidjson/document.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "loket/core/ids.hpp"
#include "loket/core/time.hpp"
#include "loket/http/client.hpp"
#include "loket/http/server.hpp"
#include "loket/kafka/kafka.hpp"
#include "ws_common.hpp"

namespace {
using bench::percentile;

struct Receiver {
  std::mutex mu;
  std::vector<double> latencies;  // ms, /fast only
  std::atomic<long> fast{0}, slow{0};
  long long last_ms = 0;
};

long long occurred_ms(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  if (!d.IsObject() || !d.HasMember("occurredAt")) return 0;
  std::string at = d["occurredAt"].GetString();  // 2026-11-30T10:00:00.123Z
  std::tm tm{};
  if (!strptime(at.c_str(), "%Y-%m-%dT%H:%M:%S", &tm)) return 0;
  return static_cast<long long>(timegm(&tm)) * 1000 + std::stoi(at.substr(20, 3));
}

std::string event(const std::string& account, int ticket) {
  char id[32];
  std::snprintf(id, sizeof id, "tkt_%024x", ticket);
  return R"({"eventId":")" + loket::core::new_id("evt") +
         R"(","schemaVersion":1,"type":"csat.recorded","occurredAt":")" +
         loket::core::rfc3339_ms(loket::core::now_ms()) + R"(","workspaceId":")" + account + R"(","ticketId":")" + id +
         R"(","data":{"csat":{"score":5,"comment":null}}})";
}

std::string endpoint(const std::string& api, const std::string& key, const std::string& url) {
  loket::http::ClientRequest req;
  req.method = "POST";
  req.url = api + "/api/v1/webhook-endpoints";
  req.headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "application/json"}};
  req.body = R"({"url":")" + url + R"(","events":["csat.recorded"]})";
  auto res = loket::http::fetch(req);
  if (res.status != 201) throw std::runtime_error("creating an endpoint: " + std::to_string(res.status) + res.body);
  rapidjson::Document d;
  d.Parse(res.body.c_str());
  return d["data"]["id"].GetString();
}

// Produces `n` events at `rate`/s (0: as fast as possible), tickets taking turns among 1,000.
void produce(loket::kafka::Producer& p, const std::string& account, long n, int rate, int& next_ticket) {
  auto start = std::chrono::steady_clock::now();
  for (long i = 0; i < n; ++i) {
    if (rate > 0) std::this_thread::sleep_until(start + std::chrono::microseconds(i * 1000000 / rate));
    int t = next_ticket++ % 1000;
    p.produce("ticket.events", "tkt" + std::to_string(t), event(account, t), [](const std::string&) {});
  }
  p.flush(std::chrono::seconds(30));
}

bool wait_for(const std::atomic<long>& count, long target, int seconds) {
  for (int i = 0; i < seconds * 10 && count < target; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  return count >= target;
}
}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::fprintf(stderr, "usage: loket-bench-webhooks API_URL API_KEY ACCOUNT_ID BROKERS BURST RATE SECONDS\n");
    return 2;
  }
  const std::string api = argv[1], key = argv[2], account = argv[3], brokers = argv[4];
  const long burst = std::stol(argv[5]);
  const int rate = std::stoi(argv[6]), secs = std::stoi(argv[7]);
  Receiver r;
  loket::http::ServerOptions so;
  so.address = "127.0.0.1";
  so.handler_threads = 128;
  loket::http::Server server(so, [&](const loket::http::Request& req) {
    loket::http::Response res;
    res.status = 200;
    res.body = "{}";
    if (req.path.rfind("/slow", 0) == 0) {
      std::this_thread::sleep_for(std::chrono::seconds(10));
      ++r.slow;
      return res;
    }
    const long long now = loket::core::now_ms();
    {
      std::lock_guard lock(r.mu);
      r.latencies.push_back(static_cast<double>(now - occurred_ms(req.body)));
      r.last_ms = now;
    }
    ++r.fast;
    return res;
  });
  server.start();
  const std::string base = "http://127.0.0.1:" + std::to_string(server.port());
  std::vector<std::string> endpoints;  // deleted at the end: a later run's receiver may get this port
  auto remove_endpoints = [&] {
    for (const auto& id : endpoints) {
      loket::http::ClientRequest req;
      req.method = "DELETE";
      req.url = api + "/api/v1/webhook-endpoints/" + id;
      req.headers = {{"Authorization", "Bearer " + key}};
      loket::http::fetch(req);
    }
  };
  try {
    endpoints.push_back(endpoint(api, key, base + "/fast/" + loket::core::new_id("b")));
    loket::kafka::Producer producer({{"bootstrap.servers", brokers}, {"linger.ms", "5"}});
    int next_ticket = 0;

    // 1. Throughput.
    const long long started = loket::core::now_ms();
    produce(producer, account, burst, 0, next_ticket);
    if (!wait_for(r.fast, burst, 300)) throw std::runtime_error("the burst was not all delivered");
    const double per_s = static_cast<double>(burst) * 1000.0 / static_cast<double>(r.last_ms - started);

    // 2. Latency at RATE.
    auto measure = [&]() {
      {
        std::lock_guard lock(r.mu);
        r.latencies.clear();
      }
      const long before = r.fast;
      produce(producer, account, static_cast<long>(rate) * secs, rate, next_ticket);
      if (!wait_for(r.fast, before + static_cast<long>(rate) * secs, 120))
        throw std::runtime_error("the paced events were not all delivered");
      std::lock_guard lock(r.mu);
      return std::pair{percentile(r.latencies, 0.5), percentile(r.latencies, 0.99)};
    };
    auto [p50, p99] = measure();

    // 3. With a second endpoint that never answers in time.
    endpoints.push_back(endpoint(api, key, base + "/slow/" + loket::core::new_id("s")));
    auto [slow_p50, slow_p99] = measure();
    std::printf(
        "{\"burst\":%ld,\"deliveries_per_s\":%.0f,\"rate_per_s\":%d,\"seconds\":%d,\"p50_ms\":%.1f,\"p99_ms\":%.1f,"
        "\"with_slow_endpoint_p50_ms\":%.1f,\"with_slow_endpoint_p99_ms\":%.1f}\n",
        burst, per_s, rate, secs, p50, p99, slow_p50, slow_p99);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "loket-bench-webhooks: %s\n", e.what());
    remove_endpoints();
    server.stop();
    return 1;
  }
  remove_endpoints();
  server.stop();
  return 0;
}
