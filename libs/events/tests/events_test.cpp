// Every record type: its writer's output reads back the same and validates against its schema.
#include <catch2/catch.hpp>

#include "loket/events/events.hpp"
#include "loket/events/schema.hpp"

using namespace loket::events;

namespace {
// A message with valid ids on `channel`, thread and external id as given.
InboundMessage message(const std::string& channel, const std::string& thread, const std::string& external_id) {
  InboundMessage m;
  m.event_id = "evt_0123456789abcdef01234567";
  m.integration_id = "int_0123456789abcdef01234567";
  m.workspace_id = "acc_0123456789abcdef01234567";
  m.provider = "acme";
  m.channel = channel;
  m.external_thread_id = thread;
  m.external_message_id = external_id;
  return m;
}
}  // namespace

TEST_CASE("a dead letter keeps the original record byte for byte and matches proto/dead_letter") {
  DeadLetter l;
  l.event_id = "evt_0123456789abcdef01234567";
  l.topic = "channel.inbound";
  l.partition = 3;
  l.offset = 42;
  l.key = "int_1:+628";
  l.value = std::string("{\"text\":\"a\\u0000b\"}\xff", 20);
  l.error = "ERROR: invalid byte sequence for encoding \"UTF8\": 0x00 (SQLSTATE 22021)";
  l.consumer = "loket-writer";
  l.failed_at_ms = 1767225600123;
  auto json = to_json(l);
  CHECK(schema_for("channel.inbound.dlq", json) == "dead_letter");
  CHECK(schema_for("outbound.dlq", json) == "outbound.dlq");
  CHECK(schema_for("outbound.retry.team.dlq", json) == "dead_letter");
  CHECK(schema_for("outbound.retry.team", json) == "outbound.retry");  // team chats' retries: same records
  CHECK(validate("dead_letter", json) == "");
  auto back = dead_letter_from_json(json);
  CHECK(back.value == l.value);
  CHECK(back.topic == l.topic);
  CHECK(back.partition == 3);
  CHECK(back.offset == 42);
  CHECK(back.key == l.key);
  CHECK(back.consumer == "loket-writer");
  CHECK(back.failed_at_ms == l.failed_at_ms);
  CHECK(dead_letter_topic("ticket.events") == "ticket.events.dlq");
  CHECK_THROWS_AS(dead_letter_from_json("{\"eventId\":\"evt_1\"}"), std::invalid_argument);
  CHECK_THROWS_AS(dead_letter_from_json("[]"), std::invalid_argument);
}

TEST_CASE("raw webhooks, inbound messages and receipts read back what was written") {
  RawWebhook w;
  w.event_id = "evt_0123456789abcdef01234567";
  w.provider = "acme";
  w.integration_id = "int_0123456789abcdef01234567";
  w.workspace_id = "acc_0123456789abcdef01234567";
  w.routing_key = "277321005464405";
  w.received_at_ms = 1;
  w.headers = {{"user-agent", "x"}};
  w.body = std::string("{\"a\":\"\\u0000\"}");
  auto wj = to_json(w);
  CHECK(validate("channel.webhook", wj) == "");
  auto w2 = raw_webhook_from_json(wj);
  CHECK(w2.body == w.body);
  CHECK(w2.routing_key == w.routing_key);
  CHECK(w2.headers == w.headers);

  // An 8-bit email: not UTF-8 text, so base64 on the wire; the same bytes come back.
  RawWebhook mail = w;
  mail.content_type = "message/rfc822";
  mail.body = std::string("Subject: caf\xe9\r\n\r\n\0\xff\xfe", 19);
  auto mailj = to_json(mail);
  CHECK(mailj.find("\"bodyEncoding\":\"base64\"") != std::string::npos);
  CHECK(validate("channel.webhook", mailj) == "");
  CHECK(raw_webhook_from_json(mailj).body == mail.body);
  CHECK(wj.find("bodyEncoding") == std::string::npos);  // UTF-8 text stays as it is
  std::string broken = mailj;
  broken.replace(broken.find("\"body\":\"") + 8, 1, "!");
  CHECK_THROWS_AS(raw_webhook_from_json(broken), std::invalid_argument);

  InboundMessage m = message("whatsapp", "+6281234567890", "wamid.1");
  m.text = std::string("nul\0inside", 10);
  m.attachments.push_back({"media-1", "photo-1.jpg", "image/jpeg", 10, ""});
  auto mj = to_json(m);
  CHECK(validate("channel.inbound", mj) == "");
  CHECK_FALSE(is_delivery_receipt(mj));
  auto m2 = inbound_message_from_json(mj);
  CHECK(m2.text == m.text);  // an embedded NUL survives the trip; the writer makes it storable
  REQUIRE(m2.attachments.size() == 1);
  CHECK(m2.attachments[0].filename == "photo-1.jpg");
}

TEST_CASE("an email's parts, source, quoted text and thread hints travel byte for byte") {
  InboundMessage m = message("email", "root@mail.example", "x@mail.example");
  m.text = "thanks";
  m.quoted_text = "On Sunday … wrote:\n> hi";
  m.cc = {"sari@example.co.id"};
  m.automated = "auto-submitted";
  m.thread_hints = {42, {"b@mail.example", "root@mail.example"}, 7};
  m.source = std::string("From: a\r\n\r\n\xff\0bytes", 18);
  m.attachments.push_back({"part:1", "a.bin", "application/octet-stream", 3, std::string("\0\x01\xfe", 3)});
  auto json = to_json(m);
  CHECK(validate("channel.inbound", json) == "");
  auto back = inbound_message_from_json(json);
  CHECK(back.quoted_text == m.quoted_text);
  CHECK(back.cc == m.cc);
  CHECK(back.automated == m.automated);
  CHECK(back.thread_hints.ticket_number == 42);
  CHECK(back.thread_hints.references == m.thread_hints.references);
  CHECK(back.thread_hints.subject_number == 7);
  CHECK(back.source == m.source);
  REQUIRE(back.attachments.size() == 1);
  CHECK(back.attachments[0].data == m.attachments[0].data);
  // A channel without them writes none of these fields.
  InboundMessage plain = m;
  plain.quoted_text = plain.automated = plain.source = "";
  plain.cc.clear();
  plain.thread_hints = {};
  plain.attachments.clear();
  auto pj = to_json(plain);
  for (const char* field : {"quotedText", "cc", "automated", "threadHints", "source"}) {
    INFO(field);
    CHECK(pj.find(std::string("\"") + field + "\"") == std::string::npos);
  }
  CHECK_THROWS_AS(inbound_message_from_json(R"({"eventId":"e","integrationId":"i","workspaceId":"w","provider":"p",)"
                                            R"("channel":"c","externalThreadId":"t","externalMessageId":"m",)"
                                            R"("source":"not base64!"})"),
                  std::invalid_argument);
}

TEST_CASE("a delivery retry carries its ticket.events record unchanged and matches proto/outbound.retry") {
  const std::string event =
      R"({"eventId":"evt_0123456789abcdef01234567","type":"message.created","ticketId":"tkt_1","data":{"x":[1,"\u00e9"]}})";
  DeliveryRetry d{"evt_0123456789abcdef01234567",           3,     1767225600123,
                  "Telegram: Too Many Requests (HTTP 429)", event, ""};
  auto json = to_json(d);
  CHECK(validate("outbound.retry", json) == "");
  CHECK(validate("outbound.dlq", json) == "");
  auto back = delivery_retry_from_json(json);
  CHECK(back.attempt == 3);
  CHECK(back.not_before_ms == 1767225600123);
  CHECK(back.last_error == d.last_error);
  CHECK(delivery_retry_from_json(to_json(back)).event == back.event);  // stable once normalized
  CHECK(back.event.find("\"ticketId\":\"tkt_1\"") != std::string::npos);
  CHECK_THROWS_AS(delivery_retry_from_json(R"({"eventId":"evt_1","attempt":1})"), std::invalid_argument);
  CHECK(back.target.empty());
  CHECK(json.find("target") == std::string::npos);  // a customer delivery names none
  d.target = "team:int_0123456789abcdef01234567";   // one team chat's notification
  auto team = to_json(d);
  CHECK(validate("outbound.retry", team) == "");
  CHECK(delivery_retry_from_json(team).target == d.target);
}
