// What requester emails say and how they thread (compose is pure).
#include <catch2/catch.hpp>

#include "email.hpp"
#include "loket/providers/resend/resend.hpp"

using namespace loket;
using outbound::MailKind;

namespace {
outbound::TicketMail ticket() {
  outbound::TicketMail t;
  t.ticket_id = "tkt_1";
  t.workspace_id = "acc_0123456789abcdef01234567";
  t.subject = "Resi belum muncul\r\nBcc: victim@example.com";  // a hostile subject from a form
  t.number = 1042;
  t.requester_email = "budi@example.com";
  t.requester_name = "Budi";
  t.access_token = "tok";
  t.reply_token = "0123456789abcdef01234567.1042.0011223344556677";
  return t;
}

std::string header(const providers::Email& e, const std::string& name) {
  for (const auto& [k, v] : e.headers)
    if (k == name) return v;
  return "";
}
}  // namespace

TEST_CASE("requester emails: subjects keep the number last, automatic mail says so, replies thread") {
  const providers::Mailer sender{providers::resend::kIntegration, "Toko <support@mail.toko.example>", nullptr};
  const outbound::EmailOptions opt{"https://app.loket.example", "in.loket.example"};
  auto received = outbound::compose(MailKind::kReceived, ticket(), sender, opt);
  CHECK(received.subject == "Resi belum muncul  Bcc: victim@example.com [#1042]");  // one header line
  CHECK(header(received, "Message-ID") == "<ticket-tkt_1@mail.toko.example>");
  CHECK(header(received, "Auto-Submitted") == "auto-replied");
  CHECK(received.reply_to == "reply+0123456789abcdef01234567.1042.0011223344556677@in.loket.example");
  CHECK(received.text.find("https://app.loket.example/t/tok") != std::string::npos);

  auto reply = outbound::compose(MailKind::kReply, ticket(), sender, opt, "msg_9", "Sari", "It ships today.");
  CHECK(reply.subject == "Re: Resi belum muncul  Bcc: victim@example.com [#1042]");
  CHECK(header(reply, "Message-ID") == "<msg_9@mail.toko.example>");
  CHECK(header(reply, "In-Reply-To") == "<ticket-tkt_1@mail.toko.example>");
  CHECK(header(reply, "Auto-Submitted").empty());  // a person wrote it
  CHECK(reply.text.find("It ships today.") != std::string::npos);

  auto auto_reply = outbound::compose(MailKind::kAutoReply, ticket(), sender, opt, "msg_8", "Toko", "Thanks!");
  CHECK(auto_reply.subject == reply.subject);
  CHECK(header(auto_reply, "Auto-Submitted") == "auto-replied");
  CHECK(header(outbound::compose(MailKind::kCsatSurvey, ticket(), sender, opt), "Auto-Submitted") == "auto-generated");

  // Without an inbound domain there is nowhere to reply to.
  CHECK(outbound::compose(MailKind::kReply, ticket(), sender, {"https://app.loket.example", ""}, "m", "S", "x")
            .reply_to.empty());
}

TEST_CASE("a reply to an email ticket answers the customer's latest mail and carries the conversation") {
  const providers::Mailer sender{providers::resend::kIntegration, "Toko <support@mail.toko.example>", nullptr};
  const outbound::EmailOptions opt{"https://app.loket.example", "in.loket.example"};
  auto t = ticket();
  t.requester_message_ids = {"first@mail.example", "bad>id\r\nBcc: x@y", "latest@mail.example"};
  auto reply = outbound::compose(MailKind::kReply, t, sender, opt, "msg_9", "Sari", "It ships today.");
  CHECK(header(reply, "In-Reply-To") == "<latest@mail.example>");
  // The root first, then the customer's mails; an id that cannot be written as one is left out.
  CHECK(header(reply, "References") == "<ticket-tkt_1@mail.toko.example> <first@mail.example> <latest@mail.example>");
  // The survey stays under the root.
  CHECK(header(outbound::compose(MailKind::kCsatSurvey, t, sender, opt), "In-Reply-To") ==
        "<ticket-tkt_1@mail.toko.example>");
}

TEST_CASE("a reply's files: attached ones ride along, linked ones are listed under the request's page link") {
  providers::Email e;
  e.text = "Sari replied.\n";
  e.html = "<p>Sari replied.</p>";
  outbound::ReplyFiles files;
  files.attached.push_back({"invoice.pdf", "application/pdf", "%PDF"});
  outbound::add_files(e, files, "https://app.example/t/tok");
  REQUIRE(e.attachments.size() == 1);
  CHECK(e.attachments[0].bytes == "%PDF");
  CHECK(e.text == "Sari replied.\n");  // nothing listed when everything is attached

  providers::Email big;
  big.text = "Sari replied.\n";
  big.html = "<p>Sari replied.</p>";
  outbound::ReplyFiles too_large;
  events::Attachment zip, video;
  zip.filename = "photos <1>.zip";
  zip.size = 70 * 1024;
  video.filename = "unboxing.mp4";
  video.size = 31 * 1024 * 1024 + 1024 * 512;
  too_large.linked = {zip, video};
  outbound::add_files(big, too_large, "https://app.example/t/tok");
  CHECK(big.attachments.empty());
  CHECK(big.text.find("Too large to attach") != std::string::npos);
  CHECK(big.text.find("- photos <1>.zip (70 KB)\n") != std::string::npos);
  CHECK(big.text.find("- unboxing.mp4 (31.5 MB)\n") != std::string::npos);
  CHECK(big.html.find("<a href=\"https://app.example/t/tok\">") != std::string::npos);
  CHECK(big.html.find("<li>photos &lt;1&gt;.zip (70 KB)</li>") != std::string::npos);  // escaped
}
