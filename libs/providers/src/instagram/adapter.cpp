// Instagram direct messages as a providers::Adapter (shared/reference/providers.md §4,
// docs/channels/instagram.md).
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/instagram/instagram.hpp"

namespace loket::providers::instagram {
namespace {
constexpr const char* kWebhookPath = "/api/v1/webhooks/instagram";

Api api_from(const Settings& s) {
  Api api;
  api.graph = s.api_base("INSTAGRAM", api.graph);
  api.version = s.get("LOKET_INSTAGRAM_API_VERSION", api.version);
  api.media_bases = host_list(s, "LOKET_INSTAGRAM_MEDIA_BASES", api.media_bases);
  return api;
}

class InstagramAdapter final : public Adapter {
 public:
  explicit InstagramAdapter(const Settings& s) : client_(api_from(s)), webhook_base_(s.public_webhook_url()) {}

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kProvider, kProvider, "instagram", "Instagram", "INSTAGRAM"};
    return d;
  }

  std::optional<WebhookEndpoint> webhook() const override {
    return WebhookEndpoint{kWebhookPath, false,
                           true,         "use GET (verification) or POST (webhooks)",
                           403,          "X-Hub-Signature-256 does not match the app secret of the Instagram account"};
  }

  std::vector<WebhookTarget> route(const http::Request& req, std::string_view) const override {
    auto ids = account_ids(req.body);
    if (!ids || ids->empty())
      throw Refusal::invalid("expected an Instagram webhook (object \"instagram\") with entry[].id");
    std::vector<WebhookTarget> out;
    for (const auto& id : *ids) out.push_back({RouteBy::kRoutingKey, id, first_customer(req.body, id), id});
    return out;
  }

  bool authenticate(const http::Request& req, const std::string&, const WebhookSecrets& s) const override {
    return valid_hub_signature(s.signing_key, req.body, req.header("x-hub-signature-256"));
  }

  std::string signing_key(const std::string& credentials) const override {
    return credentials_from_json(credentials).app_secret;
  }

  bool verifies_webhooks(const std::string&) const override { return true; }

  Handshake handshake(const http::Request& req) const override { return hub_handshake(req); }

  Normalized normalize(const events::RawWebhook& raw) const override { return instagram::normalize(raw); }

  Connection connect(const rapidjson::Value& body) const override {
    Credentials creds;
    creds.access_token = field(body, "accessToken");
    creds.app_secret = field(body, "appSecret");
    std::string account = field(body, "instagramAccountId"), given_verify = field(body, "verifyToken");
    if (creds.access_token.empty())
      throw Refusal::invalid(
          "accessToken is required (an Instagram User token with instagram_business_manage_messages)");
    if (account.empty() || account.size() > 32 || account.find_first_not_of("0123456789") != std::string::npos)
      throw Refusal::invalid("instagramAccountId must be the numeric Instagram professional account ID");
    if (creds.app_secret.empty())
      throw Refusal::invalid(
          "appSecret is required: it verifies every webhook (App settings → Instagram → API setup → Instagram app "
          "secret)");
    if (!given_verify.empty() && (given_verify.size() < 8 || given_verify.size() > 200))
      throw Refusal::invalid("verifyToken must be 8 to 200 characters");
    auto [id, username] = client_.me(creds.access_token);
    if (id != account)
      throw ProviderError("Instagram account: the token belongs to account " + id + ", not " + account, 400, false);
    Connection c;
    c.routing_key = account;
    c.display_name = username.empty() ? "Instagram " + account : "@" + username;
    c.secrets = [this, creds, given_verify](const std::string& previous) mutable {
      creds.verify_token = given_verify;
      try {  // keep the verify token Meta already has unless a new one is given
        if (creds.verify_token.empty() && !previous.empty())
          creds.verify_token = credentials_from_json(previous).verify_token;
      } catch (const std::invalid_argument&) {
      }
      if (creds.verify_token.empty()) creds.verify_token = "igv_" + core::base64url(core::random_bytes(18));
      return Secrets{to_json(creds),
                     crypto::sha256(creds.verify_token),
                     {{"webhookUrl", webhook_base_ + kWebhookPath},
                      {"verifyToken", creds.verify_token},
                      {"note",
                       "Meta App dashboard → Instagram → API setup with Instagram login → Configure webhooks: set "
                       "the Callback URL and Verify token above, then subscribe to \"messages\" (and "
                       "\"messaging_postbacks\")."}}};
    };
    return c;
  }

  std::vector<std::pair<std::string, std::string>> public_fields(const IntegrationInfo& integ) const override {
    return {{"instagramAccountId", integ.routing_key}};
  }

  std::string send(const IntegrationInfo& integ, const std::string& credentials,
                   const OutgoingMessage& msg) const override {
    return client_.send_text(credentials_from_json(credentials).access_token, integ.routing_key, msg.to, msg.text,
                             msg.tag);
  }

  std::string sender_name(const IntegrationInfo&, const std::string& credentials,
                          const std::string& sender_id) const override {
    auto p = client_.profile(credentials_from_json(credentials).access_token, sender_id);
    if (!p.name.empty() && !p.username.empty()) return p.name + " (@" + p.username + ")";
    return p.name.empty() ? (p.username.empty() ? "" : "@" + p.username) : p.name;
  }

  std::string download(const IntegrationInfo&, const std::string&, const events::AttachmentRef& ref) const override {
    return client_.download(ref.external_ref);
  }

 private:
  Client client_;
  std::string webhook_base_;
};
}  // namespace

std::string to_json(const Credentials& c) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "accessToken", c.access_token);
  core::json_kv(w, "appSecret", c.app_secret);
  core::json_kv(w, "verifyToken", c.verify_token);
  w.EndObject();
  return sb.GetString();
}

Credentials credentials_from_json(const std::string& json) {
  rapidjson::Document d;
  core::parse_json(d, json);
  if (!d.IsObject()) throw std::invalid_argument("Instagram credentials are not a JSON object");
  Credentials c;
  c.access_token = core::json_string(d, "accessToken").value_or("");
  c.app_secret = core::json_string(d, "appSecret").value_or("");
  c.verify_token = core::json_string(d, "verifyToken").value_or("");
  if (c.access_token.empty() || c.app_secret.empty())
    throw std::invalid_argument("Instagram credentials lack accessToken or appSecret");
  return c;
}

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<InstagramAdapter>(settings); }

}  // namespace loket::providers::instagram
