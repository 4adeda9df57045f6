// WhatsApp Cloud API as a providers::Adapter (shared/reference/providers.md §3, seed 000
// "WhatsApp Cloud API — Meta direct").
#include "loket/providers/adapter.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"

namespace loket::providers::whatsapp_cloud {
namespace {
constexpr const char* kWebhookPath = "/api/v1/webhooks/whatsapp-cloud";

Api api_from(const Settings& s) {
  Api api;
  api.graph = s.api_base("GRAPH", api.graph);
  api.version = s.get("LOKET_GRAPH_API_VERSION", api.version);
  api.media_bases = host_list(s, "LOKET_GRAPH_MEDIA_BASES", api.media_bases);
  return api;
}

class CloudAdapter final : public Adapter {
 public:
  explicit CloudAdapter(const Settings& s) : client_(api_from(s)), webhook_base_(s.public_webhook_url()) {}

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kProvider, kProvider, "whatsapp", "Meta", "GRAPH"};
    return d;
  }

  std::optional<WebhookEndpoint> webhook() const override {
    return WebhookEndpoint{kWebhookPath, false,
                           true,         "use GET (verification) or POST (notifications)",
                           403,          "X-Hub-Signature-256 does not match the app secret of the phone_number_id"};
  }

  std::vector<WebhookTarget> route(const http::Request& req, std::string_view) const override {
    auto ids = phone_number_ids(req.body);
    if (!ids || ids->empty())
      throw Refusal::invalid("expected a WhatsApp Business Account notification with metadata.phone_number_id");
    std::vector<WebhookTarget> out;
    for (const auto& id : *ids) out.push_back({RouteBy::kRoutingKey, id, first_sender(req.body, id), id});
    return out;
  }

  bool authenticate(const http::Request& req, const std::string&, const WebhookSecrets& s) const override {
    // Without an app secret the seed's documented unsigned mode applies.
    return s.signing_key.empty() || valid_signature(s.signing_key, req.body, req.header(kSignatureHeader));
  }

  std::string signing_key(const std::string& credentials) const override {
    return credentials_from_json(credentials).app_secret;
  }

  bool verifies_webhooks(const std::string& credentials) const override {
    return !credentials_from_json(credentials).app_secret.empty();
  }

  Handshake handshake(const http::Request& req) const override { return hub_handshake(req); }

  Normalized normalize(const events::RawWebhook& raw) const override { return whatsapp_cloud::normalize(raw); }

  Connection connect(const rapidjson::Value& body) const override {
    Credentials creds;
    creds.access_token = field(body, "accessToken");
    creds.app_secret = field(body, "appSecret");
    creds.waba_id = field(body, "wabaId");
    std::string given_verify = field(body, "verifyToken");
    std::string id = field(body, "phoneNumberId");
    std::string number = field(body, "displayNumber");
    if (creds.access_token.empty())
      throw Refusal::invalid("accessToken is required (a System User token with whatsapp_business_messaging)");
    if (id.empty() || id.size() > 32 || id.find_first_not_of("0123456789") != std::string::npos)
      throw Refusal::invalid(
          "phoneNumberId must be the numeric Phone number ID from WhatsApp → API Setup (not the phone number)");
    if (creds.waba_id.size() > 32 || creds.waba_id.find_first_not_of("0123456789") != std::string::npos)
      throw Refusal::invalid("wabaId must be the numeric WhatsApp Business Account ID from WhatsApp → API Setup");
    if (!core::is_e164(number))
      throw Refusal::invalid("displayNumber must be the number in E.164 form, e.g. +6281234567890");
    if (!given_verify.empty() && (given_verify.size() < 8 || given_verify.size() > 200))
      throw Refusal::invalid("verifyToken must be 8 to 200 characters");
    client_.phone_number(creds.access_token, id);
    Connection c;
    c.routing_key = id;
    c.number = number;
    c.display_name = "WhatsApp " + number;
    c.secrets = [this, creds, given_verify](const std::string& previous) mutable {
      creds.verify_token = given_verify;
      try {                       // keep the verify token Meta already has unless a new one is given
        if (!previous.empty()) {  // and the WABA, unless a new one is given
          auto before = credentials_from_json(previous);
          if (creds.verify_token.empty()) creds.verify_token = before.verify_token;
          if (creds.waba_id.empty()) creds.waba_id = before.waba_id;
        }
      } catch (const std::invalid_argument&) {
      }
      if (creds.verify_token.empty()) creds.verify_token = "wsv_" + core::base64url(core::random_bytes(18));
      Secrets s{to_json(creds),
                crypto::sha256(creds.verify_token),
                {{"webhookUrl", webhook_base_ + kWebhookPath},
                 {"verifyToken", creds.verify_token},
                 {"note",
                  "Meta App dashboard → WhatsApp → Configuration → Webhook: set the Callback URL + "
                  "Verify token above, then subscribe to the \"messages\" field."}}};
      if (creds.app_secret.empty())
        s.shown.emplace_back("warning",
                             "No appSecret: webhooks for this number are not signed, so anyone who learns its "
                             "phone_number_id can post messages as its customers. Reconnect with the Meta app's "
                             "secret (App settings → Basic → App secret) to verify X-Hub-Signature-256.");
      return s;
    };
    return c;
  }

  std::vector<std::pair<std::string, std::string>> public_fields(const IntegrationInfo& integ) const override {
    return {{"phoneNumberId", integ.routing_key}};
  }

  std::string send(const IntegrationInfo& integ, const std::string& credentials,
                   const OutgoingMessage& msg) const override {
    const std::string token = credentials_from_json(credentials).access_token;
    if (msg.message_template) return client_.send_template(token, integ.routing_key, msg.to, *msg.message_template);
    return client_.send_text(token, integ.routing_key, msg.to, msg.text);
  }

  std::optional<std::vector<MessageTemplate>> templates(const IntegrationInfo&,
                                                        const std::string& credentials) const override {
    auto c = credentials_from_json(credentials);
    if (c.waba_id.empty())
      throw Refusal::invalid(
          "this number was connected without wabaId: reconnect it with the WhatsApp Business Account ID "
          "(WhatsApp → API Setup) to list its message templates");
    return client_.templates(c.access_token, c.waba_id);
  }

  std::string download(const IntegrationInfo&, const std::string& credentials,
                       const events::AttachmentRef& ref) const override {
    return client_.download_media(credentials_from_json(credentials).access_token, ref.external_ref).bytes;
  }

 private:
  Client client_;
  std::string webhook_base_;
};
}  // namespace

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<CloudAdapter>(settings); }

}  // namespace loket::providers::whatsapp_cloud
