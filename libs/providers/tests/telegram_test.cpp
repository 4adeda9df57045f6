#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "loket/providers/telegram/telegram.hpp"

using namespace loket;
using providers::telegram::normalize;

namespace {
events::RawWebhook fixture(const std::string& name) {
  std::ifstream in(std::string(LOKET_SOURCE_DIR) + "/libs/providers/tests/fixtures/telegram/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  events::RawWebhook raw;
  raw.provider = "telegram";
  raw.integration_id = "int_1";
  raw.workspace_id = "acc_1";
  raw.body = ss.str();
  return raw;
}
}  // namespace

TEST_CASE("a private text message normalizes to one inbound message") {
  auto n = normalize(fixture("text_message.json"));
  REQUIRE(n.messages.size() == 1);
  const auto& m = n.messages[0];
  CHECK(m.channel == "telegram");
  CHECK(m.integration_id == "int_1");
  CHECK(m.workspace_id == "acc_1");
  CHECK(m.external_thread_id == "123456789");
  CHECK(m.external_message_id == "123456789:42");
  CHECK(m.sender.name == "Ann Lee");
  CHECK(m.sender.handle == "annlee");
  CHECK(m.sender.external_id == "123456789");
  CHECK(m.text == "Hi, my order #1001 has not arrived");
  CHECK(m.sent_at_ms == 1767225600000);
  CHECK(m.attachments.empty());
}

TEST_CASE("a photo keeps its caption and references the largest size") {
  auto n = normalize(fixture("photo_caption.json"));
  REQUIRE(n.messages.size() == 1);
  CHECK(n.messages[0].text == "Damaged box");
  REQUIRE(n.messages[0].attachments.size() == 1);
  CHECK(n.messages[0].attachments[0].external_ref == "AgACAgIAAxkBAAMr_large");
  CHECK(n.messages[0].attachments[0].filename == "photo-1.jpg");
  CHECK(n.messages[0].attachments[0].size == 81234);
}

TEST_CASE("a document without a caption reads [attachment: <name>]") {
  auto n = normalize(fixture("document.json"));
  REQUIRE(n.messages.size() == 1);
  CHECK(n.messages[0].text == "[attachment: invoice.pdf]");
  REQUIRE(n.messages[0].attachments.size() == 1);
  CHECK(n.messages[0].attachments[0].content_type == "application/pdf");
}

TEST_CASE("edits, groups, service messages, /start and garbage are dropped with a reason") {
  CHECK(normalize(fixture("edited_message.json")).dropped.at(0) == "edited_message");
  CHECK(normalize(fixture("group_message.json")).dropped.at(0) == "group_chat");
  CHECK(normalize(fixture("service_message.json")).dropped.at(0) == "service_message");
  CHECK(normalize(fixture("start_command.json")).dropped.at(0) == "start_command");
  events::RawWebhook junk;
  junk.body = "{not json";
  CHECK(normalize(junk).dropped.at(0) == "malformed");
  junk.body = "[]";
  CHECK(normalize(junk).dropped.at(0) == "malformed");
  junk.body = R"({"update_id":1,"callback_query":{"id":"x"}})";
  CHECK(normalize(junk).dropped.at(0) == "unsupported_update");
  junk.body = R"({"update_id":1,"message":{"message_id":"x","chat":5}})";
  CHECK(normalize(junk).dropped.at(0) == "malformed");
}

TEST_CASE("chat_id_of finds the chat for partition keys") {
  CHECK(providers::telegram::chat_id_of(fixture("text_message.json").body) == std::string("123456789"));
  CHECK(providers::telegram::chat_id_of(fixture("group_message.json").body) == std::string("-1001234567890"));
  CHECK(providers::telegram::chat_id_of(R"({"update_id":1})") == std::string(""));
  CHECK_FALSE(providers::telegram::chat_id_of("nope").has_value());
}

TEST_CASE("bot ids come from the token's numeric prefix") {
  CHECK(providers::telegram::bot_id_from_token("123456789:AAxx") == "123456789");
  CHECK(providers::telegram::bot_id_from_token("abc:AAxx") == "");
  CHECK(providers::telegram::bot_id_from_token("123456789") == "");
  CHECK(providers::telegram::bot_id_from_token(":x") == "");
}
