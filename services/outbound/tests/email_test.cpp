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

namespace {
events::Message message(std::int64_t seq, const std::string& author_type, const std::string& author,
                        const std::string& body, bool internal = false) {
  events::Message m;
  m.id = "tmsg_" + std::to_string(seq);
  m.seq = seq;
  m.author_type = author_type;
  m.author_name = author;
  m.body = body;
  m.internal = internal;
  m.created_at = "2026-11-30T14:0" + std::to_string(seq % 10) + ":30.123Z";
  return m;
}
}  // namespace

TEST_CASE("a transcript: public messages up to the requested one, oldest first, the newest kept when too long") {
  std::vector<events::Message> conversation = {
      message(1, "requester", "Sari", "Where is my order?"),
      message(2, "system", "Toko", "Thanks! Follow it here: {{status_link}}"),
      message(3, "agent", "Budi", "Checking the courier now", true),  // a note: never
      message(4, "agent", "Budi", "It ships today."),
      message(5, "requester", "Sari", "Sent after the request"),
  };
  conversation[3].attachments.push_back({"att_1", "tmsg_4", "resi.pdf", "application/pdf", "stored", "", 2048});
  auto text = outbound::transcript_text(conversation, 4, 1 << 20, "https://app.loket.example/t/tok");
  CHECK(text ==
        "You — 2026-11-30 14:01 UTC\nWhere is my order?\n\n"
        "Toko — 2026-11-30 14:02 UTC\nThanks! Follow it here: https://app.loket.example/t/tok\n\n"
        "Budi — 2026-11-30 14:04 UTC\nIt ships today.\n[file: resi.pdf (2 KB)]\n");
  CHECK(text.find("courier") == std::string::npos);
  CHECK(text.find("after the request") == std::string::npos);

  // 100 bytes hold only the newest message (71); the reader is told where the rest is.
  auto cut = outbound::transcript_text(conversation, 4, 100, "x");
  CHECK(cut.rfind("(Earlier messages are on the conversation's page.)\n\nBudi — ", 0) == 0);
  CHECK(cut.find("Where is my order?") == std::string::npos);
  CHECK(outbound::transcript_text({}, 9, 1000, "x").empty());

  const providers::Mailer sender{providers::resend::kIntegration, "Toko <support@mail.toko.example>", nullptr};
  auto t = ticket();
  t.requester_email = "sari@example.id";
  auto mail = outbound::compose(MailKind::kTranscript, t, sender, {"https://app.loket.example", "in.loket.example"},
                                "evt_7", "", text);
  CHECK(mail.to == "sari@example.id");
  CHECK(mail.subject == "Transcript: Resi belum muncul  Bcc: victim@example.com [#1042]");
  CHECK(header(mail, "Message-ID") == "<transcript-evt_7@mail.toko.example>");
  CHECK(header(mail, "In-Reply-To") == "<ticket-tkt_1@mail.toko.example>");
  CHECK(header(mail, "Auto-Submitted") == "auto-generated");
  CHECK(mail.idempotency_key == "loket-transcript-evt_7");
  CHECK(mail.text.find("It ships today.\n[file: resi.pdf (2 KB)]") != std::string::npos);
  CHECK(mail.html.find("It ships today.<br>[file: resi.pdf (2 KB)]") != std::string::npos);
  CHECK(mail.reply_to == "reply+" + t.reply_token + "@in.loket.example");
}
