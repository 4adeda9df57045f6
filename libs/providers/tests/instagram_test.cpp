// Instagram direct messages (issue 19): routing, signatures, and what each webhook becomes.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/instagram/instagram.hpp"
#include "loket/providers/registry.hpp"

using namespace loket;
namespace ig = providers::instagram;

namespace {
constexpr const char* kAccount = "17841400000000000";
constexpr const char* kCustomer = "1234567890123456";

std::string read(const std::string& name) {
  std::ifstream in(std::string(LOKET_SOURCE_DIR) + "/libs/providers/tests/fixtures/instagram/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

events::RawWebhook fixture(const std::string& name, const std::string& routing_key = kAccount) {
  events::RawWebhook raw;
  raw.provider = "instagram";
  raw.integration_id = "int_ig";
  raw.workspace_id = "acc_1";
  raw.routing_key = routing_key;
  raw.body = read(name);
  return raw;
}

const providers::Adapter& adapter() {
  static auto registry = providers::Registry::standard(providers::Settings());
  const auto* a = registry.find("instagram");
  REQUIRE(a != nullptr);
  return *a;
}

http::Request post(const std::string& body, const std::string& signature) {
  http::Request r;
  r.method = "POST";
  r.path = "/api/v1/webhooks/instagram";
  r.body = body;
  r.headers["x-hub-signature-256"] = signature;
  return r;
}
}  // namespace

TEST_CASE("Instagram: one folder, one registry line, its own channel and webhook path") {
  const auto& a = adapter();
  CHECK(a.descriptor().channel == "instagram");
  CHECK(a.webhook()->path == "/api/v1/webhooks/instagram");
  CHECK(a.webhook()->handshake);
  const auto* ch = providers::find_channel("instagram");
  REQUIRE(ch != nullptr);
  CHECK(ch->reply_to == providers::ReplyTo::kThread);
}

TEST_CASE("Instagram: routes on entry[].id, keyed by the customer (the recipient of an echo)") {
  CHECK(*ig::account_ids(read("text.json")) == std::vector<std::string>{kAccount});
  CHECK(ig::first_customer(read("text.json"), kAccount) == kCustomer);
  CHECK(ig::first_customer(read("echo.json"), kAccount) == kCustomer);
  CHECK(ig::first_customer(read("text.json"), "999").empty());
  CHECK_FALSE(ig::account_ids("not json"));
  CHECK_FALSE(ig::account_ids(R"({"object":"page","entry":[]})"));  // a Messenger webhook is not ours
  auto targets = adapter().route(post(read("text.json"), ""), "");
  REQUIRE(targets.size() == 1);
  CHECK(targets[0].key == kAccount);
  CHECK(targets[0].thread == kCustomer);
  CHECK_THROWS_AS(adapter().route(post(R"({"object":"whatsapp_business_account","entry":[]})", ""), ""),
                  providers::Refusal);
}

TEST_CASE("Instagram: every delivery must carry the app secret's X-Hub-Signature-256") {
  const std::string body = read("text.json"), secret = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
  const std::string good = "sha256=" + core::to_hex(crypto::hmac_sha256(secret, body));
  providers::WebhookSecrets s{crypto::sha256("verify-me"), secret};
  CHECK(adapter().authenticate(post(body, good), "", s));
  CHECK_FALSE(adapter().authenticate(post(body + " ", good), "", s));                   // body changed
  CHECK_FALSE(adapter().authenticate(post(body, ""), "", s));                           // unsigned
  CHECK_FALSE(adapter().authenticate(post(body, good), "", {s.secret_hash, ""}));       // no secret: never
  CHECK_FALSE(adapter().authenticate(post(body, good), "", {s.secret_hash, "other"}));  // another app's
  // The published GitHub/Meta vector (M2) holds for the shared helper.
  CHECK(providers::valid_hub_signature("It's a Secret to Everybody", "Hello, World!",
                                       "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"));
  CHECK(adapter().verifies_webhooks(ig::to_json({"tok", "sec", "vt"})));
}

TEST_CASE("Instagram: the verify-token handshake echoes the challenge for the token's hash") {
  http::Request r;
  r.method = "GET";
  r.target = "/api/v1/webhooks/instagram?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=igv_abc";
  r.path = "/api/v1/webhooks/instagram";
  r.query = http::parse_query("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=igv_abc");
  auto h = adapter().handshake(r);
  CHECK(h.secret_hash == crypto::sha256("igv_abc"));
  CHECK(h.answer.body == "1158201444");
  r.query = http::parse_query("hub.mode=subscribe&hub.challenge=%3Cscript%3E&hub.verify_token=igv_abc");
  CHECK_THROWS_AS(adapter().handshake(r), providers::Refusal);
}

TEST_CASE("Instagram: a text DM is a message in the customer's IGSID thread, deduplicated by mid") {
  auto n = ig::normalize(fixture("text.json"));
  REQUIRE(n.messages.size() == 1);
  const auto& m = n.messages[0];
  CHECK(m.channel == "instagram");
  CHECK(m.external_thread_id == kCustomer);
  CHECK(m.sender.external_id == kCustomer);
  CHECK(m.sender.name.empty());  // the writer asks the profile
  CHECK(m.external_message_id == "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAw");
  CHECK(m.text == "Is this still in stock?");
  CHECK(m.sent_at_ms == 1767225600500);
  CHECK_FALSE(m.from_business);
  // Another account's entries are not this integration's.
  CHECK(ig::normalize(fixture("text.json", "999")).messages.empty());
}

TEST_CASE("Instagram: an image is an attachment to download at once from its CDN URL") {
  auto n = ig::normalize(fixture("image.json"));
  REQUIRE(n.messages.size() == 1);
  REQUIRE(n.messages[0].attachments.size() == 1);
  const auto& a = n.messages[0].attachments[0];
  CHECK(a.external_ref.rfind("https://lookaside.fbsbx.com/ig_messaging_cdn/?asset_id=17890000000000001", 0) == 0);
  CHECK(a.content_type == "image/jpeg");
  CHECK(a.filename == "photo-1.jpg");
  CHECK(n.messages[0].text == "[attachment: photo-1.jpg]");
}

TEST_CASE("Instagram: story mentions, story replies and shared posts are readable text with their link") {
  auto n = ig::normalize(fixture("story_and_share.json"));
  REQUIRE(n.messages.size() == 3);
  CHECK(n.messages[0].attachments.empty());  // a story's media is not kept
  CHECK(n.messages[0].text.rfind("[story mention: https://lookaside.fbsbx.com/", 0) == 0);
  CHECK(n.messages[0].text.find("24 hours") != std::string::npos);
  CHECK(n.messages[1].text.rfind("[reply to story: https://lookaside.fbsbx.com/", 0) == 0);
  CHECK(n.messages[1].text.find("\nLove it!") != std::string::npos);
  CHECK(n.messages[2].text == "[ig_post: https://www.instagram.com/p/C1a2b3c4d5e/] Spring collection");
}

TEST_CASE("Instagram: an echo is the business's own message in the customer's thread") {
  auto n = ig::normalize(fixture("echo.json"));
  REQUIRE(n.messages.size() == 1);
  CHECK(n.messages[0].from_business);
  CHECK(n.messages[0].external_thread_id == kCustomer);
  CHECK(n.messages[0].text == "Yes, we ship tomorrow");
  // It survives the trip through Kafka.
  CHECK(events::inbound_message_from_json(events::to_json(n.messages[0])).from_business);
  CHECK_FALSE(events::inbound_message_from_json(events::to_json(ig::normalize(fixture("text.json")).messages[0]))
                  .from_business);
}

TEST_CASE("Instagram: reactions, reads, deletions and comments are counted, never tickets") {
  auto n = ig::normalize(fixture("reaction_read_deleted.json"));
  CHECK(n.messages.empty());
  CHECK(n.dropped == std::vector<std::string>{"reaction", "read", "deleted", "other_field"});
  CHECK(ig::normalize(fixture("text.json")).dropped.empty());
}

TEST_CASE("Instagram: hostile bodies are dropped as malformed, never a crash") {
  for (
      std::string body : std::vector<std::string>{
          "", "[]", "null", R"({"object":"instagram"})", R"({"object":"instagram","entry":7})",
          R"({"object":"instagram","entry":[{"id":"17841400000000000","messaging":[1,"x",null]}]})",
          R"({"object":"instagram","entry":[{"id":"17841400000000000","messaging":[{"message":{"text":"no mid"},"sender":{"id":"1"}}]}]})",
          R"({"object":"instagram","entry":[{"id":"17841400000000000","messaging":[{"message":{"mid":"m1","text":"no sender"}}]}]})",
          std::string(R"({"object":"instagram","entry":[)") + std::string(100000, '[')}) {
    events::RawWebhook raw;
    raw.routing_key = kAccount;
    raw.body = body;
    auto n = ig::normalize(raw);
    CHECK(n.messages.empty());
  }
}

TEST_CASE("Instagram: connect refuses missing fields before calling Meta") {
  auto body = [](const char* json) {
    rapidjson::Document d;
    d.Parse(json);
    return d;
  };
  CHECK_THROWS_AS(adapter().connect(body(R"({"instagramAccountId":"17841400000000000","appSecret":"s"})")),
                  providers::Refusal);
  CHECK_THROWS_AS(adapter().connect(body(R"({"accessToken":"t","instagramAccountId":"@shop","appSecret":"s"})")),
                  providers::Refusal);
  CHECK_THROWS_AS(adapter().connect(body(R"({"accessToken":"t","instagramAccountId":"17841400000000000"})")),
                  providers::Refusal);  // the app secret is required: unsigned webhooks are not taken
  CHECK_THROWS_AS(ig::credentials_from_json(R"({"accessToken":"t"})"), std::invalid_argument);
}
