// VK community messages (issue 19): the Callback API's confirmation and secret, and what each
// event becomes.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>
#include <sstream>

#include "loket/crypto/crypto.hpp"
#include "loket/providers/registry.hpp"
#include "loket/providers/vk/vk.hpp"

using namespace loket;
namespace vk = providers::vk;

namespace {
std::string read(const std::string& name) {
  std::ifstream in(std::string(LOKET_SOURCE_DIR) + "/libs/providers/tests/fixtures/vk/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

events::RawWebhook fixture(const std::string& name, const std::string& routing_key = "214167102") {
  events::RawWebhook raw;
  raw.provider = "vk";
  raw.integration_id = "int_vk";
  raw.workspace_id = "acc_1";
  raw.routing_key = routing_key;
  raw.body = read(name);
  return raw;
}

const providers::Adapter& adapter() {
  static auto registry = providers::Registry::standard(providers::Settings());
  const auto* a = registry.find("vk");
  REQUIRE(a != nullptr);
  return *a;
}

http::Request post(const std::string& body) {
  http::Request r;
  r.method = "POST";
  r.path = "/api/v1/webhooks/vk";
  r.body = body;
  return r;
}

// What ingress keeps for the community of the fixtures.
providers::WebhookSecrets secrets() {
  return {crypto::sha256("s3cr3tKey"),
          adapter().signing_key(vk::to_json({"vk1.a.token", "214167102", "s3cr3tKey", "a1b2c3d4"}))};
}
}  // namespace

TEST_CASE("VK: one folder, one registry line, its own channel") {
  CHECK(adapter().descriptor().channel == "vk");
  CHECK(adapter().webhook()->path == "/api/v1/webhooks/vk");
  const auto* ch = providers::find_channel("vk");
  REQUIRE(ch != nullptr);
  CHECK(ch->reply_to == providers::ReplyTo::kThread);
}

TEST_CASE("VK: events route on group_id, keyed by the user's peer id") {
  auto t = adapter().route(post(read("message_new.json")), "");
  REQUIRE(t.size() == 1);
  CHECK(t[0].by == providers::RouteBy::kRoutingKey);
  CHECK(t[0].key == "214167102");
  CHECK(t[0].thread == "612444319");
  CHECK(adapter().route(post(read("confirmation.json")), "")[0].key == "214167102");
  for (const char* bad : {"", "ok", "[]", R"({"type":"message_new"})", R"({"type":"message_new","group_id":"x"})",
                          R"({"type":"message_new","group_id":-5})", R"({"group_id":5})"})
    CHECK_THROWS_AS(adapter().route(post(bad), ""), providers::Refusal);
}

TEST_CASE("VK: the secret key is checked on every event, in the right community") {
  auto s = secrets();
  CHECK(adapter().authenticate(post(read("message_new.json")), "", s));
  auto wrong = read("message_new.json");
  wrong.replace(wrong.find("s3cr3tKey"), 9, "s3cr3tKex");
  CHECK_FALSE(adapter().authenticate(post(wrong), "", s));
  auto missing = read("message_new.json");
  missing.replace(missing.find(R"("secret":"s3cr3tKey",)"), 21, "");
  CHECK_FALSE(adapter().authenticate(post(missing), "", s));
  // The same secret naming another community is not this integration's.
  auto other = read("message_new.json");
  other.replace(other.find("214167102"), 9, "214167103");
  CHECK_FALSE(adapter().authenticate(post(other), "", s));
  // A confirmation request: with a secret it must match; without one it is taken.
  CHECK(adapter().authenticate(post(read("confirmation.json")), "", s));
  CHECK_FALSE(adapter().authenticate(post(R"({"type":"confirmation","group_id":214167102,"secret":"guess"})"), "", s));
  CHECK_FALSE(adapter().authenticate(post(read("confirmation.json")), "", {}));
}

TEST_CASE("VK: answered `ok`, and the confirmation string to a confirmation request") {
  auto s = secrets();
  auto ok = adapter().acknowledgement(post(read("message_new.json")), s);
  REQUIRE(ok);
  CHECK(ok->status == 200);
  CHECK(ok->body == "ok");
  CHECK(ok->content_type.rfind("text/plain", 0) == 0);
  auto confirm = adapter().acknowledgement(post(read("confirmation.json")), s);
  REQUIRE(confirm);
  CHECK(confirm->body == "a1b2c3d4");
}

TEST_CASE("VK: message_new is a message in the user's thread, deduplicated by the message id") {
  auto n = vk::normalize(fixture("message_new.json"));
  REQUIRE(n.messages.size() == 1);
  const auto& m = n.messages[0];
  CHECK(m.channel == "vk");
  CHECK(m.external_thread_id == "612444319");
  CHECK(m.external_message_id == "1287");
  CHECK(m.sender.external_id == "612444319");
  CHECK(m.sender.name.empty());  // the writer asks users.get
  CHECK(m.text == "Hello, I need help");
  CHECK(m.sent_at_ms == 1767225600000);
  CHECK(vk::normalize(fixture("message_new.json", "1")).messages.empty());  // another community's
}

TEST_CASE("VK: photos (largest size), documents and voice messages are attachments; the rest text") {
  auto n = vk::normalize(fixture("attachments.json"));
  REQUIRE(n.messages.size() == 1);
  const auto& m = n.messages[0];
  REQUIRE(m.attachments.size() == 3);
  CHECK(m.attachments[0].external_ref == "https://sun9-1.userapi.com/impg/large.jpg?size=960x1280");
  CHECK(m.attachments[0].content_type == "image/jpeg");
  CHECK(m.attachments[1].filename == "invoice.pdf");
  CHECK(m.attachments[1].size == 48213);
  CHECK(m.attachments[2].external_ref == "https://psv4.userapi.com/c1/u612444319/audiomsg/d1/voice.ogg");
  CHECK(m.attachments[2].content_type == "audio/ogg");
  CHECK(m.text == "See attached\n[sticker]\n[wall post: https://vk.com/wall-214167102_42]");
}

TEST_CASE("VK: our own replies, edits, confirmations and community chats are counted, not tickets") {
  CHECK(vk::normalize(fixture("message_reply.json")).dropped == std::vector<std::string>{"echo"});
  CHECK(vk::normalize(fixture("confirmation.json")).dropped == std::vector<std::string>{"confirmation"});
  CHECK(vk::normalize(fixture("group_chat.json")).dropped == std::vector<std::string>{"group_chat"});
  events::RawWebhook raw = fixture("message_new.json");
  raw.body = R"({"type":"group_join","group_id":214167102,"object":{"user_id":1}})";
  CHECK(vk::normalize(raw).dropped == std::vector<std::string>{"other_event"});
  for (
      std::string body : std::vector<std::string>{
          "", "{", R"({"type":"message_new","group_id":214167102})",
          R"({"type":"message_new","group_id":214167102,"object":{"message":{"id":1,"peer_id":5,"text":"no from"}}})",
          R"({"type":"message_new","group_id":214167102,"object":{"message":{"id":1,"from_id":5,"peer_id":5,"text":" "}}})",
          std::string(R"({"type":"message_new","group_id":214167102,"object":)") + std::string(100000, '[')}) {
    raw.body = body;
    auto n = vk::normalize(raw);
    CHECK(n.messages.empty());
    CHECK(n.dropped == std::vector<std::string>{"malformed"});
  }
}

TEST_CASE("VK: random_id is stable per message and part, positive, and differs between them") {
  CHECK(vk::random_id("msg_1", 0) == vk::random_id("msg_1", 0));
  std::set<std::int32_t> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = vk::random_id("msg_" + std::to_string(i), i % 3);
    CHECK(id > 0);
    seen.insert(id);
  }
  CHECK(seen.size() == 1000);
  CHECK(vk::random_id("msg_1", 0) != vk::random_id("msg_1", 1));
}

TEST_CASE("VK: connect refuses missing fields before calling VK") {
  auto body = [](const char* json) {
    rapidjson::Document d;
    d.Parse(json);
    return d;
  };
  CHECK_THROWS_AS(adapter().connect(body(R"({"groupId":"214167102"})")), providers::Refusal);
  CHECK_THROWS_AS(adapter().connect(body(R"({"groupId":"club214167102","accessToken":"t"})")), providers::Refusal);
  CHECK_THROWS_AS(adapter().connect(body(R"({"accessToken":"t"})")), providers::Refusal);
  CHECK_THROWS_AS(vk::credentials_from_json("{}"), std::invalid_argument);
}
