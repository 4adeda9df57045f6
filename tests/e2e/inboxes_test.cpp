// Inboxes, teams and the access rule through the real services (issue 20): who sees which
// tickets over every route that takes a ticket (the cross-inbox walk), lists, search, bulk
// actions, realtime, integrations delivering into their inbox, and deleting an inbox.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <thread>

#include "harness.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
const std::string kPassword = "correct horse battery";

struct Agent {
  std::string id, token;
};

// A new agent of the workspace of `key` with `role`, signed in.
Agent add_agent(const std::string& key, const std::string& name, const std::string& role = "agent") {
  const std::string email = unique_email(name);
  auto created = api("POST", "/api/v1/agents", key,
                     R"({"email":")" + email + R"(","name":")" + name + R"(","role":")" + role + R"(","password":")" +
                         kPassword + "\"}");
  INFO(created.raw);
  REQUIRE(created.status == 201);
  auto login = api("POST", "/api/v1/auth/login", "", R"({"email":")" + email + R"(","password":")" + kPassword + "\"}");
  REQUIRE(login.status == 201);
  return {str(created.data(), "id"), str(login.data(), "token")};
}

std::string created_id(const Json& r) {
  INFO(r.raw);
  REQUIRE(r.status == 201);
  return str(r.data(), "id");
}

bool has(const WsClient& c, const std::string& needle) {
  for (const auto& m : c.messages())
    if (m.find(needle) != std::string::npos) return true;
  return false;
}
}  // namespace

TEST_CASE("inboxes and teams: agents see and act only on tickets of their inboxes", "[inboxes]") {
  auto ws = new_signed_in_workspace("Inbox Co");
  const std::string& key = ws.key;
  Agent dewi = add_agent(key, "Dewi"), budi = add_agent(key, "Budi"), ada = add_agent(ws.session, "Ada", "admin");

  // A new workspace has its default inbox with every agent in it.
  auto inboxes = api("GET", "/api/v1/inboxes", key);
  REQUIRE(inboxes.status == 200);
  REQUIRE(inboxes.data().Size() == 1);
  const std::string general = str(inboxes.data()[0], "id");
  CHECK(inboxes.data()[0]["isDefault"].GetBool());
  CHECK(inboxes.data()[0]["agentIds"].Size() == 4);  // the owner too

  // Only admins shape inboxes and teams; members are checked.
  CHECK(api("POST", "/api/v1/inboxes", dewi.token, R"({"name":"Mine"})").status == 403);
  CHECK(api("POST", "/api/v1/teams", dewi.token, R"({"name":"Mine"})").status == 403);
  CHECK(api("POST", "/api/v1/inboxes", key, R"({"name":""})").status == 400);
  CHECK(api("POST", "/api/v1/inboxes", key, R"({"name":"X","agentIds":["agt_nobody"]})").status == 400);
  CHECK(api("POST", "/api/v1/inboxes", key, R"({"name":"X","agentIds":"all"})").status == 400);
  CHECK(api("POST", "/api/v1/teams", key, R"({"name":"X","agentIds":[")" + dewi.id + R"(",7]})").status == 400);
  CHECK(api("GET", "/api/v1/inboxes", key).data().Size() == 1);  // nothing half-made

  const std::string tier2 =
      created_id(api("POST", "/api/v1/teams", ada.token,
                     R"({"name":"Tier 2","description":"Escalations","agentIds":[")" + budi.id + "\"]}"));
  CHECK(api("POST", "/api/v1/teams", key, R"({"name":"tier 2"})").status == 409);
  const std::string billing =
      created_id(api("POST", "/api/v1/inboxes", ada.token, R"({"name":"Billing","agentIds":[")" + dewi.id + "\"]}"));
  const std::string vip =
      created_id(api("POST", "/api/v1/inboxes", key, R"({"name":"VIP","teamIds":[")" + tier2 + "\"]}"));
  CHECK(api("POST", "/api/v1/inboxes", key, R"({"name":"billing"})").status == 409);
  // Business hours: validated like the widget's, kept normalized.
  CHECK(api("PATCH", "/api/v1/inboxes/" + billing, key, R"({"businessHours":{"timeZone":"Mars/Olympus"}})").status ==
        400);
  auto hours = api("PATCH", "/api/v1/inboxes/" + billing, key,
                   R"({"businessHours":{"timeZone":"Asia/Jakarta","week":{"mon":[["09:00","17:00"]]}}})");
  INFO(hours.raw);
  REQUIRE(hours.status == 200);
  CHECK(str(hours.data()["businessHours"], "timeZone") == "Asia/Jakarta");
  CHECK(hours.data()["businessHours"]["week"]["mon"].Size() == 1);
  CHECK(api("GET", "/api/v1/inboxes/" + vip, key).data()["businessHours"].IsNull());
  // Dewi and Budi leave the default inbox: each works only in their own.
  auto narrowed = api("PATCH", "/api/v1/inboxes/" + general, key, R"({"agentIds":[")" + ada.id + "\"]}");
  INFO(narrowed.raw);
  REQUIRE(narrowed.status == 200);
  CHECK(narrowed.data()["agentIds"].Size() == 1);

  WsClient dewi_live(stack().api_url(), "/api/v1/realtime?access_token=" + dewi.token);
  WsClient admin_live(stack().api_url(), "/api/v1/realtime?access_token=" + ada.token);
  REQUIRE(wait_until([&] { return has(dewi_live, "\"ready\"") && has(admin_live, "\"ready\""); }, 5s));

  auto ticket = [&](const std::string& inbox, const std::string& word) {
    return created_id(
        api("POST", "/api/v1/tickets", key,
            R"({"body":"Question about )" + word + R"(","requesterName":"Sari","inboxId":")" + inbox + "\"}"));
  };
  const std::string t_billing = ticket(billing, "invoices"), t_vip = ticket(vip, "zebrafish"),
                    t_general = ticket(general, "shipping");
  CHECK(str(api("GET", "/api/v1/tickets/" + t_vip, key).data(), "inboxId") == vip);
  CHECK(api("POST", "/api/v1/tickets", key, R"({"body":"x","inboxId":"ibx_nope"})").status == 400);

  // Lists and search: each agent sees their inboxes' tickets; admins and keys see all.
  CHECK(ticket_ids(dewi.token) == std::vector<std::string>{t_billing});
  CHECK(ticket_ids(budi.token) == std::vector<std::string>{t_vip});
  CHECK(ticket_ids(ada.token).size() == 3);
  CHECK(ticket_ids(key, "?inboxId=" + vip) == std::vector<std::string>{t_vip});
  CHECK(ticket_ids(dewi.token, "?q=zebrafish").empty());
  CHECK(ticket_ids(budi.token, "?q=zebrafish") == std::vector<std::string>{t_vip});
  CHECK(api("GET", "/api/v1/inboxes", dewi.token).data().Size() == 1);
  CHECK(api("GET", "/api/v1/inboxes/" + vip, dewi.token).status == 404);
  CHECK(api("GET", "/api/v1/inboxes/" + vip, budi.token).status == 200);  // through Tier 2

  // Teams on tickets: set, filtered, checked.
  CHECK(api("PATCH", "/api/v1/tickets/" + t_vip, key, R"({"teamId":")" + tier2 + "\"}").status == 200);
  CHECK(ticket_ids(key, "?teamId=" + tier2) == std::vector<std::string>{t_vip});
  CHECK(ticket_ids(key, "?teamId=none").size() == 2);
  CHECK(api("PATCH", "/api/v1/tickets/" + t_vip, key, R"({"teamId":"team_nope"})").status == 400);
  // A macro routes tickets to a team too.
  CHECK(api("POST", "/api/v1/tickets/bulk", key,
            R"({"ticketIds":[")" + t_general + R"("],"actions":[{"type":"assignTeam","teamId":"team_nope"}]})")
            .status == 400);
  auto routed =
      api("POST", "/api/v1/tickets/bulk", key,
          R"({"ticketIds":[")" + t_general + R"("],"actions":[{"type":"assignTeam","teamId":")" + tier2 + "\"}]}");
  REQUIRE(routed.status == 200);
  CHECK(routed.data()["applied"].GetInt() == 1);
  CHECK(str(api("GET", "/api/v1/tickets/" + t_general, key).data(), "teamId") == tier2);
  CHECK(ticket_ids(key, "?teamId=none").size() == 1);
  // An agent moves a ticket only into an inbox they work in.
  CHECK(api("PATCH", "/api/v1/tickets/" + t_billing, dewi.token, R"({"inboxId":")" + vip + "\"}").status == 400);

  // The cross-inbox walk: every route that takes a ticket answers 404 to Dewi for the VIP
  // ticket, as for one that does not exist, and changes nothing.
  const std::string vip_file =
      str(upload(stack().api_url(), key, multipart("vip.txt", "text/plain", "vip")).data(), "id");
  auto reply = api("POST", "/api/v1/tickets/" + t_vip + "/messages", key,
                   R"({"body":"VIP answer","internal":true,"attachmentIds":[")" + vip_file + "\"]}");
  REQUIRE(reply.status == 201);
  const std::string vip_message = str(reply.data(), "id");
  int walked = 0;
  for (const auto& [method, route] : api_routes()) {
    std::string path = route;
    if (path.rfind("/api/v1/tickets/:id", 0) != 0 && path != "/api/v1/attachments/:id") continue;
    path.replace(path.find(":id"), 3, path.rfind("/api/v1/tickets/", 0) == 0 ? t_vip : vip_file);
    if (auto m = path.find(":messageId"); m != std::string::npos) path.replace(m, 10, vip_message);
    INFO(method << " " << route << " " << path);
    REQUIRE(path.find(':') == std::string::npos);  // a new parameter: give it a VIP value above
    auto r =
        api(method, path, dewi.token, method == "GET" ? "" : R"({"body":"x","status":"closed","seq":1,"typing":true})");
    INFO(r.raw);
    CHECK(r.status == 404);
    if (path.find("/raw") == std::string::npos)  // (Loket keeps no original of a note)
      CHECK(api(method, path, budi.token, method == "GET" ? "" : "{}").status != 404);
    ++walked;
  }
  CHECK(walked >= 6);
  auto bulk = api(
      "POST", "/api/v1/tickets/bulk", dewi.token,
      R"({"ticketIds":[")" + t_vip + R"(",")" + t_billing + R"("],"actions":[{"type":"status","value":"pending"}]})");
  REQUIRE(bulk.status == 200);
  CHECK(str(bulk.data()["results"][0]["error"], "code") == "NOT_FOUND");
  CHECK(str(bulk.data()["results"][1], "status") == "applied");
  auto vip_now = api("GET", "/api/v1/tickets/" + t_vip, key);
  CHECK(str(vip_now.data(), "status") == "open");
  CHECK(vip_now.data()["messages"].Size() == 2);

  // Realtime: Dewi hears her inbox's tickets only; the admin hears all. Joining Tier 2 opens
  // VIP's events to her within the revalidation period, without reconnecting.
  agent_reply(key, t_billing, "Billing answer");
  agent_reply(key, t_vip, "VIP second answer");
  REQUIRE(wait_until([&] { return has(admin_live, "VIP second answer") && has(dewi_live, "Billing answer"); }, 10s));
  CHECK_FALSE(has(dewi_live, t_vip));
  CHECK_FALSE(has(dewi_live, t_general));
  REQUIRE(
      api("PATCH", "/api/v1/teams/" + tier2, key, R"({"agentIds":[")" + budi.id + R"(",")" + dewi.id + "\"]}").status ==
      200);
  CHECK(api("GET", "/api/v1/tickets/" + t_vip, dewi.token).status == 200);
  REQUIRE(wait_until(
      [&] {
        agent_reply(key, t_vip, "VIP for the team");
        return wait_until([&] { return has(dewi_live, "VIP for the team"); }, 1s);
      },
      15s));

  // Deleting an inbox keeps its tickets, for admins only; the default inbox stays.
  CHECK(api("DELETE", "/api/v1/inboxes/" + general, key).status == 409);
  CHECK(api("DELETE", "/api/v1/inboxes/" + billing, dewi.token).status == 403);
  REQUIRE(api("DELETE", "/api/v1/inboxes/" + billing, key).status == 200);
  CHECK(api("GET", "/api/v1/tickets/" + t_billing, dewi.token).status == 404);
  auto kept = api("GET", "/api/v1/tickets/" + t_billing, ada.token);
  REQUIRE(kept.status == 200);
  CHECK(kept.data()["inboxId"].IsNull());
  CHECK(api("DELETE", "/api/v1/teams/" + tier2, key).status == 200);
  CHECK(api("GET", "/api/v1/tickets/" + t_vip, key).data()["teamId"].IsNull());
  CHECK(api("GET", "/api/v1/tickets/" + t_vip, dewi.token).status == 404);  // the team's access went with it
}

TEST_CASE("auto-assignment: round robin among online members under capacity, exact under concurrency", "[inboxes]") {
  auto ws = new_signed_in_workspace("Assign Co");
  const std::string& key = ws.key;
  std::vector<Agent> online;
  for (const char* name : {"Ani", "Bayu", "Citra", "Dimas"}) online.push_back(add_agent(key, name));
  Agent away = add_agent(key, "Eka"), offline = add_agent(key, "Fajar");
  for (const auto& a : online) REQUIRE(api("GET", "/api/v1/me", a.token).status == 200);  // seen now
  CHECK(api("PATCH", "/api/v1/me", away.token, R"({"availability":"lunch"})").status == 400);
  auto set_away = api("PATCH", "/api/v1/me", away.token, R"({"availability":"away"})");
  REQUIRE(set_away.status == 200);
  CHECK(str(set_away.data(), "availability") == "away");
  sql_exec("UPDATE agents SET last_seen_at = NULL WHERE id = '" + offline.id + "'");  // signed in, never active

  std::string members = "\"" + away.id + "\",\"" + offline.id + "\"";
  for (const auto& a : online) members += ",\"" + a.id + "\"";
  CHECK(api("POST", "/api/v1/inboxes", key, R"({"name":"X","autoAssignment":{"mode":"fastest"}})").status == 400);
  CHECK(api("POST", "/api/v1/inboxes", key, R"({"name":"X","autoAssignment":{"capacity":0}})").status == 400);
  auto made = api("POST", "/api/v1/inboxes", key,
                  R"({"name":"Support","agentIds":[)" + members +
                      R"(],"autoAssignment":{"mode":"round_robin","capacity":30,"onlineWindowMinutes":5}})");
  INFO(made.raw);
  REQUIRE(made.status == 201);
  const std::string support = str(made.data(), "id");
  CHECK(made.data()["autoAssignment"]["capacity"].GetInt() == 30);
  CHECK(made.data()["autoAssignment"]["reassignAfterMinutes"].IsNull());

  WsClient live(stack().api_url(), "/api/v1/realtime?access_token=" + key);
  REQUIRE(wait_until([&] { return has(live, "\"ready\""); }, 5s));
  // 121 tickets at once through two api replicas: four online agents of capacity 30 take
  // exactly 30 each, never 31; the away and the offline member none; one is left unassigned.
  const std::string second = stack().start_api("assign-replica");
  std::atomic<int> created{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < 8; ++th)
    threads.emplace_back([&, th] {
      for (int i = th; i < 121; i += 8) {
        auto r = call(i % 2 ? second : stack().api_url(), "POST", "/api/v1/tickets", key,
                      R"({"body":"Order question )" + std::to_string(i) + R"(","inboxId":")" + support + "\"}");
        if (r.status == 201) ++created;
      }
    });
  for (auto& t : threads) t.join();
  REQUIRE(created == 121);
  auto held = [&](const std::string& agent) {
    return sql_number("SELECT count(*) FROM tickets WHERE inbox_id = '" + support + "' AND assignee_id " +
                      (agent.empty() ? "IS NULL" : "= '" + agent + "'"));
  };
  for (const auto& a : online) CHECK(held(a.id) == 30);
  CHECK(held(away.id) == 0);
  CHECK(held(offline.id) == 0);
  CHECK(held("") == 1);
  // Each assignment is a ticket.updated event with the assignee's change.
  auto assigned_events = [&] {
    int n = 0;
    for (const auto& m : live.messages())
      n += m.find("\"ticket.updated\"") != std::string::npos &&
           m.find("\"assigneeId\":{\"from\":null") != std::string::npos;
    return n;
  };
  CHECK(wait_until([&] { return assigned_events() == 120; }, 15s));

  // A ticket given an assignee by its creator keeps it.
  auto chosen = api("POST", "/api/v1/tickets", key,
                    R"({"body":"For Eka","inboxId":")" + support + R"(","assigneeId":")" + away.id + "\"}");
  CHECK(str(chosen.data(), "assigneeId") == away.id);

  // Ani goes offline for longer than the inbox allows: her open tickets go to whoever has room
  // (Bayu, after resolving ten), the rest stay with her until someone does.
  std::vector<std::string> bayus;
  for (const auto& id : ticket_ids(key, "?assigneeId=" + online[1].id + "&limit=10")) bayus.push_back(id);
  REQUIRE(bayus.size() == 10);
  for (const auto& id : bayus)
    REQUIRE(api("PATCH", "/api/v1/tickets/" + id, key, R"({"status":"resolved"})").status == 200);
  REQUIRE(api("PATCH", "/api/v1/inboxes/" + support, key, R"({"autoAssignment":{"reassignAfterMinutes":2}})").status ==
          200);
  sql_exec("UPDATE agents SET last_seen_at = now() - interval '3 minutes' WHERE id = '" + online[0].id + "'");
  CHECK(wait_until([&] { return held(online[0].id) == 20; }, 15s));
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE inbox_id = '" + support + "' AND assignee_id = '" +
                   online[1].id + "' AND status = 'open'") == 30);
  std::this_thread::sleep_for(1500ms);  // a few more sweeps change nothing
  CHECK(held(online[0].id) == 20);
  CHECK(held(online[2].id) == 30);
}

TEST_CASE("inboxes: a channel's conversations land in its inbox", "[inboxes]") {
  auto [acc, key] = new_workspace("Bot Inbox Co");
  Agent sari = add_agent(key, "Sari");
  auto [bot, secret] = connect_bot(key, bot_token("inboxbot"));
  auto listed = api("GET", "/api/v1/inboxes", key);
  const std::string general = str(listed.data()[0], "id");
  CHECK(listed.data()[0]["integrationIds"].Size() >= 1);  // every integration starts in the default inbox
  const std::string telegram =
      created_id(api("POST", "/api/v1/inboxes", key,
                     R"({"name":"Telegram","agentIds":[")" + sari.id + R"("],"integrationIds":[")" + bot + "\"]}"));
  CHECK(api("GET", "/api/v1/inboxes/" + telegram, key).data()["integrationIds"].Size() == 1);
  CHECK(api("PATCH", "/api/v1/inboxes/" + telegram, key, R"({"integrationIds":["int_nope"]})").status == 400);
  REQUIRE(api("PATCH", "/api/v1/inboxes/" + general, key, R"({"agentIds":[]})").status == 200);

  const long chat = std::stol(random_digits(9));
  REQUIRE(post_update(bot, secret, text_update(std::stol(random_digits(8)), chat, 1, "Where is my parcel?")).status ==
          200);
  std::vector<std::string> seen;
  REQUIRE(wait_until([&] { return !(seen = ticket_ids(sari.token)).empty(); }, 15s));
  CHECK(str(api("GET", "/api/v1/tickets/" + seen[0], key).data(), "inboxId") == telegram);
  // A ticket logged by hand goes to the default inbox, which Sari no longer works in.
  created_id(api("POST", "/api/v1/tickets", key, R"({"body":"By phone"})"));
  CHECK(ticket_ids(sari.token).size() == 1);
  CHECK(ticket_ids(key).size() == 2);

  // With round robin on, the writer assigns the next conversation to Sari (online: she just
  // made requests).
  REQUIRE(api("PATCH", "/api/v1/inboxes/" + telegram, key, R"({"autoAssignment":{"mode":"round_robin"}})").status ==
          200);
  const long other_chat = std::stol(random_digits(9));
  REQUIRE(post_update(bot, secret, text_update(std::stol(random_digits(8)), other_chat, 1, "Is it raining?")).status ==
          200);
  CHECK(wait_until([&] { return ticket_ids(key, "?assigneeId=" + sari.id).size() == 1; }, 15s));
}
