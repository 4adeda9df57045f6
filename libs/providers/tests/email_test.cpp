// Email in: routing by envelope recipient (alias or signed reply address), HTTP Basic
// authentication, and what a raw message normalizes to (fixtures from libs/mime/tests).
#include <catch2/catch.hpp>

#include "fixture.hpp"

#include <fstream>
#include <sstream>

#include "loket/core/ids.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/email/reply_address.hpp"

using namespace loket;
namespace email = providers::email;

namespace {
const std::string kKey = "k1:" + std::string(64, '7');
const std::string kAccount = "acc_0123456789abcdef01234567";

std::unique_ptr<providers::Adapter> adapter(const std::string& password = "mta-secret") {
  return email::make_adapter(providers::Settings({{"LOKET_INBOUND_EMAIL_DOMAIN", "In.Loket.Example"},
                                                  {"LOKET_EMAIL_INGRESS_PASSWORD", password},
                                                  {"LOKET_MASTER_KEY", kKey}}));
}

http::Request post(const std::string& recipient, const std::string& auth = "") {
  http::Request r;
  r.method = "POST";
  r.path = email::kWebhookPath;
  r.query.emplace("recipient", recipient);
  if (!auth.empty()) r.headers["authorization"] = auth;
  return r;
}

std::string fixture(const std::string& name) { return loket::testing::email_fixture(name); }

events::RawWebhook raw(const std::string& body) {
  events::RawWebhook w;
  w.provider = email::kWebhook;
  w.integration_id = "int_1";
  w.workspace_id = kAccount;
  w.received_at_ms = 5;
  w.body = body;
  return w;
}
}  // namespace

TEST_CASE("the MIME ingress exists only when the domain and the password are configured") {
  CHECK(adapter()->webhook()->path == email::kWebhookPath);
  CHECK_FALSE(adapter("")->webhook().has_value());
  CHECK(adapter()->descriptor().platform);
  CHECK(adapter()->descriptor().channel == "email");
}

TEST_CASE("mail routes to the workspace of its alias or of a verified reply address") {
  auto a = adapter();
  auto targets = a->route(post(kAccount + "@in.loket.example"), "");
  REQUIRE(targets.size() == 1);
  CHECK(targets[0].by == providers::RouteBy::kRoutingKey);
  CHECK(targets[0].key == kAccount);
  CHECK(targets[0].routing_key == kAccount + "@in.loket.example");  // the envelope recipient, for normalize
  CHECK(a->route(post("ACC_0123456789ABCDEF01234567@IN.LOKET.EXAMPLE"), "")[0].key == kAccount);
  auto token = email::reply_token(crypto::Keyring::parse(kKey), kAccount, 12);
  CHECK(a->route(post("reply+" + token + "@in.loket.example"), "")[0].key == kAccount);
  // Altered, foreign or unknown addresses name no workspace.
  std::string altered = token;
  altered[25] = altered[25] == '1' ? '2' : '1';
  for (const std::string& bad : {"reply+" + altered + "@in.loket.example", kAccount + "@other.example",
                                 std::string("support@in.loket.example"), std::string("acc_x@in.loket.example")}) {
    INFO(bad);
    CHECK_THROWS_AS(a->route(post(bad), ""), providers::Refusal);
  }
  CHECK_THROWS_AS(a->route(post(""), ""), providers::Refusal);
}

TEST_CASE("the MTA authenticates with HTTP Basic and the configured password") {
  auto a = adapter();
  CHECK(a->authenticate(post("x", "Basic " + core::base64("postfix:mta-secret")), "", {}));
  CHECK(a->authenticate(post("x", "Basic " + core::base64(":mta-secret")), "", {}));
  CHECK_FALSE(a->authenticate(post("x", "Basic " + core::base64("postfix:wrong")), "", {}));
  CHECK_FALSE(a->authenticate(post("x", "Basic " + core::base64("mta-secret")), "", {}));
  CHECK_FALSE(a->authenticate(post("x", "Basic !!!!"), "", {}));
  CHECK_FALSE(a->authenticate(post("x", "Bearer mta-secret"), "", {}));
  CHECK_FALSE(a->authenticate(post("x"), "", {}));
}

TEST_CASE("a customer's mail normalizes to its sender, subject, new text and Message-ID") {
  auto n = email::normalize(raw(fixture("gmail_reply.eml")), nullptr, "");
  REQUIRE(n.messages.size() == 1);
  const auto& m = n.messages[0];
  CHECK(m.channel == "email");
  CHECK(m.provider == email::kWebhook);
  CHECK(m.sender.email == "budi.santoso@gmail.com");
  CHECK(m.sender.name == "Budi Santoso");
  CHECK(m.subject == "Re: Pesanan saya belum sampai [#1042]");
  CHECK(m.text == "Terima kasih, paketnya sudah sampai hari ini \xF0\x9F\x99\x8F");  // the quote trimmed
  CHECK(m.external_message_id == "CAJx8v9Q3=kD5rT+Lw@mail.gmail.com");
  CHECK(m.sent_at_ms == 1796004831000);
  // HTML-only mail reads as text; a message without Message-ID dedups on its bytes.
  auto html = email::normalize(raw(fixture("outlook_html_only.eml")), nullptr, "");
  REQUIRE(html.messages.size() == 1);
  CHECK(html.messages[0].text.rfind("Hello,\n\nThe caf\xC3\xA9 order #88", 0) == 0);
  auto bare = email::normalize(raw("From: a@b.example\r\n\r\nhello"), nullptr, "");
  REQUIRE(bare.messages.size() == 1);
  CHECK(bare.messages[0].external_message_id.rfind("sha256:", 0) == 0);
  CHECK(bare.messages[0].external_message_id ==
        email::normalize(raw("From: a@b.example\r\n\r\nhello"), nullptr, "").messages[0].external_message_id);
}

TEST_CASE("a bounce is a delivery failure of the mail it quotes, never a customer's message") {
  auto n = email::normalize(raw(fixture("postfix_bounce.eml")), nullptr, "");
  CHECK(n.messages.empty());
  REQUIRE(n.receipts.size() == 1);
  const auto& r = n.receipts[0];
  CHECK(r.sent_message_id == "msg_01HZBOUNCE@loket.example");
  CHECK(r.status == "failed");
  CHECK(r.recipient == "nobody@example.net");
  CHECK(r.error.find("550 5.1.1") != std::string::npos);
  CHECK(r.workspace_id == kAccount);
  // A report that quotes no Message-ID fails nothing: dropped and counted.
  auto bare =
      email::normalize(raw("From: MAILER-DAEMON@mx.example\r\nSubject: Undelivered Mail\r\n\r\nsorry"), nullptr, "");
  CHECK(bare.receipts.empty());
  CHECK(bare.dropped == std::vector<std::string>{"bounce"});
}

TEST_CASE("unreadable bytes and mail without a sender are dropped and counted") {
  CHECK(email::normalize(raw(""), nullptr, "").dropped == std::vector<std::string>{"unreadable_email"});
  CHECK(email::normalize(raw(fixture("broken.eml")), nullptr, "").dropped == std::vector<std::string>{"no_sender"});
}

TEST_CASE("a reply carries what threads it: its verified reply address, the Message-IDs it answers, [#n]") {
  const auto keys = crypto::Keyring::parse(kKey);
  auto m = email::normalize(raw(fixture("gmail_reply.eml")), &keys, "in.loket.example").messages.at(0);
  // The fixture's To is a token of no key of ours: no ticket number from it.
  CHECK(m.thread_hints.ticket_number == 0);
  CHECK(m.thread_hints.references ==
        std::vector<std::string>{"msg_01HZ9QQ@loket.example", "msg_01HZ8K3@loket.example"});  // In-Reply-To first
  CHECK(m.thread_hints.subject_number == 1042);
  CHECK(m.external_thread_id == "msg_01HZ8K3@loket.example");             // the conversation's first message
  CHECK(m.quoted_text.rfind("On Sun, Nov 29, 2026 at 4:02 PM", 0) == 0);  // Gmail's quote, kept
  CHECK(m.cc == std::vector<std::string>{"sari@example.co.id"});
  CHECK(m.automated.empty());
  CHECK(m.source == fixture("gmail_reply.eml"));

  // The envelope recipient's token counts when it verifies and names this workspace.
  auto w = raw(fixture("gmail_reply.eml"));
  w.routing_key = "reply+" + email::reply_token(keys, kAccount, 77) + "@in.loket.example";
  CHECK(email::normalize(w, &keys, "in.loket.example").messages.at(0).thread_hints.ticket_number == 77);
  // Another workspace's valid token, an altered token or no keyring: no ticket number.
  w.routing_key = "reply+" + email::reply_token(keys, "acc_ffffffffffffffffffffffff", 77) + "@in.loket.example";
  CHECK(email::normalize(w, &keys, "in.loket.example").messages.at(0).thread_hints.ticket_number == 0);
  std::string altered = email::reply_token(keys, kAccount, 77);
  altered[0] = altered[0] == 'a' ? 'b' : 'a';
  w.routing_key = "reply+" + altered + "@in.loket.example";
  CHECK(email::normalize(w, &keys, "in.loket.example").messages.at(0).thread_hints.ticket_number == 0);
  w.routing_key = "reply+" + email::reply_token(keys, kAccount, 77) + "@in.loket.example";
  CHECK(email::normalize(w, nullptr, "in.loket.example").messages.at(0).thread_hints.ticket_number == 0);
  // A token in Cc counts too (the customer wrote to someone else and copied the ticket).
  auto cc = raw("From: a@b.example\r\nTo: boss@b.example\r\nCc: reply+" + email::reply_token(keys, kAccount, 9) +
                "@IN.loket.example\r\nMessage-ID: <x@b.example>\r\n\r\nsee below");
  CHECK(email::normalize(cc, &keys, "in.loket.example").messages.at(0).thread_hints.ticket_number == 9);
}

TEST_CASE("[#n] is read from the last well-formed tag of a subject") {
  CHECK(email::ticket_number_in_subject("Re: Pesanan [#1042]") == 1042);
  CHECK(email::ticket_number_in_subject("Fwd: [#7] then [#12] again") == 12);
  CHECK(email::ticket_number_in_subject("[#12] and [#x]") == 12);
  for (const char* none : {"", "no tag", "[#]", "[#012]", "[#12", "[# 12]", "[#1234567890123456]", "[#-3]"}) {
    INFO(none);
    CHECK(email::ticket_number_in_subject(none) == 0);
  }
}

TEST_CASE("attachments carry their bytes, automated mail says so, an empty body still reads") {
  auto a = email::normalize(raw(fixture("apple_mail_attachments.eml")), nullptr, "").messages.at(0);
  REQUIRE(a.attachments.size() >= 2);
  for (const auto& f : a.attachments) {
    INFO(f.filename);
    CHECK(!f.data.empty());
    CHECK(f.size == static_cast<std::int64_t>(f.data.size()));
    CHECK(f.external_ref.rfind("part:", 0) == 0);
  }
  CHECK(email::normalize(raw(fixture("auto_reply.eml")), nullptr, "").messages.at(0).automated == "auto-submitted");
  CHECK(email::normalize(raw(fixture("mailing_list.eml")), nullptr, "").messages.at(0).automated == "list-id");
  auto empty = email::normalize(raw("From: a@b.example\r\nSubject: Invoice 12\r\n\r\n"), nullptr, "").messages.at(0);
  CHECK(empty.text == "Invoice 12");
  // A message with thousands of parts keeps at most kMaxAttachments of them.
  std::string bomb = "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n";
  for (int i = 0; i < 3000; ++i)
    bomb += "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=f" +
            std::to_string(i) + "\r\n\r\nx\r\n";
  bomb += "--b--\r\n";
  CHECK(email::normalize(raw(bomb), nullptr, "").messages.at(0).attachments.size() <= email::kMaxAttachments);
}

TEST_CASE("a multipart mail's text and its base64 attachment come out whole") {
  std::string file(300000, '\0');
  for (std::size_t i = 0; i < file.size(); ++i) file[i] = static_cast<char>((i * 7919) >> 3);
  auto m = email::normalize(
               raw("From: sari@example.test\r\nSubject: Photo\r\nMIME-Version: 1.0\r\n"
                   "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\n"
                   "See attached.\r\n--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
                   "filename=\"scan.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
                   core::base64(file) + "\r\n--b--\r\n"),
               nullptr, "")
               .messages.at(0);
  CHECK(m.text == "See attached.");
  REQUIRE(m.attachments.size() == 1);
  CHECK(m.attachments[0].filename == "scan.bin");
  CHECK(m.attachments[0].data == file);
}
