// Telegram as a providers::Adapter (shared/reference/providers.md §1, seed 000 "Telegram").
#include "loket/providers/adapter.hpp"
#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/telegram/telegram.hpp"

namespace loket::providers::telegram {
namespace {
constexpr const char* kWebhookPath = "/api/v1/webhooks/telegram/";

class TelegramAdapter final : public Adapter {
 public:
  explicit TelegramAdapter(const Settings& s)
      : client_(s.api_base(descriptor().api_key, "https://api.telegram.org")), webhook_base_(s.public_webhook_url()) {}

  const ProviderDescriptor& descriptor() const override {
    static const ProviderDescriptor d{kIntegration, kProvider, "telegram", "Telegram", "TELEGRAM"};
    return d;
  }

  std::optional<WebhookEndpoint> webhook() const override {
    return WebhookEndpoint{kWebhookPath, true, false,
                           "use POST",   401,  "missing or wrong X-Telegram-Bot-Api-Secret-Token"};
  }

  std::vector<WebhookTarget> route(const http::Request& req, std::string_view path_id) const override {
    auto chat = chat_id_of(req.body);
    if (!chat) throw Refusal::invalid("body must be a Telegram Update (JSON object)");
    return {{RouteBy::kIntegrationId, std::string(path_id), *chat, ""}};
  }

  bool authenticate(const http::Request& req, const std::string&, const WebhookSecrets& s) const override {
    return secret_matches(req.header(kSecretHeader), s.secret_hash);
  }

  Normalized normalize(const events::RawWebhook& raw) const override { return telegram::normalize(raw); }

  Connection connect(const rapidjson::Value& body) const override {
    std::string token = field(body, "botToken");
    if (token.empty()) throw Refusal::invalid("botToken is required");
    std::string bot_id = bot_id_from_token(token);
    if (bot_id.empty()) throw Refusal::invalid("botToken must look like 123456789:AA… (the token @BotFather gave you)");
    BotInfo bot = client_.get_me(token);
    std::string secret = core::base64url(core::random_bytes(32));
    Connection c;
    c.routing_key = bot_id;
    c.display_name = bot.username.empty() ? bot.first_name : "@" + bot.username;
    c.secrets = [token, secret](const std::string&) { return Secrets{token, crypto::sha256(secret), {}}; };
    c.activate = [this, token, secret](const std::string& integration_id) {
      try {
        client_.set_webhook(token, webhook_base_ + kWebhookPath + integration_id, secret);
      } catch (const ProviderError& e) {
        throw ProviderError(std::string("setWebhook failed: ") + e.what(), e.status(), e.retryable());
      }
    };
    return c;
  }

  void disconnect(const std::string& credentials) const override { client_.delete_webhook(credentials); }

  std::string send(const IntegrationInfo&, const std::string& credentials, const OutgoingMessage& msg) const override {
    const std::string &to = msg.to, &text = msg.text;
    // Bot message ids are per chat: "<chat>:<id>", the same shape as inbound Telegram ids.
    return to + ":" + std::to_string(client_.send_message(credentials, to, text));
  }

  std::string download(const IntegrationInfo&, const std::string& credentials,
                       const events::AttachmentRef& ref) const override {
    return client_.download_file(credentials, ref.external_ref).bytes;
  }

 private:
  Client client_;
  std::string webhook_base_;
};
}  // namespace

std::unique_ptr<Adapter> make_adapter(const Settings& settings) { return std::make_unique<TelegramAdapter>(settings); }

}  // namespace loket::providers::telegram
