// Reports through the real api (issue 21) against the small dataset of docs/reports.md, whose
// figures are computed there by hand: tickets made through the API, then moved to fixed times in
// November 2026 in the database (their status history too), so every figure is known exactly.
#include <catch2/catch.hpp>

#include "harness.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
std::string new_ticket(const std::string& key) {
  auto r = api("POST", "/api/v1/tickets", key,
               R"({"subject":"Report me","body":"Hello","requesterEmail":")" + unique_email("report") + "\"}");
  INFO(r.raw);
  REQUIRE(r.status == 201);
  return str(r.data(), "id");
}

// Sets ticket `id`'s row (`assignments`, SQL) and replaces its status history with `log`
// (rows "(from, to, at)" as SQL values).
void rewrite(const std::string& id, const std::string& assignments, const std::vector<std::string>& log) {
  sql_exec("UPDATE tickets SET " + assignments + " WHERE id = '" + id + "'");
  sql_exec("DELETE FROM ticket_status_log WHERE ticket_id = '" + id + "'");
  for (const auto& row : log)
    sql_exec(
        "INSERT INTO ticket_status_log (workspace_id, ticket_id, from_status, to_status, at) SELECT workspace_id, "
        "id, " +
        row + " FROM tickets WHERE id = '" + id + "'");
}

double number(const rapidjson::Value& v, const char* k) {
  INFO(k);
  REQUIRE(v[k].IsNumber());
  return v[k].GetDouble();
}

const rapidjson::Value& group(const Json& r, const std::string& key) {
  for (const auto& g : r.data()["groups"].GetArray())
    if (str(g, "key") == key) return g;
  FAIL("no group " << key << " in " << r.raw);
  return r.data();
}
}  // namespace

TEST_CASE("reports: the docs/reports.md dataset, in total, per day and week, per agent, as CSV", "[reports]") {
  auto [acc, key, session] = new_signed_in_workspace("Report Co");
  const auto t1 = new_ticket(key), t2 = new_ticket(key), t3 = new_ticket(key), t4 = new_ticket(key),
             t5 = new_ticket(key);
  // T5 is merged into T3: a duplicate counts nowhere.
  REQUIRE(api("POST", "/api/v1/tickets/" + t3 + "/merge", key, R"({"sourceTicketIds":[")" + t5 + "\"]}").status == 200);
  rewrite(t1,
          "status = 'resolved', created_at = '2026-11-02 09:00+07', first_response_at = '2026-11-02 09:30+07', "
          "first_response_business_s = 1800, resolved_at = '2026-11-02 12:00+07', resolution_business_s = 10800, "
          "csat_score = 5, csat_at = '2026-11-02 13:00+07'",
          {"NULL, 'open', '2026-11-02 09:00+07'", "'open', 'pending', '2026-11-02 09:30+07'",
           "'pending', 'resolved', '2026-11-02 12:00+07'"});
  rewrite(t2,
          "status = 'resolved', created_at = '2026-11-02 10:00+07', first_response_at = '2026-11-02 11:00+07', "
          "first_response_business_s = 3600, resolved_at = '2026-11-03 14:00+07', resolution_business_s = 36000, "
          "csat_score = 3, csat_at = '2026-11-03 15:00+07'",
          {"NULL, 'open', '2026-11-02 10:00+07'", "'open', 'resolved', '2026-11-03 10:00+07'",
           "'resolved', 'open', '2026-11-03 11:00+07'", "'open', 'resolved', '2026-11-03 14:00+07'"});
  rewrite(t3, "created_at = '2026-11-03 08:00+07'", {"NULL, 'open', '2026-11-03 08:00+07'"});
  rewrite(t4,
          "created_at = '2026-11-01 20:00+07', first_response_at = '2026-11-02 08:00+07', "
          "first_response_business_s = 3600",
          {"NULL, 'open', '2026-11-01 20:00+07'"});
  rewrite(t5, "created_at = '2026-11-02 09:15+07', first_response_at = '2026-11-02 09:20+07'",
          {"NULL, 'open', '2026-11-02 09:15+07'", "'open', 'closed', '2026-11-02 09:40+07'"});

  // An SLA policy (after the tickets were made): T1 answered in 30 minutes and resolved in 3 hours
  // met both targets; T2 (60 minutes, 28 hours) breached both; T4 is under no policy.
  auto policy = api("POST", "/api/v1/sla-policies", key,
                    R"({"name":"Day","targets":{"normal":{"firstResponseMinutes":45,"resolutionMinutes":1440}}})");
  REQUIRE(policy.status == 201);
  const std::string p = str(policy.data(), "id");
  sql_exec("INSERT INTO ticket_sla (ticket_id, policy_id, breaches) VALUES ('" + t1 + "', '" + p + "', '[]'), ('" + t2 +
           "', '" + p +
           R"(', '[{"target":"first_response","dueAt":"2026-11-02T03:45:00.000Z"},)"
           R"({"target":"resolution","dueAt":"2026-11-03T03:00:00.000Z"}]'))");
  // … and the public sla object refresh_sla writes beside it, which reports read.
  sql_exec("UPDATE tickets SET sla = json_build_object('policyId', '" + p +
           "', 'breaches', coalesce((SELECT breaches FROM ticket_sla WHERE ticket_id = tickets.id), '[]'))::text "
           "WHERE id IN ('" +
           t1 + "', '" + t2 + "')");

  const std::string period = "from=2026-11-02&to=2026-11-04&tz=Asia/Jakarta";
  auto r = api("GET", "/api/v1/reports/overview?" + period + "&groupBy=day", key);
  INFO(r.raw);
  REQUIRE(r.status == 200);
  CHECK(str(r.data(), "from") == "2026-11-01T17:00:00.000Z");
  CHECK(str(r.data(), "to") == "2026-11-03T17:00:00.000Z");
  const auto& total = r.data()["totals"];
  CHECK(number(total, "ticketsCreated") == 3);
  CHECK(number(total, "ticketsResolved") == 3);  // T1, T2 twice
  CHECK(number(total, "ticketsReopened") == 1);
  const auto& frt = total["firstResponseTime"];
  CHECK(number(frt, "count") == 3);
  CHECK(number(frt, "medianSeconds") == Approx(3600));
  CHECK(number(frt, "p90Seconds") == Approx(35280));
  CHECK(number(frt, "businessMedianSeconds") == Approx(3600));
  CHECK(number(frt, "businessP90Seconds") == Approx(3600));
  const auto& res = total["resolutionTime"];
  CHECK(number(res, "count") == 2);
  CHECK(number(res, "medianSeconds") == Approx(55800));
  CHECK(number(res, "p90Seconds") == Approx(91800));
  CHECK(number(res, "businessMedianSeconds") == Approx(23400));
  CHECK(number(res, "businessP90Seconds") == Approx(33480));
  const auto& csat = total["csat"];
  CHECK(number(csat, "responses") == 2);
  CHECK(number(csat, "average") == Approx(4.0));
  CHECK(number(csat["distribution"], "3") == 1);
  CHECK(number(csat["distribution"], "5") == 1);
  CHECK(number(csat["distribution"], "1") == 0);
  CHECK(number(csat, "responseRate") == Approx(2.0 / 3));
  CHECK(number(total, "backlog") == 2);  // T3 and T4 at the period's end
  CHECK(number(total["sla"]["firstResponse"], "tickets") == 2);
  CHECK(number(total["sla"]["firstResponse"], "attained") == 1);
  CHECK(number(total["sla"]["firstResponse"], "rate") == Approx(0.5));
  CHECK(number(total["sla"]["resolution"], "tickets") == 2);
  CHECK(number(total["sla"]["resolution"], "attained") == 1);

  REQUIRE(r.data()["groups"].Size() == 2);
  const auto& nov2 = group(r, "2026-11-02");
  CHECK(number(nov2, "ticketsCreated") == 2);
  CHECK(number(nov2, "ticketsResolved") == 1);
  CHECK(number(nov2, "ticketsReopened") == 0);
  CHECK(number(nov2["firstResponseTime"], "count") == 3);
  CHECK(number(nov2["resolutionTime"], "medianSeconds") == Approx(10800));
  CHECK(number(nov2["csat"], "average") == Approx(5));
  CHECK(number(nov2, "backlog") == 2);  // T2 and T4 at the day's end
  CHECK(number(nov2["sla"]["resolution"], "attained") == 1);
  const auto& nov3 = group(r, "2026-11-03");
  CHECK(number(nov3, "ticketsCreated") == 1);
  CHECK(number(nov3, "ticketsResolved") == 2);
  CHECK(number(nov3, "ticketsReopened") == 1);
  CHECK(number(nov3["firstResponseTime"], "count") == 0);
  CHECK(nov3["firstResponseTime"]["medianSeconds"].IsNull());
  CHECK(number(nov3["resolutionTime"], "medianSeconds") == Approx(100800));
  CHECK(number(nov3["csat"], "average") == Approx(3));
  CHECK(number(nov3, "backlog") == 2);  // T3 and T4
  CHECK(number(nov3["sla"]["resolution"], "tickets") == 1);
  CHECK(number(nov3["sla"]["resolution"], "attained") == 0);

  // In UTC the period starts seven hours later: T1's and T2's creation (02:00Z, 03:00Z on the 2nd)
  // and T4's first response (01:00Z) still fall in it; per week (Monday 2 November) one group.
  auto week = api("GET", "/api/v1/reports/overview?from=2026-11-02&to=2026-11-04&groupBy=week", key);
  REQUIRE(week.status == 200);
  REQUIRE(week.data()["groups"].Size() == 1);
  CHECK(number(group(week, "2026-11-02"), "ticketsCreated") == 3);
  CHECK(number(group(week, "2026-11-02"), "backlog") == 2);

  // Everything is unassigned.
  auto agents = api("GET", "/api/v1/reports/agents?" + period, key);
  INFO(agents.raw);
  REQUIRE(agents.status == 200);
  CHECK(number(agents.data()["unassigned"], "ticketsCreated") == 3);

  // CSV: a header, a row per day, the total.
  auto csv = call(stack().api_url(), "GET", "/api/v1/reports/overview?" + period + "&groupBy=day", key, "",
                  {{"Accept", "text/csv"}});
  INFO(csv.raw);
  REQUIRE(csv.status == 200);
  CHECK(csv.header("content-type").find("text/csv") == 0);
  CHECK(csv.raw.rfind("group,tickets_created,tickets_resolved,tickets_reopened,", 0) == 0);
  CHECK(csv.raw.find("\r\n2026-11-02,2,1,0,3,") != std::string::npos);
  CHECK(csv.raw.find("\r\ntotal,3,3,1,3,3600.00,35280.00,3600.00,3600.00,2,55800.00,91800.00,23400.00,33480.00,2,"
                     "4.00,0,0,1,0,1,0.67,2,2,1,2,1,0,0\r\n") != std::string::npos);

  // The same reports from the rollup: once the workspace counts its days in Asia/Jakarta (the
  // change recounts it from the tickets), whole Jakarta days are read from it — the same figures.
  auto zone = api("PATCH", "/api/v1/workspace", session, R"({"timeZone":"Asia/Jakarta"})");
  INFO(zone.raw);
  REQUIRE(zone.status == 200);
  CHECK(str(zone.data(), "timeZone") == "Asia/Jakarta");
  CHECK(api("PATCH", "/api/v1/workspace", session, R"({"timeZone":"Europe/Nowhere"})").status == 400);
  CHECK(api("PATCH", "/api/v1/workspace", session, R"({"timeZone":"../../etc/passwd"})").status == 400);
  // A writer recounts the rollup in the new zone in the background; until then, from the tickets.
  REQUIRE(wait_until(
      [&] {
        return sql_number("SELECT count(*) FROM report_rollup_zones WHERE workspace_id = '" + acc +
                          "' AND time_zone = 'Asia/Jakarta'") == 1;
      },
      15s));
  auto rolled = api("GET", "/api/v1/reports/overview?from=2026-11-02&to=2026-11-04&groupBy=day", key);  // tz: its own
  INFO(rolled.raw);
  CHECK(rolled.data()["totals"] == r.data()["totals"]);
  CHECK(rolled.data()["groups"] == r.data()["groups"]);
  // Changes after it are counted in the transaction that makes them: T3 assigned, then resolved.
  auto agent =
      api("POST", "/api/v1/agents", session,
          R"({"email":")" + unique_email("lead") + R"(","name":"Lead","role":"agent","password":"long-enough-1"})");
  INFO(agent.raw);
  REQUIRE(agent.status == 201);
  const std::string lead = str(agent.data(), "id");
  REQUIRE(api("PATCH", "/api/v1/tickets/" + t3, key, R"({"assigneeId":")" + lead + R"("})").status == 200);
  // (Its status change is logged now, after the period; its resolution time counts on 3 November.)
  sql_exec(
      "UPDATE tickets SET status = 'resolved', resolved_at = '2026-11-03 16:00+07', resolution_business_s = 28800 "
      "WHERE id = '" +
      t3 + "'");
  // Two days; two whole months (read as month rows); three weeks and the days around them. Each
  // against the same period ending a millisecond later: not whole days, so computed from the tickets.
  for (auto [from, to, to_exact] : {std::tuple{"2026-11-02", "2026-11-04", "2026-11-03T17:00:00.001Z"},
                                    {"2026-10-01", "2026-12-01", "2026-11-30T17:00:00.001Z"},
                                    {"2026-10-29", "2026-11-20", "2026-11-19T17:00:00.001Z"}})
    for (const char* g : {"day", "week", "agent", "channel", "inbox", "team", ""}) {
      const std::string q = std::string("/api/v1/reports/overview?from=") + from + "&groupBy=" + g + "&to=";
      auto fast = api("GET", q + to, key);
      auto exact = api("GET", q + to_exact, key);
      INFO(from << " " << g << ": " << fast.raw << "\n" << exact.raw);
      REQUIRE(fast.status == 200);
      CHECK(number(fast.data()["totals"], "ticketsCreated") == (std::string(from) == "2026-11-02" ? 3 : 4));  // +T4
      CHECK(fast.data()["totals"] == exact.data()["totals"]);
      CHECK(fast.data()["groups"] == exact.data()["groups"]);
    }

  // The writers fold the deltas into the rollup in the background: nothing changes for a reader.
  CHECK(sql_number("SELECT count(*) FROM report_rollup WHERE workspace_id = '" + acc + "'") > 0);
  REQUIRE(wait_until(
      [&] { return sql_number("SELECT count(*) FROM report_deltas WHERE workspace_id = '" + acc + "'") == 0; }, 15s));
  auto folded = api("GET", "/api/v1/reports/overview?from=2026-11-02&to=2026-11-04&groupBy=agent", key);
  auto computed = api("GET", "/api/v1/reports/overview?from=2026-11-02&to=2026-11-03T17:00:00.001Z&groupBy=agent", key);
  CHECK(folded.data()["groups"] == computed.data()["groups"]);
  CHECK(number(group(folded, lead), "ticketsCreated") == 1);  // T3, now the lead's
  CHECK(number(group(folded, lead)["resolutionTime"], "businessMedianSeconds") == Approx(28800));

  // (The whole-day reports above did read the rollup: a row written there by hand shows in them only.)
  sql_exec("INSERT INTO report_rollup VALUES ('" + acc +
           "', 0, 1, 1, '2026-11-02', '', 0, 100, 0) ON CONFLICT "
           "ON CONSTRAINT report_rollup_pkey DO UPDATE SET n = report_rollup.n + 100");
  CHECK(number(api("GET", "/api/v1/reports/overview?from=2026-11-02&to=2026-11-04", key).data()["totals"],
               "ticketsCreated") == 103);
  CHECK(number(api("GET", "/api/v1/reports/overview?from=2026-11-02&to=2026-11-03T17:00:00.001Z", key).data()["totals"],
               "ticketsCreated") == 3);

  // Refused periods.
  for (const char* q : {"", "from=2026-11-02", "from=2026-11-04&to=2026-11-02", "from=2025-01-01&to=2026-11-02",
                        "from=2026-11-02&to=2026-11-04&tz=Mars/Olympus", "from=2026-02-30&to=2026-03-04",
                        "from=2026-11-02&to=2026-11-04&groupBy=month", "from=2026-11-02&to=2026-11-04&tz=UTC;DROP"}) {
    auto bad = api("GET", std::string("/api/v1/reports/overview?") + q, key);
    INFO(q << " → " << bad.raw);
    CHECK(bad.status == 400);
  }
}

TEST_CASE("reports: an agent's reply stores the first response time in business seconds", "[reports]") {
  auto [acc, key] = new_workspace("Report Clock Co");
  const auto t = new_ticket(key);
  sql_exec("UPDATE tickets SET created_at = now() - interval '90 seconds' WHERE id = '" + t + "'");
  agent_reply(key, t, "Hello!");
  // No business hours on the inbox: calendar time, 90 s and the time the reply took.
  const auto seconds = sql_number("SELECT first_response_business_s FROM tickets WHERE id = '" + t + "'");
  CHECK(seconds >= 90);
  CHECK(seconds <= 95);
  REQUIRE(api("PATCH", "/api/v1/tickets/" + t, key, R"({"status":"resolved"})").status == 200);
  CHECK(sql_number("SELECT resolution_business_s FROM tickets WHERE id = '" + t + "'") >= 90);
  CHECK(sql_number("SELECT count(*) FROM ticket_status_log WHERE ticket_id = '" + t + "'") ==
        3);  // open, pending, resolved
}
