// SLA policies through the real services (issue 21): refused shapes, due times on the ticket,
// the clocks pausing while pending, a next-response wait, sla.warning and sla.breached once each
// from the writer's sweep, filters and sort, and due times counted in an inbox's business hours.
// Waiting minutes for a target is no test: the ticket's clock is moved back in the database
// instead (its creation time), as instagram_test moves a reply window.
#include <catch2/catch.hpp>

#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/time.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
Json created(Json r) {
  INFO(r.raw);
  REQUIRE(r.status == 201);
  return r;
}

std::string new_ticket(const std::string& key, const std::string& priority) {
  auto r = created(api("POST", "/api/v1/tickets", key,
                       R"({"subject":"Late parcel","body":"Where is it?","priority":")" + priority +
                           R"(","requesterEmail":")" + unique_email("sla") + "\"}"));
  return str(r.data(), "id");
}

Json ticket(const std::string& key, const std::string& id) { return api("GET", "/api/v1/tickets/" + id, key); }

std::int64_t ms(const std::string& rfc3339) { return loket::core::parse_rfc3339_ms(rfc3339).value_or(-1); }

// Moves ticket `id`'s clock `seconds` into the past and asks the sweep to look at it now.
void age(const std::string& id, int seconds) {
  sql_exec("UPDATE tickets SET created_at = created_at - interval '" + std::to_string(seconds) +
           " seconds', sla_alert_at = now() WHERE id = '" + id + "'");
}

// The sla.* calls for `ticket` with `target` the integrator's endpoint at `path` got.
int alerts(const std::string& path, const std::string& type, const std::string& ticket, const std::string& target) {
  int n = 0;
  for (const auto& call : receiver().received(path))
    if (call.body.find(R"("type":")" + type + "\"") != std::string::npos &&
        call.body.find(R"("id":")" + ticket + "\"") != std::string::npos &&
        call.body.find(R"("target":")" + target + "\"") != std::string::npos)
      ++n;
  return n;
}
}  // namespace

TEST_CASE("sla: policies refused and kept; due times, pauses, warnings and breaches once", "[sla]") {
  auto [acc, key] = new_workspace("SLA Co");
  const std::string base = "/api/v1/sla-policies";
  for (
      const std::string& body : std::vector<std::string>{
          R"({"name":"No targets"})",
          R"({"name":"Bad priority","targets":{"critical":{"firstResponseMinutes":5}}})",
          R"({"name":"Zero","targets":{"normal":{"firstResponseMinutes":0}}})",
          R"({"name":"Too long","targets":{"normal":{"resolutionMinutes":600000}}})",
          R"({"name":"Text","targets":{"normal":{"firstResponseMinutes":"5"}}})",
          R"({"name":"Unknown key","targets":{"normal":{"firstReplyMinutes":5}}})",
          R"({"name":"Empty","targets":{}})",
          R"({"name":"Pause","pauseOn":["resolved"],"targets":{"normal":{"firstResponseMinutes":5}}})",
          R"({"name":"Warn","warningPercent":100,"targets":{"normal":{"firstResponseMinutes":5}}})",
          R"({"name":"Inbox","inboxId":"ibx_000000000000000000000000","targets":{"normal":{"firstResponseMinutes":5}}})",
          R"({"name":"","targets":{"normal":{"firstResponseMinutes":5}}})",
          R"({"name":"Hours","businessHours":"yes","targets":{"normal":{"firstResponseMinutes":5}}})",
      }) {
    auto r = api("POST", base, key, body);
    INFO(body << " → " << r.raw);
    CHECK(r.status == 400);
  }
  // Calendar time; a warning at half of each target.
  auto policy = created(api("POST", base, key,
                            R"({"name":"Standard","businessHours":false,"warningPercent":50,"targets":{
      "normal":{"firstResponseMinutes":10,"nextResponseMinutes":20,"resolutionMinutes":600},
      "urgent":{"firstResponseMinutes":5}}})"));
  const std::string policy_id = str(policy.data(), "id");
  CHECK(policy.data()["pauseOn"].Size() == 2);
  CHECK(policy.data()["targets"]["urgent"]["resolutionMinutes"].IsNull());
  CHECK(api("POST", base, key, R"({"name":"standard","targets":{"low":{"firstResponseMinutes":5}}})").status == 409);
  CHECK(api("GET", base, key).data().Size() == 1);
  const std::string hook = "/hooks/sla-" + random_digits(8);
  created(api("POST", "/api/v1/webhook-endpoints", key,
              R"({"url":")" + receiver().base() + hook + R"(","events":["sla.warning","sla.breached"]})"));
  // The team's Slack hears of them too.
  const std::string slack = "/services/T01/B01/" + loket::core::new_id("sla");
  REQUIRE(api("POST", "/api/v1/channels", key,
              R"({"provider":"slack_webhook","webhookUrl":")" + team_chat().base() + slack + R"("})")
              .status == 201);
  auto slack_posts = [&](const std::string& what) {
    int n = 0;
    for (const auto& post : team_chat().posts(slack)) n += post.find(what) != std::string::npos;
    return n;
  };

  // A low-priority ticket has no targets: no sla.
  CHECK(ticket(key, new_ticket(key, "low")).data()["sla"].IsNull());
  // A normal one: due times from its creation.
  const auto t = new_ticket(key, "normal");
  auto got = ticket(key, t);
  const auto& sla = got.data()["sla"];
  INFO(got.raw);
  REQUIRE(sla.IsObject());
  CHECK(str(sla, "policyId") == policy_id);
  const auto created_ms = ms(str(got.data(), "createdAt"));
  CHECK(ms(str(sla, "firstResponseDueAt")) / 1000 == (created_ms + 10 * 60000) / 1000);
  CHECK(ms(str(sla, "resolutionDueAt")) / 1000 == (created_ms + 600 * 60000) / 1000);
  CHECK(sla["nextResponseDueAt"].IsNull());
  CHECK(sla["breaches"].Size() == 0);

  // Six minutes later: past half the first-response target: one warning, at risk.
  age(t, 6 * 60);
  REQUIRE(wait_until([&] { return alerts(hook, "sla.warning", t, "first_response") == 1; }, 15s));
  CHECK(ticket_ids(key, "?sla=at_risk") == std::vector<std::string>{t});
  CHECK(ticket_ids(key, "?sla=breached").empty());
  // Eleven: breached, once; the warning is not repeated.
  age(t, 5 * 60);
  REQUIRE(wait_until([&] { return alerts(hook, "sla.breached", t, "first_response") == 1; }, 15s));
  CHECK(ticket_ids(key, "?sla=breached") == std::vector<std::string>{t});
  bool listed = false;  // the event's ticket already lists the breach
  for (const auto& call : receiver().received(hook))
    listed = listed || (call.body.find(R"("type":"sla.breached")") != std::string::npos &&
                        call.body.find(R"("breaches":[{"target":"first_response")") != std::string::npos);
  CHECK(listed);
  got = ticket(key, t);
  REQUIRE(got.data()["sla"]["breaches"].Size() == 1);
  CHECK(str(got.data()["sla"]["breaches"][0], "target") == "first_response");
  std::this_thread::sleep_for(1s);  // several more sweeps
  CHECK(alerts(hook, "sla.breached", t, "first_response") == 1);
  CHECK(alerts(hook, "sla.warning", t, "first_response") == 1);
  REQUIRE(wait_until([&] { return slack_posts("*SLA breached*: first response was due ") == 1; }, 15s));
  CHECK(slack_posts("*SLA at risk*: first response due ") == 1);

  // The agent answers: first response met; pending pauses the resolution clock.
  agent_reply(key, t, "On its way, sorry for the wait.");
  got = ticket(key, t);
  CHECK(str(got.data(), "status") == "pending");
  CHECK(got.data()["sla"]["firstResponseDueAt"].IsNull());
  CHECK(got.data()["sla"]["paused"].GetBool());
  const auto resolution_before = created_ms - 11 * 60000 + 600 * 60000;  // aged 11 minutes
  std::this_thread::sleep_for(2s);
  // The customer writes: the clocks run again (the pause added), a next-response wait starts.
  REQUIRE(api("POST", "/api/v1/tickets/" + t + "/messages", key,
              R"({"body":"Still nothing here","authorType":"requester"})")
              .status == 201);
  got = ticket(key, t);
  INFO(got.raw);
  CHECK(str(got.data(), "status") == "open");
  CHECK_FALSE(got.data()["sla"]["paused"].GetBool());
  CHECK(ms(str(got.data()["sla"], "resolutionDueAt")) >= resolution_before + 1000);
  const auto next_due = ms(str(got.data()["sla"], "nextResponseDueAt"));
  CHECK(next_due > loket::core::now_ms() + 19 * 60000);
  CHECK(next_due <= loket::core::now_ms() + 20 * 60000);
  // Sorted by the earliest due time: a new ticket's first response (10 minutes) before this
  // one's next response (20), the ticket without an SLA last.
  const auto later = new_ticket(key, "normal");
  auto sorted = ticket_ids(key, "?sort=slaDueAt");
  REQUIRE(sorted.size() == 3);
  CHECK(sorted[0] == later);
  CHECK(sorted[1] == t);
  auto page = api("GET", "/api/v1/tickets?sort=slaDueAt&limit=1", key);
  REQUIRE(page.status == 200);
  REQUIRE(page.data()["nextCursor"].IsString());
  auto second = ticket_ids(key, std::string("?sort=slaDueAt&limit=1&cursor=") + page.data()["nextCursor"].GetString());
  CHECK(second == std::vector<std::string>{t});
  CHECK(api("GET", "/api/v1/tickets?sla=late", key).status == 400);
  // The answer ends the wait; no more next-response alerts for it.
  agent_reply(key, t, "The courier confirmed: tomorrow.");
  CHECK(ticket(key, t).data()["sla"]["nextResponseDueAt"].IsNull());
  // Reports count the wait, met in time (today, in the workspace's zone: UTC).
  const std::string today = loket::core::rfc3339_ms(loket::core::now_ms()).substr(0, 10);
  const std::string tomorrow = loket::core::rfc3339_ms(loket::core::now_ms() + 86400000).substr(0, 10);
  auto report = api("GET", "/api/v1/reports/overview?from=" + today + "&to=" + tomorrow, key);
  INFO(report.raw);
  const auto& next = report.data()["totals"]["sla"]["nextResponse"];
  CHECK(next["waits"].GetInt() == 1);
  CHECK(next["attained"].GetInt() == 1);
  CHECK(next["rate"].GetDouble() == Approx(1.0));
  CHECK(report.data()["totals"]["sla"]["firstResponse"]["attained"].GetInt() == 0);  // breached above

  // Urgent has no resolution target; deleting the policy takes the sla off its tickets.
  auto urgent = api("PATCH", "/api/v1/tickets/" + later, key, R"({"priority":"urgent"})");
  CHECK(urgent.data()["sla"]["resolutionDueAt"].IsNull());
  CHECK(ms(str(urgent.data()["sla"], "firstResponseDueAt")) / 1000 ==
        (ms(str(urgent.data(), "createdAt")) + 5 * 60000) / 1000);
  CHECK(api("DELETE", base + "/" + policy_id, key).status == 200);
  CHECK(ticket(key, later).data()["sla"].IsNull());
  CHECK(api("GET", base + "/" + policy_id, key).status == 404);
}

TEST_CASE("sla: due times count in the inbox's business hours", "[sla]") {
  auto [acc, key] = new_workspace("SLA Hours Co");
  auto inboxes = api("GET", "/api/v1/inboxes", key);
  REQUIRE(inboxes.status == 200);
  const std::string inbox = str(inboxes.data()[0], "id");
  // Open only 09:00–17:00 WIB (UTC+7, no daylight saving) three days from now.
  static const char* kDays[] = {"thu", "fri", "sat", "sun", "mon", "tue", "wed"};  // 1970-01-01 was a Thursday
  const std::int64_t day_ms = 86400000, wib = 7 * 3600000;
  const std::int64_t local_day = (loket::core::now_ms() + wib) / day_ms + 3;
  const std::string day = kDays[local_day % 7];
  REQUIRE(api("PATCH", "/api/v1/inboxes/" + inbox, key,
              R"({"businessHours":{"timeZone":"Asia/Jakarta","week":{")" + day + R"(":[["09:00","17:00"]]}}})")
              .status == 200);
  created(api("POST", "/api/v1/sla-policies", key,
              R"({"name":"Office","inboxId":")" + inbox +
                  R"(","targets":{"normal":{"firstResponseMinutes":90,"resolutionMinutes":600}}})"));
  auto got = ticket(key, new_ticket(key, "normal"));
  INFO(got.raw);
  const auto& sla = got.data()["sla"];
  REQUIRE(sla.IsObject());
  const std::int64_t opens = local_day * day_ms + 9 * 3600000 - wib;
  // 90 minutes of that day; 600 minutes is 8 hours that day and 2 the week after.
  CHECK(ms(str(sla, "firstResponseDueAt")) == opens + 90 * 60000);
  CHECK(ms(str(sla, "resolutionDueAt")) == opens + 7 * day_ms + 2 * 3600000);
}
