// Issue 18, outgoing webhooks for integrators: endpoints with a secret shown once; every
// subscribed event delivered, signed per Standard Webhooks (checked with the official
// `standardwebhooks` library), in order per ticket, after the receiver recovers from an
// outage, once per webhook-id; rotation, the delivery log, redelivery, replay; 410 disables;
// a slow endpoint does not hold up another.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <pqxx/pqxx>
#include <set>
#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/time.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/store/store.hpp"
#include "loket/store/webhooks.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
Json create_endpoint(const std::string& key, const std::string& path, const std::string& events) {
  return api("POST", "/api/v1/webhook-endpoints", key,
             R"({"url":")" + receiver().base() + path + R"(","events":)" + events + R"(,"description":"CRM sync"})");
}

std::string new_ticket(const std::string& account, const std::string& key, const std::string& subject) {
  auto form = call(stack().api_url(), "POST", "/api/v1/public/tickets", "",
                   R"({"accountId":")" + account + R"(","subject":")" + subject + R"(","body":"Halo","email":")" +
                       unique_email("hook") + R"("})");
  REQUIRE(form.status == 201);
  return str(api("GET", "/api/v1/tickets?limit=1", key).data()["items"][0], "id");
}

std::string event_id_of(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str());
  return str(d, "eventId");
}
}  // namespace

TEST_CASE("signed deliveries reach a receiver in order per ticket, also after it was down, once each", "[webhooks]") {
  auto [account, key] = new_workspace("Toko Hooks");
  const std::string path = "/hooks/" + loket::core::new_id("r");

  // Hostile and malformed endpoints are refused with the field named.
  const std::string ok_url = receiver().base() + path;
  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"url":"ftp://127.0.0.1/x","events":["ticket.created"]})", "url"},
           {R"({"url":"http://user:pw@127.0.0.1/x","events":["ticket.created"]})", "url"},
           {R"({"url":"http://2130706433/x","events":["ticket.created"]})", "url"},  // 127.0.0.1 in disguise
           {R"({"url":")" + ok_url + R"(","events":["ticket.deleted"]})", "events"},
           {R"({"url":")" + ok_url + R"(","events":[]})", "events"},
           {R"({"events":["ticket.created"]})", "url"}}) {
    auto r = api("POST", "/api/v1/webhook-endpoints", key, body);
    INFO(body);
    CHECK(r.status == 400);
    CHECK(str(r.doc["error"], "field") == field);
  }

  auto created = create_endpoint(key, path, R"(["ticket.created","message.created","ticket.updated"])");
  REQUIRE(created.status == 201);
  const std::string endpoint = str(created.data(), "id"), secret = str(created.data(), "secret");
  CHECK(secret.rfind("whsec_", 0) == 0);
  auto listed = api("GET", "/api/v1/webhook-endpoints", key);
  REQUIRE(listed.status == 200);
  CHECK(listed.raw.find(secret) == std::string::npos);  // shown once
  CHECK(api("GET", "/api/v1/webhook-endpoints/" + endpoint, key).raw.find("whsec_") == std::string::npos);

  // The receiver is down while a ticket gets five events.
  receiver().down = true;
  const std::string ticket = new_ticket(account, key, "Hook order");
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"first reply"})").status == 201);
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"note","internal":true})").status ==
          201);
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"resolved"})").status == 200);
  REQUIRE(wait_until([&] { return receiver().calls(path).size() >= 3; }, 30s));  // tried, refused
  CHECK(receiver().received(path).empty());
  receiver().down = false;

  const auto expected = sql_number("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '" + endpoint + "'");
  // ticket.created, message.created ×3 (the note too), ticket.updated for the reply's status
  // change and for the resolution.
  CHECK(expected == 6);
  REQUIRE(wait_until([&] { return static_cast<long long>(receiver().received(path).size()) >= expected; }, 60s));
  std::this_thread::sleep_for(1500ms);
  auto got = receiver().received(path);
  REQUIRE(static_cast<long long>(got.size()) == expected);  // each once
  std::set<std::string> ids;
  std::vector<std::string> order;
  std::map<std::string, int> types;
  for (const auto& c : got) {
    rapidjson::Document d;
    d.Parse(c.body.c_str());
    ++types[str(d, "type")];
    ids.insert(c.headers.at("webhook-id"));
    order.push_back(event_id_of(c.body));
    CHECK(c.headers.at("content-type") == "application/json");
  }
  CHECK(static_cast<long long>(ids.size()) == expected);
  CHECK(types == std::map<std::string, int>{{"ticket.created", 1}, {"message.created", 3}, {"ticket.updated", 2}});
  std::vector<std::string> published;  // the order the events were published in
  pqxx::connection conn(env().database_url);
  pqxx::work tx(conn);
  for (const auto& r :
       tx.exec_params("SELECT event_id FROM webhook_deliveries WHERE endpoint_id = $1 ORDER BY seq", endpoint))
    published.push_back(r[0].as<std::string>());
  tx.commit();
  CHECK(order == published);
  CHECK(verify_with_library(got, {secret}) == 0);

  // The log shows each delivery with its attempts; redelivery sends the same webhook-id again.
  auto log = api("GET", "/api/v1/webhook-endpoints/" + endpoint + "/deliveries", key);
  REQUIRE(log.status == 200);
  REQUIRE(static_cast<long long>(log.data().Size()) == expected);
  int retried = 0;
  for (const auto& d : log.data().GetArray()) {
    CHECK(str(d, "status") == "delivered");
    CHECK(d["lastStatusCode"].GetInt() == 200);
    retried += d["attempts"].GetInt() > 1;
  }
  CHECK(retried >= 1);  // what the outage held back was retried
  const std::string first = str(log.data()[log.data().Size() - 1], "id");
  REQUIRE(
      api("POST", "/api/v1/webhook-endpoints/" + endpoint + "/deliveries/" + first + "/redeliver", key, "{}").status ==
      202);
  REQUIRE(wait_until([&] { return receiver().received(path).size() == got.size() + 1; }, 30s));
  CHECK(receiver().received(path).back().headers.at("webhook-id") == first);
  CHECK(api("POST", "/api/v1/webhook-endpoints/" + endpoint + "/deliveries/msg_nope/redeliver", key, "{}").status ==
        404);

  // Replay of a time range queues its deliveries again; a range that is not one is refused.
  for (const char* bad : {R"({"from":"yesterday","to":"2100-01-01T00:00:00Z"})",
                          R"({"from":"2100-01-01T00:00:00Z","to":"2000-01-01T00:00:00Z"})",
                          R"({"from":"2000-13-45T99:00:00Z","to":"2100-01-01T00:00:00Z"})"})
    CHECK(api("POST", "/api/v1/webhook-endpoints/" + endpoint + "/replay", key, bad).status == 400);
  auto replay = api("POST", "/api/v1/webhook-endpoints/" + endpoint + "/replay", key,
                    R"({"from":"2000-01-01T00:00:00Z","to":"2100-01-01T00:00:00Z"})");
  REQUIRE(replay.status == 202);
  CHECK(replay.data()["queued"].GetInt() == expected);
  REQUIRE(wait_until([&] { return receiver().received(path).size() == got.size() + 1 + expected; }, 30s));

  // Rotation: both secrets sign for a day, so a receiver may switch at its own pace.
  auto rotated = api("POST", "/api/v1/webhook-endpoints/" + endpoint + "/rotate-secret", key, "{}");
  REQUIRE(rotated.status == 200);
  const std::string next = str(rotated.data(), "secret");
  CHECK(next != secret);
  CHECK(rotated.data().HasMember("previousSecretValidUntil"));
  const auto before = receiver().received(path).size();
  new_ticket(account, key, "After rotation");
  REQUIRE(wait_until([&] { return receiver().received(path).size() >= before + 2; }, 30s));
  const auto all = receiver().received(path);
  std::vector<ApiCall> after(all.begin() + static_cast<long>(before), all.end());
  CHECK(verify_with_library(after, {secret, next}) == 0);

  // Other workspaces see nothing of it.
  auto [other_account, other_key] = new_workspace("Toko Lain");
  CHECK(api("GET", "/api/v1/webhook-endpoints/" + endpoint, other_key).status == 404);
  CHECK(api("DELETE", "/api/v1/webhook-endpoints/" + endpoint, other_key).status == 404);
  CHECK(api("DELETE", "/api/v1/webhook-endpoints/" + endpoint, key).status == 200);
  CHECK(api("GET", "/api/v1/webhook-endpoints/" + endpoint, key).status == 404);
}

TEST_CASE("410 Gone disables an endpoint and the owners are emailed; a slow endpoint does not hold up another",
          "[webhooks]") {
  const std::string owner = unique_email("owner");
  auto [account, key] = new_workspace_with_owner("Toko Hooks Dua", owner, "correct horse battery staple");
  const std::string gone = "/hooks/gone-" + loket::core::new_id("g"), slow = "/hooks/slow-" + loket::core::new_id("s"),
                    fast = "/hooks/" + loket::core::new_id("f");
  auto g = create_endpoint(key, gone, R"(["ticket.created"])");
  REQUIRE(g.status == 201);
  REQUIRE(create_endpoint(key, slow, R"(["ticket.created"])").status == 201);
  REQUIRE(create_endpoint(key, fast, R"(["ticket.created"])").status == 201);
  for (int i = 0; i < 6; ++i) new_ticket(account, key, "Burst " + std::to_string(i));
  // The slow endpoint answers after 3 s (beyond the 2 s timeout); the fast one is not held up.
  auto started = std::chrono::steady_clock::now();
  REQUIRE(wait_until([&] { return receiver().received(fast).size() == 6; }, 20s));
  CHECK(std::chrono::steady_clock::now() - started < 10s);
  CHECK(receiver().received(slow).empty());
  REQUIRE(wait_until(
      [&] {
        auto e = api("GET", "/api/v1/webhook-endpoints/" + str(g.data(), "id"), key);
        return !e.data()["enabled"].GetBool();
      },
      20s));
  auto e = api("GET", "/api/v1/webhook-endpoints/" + str(g.data(), "id"), key);
  CHECK(str(e.data(), "disabledReason").find("410") != std::string::npos);
  // The owner hears of it, once, with the endpoint, the reason and the way back.
  REQUIRE(wait_until([&] { return !resend().emails_to(owner).empty(); }, 20s));
  std::this_thread::sleep_for(2s);  // a second notice would have come by now
  auto notices = resend().emails_to(owner);
  REQUIRE(notices.size() == 1);
  CHECK(notices[0].find(gone) != std::string::npos);
  CHECK(notices[0].find("410 Gone") != std::string::npos);
  CHECK(notices[0].find(R"(\"enabled\": true)") != std::string::npos);
  // Enabled again by an admin, it is tried again.
  REQUIRE(api("PATCH", "/api/v1/webhook-endpoints/" + str(g.data(), "id"), key, R"({"enabled":true})").status == 200);
}

namespace {
// A ticket event as the writer publishes it on ticket.events (a CSAT score: no ticket row needed).
std::string csat_event(const std::string& account, const std::string& ticket, const std::string& event_id) {
  return R"({"eventId":")" + event_id + R"(","schemaVersion":1,"type":"csat.recorded","occurredAt":")" +
         loket::core::rfc3339_ms(loket::core::now_ms()) + R"(","workspaceId":")" + account + R"(","ticketId":")" +
         ticket + R"(","data":{"csat":{"score":4,"comment":null}}})";
}

// Inserts a delivery of a new CSAT event on `ticket` as a worker that claimed it leaves it:
// pending, attempted once, due at SQL time `due`, leased until SQL time `leased_until`.
// Returns its id (the webhook-id).
std::string insert_claimed_delivery(const std::string& account, const std::string& endpoint, const std::string& ticket,
                                    const std::string& due, const std::string& leased_until) {
  const std::string id = loket::core::new_id("msg"), event = loket::core::new_id("evt");
  sql_exec(
      "INSERT INTO webhook_deliveries (id, endpoint_id, workspace_id, event_id, event_type, ticket_id, payload, "
      "status, attempts, next_attempt_at, leased_until) VALUES ('" +
      id + "', '" + endpoint + "', '" + account + "', '" + event + "', 'csat.recorded', '" + ticket + "', '" +
      csat_event(account, ticket, event) + "', 'pending', 1, " + due + ", " + leased_until + ")");
  return id;
}
}  // namespace

TEST_CASE("a burst of many events on a few tickets, to an endpoint that fails every third call: each once, in order",
          "[webhooks]") {
  auto [account, key] = new_workspace("Toko Hooks Ramai");
  const std::string path = "/hooks/flaky-" + loket::core::new_id("f");
  auto created = create_endpoint(key, path, R"(["csat.recorded"])");
  REQUIRE(created.status == 201);
  const std::string endpoint = str(created.data(), "id");
  // 10 tickets × 30 events, interleaved: each ticket's later deliveries wait behind its first,
  // and come forward one at a time as the one before is delivered (or retried).
  constexpr int kTickets = 10, kEach = 30;
  std::map<std::string, std::vector<std::string>> produced;  // ticket → event ids in order
  loket::kafka::Producer producer({{"bootstrap.servers", env().brokers}});
  const std::string tickets = loket::core::new_id("tkt");
  for (int i = 0; i < kTickets * kEach; ++i) {
    const std::string ticket = tickets + "_" + std::to_string(i % kTickets);
    const std::string id = loket::core::new_id("evt");
    produced[ticket].push_back(id);
    REQUIRE(producer.produce_sync("ticket.events", ticket, csat_event(account, ticket, id), 10s).empty());
  }
  REQUIRE(wait_until([&] { return receiver().received(path).size() >= kTickets * kEach; }, 90s));
  std::this_thread::sleep_for(1500ms);  // a duplicate would have come by now
  auto got = receiver().received(path);
  CHECK(got.size() == kTickets * kEach);
  std::set<std::string> ids;
  std::map<std::string, std::vector<std::string>> order;
  for (const auto& c : got) {
    ids.insert(c.headers.at("webhook-id"));
    rapidjson::Document d;
    d.Parse(c.body.c_str());
    order[str(d, "ticketId")].push_back(str(d, "eventId"));
  }
  CHECK(ids.size() == got.size());  // each webhook-id answered 2xx once
  CHECK(order == produced);
  CHECK(receiver().calls(path).size() > got.size());  // the failed calls were retried
  CHECK(sql_number("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '" + endpoint +
                   "' AND (status <> 'delivered' OR behind)") == 0);

  // A worker that died in the middle of an attempt leaves its delivery leased, at a place in the
  // queue long behind where claims now start: it goes out once the lease has run out (and the
  // dispatcher next looks from the front, at most 15 s later), with the attempt counted.
  const std::string dead = insert_claimed_delivery(account, endpoint, "tkt_dead", "now() - interval '1 minute'",
                                                   "now() + interval '2 seconds'");
  auto started = std::chrono::steady_clock::now();
  REQUIRE(wait_until(
      [&] {
        for (const auto& c : receiver().received(path))
          if (c.headers.at("webhook-id") == dead) return true;
        return false;
      },
      40s));
  CHECK(std::chrono::steady_clock::now() - started >= 2s);
  CHECK(sql_number("SELECT attempts FROM webhook_deliveries WHERE id = '" + dead + "'") >= 2);
}

// The race the per-ticket queue must not lose: a fan-out queues a ticket's next delivery while
// the outcome of the ticket's pending one is being recorded. Whichever commits first, the new
// delivery must not be left waiting behind one that is done. Driven through the store on two
// connections, so both orders happen for certain (a dispatcher cannot make them on purpose).
// The pending ones are leased far ahead, so the running outbound does not touch them.
TEST_CASE("a delivery queued while its ticket's pending one is being recorded is never left waiting", "[webhooks]") {
  auto [account, key] = new_workspace("Toko Hooks Balapan");
  const std::string path = "/hooks/race-" + loket::core::new_id("r");
  auto created = create_endpoint(key, path, R"(["csat.recorded"])");
  REQUIRE(created.status == 201);
  const std::string endpoint = str(created.data(), "id");
  auto pending_one = [&](const std::string& ticket) {  // the ticket's delivery being attempted
    return insert_claimed_delivery(account, endpoint, ticket, "now()", "now() + interval '1 hour'");
  };
  auto next_event = [&](const std::string& ticket) {
    const std::string event = loket::core::new_id("evt");
    return loket::store::WebhookEvent{account, event, "csat.recorded", ticket, csat_event(account, ticket, event)};
  };
  auto record_delivered = [&](pqxx::connection& c, const std::string& id) {
    pqxx::work tx(c);
    loket::store::record_webhook_attempts(tx, endpoint, {{id, loket::store::WebhookAttempt{}}});
    tx.commit();
  };
  auto waiting_behind = [&](const std::string& event) {
    return sql_number("SELECT count(*) FROM webhook_deliveries WHERE endpoint_id = '" + endpoint +
                      "' AND event_id = '" + event + "' AND behind");
  };
  pqxx::connection fan(env().database_url), outcome(env().database_url);

  SECTION("the fan-out commits first: the outcome waits for it, then brings the new one forward") {
    const std::string ticket = loket::core::new_id("tkt"), head = pending_one(ticket);
    auto e = next_event(ticket);
    pqxx::work tx(fan);
    REQUIRE(loket::store::enqueue_webhook_deliveries(tx, {e}) == 1);  // queued behind `head`
    std::atomic<bool> recorded{false};
    std::thread t([&] {
      record_delivered(outcome, head);
      recorded = true;
    });
    std::this_thread::sleep_for(500ms);
    CHECK_FALSE(recorded);  // held until the new delivery is committed
    tx.commit();
    t.join();
    CHECK(waiting_behind(e.event_id) == 0);
  }
  SECTION("the outcome commits first: the fan-out waits for it, and does not queue behind a done one") {
    const std::string ticket = loket::core::new_id("tkt"), head = pending_one(ticket);
    auto e = next_event(ticket);
    pqxx::work tx(outcome);
    loket::store::record_webhook_attempts(tx, endpoint, {{head, loket::store::WebhookAttempt{}}});
    std::atomic<bool> queued{false};
    int added = 0;
    std::thread t([&] {
      pqxx::work ftx(fan);
      added = loket::store::enqueue_webhook_deliveries(ftx, {e});
      ftx.commit();
      queued = true;
    });
    std::this_thread::sleep_for(500ms);
    CHECK_FALSE(queued);  // the fan-out waits to see how `head` ends
    tx.commit();
    t.join();
    CHECK(added == 1);
    CHECK(waiting_behind(e.event_id) == 0);
  }
  // The new delivery is due, and the running dispatcher sends it.
  REQUIRE(wait_until([&] { return !receiver().received(path).empty(); }, 30s));
  CHECK(receiver().received(path).size() == 1);
}

TEST_CASE("only a pool asked for it commits without waiting for the disk (outbound's webhook dispatch)", "[webhooks]") {
  // The dispatch's claims and outcomes rely on it (store/webhooks.hpp); every other write waits.
  auto show = [](loket::store::Pool& pool) {
    auto conn = pool.acquire();
    return pqxx::nontransaction(*conn).exec1("SHOW synchronous_commit")[0].as<std::string>();
  };
  loket::store::Pool usual(env().database_url, 1);
  loket::store::PoolLimits async_limits;
  async_limits.asynchronous_commit = true;
  loket::store::Pool dispatch(env().database_url, 1, async_limits);
  CHECK(show(usual) == "on");
  CHECK(show(dispatch) == "off");
}
