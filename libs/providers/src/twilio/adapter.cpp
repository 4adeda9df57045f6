// Twilio WhatsApp as a providers::Adapter (shared/reference/providers.md §2, seed 000
// "WhatsApp via your own Twilio").
#include "loket/providers/adapter.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/twilio/twilio.hpp"

namespace loket::providers::twilio {
namespace {
constexpr const char* kWebhookPath = "/api/v1/webhooks/twilio/whatsapp";

class TwilioAdapter final : public Adapter {
 public:
  explicit TwilioAdapter(const Settings& s)
      : client_(s.api_base(descriptor().api_key, "https://api.twilio.com"),
                s.api_base("TWILIO_CONTENT", "https://content.twilio.com")),
        webhook_base_(s.public_webhook_url()) {}

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kIntegration, kProvider, "whatsapp", "Twilio", "TWILIO"};
    return d;
  }

  std::optional<WebhookEndpoint> webhook() const override {
    return WebhookEndpoint{
        kWebhookPath, false,
        false,        "use POST (Twilio: Webhook, HTTP POST)",
        403,          "webhook secret or X-Twilio-Signature does not match this number's integration"};
  }

  std::vector<WebhookTarget> route(const http::Request& req, std::string_view) const override {
    auto params = http::parse_query(req.body);
    // Inbound messages are addressed To our number; status callbacks of our replies come From it.
    const bool status_callback = params.count("MessageStatus") > 0 && params.count("Body") == 0;
    std::string ours = whatsapp_number(first_value(params, status_callback ? "From" : "To"));
    std::string customer = whatsapp_number(first_value(params, status_callback ? "To" : "From"));
    if (ours.empty() || first_value(params, "MessageSid").empty())
      throw Refusal::invalid(
          "expected a Twilio WhatsApp message webhook (form fields MessageSid, From, To=whatsapp:+…)");
    return {{RouteBy::kRoutingKey, ours, customer, ""}};
  }

  bool authenticate(const http::Request& req, const std::string& url, const WebhookSecrets& s) const override {
    // The URL's secret and X-Twilio-Signature over the full URL and form must both match.
    return secret_matches(req.query_param("secret"), s.secret_hash) &&
           valid_signature(s.signing_key, url, http::parse_query(req.body), req.header(kSignatureHeader));
  }

  std::string signing_key(const std::string& credentials) const override {
    return credentials_from_json(credentials).auth_token;
  }

  std::optional<http::Response> acknowledgement(const http::Request&, const WebhookSecrets&) const override {
    // Twilio expects TwiML; an empty <Response/> acknowledges without an automatic reply.
    http::Response res;
    res.content_type = "text/xml";
    res.body = "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>";
    return res;
  }

  Normalized normalize(const events::RawWebhook& raw) const override { return twilio::normalize(raw); }

  Connection connect(const rapidjson::Value& body) const override {
    Credentials creds;
    creds.account_sid = field(body, "accountSid");
    creds.auth_token = field(body, "authToken");
    std::string number = field(body, "whatsappNumber");
    if (number.rfind("whatsapp:", 0) == 0) number.erase(0, 9);
    if (!is_account_sid(creds.account_sid))
      throw Refusal::invalid("accountSid must be your Twilio Account SID: AC followed by 32 hex characters");
    if (creds.auth_token.empty()) throw Refusal::invalid("authToken is required");
    if (!core::is_e164(number)) throw Refusal::invalid("whatsappNumber must be in E.164 form, e.g. +6281234567890");
    auto account = client_.fetch_account(creds);
    if (account.status == "suspended" || account.status == "closed")
      throw Refusal(400, "PROVIDER_REJECTED", "the Twilio account is " + account.status);
    Connection c;
    c.routing_key = c.number = number;
    c.display_name = "WhatsApp " + number;
    c.secrets = [this, creds](const std::string& previous) mutable {
      std::string secret;
      try {  // keep the webhook URL the user already pasted into Twilio
        secret = previous.empty() ? "" : credentials_from_json(previous).webhook_secret;
      } catch (const std::invalid_argument&) {
      }
      if (secret.empty()) secret = core::base64url(core::random_bytes(24));
      creds.webhook_secret = secret;
      return Secrets{to_json(creds),
                     crypto::sha256(secret),
                     {{"webhookUrl", webhook_base_ + kWebhookPath + "?secret=" + secret},
                      {"note", "Point your Twilio number's incoming-message webhook at webhookUrl (POST)."}}};
    };
    return c;
  }

  std::string send(const IntegrationInfo& integ, const std::string& credentials,
                   const OutgoingMessage& msg) const override {
    auto c = credentials_from_json(credentials);
    std::string callback;  // Twilio reports late failures (e.g. 63016) to the webhook as status callbacks
    if (!webhook_base_.empty() && !c.webhook_secret.empty())
      callback = webhook_base_ + kWebhookPath + "?secret=" + c.webhook_secret;
    if (msg.message_template) return client_.send_template(c, integ.number, msg.to, *msg.message_template, callback);
    return client_.send_message(c, integ.number, msg.to, msg.text, callback);
  }

  std::optional<std::vector<MessageTemplate>> templates(const IntegrationInfo&,
                                                        const std::string& credentials) const override {
    return client_.templates(credentials_from_json(credentials));
  }

  std::string download(const IntegrationInfo&, const std::string& credentials,
                       const events::AttachmentRef& ref) const override {
    return client_.download_media(credentials_from_json(credentials), ref.external_ref);
  }

 private:
  Client client_;
  std::string webhook_base_;
};
}  // namespace

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<TwilioAdapter>(settings); }

}  // namespace loket::providers::twilio
