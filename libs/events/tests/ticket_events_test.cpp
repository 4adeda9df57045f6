// Every ticket.events type: its writer's output validates against proto/ticket.events.<type> and
// reads back the same; records this version cannot act on are told apart.
#include <catch2/catch.hpp>

#include "loket/core/ids.hpp"
#include "loket/events/schema.hpp"
#include "loket/events/ticket_events.hpp"

using namespace loket::events;
using loket::core::new_id;

namespace {
Ticket sample_ticket() {
  Ticket t;
  t.id = new_id("tkt");
  t.workspace_id = new_id("acc");
  t.number = 42;
  t.subject = "Where is my order? \"quoted\" é";
  t.status = "open";
  t.priority = "normal";
  t.channel = "whatsapp";
  t.integration_id = new_id("int");
  t.external_thread_id = "+6281234567890";
  t.requester_name = "Budi";
  t.requester_phone = "+6281234567890";
  t.tags = {"vip", "order"};
  t.created_at = "2026-11-30T01:02:03.456Z";
  t.updated_at = "2026-11-30T01:02:04.000Z";
  return t;
}

Message sample_message(const Ticket& t) {
  Message m;
  m.id = new_id("tmsg");
  m.ticket_id = t.id;
  m.author_type = "agent";
  m.author_name = "Ana";
  m.body = std::string("line 1\nline \0 2", 15);
  m.created_at = "2026-11-30T01:02:05.000Z";
  m.delivery_status = "pending";
  m.attachments.push_back({new_id("att"), m.id, "photo.jpg", "image/jpeg", "stored", "2026-11-30T01:02:05.000Z", 1234});
  return m;
}

// Writes `data`, checks the schema of its type, and reads it back.
TicketEvent round_trip(const Ticket& t, TicketEvent::Data data) {
  auto e = new_ticket_event(t.workspace_id, t.id, std::move(data));
  auto json = to_json(e);
  INFO(json);
  CHECK(schema_for("ticket.events", json) == "ticket.events." + e.type());
  CHECK(validate("ticket.events." + e.type(), json) == "");
  auto back = ticket_event_from_json(json);
  CHECK(back.event_id == e.event_id);
  CHECK(back.occurred_at == e.occurred_at);
  CHECK(back.workspace_id == t.workspace_id);
  CHECK(back.ticket_id == t.id);
  CHECK(back.type() == e.type());
  CHECK(to_json(back) == json);  // nothing lost either way
  return back;
}
}  // namespace

TEST_CASE("ticket.created and ticket.updated carry the ticket and every change") {
  auto t = sample_ticket();
  auto created = std::get<TicketCreated>(round_trip(t, TicketCreated{t}).data);
  CHECK(created.ticket.subject == t.subject);
  CHECK(created.ticket.tags == t.tags);
  CHECK(created.ticket.requester_phone == t.requester_phone);
  CHECK_FALSE(created.ticket.requester_email);
  CHECK(created.ticket.workspace_id == t.workspace_id);

  TicketUpdated u;
  u.status = Change<std::string>{"open", "resolved"};
  u.assignee_id = Change<std::optional<std::string>>{std::nullopt, new_id("agt")};
  u.tags = Change<std::vector<std::string>>{{"vip"}, {}};
  u.ticket = t;
  u.ticket.status = "resolved";
  u.ticket.csat_score = 4;
  u.ticket.csat_comment = "quick";
  auto updated = std::get<TicketUpdated>(round_trip(t, u).data);
  REQUIRE(updated.status);
  CHECK(updated.status->to == "resolved");
  CHECK_FALSE(updated.priority);
  REQUIRE(updated.assignee_id);
  CHECK_FALSE(updated.assignee_id->from);
  CHECK(updated.assignee_id->to == u.assignee_id->to);
  REQUIRE(updated.tags);
  CHECK(updated.tags->to.empty());
  CHECK(updated.ticket.csat_score == 4);
}

TEST_CASE("message.created carries the reply route and the message with attachments and delivery") {
  auto t = sample_ticket();
  auto m = sample_message(t);
  Route route{t.channel, t.integration_id, t.external_thread_id, std::nullopt, t.requester_phone};
  auto e = std::get<MessageCreated>(round_trip(t, MessageCreated{t.number, route, m}).data);
  CHECK(e.ticket_number == 42);
  CHECK(e.route.requester_phone == t.requester_phone);
  CHECK_FALSE(e.route.requester_email);
  CHECK(e.message.body == m.body);  // an embedded NUL survives
  CHECK(e.message.delivery_status == "pending");
  REQUIRE(e.message.attachments.size() == 1);
  CHECK(e.message.attachments[0].size == 1234);
  CHECK(e.message.attachments[0].message_id == m.id);
  CHECK_FALSE(e.route.message_template);
}

TEST_CASE("message.created carries the message template a reply is sent as, variables in order") {
  auto t = sample_ticket();
  Route route{t.channel, t.integration_id, t.external_thread_id, std::nullopt, t.requester_phone};
  route.message_template = TemplateRef{"HX0123", "order_update", "en_US", {{"2", "#1042"}, {"1", "Ana \"A\""}}};
  auto e = std::get<MessageCreated>(round_trip(t, MessageCreated{t.number, route, sample_message(t)}).data);
  REQUIRE(e.route.message_template);
  CHECK(e.route.message_template->id == "HX0123");
  CHECK(e.route.message_template->name == "order_update");
  CHECK(e.route.message_template->language == "en_US");
  REQUIRE(e.route.message_template->variables.size() == 2);
  CHECK(e.route.message_template->variables[0] == std::pair<std::string, std::string>{"2", "#1042"});
  CHECK(e.route.message_template->variables[1].second == "Ana \"A\"");
}

TEST_CASE("message.delivery_updated and csat.recorded read back") {
  auto t = sample_ticket();
  auto d = std::get<DeliveryUpdated>(
      round_trip(t, DeliveryUpdated{new_id("tmsg"), "acme", "failed", "63016: outside the 24-hour window"}).data);
  CHECK(d.status == "failed");
  CHECK(d.error == "63016: outside the 24-hour window");
  auto sent = std::get<DeliveryUpdated>(round_trip(t, DeliveryUpdated{new_id("tmsg"), "acme", "sent", {}}).data);
  CHECK_FALSE(sent.error);
  auto c = std::get<CsatRecorded>(round_trip(t, CsatRecorded{5, std::nullopt}).data);
  CHECK(c.score == 5);
  CHECK_FALSE(c.comment);
  auto tr = std::get<TranscriptRequested>(round_trip(t, TranscriptRequested{"sari@example.id", 42, "visitor"}).data);
  CHECK(tr.email == "sari@example.id");
  CHECK(tr.through_seq == 42);
  CHECK(tr.requested_by == "visitor");
  auto integration = t;  // integration events are keyed by the integration id
  integration.id = new_id("int");
  auto is = std::get<IntegrationStatusChanged>(
      round_trip(integration,
                 IntegrationStatusChanged{integration.id, "acme_chat", "Acme", "error", "active", "no_service"})
          .data);
  CHECK(is.integration_id == integration.id);
  CHECK(is.status == "error");
  CHECK(is.previous_status == "active");
  CHECK(is.last_error == "no_service");
  auto fresh = std::get<IntegrationStatusChanged>(
      round_trip(integration,
                 IntegrationStatusChanged{integration.id, "api", "App", "active", std::nullopt, std::nullopt})
          .data);
  CHECK_FALSE(fresh.previous_status);
  CHECK_FALSE(fresh.last_error);
}

TEST_CASE("records that are not ticket events, or of an unknown type, are refused distinctly") {
  auto t = sample_ticket();
  auto json = to_json(new_ticket_event(t.workspace_id, t.id, CsatRecorded{3, "ok"}));
  auto renamed = json;
  renamed.replace(renamed.find("csat.recorded"), 13, "ticket.merged");
  CHECK_THROWS_AS(ticket_event_from_json(renamed), UnknownEventType);
  CHECK_THROWS_AS(ticket_event_from_json("[]"), std::invalid_argument);
  CHECK_THROWS_AS(ticket_event_from_json("{\"eventId\":\"evt_1\"}"), std::invalid_argument);
  auto no_score = json;
  no_score.replace(no_score.find("\"score\":3"), 9, "\"points\":3");
  try {
    ticket_event_from_json(no_score);
    FAIL("a csat without a score was read");
  } catch (const UnknownEventType&) {
    FAIL("a known type with a missing field is not an unknown type");
  } catch (const std::invalid_argument& e) {
    CHECK(std::string(e.what()).find("score") != std::string::npos);
  }
  auto no_message = to_json(
      new_ticket_event(t.workspace_id, t.id, MessageCreated{1, Route{"email", {}, {}, {}, {}}, sample_message(t)}));
  no_message.replace(no_message.find("\"message\":"), 10, "\"massage\":");
  CHECK_THROWS_AS(ticket_event_from_json(no_message), std::invalid_argument);
}
