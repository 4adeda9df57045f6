// Outbound's choices without sockets: where a reply goes (choose_target) and who sends a
// workspace's emails (sender_for), over in-memory integrations.
#include <catch2/catch.hpp>

#include "email.hpp"
#include "loket/providers/resend/resend.hpp"
#include "loket/providers/telegram/telegram.hpp"
#include "loket/providers/twilio/twilio.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"
#include "outbound.hpp"

using namespace loket;

namespace {
const crypto::Keyring kKeys = crypto::Keyring::parse(std::string(64, '2'));

store::Integration integration(const std::string& id, const std::string& provider, const std::string& status = "active",
                               const std::string& credentials = "{}") {
  store::Integration i;
  i.id = id;
  i.workspace_id = "acc_1";
  i.provider = provider;
  i.status = status;
  if (!credentials.empty()) {
    i.credentials = kKeys.encrypt(credentials, id);
    i.credentials_key_id = kKeys.active_key_id();
  }
  return i;
}

// The workspace's integrations, newest connection last; records what outbound asked for.
struct Directory {
  std::vector<store::Integration> all;
  std::vector<std::vector<std::string>> asked;

  outbound::IntegrationLookup lookup() {
    return {[this](const std::string& id) -> std::optional<store::Integration> {
              for (const auto& i : all)
                if (i.id == id) return i;
              return std::nullopt;
            },
            [this](const std::vector<std::string>& providers) -> std::optional<store::Integration> {
              asked.push_back(providers);
              for (auto it = all.rbegin(); it != all.rend(); ++it)
                if (it->status != "disconnected" &&
                    std::find(providers.begin(), providers.end(), it->provider) != providers.end())
                  return *it;
              return std::nullopt;
            }};
  }
};

const providers::ChannelDescriptor& channel(const char* name) {
  const auto* c = providers::find_channel(name);
  REQUIRE(c != nullptr);
  return *c;
}
}  // namespace

TEST_CASE("a chat reply goes to the chat through the integration the ticket came in on") {
  auto registry = providers::Registry::standard(providers::Settings());
  // The Telegram bot's ticket channel, as its descriptor names it.
  const std::string chat = registry.find(providers::telegram::kIntegration)->descriptor().channel;
  Directory d;
  d.all = {integration("int_bot1", providers::telegram::kIntegration),
           integration("int_bot2", providers::telegram::kIntegration)};
  events::Route route{chat, "int_bot1", "777000", std::nullopt, std::nullopt};
  auto t = outbound::choose_target(channel(chat.c_str()), route, registry, d.lookup());
  CHECK(t.error.empty());
  REQUIRE(t.integration);
  CHECK(t.integration->id == "int_bot1");  // not the newest bot: the one the customer wrote to
  CHECK(t.to == "777000");
  CHECK(d.asked.empty());

  d.all[0].status = "disconnected";
  t = outbound::choose_target(channel(chat.c_str()), route, registry, d.lookup());
  CHECK(t.error == "the Telegram integration of this ticket is disconnected");

  route.integration_id = std::nullopt;  // a ticket logged through the API has no chat
  t = outbound::choose_target(channel(chat.c_str()), route, registry, d.lookup());
  CHECK_FALSE(t.integration);
  CHECK_FALSE(t.error.empty());

  route.integration_id = "int_bot2";
  route.external_thread_id = std::nullopt;
  t = outbound::choose_target(channel(chat.c_str()), route, registry, d.lookup());
  CHECK(t.error == "the ticket has no recipient on " + chat);
}

TEST_CASE("a WhatsApp reply goes to the requester's number through the newest WhatsApp integration") {
  auto registry = providers::Registry::standard(providers::Settings());
  Directory d;
  d.all = {integration("int_twilio", providers::twilio::kIntegration),
           integration("int_cloud", providers::whatsapp_cloud::kProvider),
           integration("int_bot", providers::telegram::kIntegration)};
  events::Route route{"whatsapp", "int_twilio", "+6281111111111", std::nullopt, "+6281234567890"};
  auto t = outbound::choose_target(channel("whatsapp"), route, registry, d.lookup());
  CHECK(t.error.empty());
  REQUIRE(t.integration);
  CHECK(t.integration->id == "int_cloud");  // seed 000: the most recently connected number
  CHECK(t.to == "+6281234567890");          // the phone, not the thread id
  REQUIRE(d.asked.size() == 1);
  CHECK(std::find(d.asked[0].begin(), d.asked[0].end(), providers::telegram::kIntegration) == d.asked[0].end());

  d.all[1] = integration("int_cloud", providers::whatsapp_cloud::kProvider, "active", "");
  t = outbound::choose_target(channel("whatsapp"), route, registry, d.lookup());
  CHECK(t.error.find("no WhatsApp number is connected") == 0);  // no credentials left: cannot send

  route.requester_phone = std::nullopt;  // falls back to the thread (the number it came from)
  d.all.pop_back();
  d.all.pop_back();
  t = outbound::choose_target(channel("whatsapp"), route, registry, d.lookup());
  CHECK(t.error.empty());
  CHECK(t.to == "+6281111111111");
  CHECK(t.integration->id == "int_twilio");
}

TEST_CASE("a workspace's emails go out through its own sender, else the platform's, else nowhere") {
  auto none = providers::Registry::standard(providers::Settings());
  CHECK_FALSE(outbound::sender_for(std::nullopt, kKeys, none));

  auto platform = providers::Registry::standard(providers::Settings(
      {{"LOKET_RESEND_API_KEY", "re_platform"}, {"LOKET_EMAIL_FROM", "Loket <support@loket.example>"}}));
  auto s = outbound::sender_for(std::nullopt, kKeys, platform);
  REQUIRE(s);
  CHECK(s->provider == providers::resend::kPlatform);
  CHECK(s->from == "Loket <support@loket.example>");

  auto own = integration("int_mail", providers::resend::kIntegration, "active",
                         R"({"apiKey":"re_own","fromEmail":"help@shop.example","fromName":"Shop"})");
  s = outbound::sender_for(own, kKeys, platform);
  REQUIRE(s);
  CHECK(s->provider == providers::resend::kIntegration);
  CHECK(s->from.find("help@shop.example") != std::string::npos);

  own.credentials.clear();  // disconnected: its credentials are erased
  s = outbound::sender_for(own, kKeys, platform);
  REQUIRE(s);
  CHECK(s->provider == providers::resend::kPlatform);

  own = integration("int_mail", providers::resend::kIntegration, "active", "{}");
  own.credentials_key_id = "retired";
  CHECK_THROWS_AS(outbound::sender_for(own, kKeys, platform), std::runtime_error);
}
