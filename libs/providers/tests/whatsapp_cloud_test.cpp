#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "loket/providers/registry.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"

using namespace loket;
namespace wc = providers::whatsapp_cloud;

namespace {
std::string read(const std::string& name) {
  std::ifstream in(std::string(LOKET_SOURCE_DIR) + "/libs/providers/tests/fixtures/whatsapp_cloud/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

events::RawWebhook fixture(const std::string& name, const std::string& routing_key = "277321005464405") {
  events::RawWebhook raw;
  raw.provider = "whatsapp_cloud";
  raw.integration_id = "int_1";
  raw.workspace_id = "acc_1";
  raw.routing_key = routing_key;
  raw.body = read(name);
  return raw;
}
}  // namespace

TEST_CASE("X-Hub-Signature-256 matches the published vectors (M1, M2)") {
  // M1: a real WhatsApp delivery signed by Meta (pywa's test; the secret has been reset).
  CHECK(wc::valid_signature("1222e786b144d0e85b9f365372d93676", read("text.json"),
                            "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"));
  CHECK(wc::valid_signature("It's a Secret to Everybody", "Hello, World!",
                            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"));
  // Upper-case hex is the same digest.
  CHECK(wc::valid_signature("It's a Secret to Everybody", "Hello, World!",
                            "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C8B043E17"));
}

TEST_CASE("a re-serialized body, another secret or a missing prefix fails") {
  auto body = read("text.json");
  const std::string sig = "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441";
  CHECK_FALSE(wc::valid_signature("1222e786b144d0e85b9f365372d93676", body + "\n", sig));
  CHECK_FALSE(wc::valid_signature("another-secret", body, sig));
  CHECK_FALSE(wc::valid_signature("1222e786b144d0e85b9f365372d93676", body, sig.substr(7)));
  CHECK_FALSE(wc::valid_signature("", body, sig));
}

TEST_CASE("phone_number_ids and first_sender read only what routing needs") {
  CHECK(*wc::phone_number_ids(read("two_numbers.json")) == std::vector<std::string>{"277321005464405", "888000111222"});
  CHECK(wc::first_sender(read("two_numbers.json"), "888000111222") == "6281234567890");
  CHECK(wc::first_sender(read("status_failed.json"), "1122334455667").empty());
  CHECK_FALSE(wc::phone_number_ids("not json"));
  CHECK(wc::phone_number_ids("{}")->empty());
}

TEST_CASE("a Cloud API text message normalizes to the sender's E.164 thread") {
  auto n = wc::normalize(fixture("text.json"));
  REQUIRE(n.messages.size() == 1);
  const auto& m = n.messages[0];
  CHECK(m.channel == "whatsapp");
  CHECK(m.provider == "whatsapp_cloud");
  CHECK(m.external_thread_id == "+972544401243");
  CHECK(m.external_message_id == "wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA");
  CHECK(m.sender.name == "PyWa Tests");
  CHECK(m.sender.phone == "+972544401243");
  CHECK(m.text == "Hey there! I am using PyWa.");
  CHECK(m.sent_at_ms == 1730231903000);
}

TEST_CASE("Cloud API media become attachments referencing the Graph media id") {
  auto img = wc::normalize(fixture("image.json"));
  REQUIRE(img.messages.size() == 1);
  CHECK(img.messages[0].text == "The box arrived like this");
  REQUIRE(img.messages[0].attachments.size() == 1);
  CHECK(img.messages[0].attachments[0].external_ref == "1479537139650973");
  CHECK(img.messages[0].attachments[0].filename == "photo-1.jpg");

  auto docs = wc::normalize(fixture("document_and_voice.json"));
  REQUIRE(docs.messages.size() == 2);
  CHECK(docs.messages[0].text == "[attachment: invoice.pdf]");
  CHECK(docs.messages[0].attachments[0].content_type == "application/pdf");
  CHECK(docs.messages[1].text == "[attachment: voice-1.ogg]");
}

TEST_CASE("statuses, reactions and unsupported messages are dropped and counted") {
  auto st = wc::normalize(fixture("status_failed.json", "1122334455667"));
  CHECK(st.messages.empty());
  CHECK(st.dropped.empty());
  REQUIRE(st.receipts.size() == 1);  // a failed status is news for the agent
  CHECK(st.receipts[0].external_message_id == "wamid.xyzxyz");
  CHECK(st.receipts[0].recipient == "+972987654321");
  CHECK(st.receipts[0].error ==
        "(#130472) User's number is part of an experiment: Failed to send message because this user's phone "
        "number is part of an experiment");
  CHECK(st.receipts[0].at_ms == 1689380458000);
  auto delivered = fixture("status_failed.json", "1122334455667");
  delivered.body.replace(delivered.body.find("\"failed\""), 8, "\"read\"");
  auto rd = wc::normalize(delivered);
  CHECK(rd.receipts.empty());
  CHECK(rd.dropped == std::vector<std::string>{"status"});
  auto mixed = wc::normalize(fixture("reaction_location_unsupported.json"));
  REQUIRE(mixed.messages.size() == 1);
  CHECK(mixed.messages[0].text == "[location: -6.208763, 106.845599] Kantor Jl. Sudirman 1, Jakarta");
  CHECK(mixed.dropped == std::vector<std::string>{"reaction", "unsupported_message"});
  events::RawWebhook junk;
  junk.body = "[]";
  CHECK(wc::normalize(junk).dropped == std::vector<std::string>{"malformed"});
}

TEST_CASE("only the changes for the routed phone_number_id are taken") {
  auto one = wc::normalize(fixture("two_numbers.json", "888000111222"));
  REQUIRE(one.messages.size() == 1);
  CHECK(one.messages[0].text == "for number two");
  CHECK(one.messages[0].sender.name == "Budi");
}

TEST_CASE("Cloud credentials round-trip") {
  wc::Credentials c{"EAAG-token", "app-secret", "wsv_verify", "1029384756"};
  auto back = wc::credentials_from_json(wc::to_json(c));
  CHECK(back.access_token == "EAAG-token");
  CHECK(back.app_secret == "app-secret");
  CHECK(back.verify_token == "wsv_verify");
  CHECK(back.waba_id == "1029384756");
  CHECK_THROWS_AS(wc::credentials_from_json("{\"appSecret\":\"x\"}"), std::invalid_argument);
}

TEST_CASE("a Cloud number verifies its webhooks only with an app secret; other channels always do") {
  auto r = providers::Registry::standard(providers::Settings());
  const auto* cloud = r.find(wc::kProvider);
  REQUIRE(cloud);
  CHECK(cloud->verifies_webhooks(wc::to_json({"EAAG-token", "app-secret", "wsv_verify", ""})));
  CHECK_FALSE(cloud->verifies_webhooks(wc::to_json({"EAAG-token", "", "wsv_verify", ""})));
  CHECK_THROWS_AS(cloud->verifies_webhooks("not json"), std::invalid_argument);
  // Without an app secret only the routing key is checked: authenticate() accepts anything.
  CHECK(cloud->authenticate({}, "", {"hash", ""}));
  for (const auto& a : r.adapters())
    if (a.get() != cloud) CHECK(a->verifies_webhooks("{}"));
}
