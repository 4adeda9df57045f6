// Email parsing on real-shaped messages (fixtures/email/: what Gmail, Outlook, Apple Mail,
// Thunderbird and Postfix send), each charset, and hostile input.
#include <catch2/catch.hpp>

#include "fixture.hpp"

#include <fstream>
#include <sstream>

#include "loket/core/text.hpp"
#include "loket/mime/email.hpp"

using namespace loket::mime;

namespace {
std::string fixture(const std::string& name) { return loket::testing::email_fixture(name); }
}  // namespace

TEST_CASE("a Gmail reply: addresses, threading headers, the text part, the date") {
  auto m = parse_email(fixture("gmail_reply.eml"));
  CHECK(m.from.name == "Budi Santoso");
  CHECK(m.from.address == "budi.santoso@gmail.com");
  CHECK_FALSE(m.reply_to.has_value());
  REQUIRE(m.to.size() == 1);
  CHECK(m.to[0].address == "reply+Zk3q9XbP2aT7@in.loket.example");
  REQUIRE(m.cc.size() == 1);
  CHECK(m.cc[0].name == "Sari");
  CHECK(m.subject == "Re: Pesanan saya belum sampai [#1042]");
  CHECK(m.message_id == "CAJx8v9Q3=kD5rT+Lw@mail.gmail.com");
  CHECK(m.in_reply_to == "msg_01HZ9QQ@loket.example");
  CHECK(m.references == std::vector<std::string>{"msg_01HZ8K3@loket.example", "msg_01HZ9QQ@loket.example"});
  CHECK(m.date_ms == 1796004831000);  // 2026-11-30T02:13:51Z
  CHECK(m.text.rfind("Terima kasih, paketnya sudah sampai hari ini \xF0\x9F\x99\x8F", 0) == 0);
  CHECK(m.html.find("gmail_quote") != std::string::npos);
  CHECK(m.attachments.empty());
  CHECK(m.automated.empty());
  CHECK_FALSE(m.bounce.has_value());
}

TEST_CASE("Outlook HTML-only mail in windows-1252 becomes readable text with its link") {
  auto m = parse_email(fixture("outlook_html_only.eml"));
  CHECK(m.from.name ==
        "Ren\xC3\xA9"
        "e Dubois");
  CHECK(m.subject == "Damaged caf\xC3\xA9 order");
  CHECK(m.text ==
        "Hello,\n\nThe caf\xC3\xA9 order #88 arrived damaged. See the photos (https://photos.example.com/a/88).\n"
        "- 2 cups broken\n- 1 lid missing\n\nRegards,\nRen\xC3\xA9"
        "e");
  CHECK(m.text.find("alert") == std::string::npos);  // scripts and styles are not text
  CHECK(m.text.find("margin") == std::string::npos);
}

TEST_CASE("each charset and encoded words decode to UTF-8") {
  const std::string jp_subject =
      "\xE6\xB3\xA8\xE6\x96\x87\xE3\x81\xAB\xE3\x81\xA4\xE3\x81\x84\xE3\x81\xA6";  // 注文について
  auto iso = parse_email(fixture("iso2022jp.eml"));
  CHECK(iso.subject == jp_subject);
  CHECK(iso.from.name == "\xE5\xB1\xB1\xE7\x94\xB0 \xE5\xA4\xAA\xE9\x83\x8E");                         // 山田 太郎
  CHECK(iso.text.find("\xE6\xB3\xA8\xE6\x96\x87\xE7\x95\xAA\xE5\x8F\xB7 5521") != std::string::npos);  // 注文番号 5521
  auto sjis = parse_email(fixture("shift_jis.eml"));
  CHECK(sjis.subject == jp_subject);
  CHECK(sjis.text == iso.text);
  auto koi = parse_email(fixture("koi8r.eml"));
  CHECK(koi.from.name == "\xD0\x98\xD0\xB2\xD0\xB0\xD0\xBD");        // Иван
  CHECK(koi.subject == "\xD0\x97\xD0\xB0\xD0\xBA\xD0\xB0\xD0\xB7");  // Заказ
  CHECK(koi.text.rfind(
            "\xD0\x97\xD0\xB4\xD1\x80\xD0\xB0\xD0\xB2\xD1\x81\xD1\x82\xD0\xB2\xD1\x83\xD0\xB9\xD1\x82\xD0\xB5!",
            0) == 0);                                                                       // Здравствуйте!
  CHECK(parse_email(fixture("utf8_bom.eml")).text.rfind("Ol\xC3\xA1, tudo bem?", 0) == 0);  // no BOM
  CHECK(parse_email(fixture("windows1252.eml"))
            .text.rfind("El pedido cuesta 12\xE2\x82\xAC \xE2\x80\x93 \xE2\x80\x9Cgracias\xE2\x80\x9D", 0) ==
        0);  // € – “ ”
}

TEST_CASE("Apple Mail: an inline image with its Content-ID and an attachment with an RFC 2231 name") {
  auto m = parse_email(fixture("apple_mail_attachments.eml"));
  CHECK(m.text == "Here is the damaged box:\n\nInvoice attached.");  // <br><img><br>
  REQUIRE(m.attachments.size() == 2);
  CHECK(m.attachments[0].filename == "box.png");
  CHECK(m.attachments[0].content_type == "image/png");
  CHECK(m.attachments[0].content_id == "B1C2D3E4@icloud.example");
  CHECK(m.attachments[0].is_inline);
  CHECK(m.attachments[0].data.rfind("\x89PNG", 0) == 0);
  CHECK(m.attachments[1].filename == "Faktur \xE2\x84\x96 17.pdf");
  CHECK(m.attachments[1].content_type == "application/pdf");
  CHECK_FALSE(m.attachments[1].is_inline);
  CHECK(m.attachments[1].data.rfind("%PDF-1.4", 0) == 0);
}

TEST_CASE("a forwarded message is kept whole as an .eml attachment") {
  auto m = parse_email(fixture("thunderbird_forward.eml"));
  CHECK(m.text.rfind("See the confirmation below", 0) == 0);
  REQUIRE(m.attachments.size() == 1);
  CHECK(m.attachments[0].filename == "Shipping confirmation.eml");
  CHECK(m.attachments[0].content_type == "message/rfc822");
  CHECK(m.attachments[0].data.find("Your order 771 has shipped.") != std::string::npos);
  CHECK(parse_email(m.attachments[0].data).message_id == "ship-771@toko.example");
}

TEST_CASE("a Postfix delivery status report is a bounce naming the message that bounced") {
  auto m = parse_email(fixture("postfix_bounce.eml"));
  REQUIRE(m.bounce.has_value());
  CHECK(m.bounce->original_message_id == "msg_01HZBOUNCE@loket.example");
  CHECK(m.bounce->recipient == "nobody@example.net");
  CHECK(m.bounce->diagnostic == "550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown");
  CHECK(m.automated == "auto-submitted");
}

TEST_CASE("auto-replies and list mail say why they get no automatic answer") {
  CHECK(parse_email(fixture("auto_reply.eml")).automated == "auto-submitted");
  CHECK(parse_email(fixture("mailing_list.eml")).automated == "list-id");
  CHECK(parse_email("From: a@b.example\r\nPrecedence: bulk\r\n\r\nx").automated == "precedence");
  CHECK(parse_email("From: a@b.example\r\nAuto-Submitted: no\r\n\r\nx").automated.empty());
  CHECK(parse_email("From: a@b.example\r\nX-Loop: support@toko.example\r\n\r\nx").automated == "x-loop");
  CHECK_FALSE(parse_email(fixture("auto_reply.eml")).bounce.has_value());
}

TEST_CASE("broken mail still becomes a best-effort message") {
  auto m = parse_email(fixture("broken.eml"));
  CHECK(m.from.address.empty());  // no From at all
  CHECK(loket::core::is_storable_text(m.subject));
  CHECK(loket::core::is_storable_text(m.text));
  CHECK(m.text.find("caf") == 0);
  REQUIRE(m.attachments.size() == 1);  // undecodable base64 is kept as what could be read
  CHECK(m.attachments[0].filename == "x.bin");
  // Headers only, bare LF line ends, NUL bytes.
  auto bare = parse_email(std::string("From: x@y.example\nSubject: a\0b\n\nbody\0text", 41));
  CHECK(bare.from.address == "x@y.example");
  CHECK(loket::core::is_storable_text(bare.text));
}

TEST_CASE("hostile mail is refused or bounded, never a crash") {
  CHECK_THROWS_AS(parse_email(""), EmailError);
  CHECK_THROWS_AS(parse_email(std::string(100, 'x'), EmailLimits{10, 200, 16}), EmailError);
  // 100,000 nested multiparts would recurse GMime's parser that deep.
  std::string deep = "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n";
  for (int i = 1; i < 100000; ++i)
    deep += "--b" + std::to_string(i - 1) + "\r\nContent-Type: multipart/mixed; boundary=b" + std::to_string(i) +
            "\r\n\r\n";
  CHECK_THROWS_AS(parse_email(deep), EmailError);
  // An attachment bomb: 5,000 parts; the first max_parts are read, the rest left out.
  std::string bomb = "From: a@b.example\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n";
  for (int i = 0; i < 5000; ++i) bomb += "--x\r\nContent-Type: application/octet-stream\r\n\r\nAAAA\r\n";
  bomb += "--x--\r\n";
  auto m = parse_email(bomb);
  CHECK(m.truncated);
  CHECK(m.attachments.size() == 200);
}

TEST_CASE("html_to_text: blocks, links, pre and deep nesting") {
  CHECK(html_to_text("<p>One</p><p>Two<br>three</p>") == "One\n\nTwo\nthree");
  CHECK(html_to_text("<a href=\"https://x.example/a\">https://x.example/a</a>") == "https://x.example/a");
  CHECK(html_to_text("<a href=\"javascript:alert(1)\">click</a>") == "click");
  CHECK(html_to_text("<pre>a  b\n  c</pre>") == "a  b\n  c");
  CHECK(html_to_text("  lots   of\n\n spaces ") == "lots of spaces");
  CHECK(html_to_text("&lt;script&gt; &amp; &#x1F600;") == "<script> & \xF0\x9F\x98\x80");
  CHECK(html_to_text("").empty());
  std::string nested, deep;
  for (int i = 0; i < 100; ++i) nested += "<div><span>";  // depth 200
  CHECK(html_to_text(nested + "inside") == "inside");
  // Past libxml2's nesting limit the parser stops reading; no stack is spent on it.
  for (int i = 0; i < 200000; ++i) deep += "<div>";
  CHECK(html_to_text("before" + deep + "deep").rfind("before", 0) == 0);
}
