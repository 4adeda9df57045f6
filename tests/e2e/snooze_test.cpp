// Snooze through the real services (issue 21): a snoozed ticket leaves the open view, wakes to
// `open` at its time or at the customer's next message, exactly once with one event — also while
// other writers race the real one for the same due tickets.
#include <catch2/catch.hpp>

#include <pqxx/pqxx>
#include <thread>

#include "harness.hpp"
#include "loket/core/time.hpp"
#include "loket/store/tickets.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
std::string new_ticket(const std::string& key, const std::string& subject) {
  auto r = api("POST", "/api/v1/tickets", key,
               R"({"subject":")" + subject + R"(","body":"Where is my order?","requesterEmail":")" +
                   unique_email("snooze") + "\"}");
  INFO(r.raw);
  REQUIRE(r.status == 201);
  return str(r.data(), "id");
}

Json patch(const std::string& key, const std::string& ticket, const std::string& body) {
  return api("PATCH", "/api/v1/tickets/" + ticket, key, body);
}

std::string status_of(const std::string& key, const std::string& ticket) {
  return str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "status");
}

// How many ticket.updated calls for `ticket` carrying `change` the integrator's endpoint got.
int events(const std::string& path, const std::string& ticket, const std::string& change) {
  int n = 0;
  for (const auto& call : receiver().received(path))
    if (call.body.find(R"("id":")" + ticket + "\"") != std::string::npos && call.body.find(change) != std::string::npos)
      ++n;
  return n;
}

const std::string kWoke = R"("status":{"from":"snoozed","to":"open"})";

std::string subscribe(const std::string& key) {
  const std::string path = "/hooks/snooze-" + random_digits(8);
  auto r = api("POST", "/api/v1/webhook-endpoints", key,
               R"({"url":")" + receiver().base() + path + R"(","events":["ticket.updated"]})");
  INFO(r.raw);
  REQUIRE(r.status == 201);
  return path;
}
}  // namespace

TEST_CASE("snooze: refused shapes; a snoozed ticket leaves the open view and wakes at its time, once", "[snooze]") {
  auto [acc, key] = new_workspace("Snooze Co");
  const auto hook = subscribe(key);
  const auto t = new_ticket(key, "Refund");

  const auto soon = loket::core::rfc3339_ms(loket::core::now_ms() + 3000);
  const auto past = loket::core::rfc3339_ms(loket::core::now_ms() - 60000);
  const auto too_far = loket::core::rfc3339_ms(loket::core::now_ms() + 400LL * 24 * 3600 * 1000);
  for (const std::string& body : std::vector<std::string>{
           std::string(R"({"status":"sleeping"})"),                           // unknown status
           R"({"status":"snoozed","snoozedUntil":")" + past + "\"}",          // in the past
           R"({"status":"snoozed","snoozedUntil":")" + too_far + "\"}",       // over a year ahead
           std::string(R"({"status":"snoozed","snoozedUntil":1893456000})"),  // not a time
           std::string(R"({"status":"snoozed","snoozedUntil":"2026-13-01T09:00:00Z"})"),
           std::string(R"({"status":"snoozed","snoozedUntil":"tomorrow"})"),
           R"({"status":"open","snoozedUntil":")" + soon + "\"}",  // a wake time for another status
           R"({"snoozedUntil":")" + soon + "\"}",                  // the ticket is not snoozed
       }) {
    auto r = patch(key, t, body);
    INFO(body << " → " << r.raw);
    CHECK(r.status == 400);
  }
  CHECK(status_of(key, t) == "open");

  auto snoozed = patch(key, t, R"({"status":"snoozed","snoozedUntil":")" + soon + "\"}");
  INFO(snoozed.raw);
  REQUIRE(snoozed.status == 200);
  CHECK(str(snoozed.data(), "status") == "snoozed");
  CHECK(str(snoozed.data(), "snoozedUntil") == soon);
  // Out of the open view, in the snoozed one; an agent's reply keeps the snooze.
  CHECK(ticket_ids(key, "?status=open").empty());
  CHECK(ticket_ids(key, "?status=snoozed") == std::vector<std::string>{t});
  agent_reply(key, t, "We are checking with the courier; back to you soon.");
  CHECK(status_of(key, t) == "snoozed");

  // It wakes by itself, not before its time, with its wake time gone.
  REQUIRE(wait_until([&] { return status_of(key, t) == "open"; }, 15s));
  auto woke = api("GET", "/api/v1/tickets/" + t, key);
  CHECK(woke.data()["snoozedUntil"].IsNull());
  CHECK(loket::core::parse_rfc3339_ms(str(woke.data(), "updatedAt")).value_or(0) >=
        loket::core::parse_rfc3339_ms(soon).value_or(1));
  CHECK(ticket_ids(key, "?status=open") == std::vector<std::string>{t});
  // One event saying so, also after several more sweeps.
  REQUIRE(wait_until([&] { return events(hook, t, kWoke) == 1; }, 15s));
  CHECK(events(hook, t, R"("snoozedUntil":{"from":")" + soon + R"(","to":null})") == 1);
  std::this_thread::sleep_for(1500ms);
  CHECK(events(hook, t, kWoke) == 1);

  // A new time on a snoozed ticket moves it; any other status ends the snooze.
  const auto hour = loket::core::rfc3339_ms(loket::core::now_ms() + 3600000);
  REQUIRE(patch(key, t, R"({"status":"snoozed","snoozedUntil":")" + hour + "\"}").status == 200);
  const auto later = loket::core::rfc3339_ms(loket::core::now_ms() + 7200000);
  auto moved = patch(key, t, R"({"snoozedUntil":")" + later + "\"}");
  REQUIRE(moved.status == 200);
  CHECK(str(moved.data(), "snoozedUntil") == later);
  auto resolved = patch(key, t, R"({"status":"resolved"})");
  CHECK(str(resolved.data(), "status") == "resolved");
  CHECK(resolved.data()["snoozedUntil"].IsNull());
}

TEST_CASE("snooze: the customer's next message wakes the ticket, until-replied snoozes included", "[snooze]") {
  auto [acc, key] = new_workspace("Snooze Chat Co");
  const auto hook = subscribe(key);
  auto [bot, secret] = connect_bot(key, bot_token("snoozebot"));
  const long chat = std::stol(random_digits(9));
  REQUIRE(post_update(bot, secret, text_update(std::stol(random_digits(8)), chat, 1, "Halo, paket saya?", "Rina", "W"))
              .status == 200);
  std::string t;
  REQUIRE(wait_until(
      [&] {
        auto ids = ticket_ids(key);
        if (!ids.empty()) t = ids[0];
        return !ids.empty();
      },
      15s));
  // Until the customer writes: no time at all.
  auto snoozed = patch(key, t, R"({"status":"snoozed","snoozedUntil":null})");
  INFO(snoozed.raw);
  REQUIRE(snoozed.status == 200);
  CHECK(snoozed.data()["snoozedUntil"].IsNull());
  std::this_thread::sleep_for(1s);  // several sweeps: nothing wakes it
  CHECK(status_of(key, t) == "snoozed");
  REQUIRE(post_update(bot, secret,
                      text_update(std::stol(random_digits(8)), chat, 2, "Sudah sampai, terima kasih", "Rina", "W"))
              .status == 200);
  REQUIRE(wait_until([&] { return status_of(key, t) == "open"; }, 15s));
  CHECK(ticket_messages(key, t).data().Size() == 2);
  REQUIRE(wait_until([&] { return events(hook, t, kWoke) == 1; }, 15s));

  // Snoozed with a time, the customer writes first: it wakes then, and the time passing later
  // changes nothing.
  const auto soon = loket::core::rfc3339_ms(loket::core::now_ms() + 2000);
  REQUIRE(patch(key, t, R"({"status":"snoozed","snoozedUntil":")" + soon + "\"}").status == 200);
  REQUIRE(
      post_update(bot, secret, text_update(std::stol(random_digits(8)), chat, 3, "Satu lagi", "Rina", "W")).status ==
      200);
  REQUIRE(wait_until([&] { return events(hook, t, kWoke) == 2; }, 15s));
  std::this_thread::sleep_for(3s);
  CHECK(events(hook, t, kWoke) == 2);
  CHECK(status_of(key, t) == "open");
}

TEST_CASE("snooze: writers racing for due snoozes wake each ticket exactly once", "[snooze]") {
  auto [acc, key] = new_workspace("Snooze Race Co");
  const auto hook = subscribe(key);
  std::vector<std::string> tickets;
  for (int i = 0; i < 20; ++i) tickets.push_back(new_ticket(key, "Race " + std::to_string(i)));
  const auto soon = loket::core::rfc3339_ms(loket::core::now_ms() + 2500);
  for (const auto& t : tickets)
    REQUIRE(patch(key, t, R"({"status":"snoozed","snoozedUntil":")" + soon + "\"}").status == 200);
  // Four more "writers" sweep as fast as they can alongside the real one.
  std::atomic<int> woken{0};
  std::vector<std::thread> sweepers;
  const auto until = std::chrono::steady_clock::now() + 6s;
  for (int i = 0; i < 4; ++i)
    sweepers.emplace_back([&] {
      pqxx::connection c(env().database_url);
      while (std::chrono::steady_clock::now() < until) {
        pqxx::work tx(c);
        woken += loket::store::wake_snoozed(tx, 7);
        tx.commit();
      }
    });
  for (auto& s : sweepers) s.join();
  for (const auto& t : tickets) CHECK(status_of(key, t) == "open");
  CHECK(woken.load() <= 20);
  REQUIRE(wait_until(
      [&] {
        for (const auto& t : tickets)
          if (events(hook, t, kWoke) < 1) return false;
        return true;
      },
      20s));
  std::this_thread::sleep_for(1s);
  for (const auto& t : tickets) CHECK(events(hook, t, kWoke) == 1);
}
