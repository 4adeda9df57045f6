#include <catch2/catch.hpp>

#include "loket/ops/metrics.hpp"

using loket::ops::Registry;

TEST_CASE("counters, gauges and labels render in the Prometheus text format") {
  Registry r;
  r.describe("loket_webhooks_total", Registry::Type::kCounter, "Webhooks by outcome.");
  r.describe("loket_outbox_backlog", Registry::Type::kGauge, "Outbox rows.");
  r.add("loket_webhooks_total", {{"provider", "acme"}, {"outcome", "accepted"}});
  r.add("loket_webhooks_total", {{"provider", "acme"}, {"outcome", "accepted"}}, 2);
  r.add("loket_webhooks_total", {{"provider", "tele\"gram"}, {"outcome", "forbidden"}});
  r.set("loket_outbox_backlog", {}, 17);
  auto text = r.exposition();
  CHECK(text.find("# HELP loket_webhooks_total Webhooks by outcome.\n# TYPE loket_webhooks_total counter\n") !=
        std::string::npos);
  CHECK(text.find("loket_webhooks_total{provider=\"acme\",outcome=\"accepted\"} 3\n") != std::string::npos);
  CHECK(text.find("loket_webhooks_total{provider=\"tele\\\"gram\",outcome=\"forbidden\"} 1\n") != std::string::npos);
  CHECK(text.find("# TYPE loket_outbox_backlog gauge\nloket_outbox_backlog 17\n") != std::string::npos);
  CHECK(r.value("loket_webhooks_total", {{"provider", "acme"}, {"outcome", "accepted"}}) == 3);
}

TEST_CASE("histograms are cumulative with +Inf, _sum and _count") {
  Registry r;
  r.describe("loket_http_request_duration_seconds", Registry::Type::kHistogram, "Latency.", {0.01, 0.1});
  for (double v : {0.005, 0.05, 0.05, 3.0}) r.observe("loket_http_request_duration_seconds", {{"route", "GET /x"}}, v);
  auto text = r.exposition();
  CHECK(text.find("loket_http_request_duration_seconds_bucket{route=\"GET /x\",le=\"0.01\"} 1\n") != std::string::npos);
  CHECK(text.find("loket_http_request_duration_seconds_bucket{route=\"GET /x\",le=\"0.1\"} 3\n") != std::string::npos);
  CHECK(text.find("loket_http_request_duration_seconds_bucket{route=\"GET /x\",le=\"+Inf\"} 4\n") != std::string::npos);
  CHECK(text.find("loket_http_request_duration_seconds_sum{route=\"GET /x\"} 3.105\n") != std::string::npos);
  CHECK(text.find("loket_http_request_duration_seconds_count{route=\"GET /x\"} 4\n") != std::string::npos);
}

TEST_CASE("undescribed or mistyped metrics are refused; scrape refreshers run first") {
  Registry r;
  CHECK_THROWS_AS(r.add("nope"), std::logic_error);
  r.describe("g", Registry::Type::kGauge, "A gauge.");
  CHECK_THROWS_AS(r.add("g"), std::logic_error);
  int calls = 0;
  {
    auto hook = r.on_scrape([&](Registry& x) { x.set("g", {}, ++calls); });
    CHECK(r.exposition().find("g 1\n") != std::string::npos);
    CHECK(r.exposition().find("g 2\n") != std::string::npos);
  }
  r.exposition();
  CHECK(calls == 2);  // the hook is gone with its scope
}

TEST_CASE("the process registry reports resident memory") {
  auto text = loket::ops::metrics().exposition();
  auto at = text.find("\nprocess_resident_memory_bytes ");
  REQUIRE(at != std::string::npos);
  CHECK(std::stod(text.substr(at + 31)) > 1e6);
}
