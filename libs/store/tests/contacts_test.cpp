// Which identities a new ticket's requester is recognised by (issue 20 "Contacts"). Channels are
// picked from the registry by what they are, not by name.
#include <catch2/catch.hpp>

#include "loket/providers/registry.hpp"
#include "loket/store/contacts.hpp"

using loket::providers::ReplyTo;
using loket::store::identities_of;
using loket::store::NewTicket;

namespace {
std::vector<std::string> kinds(const NewTicket& t) {
  std::vector<std::string> out;
  for (const auto& i : identities_of(t)) out.push_back(i.kind + "=" + i.value);
  return out;
}

// The first channel whose replies go by `reply_to` and whose thread does (or does not) name a person.
std::string channel(ReplyTo reply_to, bool person_thread) {
  for (const auto& c : loket::providers::channels())
    if (c.reply_to == reply_to && c.person_thread == person_thread) return c.name;
  FAIL("no such channel in the registry");
  return "";
}
}  // namespace

TEST_CASE("a person-thread channel's thread comes first, then the address lower-cased, then the phone", "[contacts]") {
  NewTicket t;
  t.channel = channel(ReplyTo::kThread, true);
  t.external_thread_id = "123456789";
  t.integration_id = "int_bot";
  t.requester_email = "Sari.Dewi@Example.COM";
  t.requester_phone = "+6281234567890";
  CHECK(kinds(t) ==
        std::vector<std::string>{t.channel + "=123456789", "email=sari.dewi@example.com", "phone=+6281234567890"});
  CHECK(identities_of(t)[0].integration_id == "int_bot");
}

TEST_CASE("a thread that names no person (an email's Message-ID, a form's) is no identity", "[contacts]") {
  NewTicket email;
  email.channel = channel(ReplyTo::kEmail, false);
  email.external_thread_id = "<CAF=abc@mail.example.com>";
  email.requester_email = "a@example.com";
  CHECK(kinds(email) == std::vector<std::string>{"email=a@example.com"});
  NewTicket none;
  none.channel = email.channel;
  none.external_thread_id = "anything";
  CHECK(identities_of(none).empty());
  // Empty values are no identity, on any channel.
  NewTicket blank;
  blank.channel = channel(ReplyTo::kThread, true);
  blank.external_thread_id = "";
  blank.requester_email = "";
  blank.requester_phone = "";
  CHECK(identities_of(blank).empty());
}

TEST_CASE("a phone channel: the number is both the channel identity and the phone", "[contacts]") {
  NewTicket t;
  t.channel = channel(ReplyTo::kPhone, true);
  t.external_thread_id = "+6281234567890";
  t.requester_phone = "+6281234567890";
  CHECK(kinds(t) == std::vector<std::string>{t.channel + "=+6281234567890", "phone=+6281234567890"});
}
