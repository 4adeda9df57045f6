// Issue 18, Slack and Discord team notifications: connecting validates with a test message;
// new tickets and customer replies are posted to every connected chat, agents' replies and
// notes never; a rate limit delays a post, a deleted webhook marks its integration error.
#include <catch2/catch.hpp>

#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
// Connects a team chat webhook at `path` of the fake; returns the API's answer.
Json connect(const std::string& key, const std::string& provider, const std::string& path) {
  return api("POST", "/api/v1/channels", key,
             R"({"provider":")" + provider + R"(","webhookUrl":")" + team_chat().base() + path + R"("})");
}

// The public form's new ticket: {ticket id, access token}.
std::pair<std::string, std::string> form_ticket(const std::string& account, const std::string& key,
                                                const std::string& subject) {
  auto form = call(stack().api_url(), "POST", "/api/v1/public/tickets", "",
                   R"({"accountId":")" + account + R"(","subject":")" + subject +
                       R"(","body":"Paket saya @everyone <!channel>","email":")" + unique_email("budi") +
                       R"(","name":"Budi"})");
  REQUIRE(form.status == 201);
  const std::string ticket = str(api("GET", "/api/v1/tickets", key).data()["items"][0], "id");
  return {ticket, str(form.data(), "accessToken")};
}

rapidjson::Document parsed(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  return d;
}
}  // namespace

TEST_CASE("Slack and Discord hear of new tickets and customer replies, never of agents' replies or notes", "[team]") {
  auto [account, key] = new_workspace("Toko Tim");
  const std::string slack = "/services/T01/B01/" + loket::core::new_id("s"),
                    discord = "/api/webhooks/123/" + loket::core::new_id("d");

  // Hostile or dead URLs: refused, nothing stored, nothing sent to a host not the provider's.
  CHECK(api("POST", "/api/v1/channels", key,
            R"({"provider":"slack_webhook","webhookUrl":"https://hooks.slack.com.evil.example/services/T/B/x"})")
            .status == 400);
  CHECK(connect(key, "discord_webhook", slack).status == 400);  // a Slack URL is no Discord webhook
  auto dead = connect(key, "slack_webhook", "/services/T01/B01/gone-1");
  CHECK(dead.status == 400);
  CHECK(str(dead.doc["error"], "code") == "PROVIDER_REJECTED");
  CHECK(api("GET", "/api/v1/channels", key).data()["integrations"].Size() == 0);

  auto s = connect(key, "slack_webhook", slack);
  REQUIRE(s.status == 201);
  CHECK(str(s.data(), "provider") == "slack_webhook");
  CHECK(s.raw.find(slack) == std::string::npos);  // the URL is a credential: never shown
  REQUIRE(connect(key, "discord_webhook", discord).status == 201);
  REQUIRE(team_chat().posts(slack).size() == 1);
  CHECK(team_chat().posts(slack)[0].find("Loket connected ✓") != std::string::npos);
  REQUIRE(team_chat().posts(discord).size() == 1);
  CHECK(api("GET", "/api/v1/channels", key).raw.find(slack) == std::string::npos);

  auto [ticket, token] = form_ticket(account, key, "Resi belum muncul");
  const std::string number = std::to_string(sql_number("SELECT number FROM tickets WHERE id = '" + ticket + "'"));
  REQUIRE(
      wait_until([&] { return team_chat().posts(slack).size() == 2 && team_chat().posts(discord).size() == 2; }, 30s));
  auto sp = parsed(team_chat().posts(slack)[1]);
  const std::string head = sp["blocks"][0]["text"]["text"].GetString();
  INFO(head);
  CHECK(head.rfind("*New ticket* <https://agents.loket.test/tickets/" + ticket + "|#" + number + "> · Web", 0) == 0);
  CHECK(std::string(sp["blocks"][1]["text"]["text"].GetString()) == "> Paket saya @everyone &lt;!channel&gt;");
  auto dp = parsed(team_chat().posts(discord)[1]);
  CHECK(std::string(dp["embeds"][0]["title"].GetString()) == "#" + number + " Resi belum muncul");
  CHECK(std::string(dp["embeds"][0]["url"].GetString()) == "https://agents.loket.test/tickets/" + ticket);
  CHECK(dp["allowed_mentions"]["parse"].Empty());

  // The team's own messages are not news; the customer's reply is.
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"On its way"})").status == 201);
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"VIP","internal":true})").status ==
          201);
  REQUIRE(call(stack().api_url(), "POST", "/api/v1/public/tickets/" + token + "/messages", "",
               R"({"body":"Thanks, got it"})")
              .status == 201);
  REQUIRE(
      wait_until([&] { return team_chat().posts(slack).size() == 3 && team_chat().posts(discord).size() == 3; }, 30s));
  CHECK(team_chat().posts(slack)[2].find("*Customer replied* on") != std::string::npos);
  CHECK(team_chat().posts(slack)[2].find("Thanks, got it") != std::string::npos);
  CHECK(parsed(team_chat().posts(discord)[2])["embeds"][0]["description"] == "Thanks, got it");
  std::this_thread::sleep_for(1500ms);  // nothing else arrives: each event once per chat
  CHECK(team_chat().posts(slack).size() == 3);
  CHECK(team_chat().posts(discord).size() == 3);
  CHECK(sql_number("SELECT count(*) FROM team_notices WHERE ticket_id = '" + ticket + "' AND status = 'sent'") == 4);
}

TEST_CASE("a rate-limited chat is posted to after Retry-After; a deleted webhook marks its integration error",
          "[team]") {
  auto [account, key] = new_workspace("Toko Tim Dua");
  const std::string slack = "/services/T02/B02/" + loket::core::new_id("s"),
                    discord = "/api/webhooks/456/" + loket::core::new_id("d");
  REQUIRE(connect(key, "slack_webhook", slack).status == 201);
  auto d = connect(key, "discord_webhook", discord);
  REQUIRE(d.status == 201);
  const std::string discord_id = str(d.data(), "id");

  team_chat().limited = 1;  // the next post is refused with 429
  form_ticket(account, key, "Limited");
  REQUIRE(
      wait_until([&] { return team_chat().posts(slack).size() == 2 && team_chat().posts(discord).size() == 2; }, 30s));
  CHECK(team_chat().calls(slack).size() + team_chat().calls(discord).size() == 5);  // one 429, then each once

  team_chat().remove(discord);  // someone deleted the Discord webhook
  form_ticket(account, key, "Gone");
  REQUIRE(wait_until([&] { return team_chat().posts(slack).size() == 3; }, 30s));
  REQUIRE(wait_until(
      [&] {
        return sql_number("SELECT count(*) FROM integrations WHERE id = '" + discord_id + "' AND status = 'error'") ==
               1;
      },
      30s));
  const auto& listed = api("GET", "/api/v1/channels", key).data()["integrations"];
  for (const auto& i : listed.GetArray())
    if (str(i, "id") == discord_id) CHECK(str(i, "lastError").find("Unknown Webhook") != std::string::npos);
  CHECK(sql_number("SELECT count(*) FROM team_notices WHERE integration_id = '" + discord_id +
                   "' AND status = 'failed'") == 1);
  // An integration in error is not posted to again (until it is reconnected).
  const auto discord_calls = team_chat().calls(discord).size();
  form_ticket(account, key, "After");
  REQUIRE(wait_until([&] { return team_chat().posts(slack).size() == 4; }, 30s));
  CHECK(team_chat().calls(discord).size() == discord_calls);
}
