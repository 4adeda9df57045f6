// Resend as a providers::Adapter: a workspace's own email sender (`email_resend`), the
// platform's (LOKET_RESEND_API_KEY, LOKET_EMAIL_FROM), and Resend Receiving for the platform's
// inbound domain; shared/reference/providers.md §6.
#include "loket/providers/adapter.hpp"

#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/resend/resend.hpp"

namespace loket::providers::resend {
namespace {
class ResendAdapter final : public Adapter {
 public:
  explicit ResendAdapter(const Settings& s)
      : client_(s.api_base(descriptor().api_key, "https://api.resend.com")),
        platform_key_(s.get("LOKET_RESEND_API_KEY")),
        platform_from_(s.get("LOKET_EMAIL_FROM")),
        domain_(core::to_lower(s.get("LOKET_INBOUND_EMAIL_DOMAIN"))),
        max_bytes_(email::max_email_bytes(s)),
        keys_(email::reply_keys(s)) {
    for (auto& secret : core::split(s.get("LOKET_RESEND_WEBHOOK_SECRET"), ' '))
      if (!secret.empty()) webhook_secrets_.push_back(secret);
  }

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kIntegration, kWebhook, "", "Resend", "RESEND", true};
    return d;
  }

  std::optional<WebhookEndpoint> webhook() const override {
    if (webhook_secrets_.empty() || platform_key_.empty() || domain_.empty()) return std::nullopt;
    return WebhookEndpoint{kWebhookPath,
                           false,
                           false,
                           "use POST (Resend Receiving events)",
                           401,
                           "svix-signature does not match LOKET_RESEND_WEBHOOK_SECRET, or svix-timestamp is more "
                           "than 5 minutes off"};
  }

  std::vector<WebhookTarget> route(const http::Request& req, std::string_view) const override {
    return route_received(req.body, domain_, keys_.get());
  }

  bool authenticate(const http::Request& req, const std::string&, const WebhookSecrets&) const override {
    return verify_signature(webhook_secrets_, req.header("svix-id"), req.header("svix-timestamp"), req.body,
                            req.header("svix-signature"), core::now_ms() / 1000);
  }

  std::optional<events::RawWebhook> expand(const events::RawWebhook& raw) const override {
    if (platform_key_.empty())
      throw ProviderError("Resend Receiving: LOKET_RESEND_API_KEY is not set on inbound", 0, false);
    events::RawWebhook mail = raw;
    mail.provider = email::kWebhook;
    mail.content_type = "message/rfc822";
    mail.body = client_.received_message(platform_key_, email_id_of(raw.body), max_bytes_);
    return mail;
  }

  Connection connect(const rapidjson::Value& body) const override {
    Credentials creds{field(body, "apiKey"), core::to_lower(field(body, "fromEmail")), field(body, "fromName")};
    if (creds.api_key.rfind("re_", 0) != 0) throw Refusal::invalid("apiKey must be a Resend API key (re_…)");
    auto at = creds.from_email.find('@');
    if (at == std::string::npos || at == 0 || creds.from_email.find('.', at) == std::string::npos ||
        creds.from_email.find_first_of(" <>\"\r\n,;") != std::string::npos)
      throw Refusal::invalid(
          "fromEmail must be an address on a domain you verified with Resend, e.g. support@yourstore.com");
    if (core::utf8_length(creds.from_name) > 100) throw Refusal::invalid("fromName must be at most 100 characters");
    client_.validate_key(creds.api_key);
    Connection c;
    c.routing_key = creds.from_email;
    c.display_name = creds.from_name.empty() ? creds.from_email : creds.from_name + " <" + creds.from_email + ">";
    c.secrets = [creds](const std::string&) { return Secrets{to_json(creds), "", {}}; };
    return c;
  }

  std::optional<Mailer> mailer(const std::string& credentials) const override {
    auto c = credentials_from_json(credentials);
    return Mailer{kIntegration, mailbox(c.from_name, c.from_email),
                  [this, key = c.api_key](const Email& e) { return client_.send(key, e); }};
  }

  std::optional<Mailer> platform_mailer() const override {
    if (platform_key_.empty() || platform_from_.empty()) return std::nullopt;
    return Mailer{kPlatform, platform_from_, [this](const Email& e) { return client_.send(platform_key_, e); }};
  }

 private:
  Client client_;
  std::string platform_key_, platform_from_, domain_;
  std::size_t max_bytes_;
  std::unique_ptr<crypto::Keyring> keys_;
  std::vector<std::string> webhook_secrets_;
};
}  // namespace

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<ResendAdapter>(settings); }

}  // namespace loket::providers::resend
