// The registry and channel descriptors: one name per provider, one list, one mapping.
#include <catch2/catch.hpp>

#include "loket/providers/registry.hpp"

using namespace loket::providers;

namespace {
// A provider that only sends, to show a registry accepts any adapter and refuses twins.
class FakeSender final : public Adapter {
 public:
  explicit FakeSender(std::string name) : d_{std::move(name), "", "sms", "Fake", "FAKE"} {}
  const ProviderDescriptor& descriptor() const override { return d_; }

 private:
  ProviderDescriptor d_;
};
}  // namespace

TEST_CASE("the standard registry names each provider once, with its webhook name and channel") {
  auto r = Registry::standard(Settings());
  REQUIRE(r.adapters().size() == 11);
  const Adapter* tg = r.find("telegram_bot");
  REQUIRE(tg);
  CHECK(r.find_webhook("telegram") == tg);
  CHECK(tg->descriptor().channel == "telegram");
  CHECK(r.find_webhook("twilio") == r.find("whatsapp_twilio"));
  CHECK(r.find_webhook("whatsapp_cloud") == r.find("whatsapp_cloud"));
  CHECK(r.find_webhook("") == nullptr);  // a send-only provider has no webhook name
  CHECK(r.find("email_resend")->webhook() == std::nullopt);
  CHECK(r.find("nope") == nullptr);
  CHECK(r.names_on_channel("whatsapp") == std::vector<std::string>{"whatsapp_twilio", "whatsapp_cloud"});
  CHECK(r.names_on_channel("").empty());
  CHECK(r.mailer_names() == std::vector<std::string>{"email_resend", "email_mailbox"});
  CHECK(standard_webhook_topics() == std::vector<std::string>{"channel.webhook.telegram", "channel.webhook.twilio",
                                                              "channel.webhook.whatsapp_cloud",
                                                              "channel.webhook.resend", "channel.webhook.email",
                                                              "channel.webhook.instagram", "channel.webhook.vk"});
  REQUIRE(r.platform().size() == 1);  // the email alias, kept for every workspace
  CHECK(r.platform()[0]->channel == "email");
  for (const char* team : {"slack_webhook", "discord_webhook"}) {  // send-only, to the team
    REQUIRE(r.find(team));
    CHECK(r.find(team)->descriptor().team_notices);
    CHECK(r.find(team)->webhook() == std::nullopt);
  }
  const Adapter* inbox = r.find("api");  // the API channel: its own client API, no webhooks in
  REQUIRE(inbox);
  CHECK(inbox->descriptor().client_api);
  CHECK(inbox->descriptor().channel == "api");
  CHECK(inbox->webhook() == std::nullopt);
  for (const auto& a : r.adapters())
    if (auto ep = a->webhook()) CHECK(ep->path.rfind("/api/v1/webhooks/", 0) == 0);
}

TEST_CASE("a registry refuses two providers with one name") {
  std::vector<std::unique_ptr<Adapter>> twins;
  twins.push_back(std::make_unique<FakeSender>("fake"));
  twins.push_back(std::make_unique<FakeSender>("fake"));
  CHECK_THROWS_AS(Registry(std::move(twins)), std::logic_error);
  std::vector<std::unique_ptr<Adapter>> one;
  one.push_back(std::make_unique<FakeSender>("fake"));
  Registry r(std::move(one));
  CHECK(r.find("fake"));
  CHECK(r.webhook_topics().empty());
}

TEST_CASE("what a provider does not do is refused, not silently done another way") {
  FakeSender s("fake");
  CHECK_THROWS_AS(s.connect(rapidjson::Value(rapidjson::kObjectType)), Refusal);
  CHECK_THROWS(s.send({}, "", {"to", "text", "msg_1", ""}));
  CHECK(s.normalize({}).dropped == std::vector<std::string>{"unsupported_provider"});
  CHECK_FALSE(s.authenticate({}, "", {"hash", "key"}));
  CHECK_FALSE(s.mailer("{}").has_value());
  CHECK_THROWS_AS(s.notify_team("{}", {}), std::logic_error);
}

TEST_CASE("channel descriptors: label and where a reply goes") {
  REQUIRE(find_channel("whatsapp"));
  CHECK(find_channel("whatsapp")->reply_to == ReplyTo::kPhone);
  CHECK(find_channel("telegram")->reply_to == ReplyTo::kThread);
  for (const char* by_email : {"web", "email", "phone", "chat", "api", "other"})
    CHECK(find_channel(by_email)->reply_to == ReplyTo::kEmail);
  CHECK(find_channel("fax") == nullptr);
  // No "we received your request" email where the customer watches it arrive (email, live chat).
  CHECK_FALSE(find_channel("email")->received_notice);
  CHECK_FALSE(find_channel("chat")->received_notice);
  CHECK(find_channel("web")->received_notice);
  CHECK(channel_label("whatsapp") == "WhatsApp");
  CHECK(channel_label("fax") == "Fax");
  CHECK(channel_label("") == "Support");
}

TEST_CASE("settings: API bases come from LOKET_<KEY>_API_BASE without a trailing slash") {
  Settings s({{"LOKET_TELEGRAM_API_BASE", "http://127.0.0.1:9000//"},
              {"LOKET_PUBLIC_WEBHOOK_URL", "https://h.example/"},
              {"LOKET_EMPTY", ""}});
  CHECK(s.api_base("TELEGRAM", "https://api.telegram.org") == "http://127.0.0.1:9000");
  CHECK(s.api_base("GRAPH", "https://graph.facebook.com") == "https://graph.facebook.com");
  CHECK(s.public_webhook_url() == "https://h.example");
  CHECK(s.get("LOKET_EMPTY", "fallback") == "fallback");
}

TEST_CASE("reply windows: WhatsApp 24 h; Instagram 24 h, 7 days with HUMAN_AGENT; none elsewhere") {
  constexpr std::int64_t kHour = 3600 * 1000, t0 = 1767225600000;  // the customer's last message
  const auto* wa = find_channel("whatsapp");
  const auto* ig = find_channel("instagram");
  REQUIRE(wa);
  REQUIRE(ig);
  auto w = reply_window(*wa, t0);
  REQUIRE(w);
  CHECK(w->closes_at_ms == t0 + 24 * kHour);
  CHECK(w->tag.empty());
  CHECK(w->open(t0));
  CHECK(w->open(t0 + 24 * kHour - 1));
  CHECK_FALSE(w->open(t0 + 24 * kHour));
  CHECK_FALSE(w->open(t0 + 24 * kHour, "HUMAN_AGENT"));  // WhatsApp has no such tag
  auto i = reply_window(*ig, t0);
  REQUIRE(i);
  CHECK(i->tag == "HUMAN_AGENT");
  CHECK(i->tag_closes_at_ms == t0 + 7 * 24 * kHour);
  CHECK_FALSE(i->open(t0 + 25 * kHour));
  CHECK(i->open(t0 + 25 * kHour, "HUMAN_AGENT"));
  CHECK_FALSE(i->open(t0 + 25 * kHour, "OTHER"));
  CHECK_FALSE(i->open(t0 + 7 * 24 * kHour, "HUMAN_AGENT"));
  CHECK_FALSE(reply_window(*ig, 0));  // the customer has not written
  for (const char* name : {"web", "email", "telegram", "vk", "chat", "api"})
    CHECK_FALSE(reply_window(*find_channel(name), t0));
}
