// Operability (issue 6): every service's admin endpoints, and the figures an operator watches.
#include <catch2/catch.hpp>

#include <fstream>

#include "harness.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
std::string scrape(const std::string& svc) {
  auto res = http_get(stack().admin_url(svc) + "/metrics");
  REQUIRE(res.status == 200);
  CHECK(res.headers["content-type"].rfind("text/plain; version=0.0.4", 0) == 0);
  return res.body;
}

// The value of the series `line_prefix` (metric name and labels) in `text`, or -1.
double sample(const std::string& text, const std::string& line_prefix) {
  auto at = text.find("\n" + line_prefix + " ");
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + line_prefix.size() + 2));
}
}  // namespace

TEST_CASE("every service answers /healthz, /readyz and /metrics on its admin port", "[ops]") {
  for (const char* svc : {"api", "ingress", "inbound", "writer", "outbound"}) {
    INFO(svc);
    CHECK(http_get(stack().admin_url(svc) + "/healthz").status == 200);
    REQUIRE(wait_until([&] { return http_get(stack().admin_url(svc) + "/readyz").status == 200; }, 20s));
    auto text = scrape(svc);
    CHECK(sample(text, "process_resident_memory_bytes") > 1e6);
    CHECK(text.find("# TYPE process_start_time_seconds gauge") != std::string::npos);
  }
}

TEST_CASE("a conversation shows up in the metrics of every stage", "[ops]") {
  auto [account, key] = new_workspace("Metrics");
  auto [id, secret] = connect_bot(key, bot_token("metrics"));
  double before = sample(scrape("ingress"), R"(loket_webhooks_total{provider="telegram",outcome="accepted"})");
  REQUIRE(post_update(id, secret, text_update(1, 6161, 1, "count me")).status == 200);
  REQUIRE(post_update(id, "wrong-secret", text_update(2, 6161, 2, "forged")).status == 401);
  REQUIRE(wait_until([&] { return api("GET", "/api/v1/tickets", key).data()["items"].Size() == 1; }, 15s));
  std::string ticket = api("GET", "/api/v1/tickets", key).data()["items"][0]["id"].GetString();
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"counted reply"})").status == 201);

  auto ingress = scrape("ingress");
  CHECK(sample(ingress, R"(loket_webhooks_total{provider="telegram",outcome="accepted"})") ==
        std::max(before, 0.0) + 1);
  CHECK(sample(ingress, R"(loket_webhooks_total{provider="telegram",outcome="unauthorized"})") >= 1);
  CHECK(sample(ingress, R"(loket_webhook_publish_seconds_count{provider="telegram"})") >= 1);
  CHECK(
      ingress.find(
          R"(loket_http_request_duration_seconds_bucket{route="/api/v1/webhooks/telegram/:id",method="POST",status="2xx",le="+Inf"})") !=
      std::string::npos);

  CHECK(sample(scrape("inbound"), R"(loket_inbound_total{provider="telegram",kind="message"})") >= 1);
  // The reply's delivery implies the writer's relay published its message.created.
  REQUIRE(wait_until(
      [&] {
        return sample(scrape("outbound"), R"(loket_deliveries_total{provider="telegram_bot",outcome="sent"})") >= 1;
      },
      15s));
  auto writer = scrape("writer");
  CHECK(sample(writer, R"(loket_messages_written_total{result="created_ticket"})") >= 1);
  CHECK(sample(writer, "loket_outbox_published_total") >= 2);
  CHECK(sample(writer, "loket_outbox_backlog") >= 0);
  CHECK(writer.find(R"(loket_consumer_lag{group="loket-writer",topic="channel.inbound",partition=)") !=
        std::string::npos);
  auto api_text = scrape("api");
  CHECK(
      api_text.find(
          R"(loket_http_request_duration_seconds_count{route="/api/v1/tickets/:id/messages",method="POST",status="2xx"})") !=
      std::string::npos);
}

TEST_CASE("a request's id is in its response header, its envelope and its log line", "[ops]") {
  auto [account, key] = new_workspace("Request ids");
  auto res = api("GET", "/api/v1/tickets/tkt_000000000000000000000000", key);
  REQUIRE(res.status == 404);
  std::string id = res.header("x-request-id");
  REQUIRE(id.rfind("req_", 0) == 0);
  CHECK(std::string(res.doc["meta"]["requestId"].GetString()) == id);
  // A proxy's id is kept.
  auto proxied = call(stack().api_url(), "GET", "/api/v1/tickets", key, "", {{"X-Request-Id", "edge-42.abc"}});
  CHECK(proxied.header("x-request-id") == "edge-42.abc");
  CHECK(std::string(proxied.doc["meta"]["requestId"].GetString()) == "edge-42.abc");
  // The access line: JSON, with the ids, never the token.
  std::string log_path = env().state_dir + "/e2e-api.log";
  bool found = wait_until(
      [&] {
        std::ifstream in(log_path);
        std::string line;
        while (std::getline(in, line))
          if (line.find("\"requestId\":\"" + id + "\"") != std::string::npos) {
            CHECK(line.find("\"status\":\"404\"") != std::string::npos);
            CHECK(line.find("\"workspaceId\":\"" + account + "\"") != std::string::npos);
            CHECK(line.find(key) == std::string::npos);
            return true;
          }
        return false;
      },
      5s);
  CHECK(found);
}

TEST_CASE("master-key rotation re-encrypts every credential and keeps it readable", "[ops]") {
  auto [account, key] = new_workspace("Rotation");
  auto [id, secret] = connect_bot(key, bot_token("rotation"));
  REQUIRE(api("POST", "/api/v1/tickets", key, R"({"subject":"rotate me","body":"x","requesterEmail":"r@example.test"})")
              .status == 201);
  const std::string old_key = "k1:" + std::string(64, '7');  // the stack's LOKET_MASTER_KEY
  const std::string new_key = "k2:" + std::string(64, 'a');
  auto run = [&](const std::string& keyring) {
    std::string cmd = "LOKET_LOG_LEVEL=error LOKET_DATABASE_URL='" + env().database_url + "' LOKET_MASTER_KEY='" +
                      keyring + "' " + env().bin_dir + "/loket-admin rotate-credentials > /dev/null 2>&1";
    return std::system(cmd.c_str());
  };
  CHECK(run("k9:" + std::string(64, 'b')) != 0);  // a keyring that cannot read the rows changes nothing
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE id = '" + id + "' AND credentials_key_id = 'k1'") == 1);
  REQUIRE(run(new_key + "," + old_key) == 0);
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE credentials IS NOT NULL AND credentials_key_id <> 'k2'") ==
        0);
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE access_token IS NOT NULL AND access_token_key_id <> 'k2'") == 0);
  REQUIRE(run(new_key) == 0);  // the old key is no longer needed: every row reads with k2 alone
  // Put the stack's key back for the rest of the run (its services only know k1).
  REQUIRE(run(old_key + "," + new_key) == 0);
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE credentials IS NOT NULL AND credentials_key_id <> 'k1'") ==
        0);
}
