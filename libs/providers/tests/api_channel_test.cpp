// The API channel's adapter: what connect accepts and refuses, and the identity check it hands
// the client API.
#include <catch2/catch.hpp>

#include "loket/core/json.hpp"
#include "loket/providers/api_channel/api_channel.hpp"

using namespace loket::providers;

namespace {
Connection connect(const std::string& body) {
  auto adapter = api_channel::make_adapter(Settings());
  rapidjson::Document d;
  d.Parse(body.c_str());
  return adapter->connect(d);
}

std::string shown(const Secrets& s, const std::string& key) {
  for (const auto& [k, v] : s.shown)
    if (k == key) return v;
  return "";
}
}  // namespace

TEST_CASE("an API inbox gets a fresh identifier and HMAC token, shown once") {
  auto c = connect(R"({"name":" Mobile app ","hmacMandatory":true})");
  CHECK(c.display_name == "Mobile app");
  CHECK(c.routing_key.rfind("inb_", 0) == 0);
  CHECK(c.reply_webhook_url.empty());
  auto secrets = c.secrets("");
  CHECK(shown(secrets, "inboxIdentifier") == c.routing_key);
  const std::string token = shown(secrets, "hmacToken");
  CHECK(token.size() == 48);
  auto adapter = api_channel::make_adapter(Settings());
  auto identity = adapter->client_identity(secrets.credentials);
  REQUIRE(identity);
  CHECK(identity->hmac_token == token);
  CHECK(identity->mandatory);
  CHECK(connect(R"({"name":"Other"})").routing_key != c.routing_key);
  CHECK_FALSE(adapter->client_identity(connect(R"({"name":"Open"})").secrets("").credentials)->mandatory);
  CHECK(adapter->public_fields({"int_1", "ws", "api", c.routing_key, ""}) ==
        std::vector<std::pair<std::string, std::string>>{{"inboxIdentifier", c.routing_key}});
  CHECK_THROWS_AS(adapter->client_identity("not json"), std::invalid_argument);
  CHECK_THROWS_AS(adapter->client_identity(R"({"hmacMandatory":true})"), std::invalid_argument);
}

TEST_CASE("an API inbox refuses a missing name, a non-boolean flag and a webhook URL the SSRF guard refuses") {
  for (const char* bad : {R"({})", R"({"name":""})", R"({"name":"   "})", R"({"name":42})",
                          R"({"name":"App","hmacMandatory":"yes"})", R"({"name":"App","webhookUrl":""})",
                          R"({"name":"App","webhookUrl":7})", R"({"name":"App","webhookUrl":"ftp://example.com/x"})",
                          R"({"name":"App","webhookUrl":"https://user:pw@example.com/x"})",
                          R"({"name":"App","webhookUrl":"http://127.0.0.1/x"})",
                          R"({"name":"App","webhookUrl":"http://169.254.169.254/latest/meta-data"})"}) {
    INFO(bad);
    CHECK_THROWS_AS(connect(bad), Refusal);
  }
  std::string long_name(101, 'a');
  CHECK_THROWS_AS(connect(R"({"name":")" + long_name + "\"}"), Refusal);
}
