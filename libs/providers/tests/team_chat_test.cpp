// Slack and Discord team notifications (issue 18): the messages they get, and the webhook URLs
// connect takes — everything here is checked before any request is made.
#include <catch2/catch.hpp>

#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/providers/discord/discord.hpp"
#include "loket/providers/slack/slack.hpp"

using namespace loket;
using namespace loket::providers;

namespace {
TeamNotice notice() {
  TeamNotice n;
  n.kind = TeamNotice::Kind::kNewTicket;
  n.workspace = "Toko <Anda>";
  n.number = 1042;
  n.subject = "Resi belum muncul";
  n.requester = "Budi <!channel>";
  n.channel = "WhatsApp";
  n.excerpt = "Order #1042?\n<https://evil.example|click here> @everyone";
  n.link = "https://app.loket.example/tickets/tkt_1";
  n.occurred_at = "2026-11-30T10:00:00.000Z";
  return n;
}

rapidjson::Document parsed(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

rapidjson::Document connect_body(const std::string& url) {
  rapidjson::Document d;
  d.SetObject();
  d.AddMember("webhookUrl", rapidjson::Value(url.c_str(), d.GetAllocator()), d.GetAllocator());
  return d;
}
}  // namespace

TEST_CASE("Slack: a Block Kit message whose customer text cannot make links or mentions") {
  auto d = parsed(slack::notice_json(notice()));
  const std::string fallback = d["text"].GetString();
  CHECK(fallback == "New ticket #1042 from Budi &lt;!channel&gt;: Resi belum muncul");
  const auto& blocks = d["blocks"];
  REQUIRE(blocks.Size() == 3);
  const std::string head = blocks[0]["text"]["text"].GetString();
  CHECK(head ==
        "*New ticket* <https://app.loket.example/tickets/tkt_1|#1042> · WhatsApp\n*Resi belum muncul*\nfrom Budi "
        "&lt;!channel&gt;");
  const std::string quote = blocks[1]["text"]["text"].GetString();
  CHECK(quote == "> Order #1042?\n> &lt;https://evil.example|click here&gt; @everyone");
  CHECK(std::string(blocks[2]["elements"][0]["text"].GetString()) == "Toko &lt;Anda&gt; · Loket");

  auto reply = notice();
  reply.kind = TeamNotice::Kind::kCustomerReply;
  reply.excerpt = std::string(5000, 'x');
  reply.link = "https://app.example/t|x";  // a bad setting: the number is shown without a link
  auto r = parsed(slack::notice_json(reply));
  const std::string rhead = r["blocks"][0]["text"]["text"].GetString();
  CHECK(rhead.rfind("*Customer replied* on #1042 · WhatsApp", 0) == 0);
  CHECK(std::string(r["blocks"][1]["text"]["text"].GetString()).size() < 3000);  // Slack's section limit
}

TEST_CASE("Discord: one embed within Discord's limits, and no one is pinged") {
  auto n = notice();
  n.subject = std::string(400, 's');
  n.excerpt = std::string(5000, 'e');
  auto d = parsed(discord::notice_json(n));
  CHECK(d["allowed_mentions"]["parse"].IsArray());
  CHECK(d["allowed_mentions"]["parse"].Empty());
  REQUIRE(d["embeds"].Size() == 1);
  const auto& e = d["embeds"][0];
  CHECK(core::utf8_length(e["title"].GetString()) == 256);
  CHECK(std::string(e["title"].GetString()).rfind("#1042 sss", 0) == 0);
  CHECK(core::utf8_length(e["description"].GetString()) == 4096);
  CHECK(std::string(e["url"].GetString()) == "https://app.loket.example/tickets/tkt_1");
  CHECK(std::string(e["timestamp"].GetString()) == "2026-11-30T10:00:00.000Z");
  CHECK(std::string(e["fields"][0]["value"].GetString()) == "Budi <!channel>");
  CHECK(std::string(e["fields"][1]["value"].GetString()) == "WhatsApp");
  CHECK(std::string(e["footer"]["text"].GetString()) == "Toko <Anda> · new ticket");
  CHECK(std::string(d["content"].GetString()) == "New ticket #1042 from Budi <!channel>");
  n.link = "javascript:alert(1)";  // not a URL Discord takes: left out rather than refused
  CHECK_FALSE(parsed(discord::notice_json(n))["embeds"][0].HasMember("url"));
}

TEST_CASE("SLA at risk and breached (issue 21): what, when it is due, on which ticket; no customer text") {
  auto n = notice();
  n.kind = TeamNotice::Kind::kSlaBreached;
  n.excerpt.clear();
  n.sla_target = "first response";
  n.due_at = "2026-11-30 10:45 UTC";
  auto s = parsed(slack::notice_json(n));
  CHECK(std::string(s["text"].GetString()) ==
        "SLA breached: first response was due 2026-11-30 10:45 UTC on #1042 from Budi &lt;!channel&gt;: Resi belum "
        "muncul");
  REQUIRE(s["blocks"].Size() == 2);  // no quote
  CHECK(std::string(s["blocks"][0]["text"]["text"].GetString())
            .rfind("*SLA breached*: first response was due 2026-11-30 10:45 UTC on "
                   "<https://app.loket.example/tickets/tkt_1|#1042> · WhatsApp",
                   0) == 0);
  n.kind = TeamNotice::Kind::kSlaWarning;
  n.sla_target = "resolution <!here>";  // never from a customer, but escaped all the same
  const std::string warn = parsed(slack::notice_json(n))["blocks"][0]["text"]["text"].GetString();
  CHECK(warn.rfind("*SLA at risk*: resolution &lt;!here&gt; due 2026-11-30 10:45 UTC on <", 0) == 0);

  auto d = parsed(discord::notice_json(n));
  CHECK(std::string(d["content"].GetString()) ==
        "SLA at risk: resolution <!here> due 2026-11-30 10:45 UTC on #1042 from Budi <!channel>");
  CHECK(d["allowed_mentions"]["parse"].Empty());
  CHECK(d["embeds"][0]["color"].GetInt() == 0xd29922);
  CHECK_FALSE(d["embeds"][0].HasMember("description"));
  CHECK(std::string(d["embeds"][0]["footer"]["text"].GetString()) == "Toko <Anda> · SLA at risk");
  n.kind = TeamNotice::Kind::kSlaBreached;
  CHECK(parsed(discord::notice_json(n))["embeds"][0]["color"].GetInt() == 0xf85149);
}

TEST_CASE("a webhook URL is refused before anything is sent to it, unless it is the provider's") {
  auto slack = slack::make_adapter(Settings());
  auto discord = discord::make_adapter(Settings());
  for (const char* bad : {"", "hooks.slack.com/services/T/B/x", "http://hooks.slack.com/services/T/B/x",
                          "https://hooks.slack.com.evil.example/services/T/B/x", "https://evil.example/services/T/B/x",
                          "https://user:pw@hooks.slack.com/services/T/B/x", "https://hooks.slack.com/api/T/B/x",
                          "https://hooks.slack.com/services/", "https://hooks.slack.com/services/T/B/x y",
                          "https://hooks.slack.com/services/T/B/x\r\nHost: evil", "https://127.0.0.1/services/T/B/x",
                          "https://discord.com/api/webhooks/1/abc"}) {
    INFO(bad);
    CHECK_THROWS_AS(slack->connect(connect_body(bad)), Refusal);
  }
  CHECK_THROWS_AS(slack->connect(connect_body("https://hooks.slack.com/services/" + std::string(500, 'x'))), Refusal);
  for (const char* bad :
       {"https://hooks.slack.com/services/T/B/x", "https://discord.com/webhooks/1/abc",
        "https://discord.com.evil.example/api/webhooks/1/abc", "ftp://discord.com/api/webhooks/1/a"}) {
    INFO(bad);
    CHECK_THROWS_AS(discord->connect(connect_body(bad)), Refusal);
  }
  try {
    slack->connect(connect_body("https://evil.example/services/T/B/x"));
    FAIL("an unknown host was taken");
  } catch (const Refusal& r) {
    CHECK(r.status() == 400);
    CHECK(std::string(r.what()).find("evil.example is not a host this provider uses") != std::string::npos);
  }
  // Tests and local setups widen the hosts (a fake on 127.0.0.1): still nothing else.
  auto local = slack::make_adapter(
      Settings(std::map<std::string, std::string>{{"LOKET_SLACK_WEBHOOK_HOSTS", " Hooks.Local:8443 ,x.example"}}));
  CHECK_THROWS_AS(local->connect(connect_body("https://hooks.slack.com/services/T/B/x")), Refusal);
}
