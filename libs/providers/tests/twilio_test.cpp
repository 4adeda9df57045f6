#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "loket/http/url.hpp"
#include "loket/providers/twilio/twilio.hpp"

using namespace loket;
namespace tw = providers::twilio;

namespace {
std::multimap<std::string, std::string> t1_params() {
  return {{"CallSid", "CA1234567890ABCDE"},
          {"Caller", "+14158675309"},
          {"Digits", "1234"},
          {"From", "+14158675309"},
          {"To", "+18005551212"}};
}
const std::string kUrl = "https://mycompany.com/myapp.php?foo=1&bar=2";

events::RawWebhook fixture(const std::string& name) {
  std::ifstream in(std::string(LOKET_SOURCE_DIR) + "/libs/providers/tests/fixtures/twilio/" + name);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  events::RawWebhook raw;
  raw.provider = "twilio";
  raw.integration_id = "int_1";
  raw.workspace_id = "acc_1";
  raw.received_at_ms = 1767225600123;
  raw.content_type = "application/x-www-form-urlencoded";
  raw.body = ss.str();
  return raw;
}
}  // namespace

TEST_CASE("X-Twilio-Signature matches Twilio's published vectors (T1-T5)") {
  CHECK(tw::signature("12345", kUrl, t1_params()) == "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
  CHECK(tw::valid_signature("12345", kUrl, t1_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  // T2: repeated keys, values deduplicated and sorted.
  std::multimap<std::string, std::string> dup = {
      {"Sid", "CA123"}, {"SidAccount", "AC123"}, {"Digits", "5678"}, {"Digits", "1234"}, {"Digits", "1234"}};
  CHECK(tw::signature("12345", kUrl, dup) == "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
  // T3-T5: Twilio may sign with or without the port; both are accepted.
  CHECK(tw::valid_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", t1_params(),
                            "kvajT1Ptam85bY51eRf/AJRuM3w="));
  CHECK(tw::valid_signature("12345", "http://mycompany.com:80/myapp.php?foo=1&bar=2", t1_params(),
                            "0ZXoZLH/DfblKGATFgpif+LLRf4="));
  CHECK(tw::valid_signature("12345", "http://mycompany.com:1234/myapp.php?foo=1&bar=2", t1_params(),
                            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="));
  // The port-less URL validates the signature made over the :443 form and vice versa.
  CHECK(tw::valid_signature("12345", kUrl, t1_params(), "kvajT1Ptam85bY51eRf/AJRuM3w="));
  CHECK(tw::valid_signature("12345", "https://mycompany.com:443/myapp.php?foo=1&bar=2", t1_params(),
                            "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
}

TEST_CASE("a forged, altered or unsigned Twilio request fails validation") {
  CHECK_FALSE(tw::valid_signature("12345", kUrl, t1_params(), ""));
  CHECK_FALSE(tw::valid_signature("wrong-token", kUrl, t1_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  auto altered = t1_params();
  altered.find("Digits")->second = "9999";
  CHECK_FALSE(tw::valid_signature("12345", kUrl, altered, "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  CHECK_FALSE(tw::valid_signature("12345", "https://mycompany.com/myapp.php?foo=1&bar=3", t1_params(),
                                  "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
  CHECK_FALSE(tw::valid_signature("", kUrl, t1_params(), "RSOYDt4T1cUTdK1PDd93/VVr8B8="));
}

TEST_CASE("a JSON-bodied Twilio webhook is checked with bodySHA256 (T6)") {
  const std::string body = R"({"property": "value", "boolean": true})";
  const std::string url = kUrl + "&bodySHA256=0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
  CHECK(tw::valid_json_signature("12345", url, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
  CHECK_FALSE(tw::valid_json_signature("12345", url, body + " ", "a9nBmqA0ju/hNViExpshrM61xv4="));
  CHECK_FALSE(tw::valid_json_signature("12345", kUrl, body, "a9nBmqA0ju/hNViExpshrM61xv4="));
}

TEST_CASE("a Twilio WhatsApp text message normalizes to the sender's E.164 thread") {
  auto n = tw::normalize(fixture("text.form"));
  REQUIRE(n.messages.size() == 1);
  const auto& m = n.messages[0];
  CHECK(m.provider == "twilio");
  CHECK(m.channel == "whatsapp");
  CHECK(m.external_thread_id == "+6281234567890");
  CHECK(m.external_message_id == "SM2a1b3c4d5e6f708192a3b4c5d6e7f8091");
  CHECK(m.sender.phone == "+6281234567890");
  CHECK(m.sender.name == "Budi Santoso");
  CHECK(m.sender.external_id == "6281234567890");
  CHECK(m.text == "Halo, pesanan saya belum sampai\nNomor pesanan #1001");
  CHECK(m.attachments.empty());
  CHECK(m.sent_at_ms == 1767225600123);
}

TEST_CASE("Twilio media become attachments named by type; media-only reads [attachment: …]") {
  auto n = tw::normalize(fixture("image_caption.form"));
  REQUIRE(n.messages.size() == 1);
  CHECK(n.messages[0].text == "Hello, where is my order?");
  REQUIRE(n.messages[0].attachments.size() == 1);
  CHECK(n.messages[0].attachments[0].filename == "photo-1.jpg");
  CHECK(n.messages[0].attachments[0].content_type == "image/jpeg");
  CHECK(n.messages[0].attachments[0].external_ref ==
        "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/"
        "MM1f0e8e2d9b6c4a7f8e1d2c3b4a596870/Media/ME0a1b2c3d4e5f60718293a4b5c6d7e8f9");

  auto only = tw::normalize(fixture("media_only.form"));
  REQUIRE(only.messages.size() == 1);
  REQUIRE(only.messages[0].attachments.size() == 2);
  CHECK(only.messages[0].attachments[1].filename == "voice-2.ogg");
  CHECK(only.messages[0].text == "[attachment: photo-1.jpg, voice-2.ogg]");
}

TEST_CASE("a Twilio location reads as coordinates with its label") {
  auto n = tw::normalize(fixture("location.form"));
  REQUIRE(n.messages.size() == 1);
  CHECK(n.messages[0].text == "[location: -6.2087634, 106.845599] Kantor");
}

TEST_CASE("SMS, status callbacks and garbage are dropped with a reason") {
  CHECK(tw::normalize(fixture("sms.form")).dropped == std::vector<std::string>{"not_whatsapp"});
  auto junk = fixture("text.form");
  junk.body = "{\"not\":\"a form\"}";
  CHECK(tw::normalize(junk).dropped == std::vector<std::string>{"malformed"});
  junk.body = "MessageSid=SM1&From=whatsapp%3A%2B6281234567890&To=whatsapp%3A%2B14155238886&Body=";
  CHECK(tw::normalize(junk).dropped == std::vector<std::string>{"empty_message"});
}

TEST_CASE("an undelivered status callback becomes a delivery receipt; other statuses are dropped") {
  auto n = tw::normalize(fixture("status_callback.form"));
  CHECK(n.messages.empty());
  REQUIRE(n.receipts.size() == 1);
  const auto& r = n.receipts[0];
  CHECK(r.external_message_id == "SM6e5f708192a3b4c5d6e7f809a1b2c3d4");
  CHECK(r.recipient == "+6281234567890");
  CHECK(r.status == "failed");
  CHECK(r.error.find("Twilio error 63016") == 0);
  CHECK(r.error.find("24-hour") != std::string::npos);
  auto delivered = fixture("status_callback.form");
  delivered.body =
      "MessageSid=SM1&MessageStatus=delivered&SmsStatus=delivered&From=whatsapp%3A%2B14155238886&To=whatsapp%3A%"
      "2B6281234567890&AccountSid=AC0123456789abcdef0123456789abcdef";
  auto d = tw::normalize(delivered);
  CHECK(d.receipts.empty());
  CHECK(d.dropped == std::vector<std::string>{"status_callback"});
  CHECK(tw::error_text("12345", "failed") == "Twilio error 12345: message failed");
}

TEST_CASE("whatsapp_number, credentials and account SIDs") {
  CHECK(tw::whatsapp_number("whatsapp:+14155238886") == "+14155238886");
  CHECK(tw::whatsapp_number("+14155238886").empty());
  CHECK(tw::whatsapp_number("whatsapp:14155238886").empty());
  CHECK(tw::is_account_sid("AC0123456789abcdef0123456789abcdef"));
  CHECK_FALSE(tw::is_account_sid("AC0123"));
  CHECK_FALSE(tw::is_account_sid("SK0123456789abcdef0123456789abcdef"));
  tw::Credentials c{"AC0123456789abcdef0123456789abcdef", "tok", "sec"};
  auto back = tw::credentials_from_json(tw::to_json(c));
  CHECK(back.account_sid == c.account_sid);
  CHECK(back.auth_token == "tok");
  CHECK(back.webhook_secret == "sec");
  CHECK_THROWS_AS(tw::credentials_from_json("{}"), std::invalid_argument);
}
