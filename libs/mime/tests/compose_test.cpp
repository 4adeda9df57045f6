// Composing the emails Loket sends through a workspace's SMTP server, read back by parse_email.
#include <catch2/catch.hpp>

#include <algorithm>

#include "loket/mime/email.hpp"

using namespace loket::mime;

namespace {
// A body as read back: line ends as LF, without the final line end MIME adds.
std::string plain(std::string s) {
  for (auto at = s.find("\r\n"); at != std::string::npos; at = s.find("\r\n", at)) s.erase(at, 1);
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}
}  // namespace

TEST_CASE("a composed reply reads back with its threading headers, both bodies and encoded words") {
  OutgoingEmail e;
  e.from = "Toko Anda <support@shop.example>";
  e.to = "budi@example.com";
  e.reply_to = "reply+abc@in.loket.test";
  e.subject = "Re: Pesanan belum sampai \xE2\x80\x94 caf\xC3\xA9 [#42]";
  e.text = "Halo Budi,\n\nPaket sudah dikirim.\n";
  e.html = "<p>Halo Budi,</p><p>Paket sudah dikirim.</p>";
  e.headers = {{"Message-ID", "<tmsg_1@shop.example>"},
               {"In-Reply-To", "<CAF=xyz@mail.gmail.com>"},
               {"References", "<ticket-1@shop.example> <CAF=xyz@mail.gmail.com>"},
               {"Auto-Submitted", "auto-replied"}};
  const std::string raw = compose_email(e);
  CHECK(raw.find("\r\n") != std::string::npos);
  CHECK(raw.find("\n\n") == std::string::npos);                                 // CRLF throughout
  for (unsigned char c : raw.substr(0, raw.find("\r\n\r\n"))) CHECK(c < 0x80);  // headers are ASCII
  auto m = parse_email(raw);
  CHECK(m.from.name == "Toko Anda");
  CHECK(m.from.address == "support@shop.example");
  REQUIRE(m.to.size() == 1);
  CHECK(m.to[0].address == "budi@example.com");
  REQUIRE(m.reply_to);
  CHECK(m.reply_to->address == "reply+abc@in.loket.test");
  CHECK(m.subject == e.subject);
  CHECK(m.message_id == "tmsg_1@shop.example");
  CHECK(m.in_reply_to == "CAF=xyz@mail.gmail.com");
  CHECK(m.references == std::vector<std::string>{"ticket-1@shop.example", "CAF=xyz@mail.gmail.com"});
  CHECK(m.automated == "auto-submitted");
  CHECK(plain(m.text) == "Halo Budi,\n\nPaket sudah dikirim.");
  CHECK(m.html.find("<p>Paket sudah dikirim.</p>") != std::string::npos);
  CHECK(m.date_ms > 0);
}

TEST_CASE("a text-only email has one text/plain part") {
  OutgoingEmail e;
  e.from = "support@shop.example";
  e.to = "Budi <budi@example.com>";
  e.subject = "Hello";
  e.text = "Plain.";
  const std::string raw = compose_email(e);
  CHECK(raw.find("multipart") == std::string::npos);
  auto m = parse_email(raw);
  CHECK(plain(m.text) == "Plain.");
  CHECK(m.html.empty());
  CHECK(m.to[0].name == "Budi");
}

TEST_CASE("header injection and missing addresses are refused") {
  OutgoingEmail e;
  e.from = "support@shop.example";
  e.to = "budi@example.com";
  e.subject = "Hi\r\nBcc: victim@example.com";
  CHECK_THROWS_AS(compose_email(e), std::invalid_argument);
  e.subject = "Hi";
  e.headers = {{"In-Reply-To", "<a@b>\nBcc: victim@example.com"}};
  CHECK_THROWS_AS(compose_email(e), std::invalid_argument);
  e.headers = {};
  e.to = "";
  CHECK_THROWS_AS(compose_email(e), std::invalid_argument);
}

TEST_CASE("a reply's files go after its bodies in a multipart/mixed and read back byte for byte") {
  OutgoingEmail e;
  e.from = "support@shop.example";
  e.to = "budi@example.com";
  e.subject = "Re: Invoice [#7]";
  e.text = "Attached.\n";
  e.html = "<p>Attached.</p>";
  std::string binary;
  for (int i = 0; i < 70000; ++i) binary.push_back(static_cast<char>(i % 256));
  e.attachments = {{"faktur \xC3\xA9.pdf", "application/pdf", "%PDF-1.4\n%\xE2\xE3\xCF\xD3\n"},
                   {"label.bin", "not a type", binary},
                   {"", "", "x"}};
  const std::string raw = compose_email(e);
  CHECK(raw.find("multipart/mixed") != std::string::npos);
  CHECK(raw.find("multipart/alternative") != std::string::npos);
  CHECK(std::all_of(raw.begin(), raw.end(), [](unsigned char c) { return c < 0x80; }));  // base64, RFC 2231
  auto m = parse_email(raw);
  CHECK(plain(m.text) == "Attached.");
  REQUIRE(m.attachments.size() == 3);
  CHECK(m.attachments[0].filename == "faktur \xC3\xA9.pdf");
  CHECK(m.attachments[0].content_type == "application/pdf");
  CHECK(m.attachments[0].data == e.attachments[0].bytes);
  CHECK(m.attachments[1].content_type == "application/octet-stream");  // an unusable type is not passed on
  CHECK(m.attachments[1].data == binary);
  CHECK(m.attachments[2].filename == "attachment");
}

TEST_CASE("a file name or type with a line break is refused, not written as a header") {
  OutgoingEmail e;
  e.from = "support@shop.example";
  e.to = "budi@example.com";
  e.text = "x";
  e.attachments = {{"a.pdf\r\nBcc: victim@example.com", "application/pdf", "x"}};
  CHECK_THROWS_AS(compose_email(e), std::invalid_argument);
  e.attachments = {{"a.pdf", "application/pdf\r\nBcc: victim@example.com", "x"}};
  CHECK_THROWS_AS(compose_email(e), std::invalid_argument);
}
