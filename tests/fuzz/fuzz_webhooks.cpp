// Every provider's webhook path on arbitrary bytes: routing, authentication and normalize, as
// ingress and inbound run them on what the internet sends (email: a whole message). The first
// line is the query string, the rest the body.
#include <cstddef>
#include <cstdint>
#include <string>

#include "loket/http/url.hpp"
#include "loket/providers/registry.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Configured as production is, so every adapter's webhook path exists (the email alias needs
  // its domain, password and keyring; Resend Receiving its signing secret and API key).
  static const auto registry = loket::providers::Registry::standard(
      loket::providers::Settings({{"LOKET_INBOUND_EMAIL_DOMAIN", "in.loket.example"},
                                  {"LOKET_EMAIL_INGRESS_PASSWORD", "mta-secret"},
                                  {"LOKET_RESEND_WEBHOOK_SECRET", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
                                  {"LOKET_RESEND_API_KEY", "re_fuzz"},
                                  {"LOKET_MASTER_KEY", "k1:" + std::string(64, '7')}}));
  const std::string input(reinterpret_cast<const char*>(data), size);
  const auto nl = input.find('\n');
  loket::http::Request req;
  req.method = "POST";
  req.query = loket::http::parse_query(nl == std::string::npos ? "" : input.substr(0, nl));
  req.body = nl == std::string::npos ? input : input.substr(nl + 1);
  req.headers = {{"content-type", "application/x-www-form-urlencoded"},
                 {"x-hub-signature-256", "sha256=00"},
                 {"x-twilio-signature", "AAAA"},
                 {"x-telegram-bot-api-secret-token", "s"},
                 {"svix-id", "msg_p5jXN8AQM9LWM0D4loKWxJek"},
                 {"svix-timestamp", "1614265330"},
                 {"svix-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE= v1,AAAA"}};
  for (const auto& adapter : registry.adapters()) {
    auto spec = adapter->webhook();
    if (!spec) continue;
    try {
      for (const auto& t : adapter->route(req, "int_0123456789abcdef01234567"))
        (void)adapter->authenticate(req, "https://hooks.example.com/x", {t.key, "app-secret"});
    } catch (const loket::providers::Refusal&) {
    }
    try {
      (void)adapter->handshake(req);
    } catch (const std::exception&) {
    }
    loket::events::RawWebhook raw;
    raw.provider = adapter->descriptor().webhook;
    raw.integration_id = "int_0123456789abcdef01234567";
    raw.workspace_id = "acc_0123456789abcdef01234567";
    raw.routing_key = "277321005464405";
    raw.content_type = req.headers.at("content-type");
    raw.body = req.body;
    try {
      (void)adapter->normalize(raw);
    } catch (const std::invalid_argument&) {  // a record that does not parse: dead-lettered
    }
  }
  return 0;
}
