#include <catch2/catch.hpp>
#include <vector>

#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"

using namespace loket::core;

TEST_CASE("new_id is prefix plus 24 hex characters and unique") {
  auto a = new_id("acc");
  auto b = new_id("acc");
  REQUIRE(a.size() == 4 + 24);
  REQUIRE(a.rfind("acc_", 0) == 0);
  REQUIRE(a.find_first_not_of("0123456789abcdef", 4) == std::string::npos);
  REQUIRE(a != b);
}

TEST_CASE("base64url follows RFC 4648 test vectors without padding") {
  REQUIRE(base64url("") == "");
  REQUIRE(base64url("f") == "Zg");
  REQUIRE(base64url("fo") == "Zm8");
  REQUIRE(base64url("foo") == "Zm9v");
  REQUIRE(base64url("foobar") == "Zm9vYmFy");
  REQUIRE(base64url("\xfb\xff") == "-_8");
}

TEST_CASE("base64 follows RFC 4648 test vectors with padding") {
  REQUIRE(base64("") == "");
  REQUIRE(base64("f") == "Zg==");
  REQUIRE(base64("fo") == "Zm8=");
  REQUIRE(base64("foo") == "Zm9v");
  REQUIRE(base64("foob") == "Zm9vYg==");
  REQUIRE(base64("fooba") == "Zm9vYmE=");
  REQUIRE(base64("foobar") == "Zm9vYmFy");
  REQUIRE(base64("\xfb\xff") == "+/8=");
}

TEST_CASE("base64 of every length and byte, and of several megabytes, reads back", "[base64]") {
  std::string bytes;
  for (int i = 0; i < 1000; ++i) {
    CHECK(from_base64(base64(bytes)) == bytes);
    CHECK(base64(bytes).size() == (bytes.size() + 2) / 3 * 4);
    CHECK(base64url(bytes).find_first_of("+/=") == std::string::npos);
    bytes += static_cast<char>(i * 37 % 256);
  }
  std::string big;
  for (std::size_t i = 0; i < (7u << 20) + 1; ++i) big += static_cast<char>(i % 251);  // past OpenSSL's chunk of 3 MB
  const auto text = base64(big);
  CHECK(text.size() == (big.size() + 2) / 3 * 4);
  CHECK(from_base64(text) == big);
}

TEST_CASE("from_base64 reads RFC 4648 vectors back and refuses what is not base64") {
  for (const std::string& s : std::vector<std::string>{"", "f", "fo", "foo", "foob", "fooba", "foobar", "\xfb\xff",
                                                       std::string("\0\x01\xff\r\n", 5)})
    CHECK(from_base64(base64(s)) == s);
  std::string all;
  for (int i = 0; i < 256; ++i) all += static_cast<char>(i);
  CHECK(from_base64(base64(all)) == all);
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zg=A", "Zm9v!A==", "Zm 9", "=Zg=", "-_8="})
    CHECK_FALSE(from_base64(bad).has_value());
}

TEST_CASE("is_e164 accepts +, a non-zero digit and 7 to 15 digits") {
  REQUIRE(is_e164("+6281234567890"));
  REQUIRE(is_e164("+14155238886"));
  REQUIRE(is_e164("+1234567"));
  REQUIRE_FALSE(is_e164("+123456"));            // too short
  REQUIRE_FALSE(is_e164("+1234567890123456"));  // 16 digits
  REQUIRE_FALSE(is_e164("6281234567890"));      // no '+'
  REQUIRE_FALSE(is_e164("+0812345678"));        // leading zero
  REQUIRE_FALSE(is_e164("+62 812 3456"));
  REQUIRE_FALSE(is_e164("whatsapp:+14155238886"));
}

TEST_CASE("rfc3339_ms formats UTC with milliseconds") {
  REQUIRE(rfc3339_ms(0) == "1970-01-01T00:00:00.000Z");
  REQUIRE(rfc3339_ms(1767225600123) == "2026-01-01T00:00:00.123Z");
}

TEST_CASE("utf8_truncate never splits a code point") {
  std::string s = "a\xc3\xa9\xe2\x82\xac";  // a é €
  REQUIRE(utf8_length(s) == 3);
  REQUIRE(utf8_truncate(s, 2) == "a\xc3\xa9");
  REQUIRE(utf8_truncate(s, 10) == s);
  REQUIRE(trim("  x y \n") == "x y");
}

TEST_CASE("to_lower changes ASCII letters only; split drops empty pieces") {
  REQUIRE(loket::core::to_lower("Ann@Example.COM \xc3\x89") == "ann@example.com \xc3\x89");
  REQUIRE(loket::core::split("/api/v1//tickets/", '/') == std::vector<std::string>{"api", "v1", "tickets"});
  REQUIRE(loket::core::split("open,,pending", ',') == std::vector<std::string>{"open", "pending"});
  REQUIRE(loket::core::split("", ',').empty());
}

TEST_CASE("LogScope values nest and unwind") {
  CHECK(LogScope::get("requestId").empty());
  {
    LogScope a("requestId", "req_1");
    CHECK(LogScope::get("requestId") == "req_1");
    {
      LogScope b("requestId", "req_2");
      CHECK(LogScope::get("requestId") == "req_2");
    }
    CHECK(LogScope::get("requestId") == "req_1");
  }
  CHECK(LogScope::get("requestId").empty());
}

TEST_CASE("replace_all replaces every occurrence and does not rescan replacements") {
  CHECK(replace_all("#{{n}} of {{n}}", "{{n}}", "42") == "#42 of 42");
  CHECK(replace_all("aaa", "a", "aa") == "aaaaaa");
  CHECK(replace_all("keep", "", "x") == "keep");
}

TEST_CASE("storable_text removes NUL and replaces ill-formed UTF-8, leaving valid text alone") {
  using namespace std::string_literals;
  CHECK(storable_text("Halo, pesanan saya 🙂 é") == "Halo, pesanan saya 🙂 é");
  CHECK(is_storable_text("Halo 🙂"));
  CHECK(storable_text("a\0b"s) == "ab");
  CHECK_FALSE(is_storable_text("a\0b"s));
  const std::string fffd = "\xEF\xBF\xBD";
  CHECK(storable_text("a\xFF"
                      "b") == "a" + fffd + "b");                          // never valid
  CHECK(storable_text("\xC0\xAF") == fffd + fffd);                        // overlong '/'
  CHECK(storable_text("\xED\xA0\x80") == fffd + fffd + fffd);             // a UTF-16 surrogate
  CHECK(storable_text("\xF4\x90\x80\x80") == fffd + fffd + fffd + fffd);  // past U+10FFFF
  CHECK(storable_text("ok\xE2\x82") == "ok" + fffd + fffd);               // cut short at the end
  CHECK(storable_text("\xE2\x82\xAC") == "\xE2\x82\xAC");                 // €
  CHECK(is_storable_text(storable_text("\x80\0\xF0\x9F"s)));
}

TEST_CASE("parse_rfc3339_ms reads what rfc3339_ms writes and refuses the rest") {
  CHECK(parse_rfc3339_ms(rfc3339_ms(1767225600123)) == 1767225600123);
  CHECK(parse_rfc3339_ms("2026-01-01T00:00:00Z") == 1767225600000);
  CHECK_FALSE(parse_rfc3339_ms("2026-13-45T25:61:61Z"));
  CHECK_FALSE(parse_rfc3339_ms("2026-02-30T00:00:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2026-01-01 00:00:00Z"));
  CHECK_FALSE(parse_rfc3339_ms("2026-01-01T00:00:00+01:00"));
  CHECK_FALSE(parse_rfc3339_ms(""));
}

TEST_CASE("html_escape leaves nothing that starts markup or ends an attribute") {
  CHECK(loket::core::html_escape(R"(<a href="x" title='y'>Tom & Jerry</a>)") ==
        "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;Tom &amp; Jerry&lt;/a&gt;");
  CHECK(loket::core::html_escape("plain \xC3\xA9") == "plain \xC3\xA9");
}
