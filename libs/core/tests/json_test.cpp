// core::parse_json: hostile JSON first (issue 15 finding 1), then that ordinary JSON still reads.
#include <catch2/catch.hpp>

#include "loket/core/json.hpp"
#include "loket/core/time.hpp"

using loket::core::JsonLimits;
using loket::core::parse_json;

TEST_CASE("a million nested brackets are refused without overflowing the stack") {
  rapidjson::Document d;
  // Under the 1 MiB body cap; RapidJSON's recursive parser overflowed the stack on this.
  const std::string deep(1'000'000, '[');
  auto err = parse_json(d, deep);
  CHECK(err == "JSON nested deeper than 64 levels");
  CHECK(d.IsNull());
  CHECK(parse_json(d, std::string(500'000, '[') + std::string(500'000, ']')) == "JSON nested deeper than 64 levels");
  std::string objects;
  for (int i = 0; i < 100'000; ++i) objects += "{\"a\":";
  CHECK(parse_json(d, objects) == "JSON nested deeper than 64 levels");
}

TEST_CASE("nesting up to the limit reads; one level more does not") {
  rapidjson::Document d;
  CHECK(parse_json(d, std::string(64, '[') + std::string(64, ']')).empty());
  CHECK(d.IsArray());
  CHECK_FALSE(parse_json(d, std::string(65, '[') + std::string(65, ']')).empty());
  CHECK(parse_json(d, "[[[]]]", JsonLimits{1 << 20, 2, false}) == "JSON nested deeper than 2 levels");
}

TEST_CASE("size, syntax and encoding are checked") {
  rapidjson::Document d;
  CHECK(parse_json(d, std::string(100, ' ') + "{}", JsonLimits{10, 64, false}).find("over the limit of 10") !=
        std::string::npos);
  CHECK(parse_json(d, "{\"a\":1} trailing").find("at byte") != std::string::npos);
  CHECK_FALSE(parse_json(d, "").empty());
  CHECK_FALSE(parse_json(d, "{\"a\":").empty());
  CHECK(d.IsNull());  // nothing half-built is left behind

  const std::string bad_utf8 = "{\"text\":\"a\xff\xfe b\"}";
  CHECK(parse_json(d, bad_utf8).empty());  // webhooks keep the bytes; the writer makes them storable
  CHECK(d["text"].GetStringLength() == 5);
  CHECK(parse_json(d, bad_utf8, JsonLimits{1 << 20, 64, true}).find("Invalid encoding") != std::string::npos);
}

TEST_CASE("long strings (base64 attachments) read and write intact", "[json]") {
  // Every length around a 16-byte edge, with an escape, a multi-byte character or any control
  // character at each position, comes back as written. (RapidJSON 1.1's SSE2 string scanning,
  // RAPIDJSON_SSE2, writes 0x1A-0x1F unescaped, i.e. invalid JSON: this is why it stays off.)
  std::vector<std::string> specials{"\"", "\\", "\xC3\xA9", "\x7F"};
  for (char c = 1; c < 0x20; ++c) specials.emplace_back(1, c);
  for (std::size_t n = 0; n < 40; ++n)
    for (const auto& special : specials)
      for (std::size_t at = 0; at <= n; at += 5) {
        std::string value = std::string(at, 'a') + special + std::string(n - at, 'b');
        rapidjson::StringBuffer out;
        loket::core::JsonWriter w(out);
        w.StartObject();
        loket::core::json_kv(w, "v", value);
        w.EndObject();
        rapidjson::Document d;
        REQUIRE(parse_json(d, out.GetString()).empty());
        REQUIRE(loket::core::json_string(d, "v") == value);
      }
  const std::string big(3 << 20, 'Q');
  rapidjson::Document d;
  REQUIRE(parse_json(d, "{\"v\":\"" + big + "\"}", JsonLimits{4 << 20, 64, false}).empty());
  CHECK(loket::core::json_string(d, "v") == big);
}

TEST_CASE("ordinary JSON reads as before, NUL escapes included") {
  rapidjson::Document d;
  REQUIRE(parse_json(d, R"({"a":[1,2.5,-3,true,null,"x\u0000y"],"b":{"c":18446744073709551615}})").empty());
  REQUIRE(d.IsObject());
  CHECK(d["a"].Size() == 6);
  CHECK(d["a"][5].GetStringLength() == 3);
  CHECK(loket::core::json_string(d["a"], "x") == std::nullopt);
  CHECK(d["b"]["c"].IsUint64());
  CHECK(loket::core::json_string(d, "a") == std::nullopt);
  REQUIRE(parse_json(d, R"({"s":"a\u0000b"})").empty());
  CHECK(loket::core::json_string(d, "s") == std::string("a\0b", 3));
}

TEST_CASE("a provider timestamp outside 1970-9999 is unknown, not an overflow") {
  CHECK(loket::core::epoch_seconds_to_ms(1767225600) == 1767225600000);
  CHECK(loket::core::epoch_seconds_to_ms(176722581234567890) == 0);  // fuzz_webhooks found this one
  CHECK(loket::core::epoch_seconds_to_ms(-1) == 0);
  CHECK(loket::core::epoch_seconds_to_ms(253402300799) == 253402300799000);
}
