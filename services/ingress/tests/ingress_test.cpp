// Ingress without sockets: routing, authentication, publishing and refusals for every provider
// with a webhook, against an in-memory integration directory and a recording publisher.
#include <catch2/catch.hpp>

#include "fixture.hpp"

#include <fstream>
#include <sstream>
#include <thread>

#include "ingress.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/time.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/events/events.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/telegram/telegram.hpp"
#include "loket/providers/twilio/twilio.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"

using namespace loket;
using providers::RouteBy;

namespace {
const std::string kPublicBase = "https://hooks.example.com";

std::string fixture(const std::string& path) {
  return loket::testing::source_file("libs/providers/tests/fixtures/" + path);
}

struct Published {
  std::string topic, key;
  events::RawWebhook raw;
};

// The integrations a test connected, and what ingress published.
struct World {
  crypto::Keyring keys = crypto::Keyring::parse(std::string(64, '1'));
  providers::Registry registry = providers::Registry::standard(providers::Settings());
  std::vector<store::Integration> integrations;
  std::vector<Published> published;
  std::string broker_error;  ///< what the fake broker answers; "" = acknowledged
  int lookups = 0;

  store::Integration& add(const std::string& id, const std::string& provider, const std::string& routing_key,
                          const std::string& secret, const std::string& credentials = "") {
    store::Integration i;
    i.id = id;
    i.workspace_id = "acc_" + id;
    i.provider = provider;
    i.status = "active";
    i.routing_key = routing_key;
    i.webhook_secret_hash = secret.empty() ? "" : crypto::sha256(secret);
    if (!credentials.empty()) {
      i.credentials = keys.encrypt(credentials, id);
      i.credentials_key_id = keys.active_key_id();
    }
    integrations.push_back(i);
    return integrations.back();
  }

  ingress::Ingress make(ingress::Options opt = {}) {
    opt.public_base_url = kPublicBase + "/";
    if (opt.cache_ttl == ingress::Options().cache_ttl) opt.cache_ttl = std::chrono::milliseconds(0);  // look up afresh
    auto lookup = [this](RouteBy by, const std::string& provider, const std::string& key) {
      ++lookups;
      for (const auto& i : integrations) {
        bool match = by == RouteBy::kIntegrationId ? i.id == key
                     : by == RouteBy::kRoutingKey  ? i.provider == provider && i.routing_key == key
                                                   : i.provider == provider && i.webhook_secret_hash == key;
        if (match && (by == RouteBy::kIntegrationId || i.status != "disconnected")) return std::optional(i);
      }
      return std::optional<store::Integration>();
    };
    auto publish = [this](const std::string& topic, const std::string& key, const std::string& value,
                          std::function<void(const std::string&)> done) {
      if (!broker_error.empty()) return done(broker_error);
      published.push_back({topic, key, events::raw_webhook_from_json(value)});
      // The broker acknowledges from its own thread, as librdkafka's delivery reports do.
      std::thread([done = std::move(done)] { done(""); }).join();
    };
    return ingress::Ingress(lookup, publish, keys, registry, opt);
  }
};

http::Request request(const std::string& method, const std::string& target, const std::string& body = "",
                      std::map<std::string, std::string> headers = {}) {
  http::Request r;
  r.method = method;
  r.target = target;
  auto q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = http::parse_query(target.substr(q + 1));
  r.headers = std::move(headers);
  r.body = body;
  r.remote_address = "127.0.0.1";
  return r;
}
}  // namespace

TEST_CASE("a Telegram update with the right secret token is published on its thread") {
  World w;
  w.add("int_tg", providers::telegram::kIntegration, "123456789", "s3cret");
  auto app = w.make();
  auto body = fixture("telegram/text_message.json");
  auto res = app.handle(request("POST", "/api/v1/webhooks/telegram/int_tg", body,
                                {{"x-telegram-bot-api-secret-token", "s3cret"}, {"content-type", "application/json"}}));
  CHECK(res.status == 200);
  CHECK(res.body.find("\"accepted\":true") != std::string::npos);
  REQUIRE(w.published.size() == 1);
  CHECK(w.published[0].topic == "channel.webhook.telegram");
  CHECK(w.published[0].key.rfind("int_tg:", 0) == 0);
  CHECK(w.published[0].key.size() > std::string("int_tg:").size());  // the chat id
  CHECK(w.published[0].raw.provider == providers::telegram::kProvider);
  CHECK(w.published[0].raw.workspace_id == "acc_int_tg");
  CHECK(w.published[0].raw.body == body);
  CHECK(w.published[0].raw.routing_key.empty());
}

TEST_CASE("Telegram: a wrong or missing secret is 401, an unknown integration 404, a non-object body 400") {
  World w;
  w.add("int_tg", providers::telegram::kIntegration, "123456789", "s3cret");
  auto app = w.make();
  auto body = fixture("telegram/text_message.json");
  CHECK(app.handle(request("POST", "/api/v1/webhooks/telegram/int_tg", body,
                           {{"x-telegram-bot-api-secret-token", "guess"}}))
            .status == 401);
  CHECK(app.handle(request("POST", "/api/v1/webhooks/telegram/int_tg", body)).status == 401);
  CHECK(app.handle(request("POST", "/api/v1/webhooks/telegram/int_nope", body,
                           {{"x-telegram-bot-api-secret-token", "s3cret"}}))
            .status == 404);
  CHECK(app.handle(request("POST", "/api/v1/webhooks/telegram/int_tg", "[1,2]",
                           {{"x-telegram-bot-api-secret-token", "s3cret"}}))
            .status == 400);
  CHECK(app.handle(request("GET", "/api/v1/webhooks/telegram/int_tg")).status == 405);
  CHECK(w.published.empty());
}

TEST_CASE("an integration id of another provider does not take Telegram webhooks") {
  World w;
  w.add("int_tw", providers::twilio::kIntegration, "+14155238886", "s3cret");
  auto app = w.make();
  CHECK(app.handle(request("POST", "/api/v1/webhooks/telegram/int_tw", fixture("telegram/text_message.json"),
                           {{"x-telegram-bot-api-secret-token", "s3cret"}}))
            .status == 404);
  CHECK(w.published.empty());
}

TEST_CASE("a signed Twilio webhook is routed by our number and acknowledged with TwiML, the secret kept out") {
  World w;
  providers::twilio::Credentials c{"AC0123456789abcdef0123456789abcdef", "twilio-auth-token", "url-secret"};
  w.add("int_tw", providers::twilio::kIntegration, "+14155238886", "url-secret", providers::twilio::to_json(c));
  auto app = w.make();
  const std::string target = "/api/v1/webhooks/twilio/whatsapp?secret=url-secret";
  const std::string body = fixture("twilio/text.form");
  const std::string signature =
      providers::twilio::signature(c.auth_token, kPublicBase + target, http::parse_query(body));
  auto res = app.handle(request("POST", target, body, {{"x-twilio-signature", signature}}));
  CHECK(res.status == 200);
  CHECK(res.content_type == "text/xml");
  CHECK(res.body.find("<Response/>") != std::string::npos);
  REQUIRE(w.published.size() == 1);
  CHECK(w.published[0].topic == "channel.webhook.twilio");
  CHECK(w.published[0].key == "int_tw:+6281234567890");  // the customer's thread
  CHECK(w.published[0].raw.query.find("url-secret") == std::string::npos);

  SECTION("a wrong signature or URL secret is 403, another number 404") {
    CHECK(app.handle(request("POST", target, body, {{"x-twilio-signature", "AAAA"}})).status == 403);
    CHECK(app.handle(request("POST", "/api/v1/webhooks/twilio/whatsapp?secret=nope", body,
                             {{"x-twilio-signature", signature}}))
              .status == 403);
    std::string other = body;
    other.replace(other.find("%2B14155238886"), 14, "%2B14155230000");
    CHECK(app.handle(request("POST", target, other, {{"x-twilio-signature", signature}})).status == 404);
    CHECK(app.handle(request("POST", target, "Body=hi", {{"x-twilio-signature", signature}})).status == 400);
    CHECK(w.published.size() == 1);
  }
}

TEST_CASE("a Cloud API notification for two numbers is published once per connected number") {
  World w;
  providers::whatsapp_cloud::Credentials signed_creds{"token", "app-secret", "verify-me-please", ""};
  w.add("int_a", providers::whatsapp_cloud::kProvider, "277321005464405", "verify-me-please",
        providers::whatsapp_cloud::to_json(signed_creds));
  auto app = w.make();
  const std::string body = fixture("whatsapp_cloud/two_numbers.json");
  const std::string sig = "sha256=" + core::to_hex(crypto::hmac_sha256("app-secret", body));
  auto res = app.handle(request("POST", "/api/v1/webhooks/whatsapp-cloud", body, {{"x-hub-signature-256", sig}}));
  CHECK(res.status == 200);
  REQUIRE(w.published.size() == 1);  // the second number is nobody's here
  CHECK(w.published[0].raw.routing_key == "277321005464405");
  CHECK(w.published[0].key == "int_a:4915112345678");

  SECTION("a wrong signature is 403 and nothing is published") {
    CHECK(app.handle(request("POST", "/api/v1/webhooks/whatsapp-cloud", body, {{"x-hub-signature-256", "sha256=00"}}))
              .status == 403);
    CHECK(w.published.size() == 1);
  }
  SECTION("the other number, connected without an app secret, is accepted unsigned") {
    w.add("int_b", providers::whatsapp_cloud::kProvider, "888000111222", "another-verify",
          providers::whatsapp_cloud::to_json({"token", "", "another-verify", ""}));
    auto both = w.make();
    CHECK(
        both.handle(request("POST", "/api/v1/webhooks/whatsapp-cloud", body, {{"x-hub-signature-256", sig}})).status ==
        200);
    REQUIRE(w.published.size() == 3);
    CHECK(w.published[2].raw.routing_key == "888000111222");
  }
  SECTION("the verification handshake answers the challenge for a known verify token only") {
    auto ok = app.handle(
        request("GET",
                "/api/v1/webhooks/"
                "whatsapp-cloud?hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=verify-me-please"));
    CHECK(ok.status == 200);
    CHECK(ok.body == "1158201444");
    CHECK(app.handle(request("GET",
                             "/api/v1/webhooks/whatsapp-cloud?hub.mode=subscribe&hub.challenge=1&hub.verify_token=x"))
              .status == 403);
    CHECK(app.handle(request("GET",
                             "/api/v1/webhooks/whatsapp-cloud?hub.mode=subscribe&hub.challenge=<script>&"
                             "hub.verify_token=verify-me-please"))
              .status == 400);
  }
}

TEST_CASE("Resend Receiving: a signed email.received is published for the alias it was delivered to") {
  World w;
  w.registry = providers::Registry::standard(
      providers::Settings({{"LOKET_INBOUND_EMAIL_DOMAIN", "in.loket.test"},
                           {"LOKET_RESEND_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                           {"LOKET_RESEND_API_KEY", "re_platform"}}));
  const std::string account = "acc_0123456789abcdef01234567", alias = account + "@in.loket.test";
  auto& integ = w.add("int_alias", providers::email::kProvider, account, "");
  integ.workspace_id = account;
  auto app = w.make();
  auto event = [&](const std::string& type, const std::string& to) {
    return R"({"type":")" + type + R"(","created_at":"2026-11-30T10:00:00.000Z","data":{"email_id":"e-1","to":[")" +
           to + R"("],"received_for":[")" + to + R"("],"subject":"Hi"}})";
  };
  // Signed as Svix signs: "<id>.<timestamp>.<body>" under the secret's key, now.
  auto signed_request = [&](const std::string& body,
                            const std::string& secret_b64 = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw") {
    const std::string id = "msg_1", ts = std::to_string(core::now_ms() / 1000);
    const std::string sig =
        "v1," + core::base64(crypto::hmac_sha256(*core::from_base64(secret_b64), id + "." + ts + "." + body));
    return request("POST", "/api/v1/webhooks/resend", body,
                   {{"svix-id", id}, {"svix-timestamp", ts}, {"svix-signature", sig}});
  };
  auto res = app.handle(signed_request(event("email.received", alias)));
  CHECK(res.status == 200);
  REQUIRE(w.published.size() == 1);
  CHECK(w.published[0].topic == "channel.webhook.resend");
  CHECK(w.published[0].raw.integration_id == "int_alias");
  CHECK(w.published[0].raw.workspace_id == account);
  CHECK(w.published[0].raw.routing_key == alias);

  // Another secret, or none: 401, nothing published.
  CHECK(app.handle(signed_request(event("email.received", alias), core::base64("another key"))).status == 401);
  CHECK(app.handle(request("POST", "/api/v1/webhooks/resend", event("email.received", alias))).status == 401);
  // Events Loket does not take are acknowledged once signed, so Resend stops sending them.
  CHECK(app.handle(signed_request(event("email.delivered", "someone@customer.example"))).status == 200);
  CHECK(app.handle(request("POST", "/api/v1/webhooks/resend", event("email.delivered", "x@y.example"))).status == 401);
  // Mail for no workspace is 404.
  CHECK(app.handle(signed_request(event("email.received", "nobody@elsewhere.example"))).status == 404);
  CHECK(w.published.size() == 1);
}

TEST_CASE("a broker that does not acknowledge gets the provider a 503 with Retry-After") {
  World w;
  w.add("int_tg", providers::telegram::kIntegration, "123456789", "s3cret");
  w.broker_error = "Local: Message timed out";
  auto app = w.make();
  auto res = app.handle(request("POST", "/api/v1/webhooks/telegram/int_tg", fixture("telegram/text_message.json"),
                                {{"x-telegram-bot-api-secret-token", "s3cret"}}));
  CHECK(res.status == 503);
  bool retry_after = false;
  for (const auto& [k, v] : res.headers) retry_after = retry_after || (k == "Retry-After" && v == "1");
  CHECK(retry_after);
}

TEST_CASE("paths without a webhook are 404 without a lookup") {
  World w;
  auto app = w.make();
  CHECK(app.handle(request("POST", "/api/v1/webhooks/nope", "{}")).status == 404);
  CHECK(app.handle(request("POST", "/api/v1/webhooks/telegram/", "{}")).status == 404);
  CHECK(app.handle(request("GET", "/healthz")).status == 200);
  CHECK(w.lookups == 0);
}

// Issue 15 finding 4: 60 webhooks with a random 1 MB phone_number_id grew the ingress from 16 to
// 81 MB (every id looked up and cached).
TEST_CASE("a routing key no integration can have costs no lookup and no cache entry") {
  World w;
  auto app = w.make();
  const std::string huge(1'000'000, '7');  // the body stays under the 1 MiB cap
  const std::string body = R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages",)"
                           R"("value":{"messaging_product":"whatsapp","metadata":{"phone_number_id":")" +
                           huge + R"(","display_phone_number":"1"}}}]}]})";
  auto res = app.handle(request("POST", "/api/v1/webhooks/whatsapp-cloud", body));
  CHECK(res.status == 404);
  CHECK(res.body.size() < 1000);  // the key is not echoed back
  CHECK(w.lookups == 0);
  for (const char* bad : {"12 34", "<script>", "1;DROP", "../../etc"}) {
    auto again = std::string(body);
    again.replace(again.find(huge), huge.size(), bad);
    CHECK(app.handle(request("POST", "/api/v1/webhooks/whatsapp-cloud", again)).status == 404);
  }
  CHECK(w.lookups == 0);
}

TEST_CASE("the routing cache stays within its bounds under random ids") {
  World w;
  ingress::Options opt;
  opt.cache_ttl = std::chrono::minutes(1);
  opt.cache_entries = 100;
  opt.failures_per_minute = 1000000;
  auto app = w.make(opt);
  for (int i = 0; i < 1000; ++i)
    CHECK(app.handle(request("POST", "/api/v1/webhooks/telegram/int_" + std::to_string(i), "{}",
                             {{"x-telegram-bot-api-secret-token", "x"}}))
              .status == 404);
  CHECK(w.lookups == 1000);
  // The first ids were evicted: asking again looks them up again; the last ones are cached.
  app.handle(request("POST", "/api/v1/webhooks/telegram/int_0", "{}", {{"x-telegram-bot-api-secret-token", "x"}}));
  app.handle(request("POST", "/api/v1/webhooks/telegram/int_999", "{}", {{"x-telegram-bot-api-secret-token", "x"}}));
  CHECK(w.lookups == 1001);
}

TEST_CASE("a source past its refusal limit gets 429 without lookups; known routes keep flowing") {
  World w;
  w.add("int_tg", providers::telegram::kIntegration, "123456789", "s3cret");
  ingress::Options opt;
  opt.cache_ttl = std::chrono::minutes(1);
  opt.failures_per_minute = 5;
  auto app = w.make(opt);
  const std::string update = fixture("telegram/text_message.json");
  REQUIRE(app.handle(request("POST", "/api/v1/webhooks/telegram/int_tg", update,
                             {{"x-telegram-bot-api-secret-token", "s3cret"}}))
              .status == 200);
  for (int i = 0; i < 6; ++i)
    CHECK(app.handle(request("POST", "/api/v1/webhooks/telegram/int_guess" + std::to_string(i), update,
                             {{"x-telegram-bot-api-secret-token", "x"}}))
              .status == 404);
  const int before = w.lookups;
  auto refused = app.handle(
      request("POST", "/api/v1/webhooks/telegram/int_guess99", update, {{"x-telegram-bot-api-secret-token", "x"}}));
  CHECK(refused.status == 429);
  CHECK(std::find(refused.headers.begin(), refused.headers.end(),
                  std::pair<std::string, std::string>{"Retry-After", "60"}) != refused.headers.end());
  CHECK(w.lookups == before);
  // The same address (a provider's, shared by many workspaces) still delivers for a known route.
  CHECK(app.handle(request("POST", "/api/v1/webhooks/telegram/int_tg", update,
                           {{"x-telegram-bot-api-secret-token", "s3cret"}}))
            .status == 200);
}

// Issue 15 finding 7: when credentials did not decrypt, no app secret meant "unsigned is fine".
TEST_CASE("an integration whose credentials do not decrypt refuses every webhook") {
  World w;
  auto& integ = w.add("int_a", providers::whatsapp_cloud::kProvider, "277321005464405", "verify-me-please",
                      providers::whatsapp_cloud::to_json({"token", "app-secret", "verify-me-please", ""}));
  integ.credentials_key_id = "retired";
  auto app = w.make();
  const std::string body = fixture("whatsapp_cloud/two_numbers.json");
  const std::string sig = "sha256=" + core::to_hex(crypto::hmac_sha256("app-secret", body));
  CHECK(app.handle(request("POST", "/api/v1/webhooks/whatsapp-cloud", body, {{"x-hub-signature-256", sig}})).status ==
        403);
  CHECK(app.handle(request("POST", "/api/v1/webhooks/whatsapp-cloud", body)).status == 403);  // unsigned neither
  CHECK(w.published.empty());
}
