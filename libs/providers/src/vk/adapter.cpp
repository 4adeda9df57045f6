// VKontakte community messages as a providers::Adapter (shared/reference/providers.md §5,
// docs/channels/vk.md).
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/vk/vk.hpp"

namespace loket::providers::vk {
namespace {
constexpr const char* kWebhookPath = "/api/v1/webhooks/vk";

Api api_from(const Settings& s) {
  Api api;
  api.base = s.api_base("VK", api.base);
  api.version = s.get("LOKET_VK_API_VERSION", api.version);
  api.media_hosts = host_list(s, "LOKET_VK_MEDIA_HOSTS", api.media_hosts);
  return api;
}

// A random Callback API secret key: letters and digits (VK takes up to 50).
std::string new_secret_key() {
  static constexpr char kAlphabet[] = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
  std::string out;
  for (unsigned char b : core::random_bytes(32)) out += kAlphabet[b % (sizeof kAlphabet - 1)];
  return out;
}

// `groupId` of a connect body, a string or a number.
std::string group_id_field(const rapidjson::Value& body) {
  if (const auto* g = core::json_member(body, "groupId"); g && g->IsInt64() && g->GetInt64() > 0)
    return std::to_string(g->GetInt64());
  auto s = field(body, "groupId");
  if (!s.empty() && s[0] == '-') s.erase(0, 1);  // a community's owner id is its id negated
  return s;
}

class VkAdapter final : public Adapter {
 public:
  explicit VkAdapter(const Settings& s) : client_(api_from(s)), webhook_url_(s.public_webhook_url() + kWebhookPath) {}

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kProvider, kProvider, "vk", "VK", "VK"};
    return d;
  }

  std::optional<WebhookEndpoint> webhook() const override {
    return WebhookEndpoint{kWebhookPath, false,
                           false,        "use POST (Callback API events)",
                           403,          "secret does not match the Callback API secret key of the community"};
  }

  std::vector<WebhookTarget> route(const http::Request& req, std::string_view) const override {
    auto e = read_event(req.body);
    if (!e) throw Refusal::invalid("expected a VK Callback API event with type and group_id");
    return {{RouteBy::kRoutingKey, e->group_id, e->peer, e->group_id}};
  }

  bool authenticate(const http::Request& req, const std::string&, const WebhookSecrets& s) const override {
    auto e = read_event(req.body);
    if (!e || s.signing_key.rfind(e->group_id + ":", 0) != 0) return false;
    // Whether VK puts the secret into confirmation requests is not documented: one without a
    // secret is taken (it only learns the confirmation string, which confirms this very URL).
    if (e->type == "confirmation" && !e->secret) return true;
    return e->secret && secret_matches(*e->secret, s.secret_hash);
  }

  // "<group id>:<confirmation string>": the community a request must name, and the answer to
  // its confirmation request.
  std::string signing_key(const std::string& credentials) const override {
    auto c = credentials_from_json(credentials);
    return c.group_id + ":" + c.confirmation;
  }

  bool verifies_webhooks(const std::string&) const override { return true; }

  std::optional<http::Response> acknowledgement(const http::Request& req, const WebhookSecrets& s) const override {
    http::Response res;
    res.content_type = "text/plain; charset=utf-8";
    auto e = read_event(req.body);
    res.body = e && e->type == "confirmation" ? s.signing_key.substr(s.signing_key.find(':') + 1) : "ok";
    return res;
  }

  Normalized normalize(const events::RawWebhook& raw) const override { return vk::normalize(raw); }

  Connection connect(const rapidjson::Value& body) const override {
    Credentials creds;
    creds.access_token = field(body, "accessToken");
    creds.group_id = group_id_field(body);
    if (creds.access_token.empty())
      throw Refusal::invalid("accessToken is required (a community token with the messages and manage rights)");
    if (creds.group_id.empty() || creds.group_id.size() > 20 ||
        creds.group_id.find_first_not_of("0123456789") != std::string::npos)
      throw Refusal::invalid("groupId must be the community's numeric id (Manage → Settings → API usage)");
    auto community = client_.community(creds.access_token, creds.group_id);
    creds.confirmation = client_.confirmation_code(creds.access_token, creds.group_id);
    Connection c;
    c.routing_key = creds.group_id;
    c.display_name = community.name.empty() ? "VK community " + creds.group_id : community.name;
    // secrets() settles the secret key (kept from the previous credentials); activate() registers it.
    auto settled = std::make_shared<Credentials>(creds);
    c.secrets = [this, settled](const std::string& previous) {
      try {  // keep the secret key VK already has
        if (!previous.empty()) settled->secret_key = credentials_from_json(previous).secret_key;
      } catch (const std::invalid_argument&) {
      }
      if (settled->secret_key.empty()) settled->secret_key = new_secret_key();
      return Secrets{to_json(*settled),
                     crypto::sha256(settled->secret_key),
                     {{"webhookUrl", webhook_url_},
                      {"confirmationCode", settled->confirmation},
                      {"secretKey", settled->secret_key},
                      {"note",
                       "Loket registers this server in the community's Callback API settings itself. If the token "
                       "lacks the manage right, add it by hand: Manage → API usage → Callback API → Add server "
                       "(URL above, API version 5.199, Secret key above), then in Event types tick \"Incoming "
                       "message\"."}}};
    };
    c.activate = [this, settled](const std::string&) {
      try {
        client_.register_server(settled->access_token, settled->group_id, webhook_url_, settled->secret_key);
      } catch (const IntegrationGone&) {
        throw;
      } catch (const ProviderError& e) {  // no manage right: the admin pastes what the response shows
        if (e.retryable()) throw;
        core::log(core::Level::kWarn, "VK Callback API server not registered: the admin adds it by hand",
                  {{"groupId", settled->group_id}, {"error", e.what()}});
      }
    };
    return c;
  }

  void disconnect(const std::string& credentials) const override {
    auto c = credentials_from_json(credentials);
    client_.remove_server(c.access_token, c.group_id, webhook_url_);
  }

  std::vector<std::pair<std::string, std::string>> public_fields(const IntegrationInfo& integ) const override {
    return {{"groupId", integ.routing_key}};
  }

  std::string send(const IntegrationInfo&, const std::string& credentials, const OutgoingMessage& msg) const override {
    return client_.send(credentials_from_json(credentials).access_token, msg.to, msg.text, msg.message_id);
  }

  std::string sender_name(const IntegrationInfo&, const std::string& credentials,
                          const std::string& sender_id) const override {
    return client_.user_name(credentials_from_json(credentials).access_token, sender_id);
  }

  std::string download(const IntegrationInfo&, const std::string&, const events::AttachmentRef& ref) const override {
    return client_.download(ref.external_ref);
  }

 private:
  Client client_;
  std::string webhook_url_;
};
}  // namespace

std::string to_json(const Credentials& c) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "accessToken", c.access_token);
  core::json_kv(w, "groupId", c.group_id);
  core::json_kv(w, "secretKey", c.secret_key);
  core::json_kv(w, "confirmation", c.confirmation);
  w.EndObject();
  return sb.GetString();
}

Credentials credentials_from_json(const std::string& json) {
  rapidjson::Document d;
  core::parse_json(d, json);
  if (!d.IsObject()) throw std::invalid_argument("VK credentials are not a JSON object");
  Credentials c;
  c.access_token = core::json_string(d, "accessToken").value_or("");
  c.group_id = core::json_string(d, "groupId").value_or("");
  c.secret_key = core::json_string(d, "secretKey").value_or("");
  c.confirmation = core::json_string(d, "confirmation").value_or("");
  if (c.access_token.empty() || c.group_id.empty())
    throw std::invalid_argument("VK credentials lack accessToken or groupId");
  return c;
}

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<VkAdapter>(settings); }

}  // namespace loket::providers::vk
