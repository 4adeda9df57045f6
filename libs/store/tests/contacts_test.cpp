// Which identities a new ticket's requester is recognised by (issue 20 "Contacts").
#include <catch2/catch.hpp>

#include "loket/store/contacts.hpp"

using loket::store::identities_of;
using loket::store::NewTicket;

namespace {
std::vector<std::string> kinds(const NewTicket& t) {
  std::vector<std::string> out;
  for (const auto& i : identities_of(t)) out.push_back(i.kind + "=" + i.value);
  return out;
}
}  // namespace

TEST_CASE("a person-thread channel's thread comes first, then the address lower-cased, then the phone", "[contacts]") {
  NewTicket t;
  t.channel = "telegram";
  t.external_thread_id = "123456789";
  t.integration_id = "int_bot";
  t.requester_email = "Sari.Dewi@Example.COM";
  t.requester_phone = "+6281234567890";
  CHECK(kinds(t) ==
        std::vector<std::string>{"telegram=123456789", "email=sari.dewi@example.com", "phone=+6281234567890"});
  CHECK(identities_of(t)[0].integration_id == "int_bot");
}

TEST_CASE("an email thread (a Message-ID) or a form ticket's thread is not a person", "[contacts]") {
  NewTicket email;
  email.channel = "email";
  email.external_thread_id = "<CAF=abc@mail.example.com>";
  email.requester_email = "a@example.com";
  CHECK(kinds(email) == std::vector<std::string>{"email=a@example.com"});
  NewTicket web;
  web.channel = "web";
  web.external_thread_id = "anything";
  CHECK(identities_of(web).empty());
  // Empty values are no identity.
  NewTicket blank;
  blank.channel = "vk";
  blank.external_thread_id = "";
  blank.requester_email = "";
  CHECK(identities_of(blank).empty());
}

TEST_CASE("WhatsApp: the number is both the channel identity and the phone", "[contacts]") {
  NewTicket t;
  t.channel = "whatsapp";
  t.external_thread_id = "+6281234567890";
  t.requester_phone = "+6281234567890";
  CHECK(kinds(t) == std::vector<std::string>{"whatsapp=+6281234567890", "phone=+6281234567890"});
}
