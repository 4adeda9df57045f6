#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "loket/providers/adapter.hpp"
#include "loket/providers/common.hpp"

/// Telegram Bot API adapter (shared/reference/providers.md §1): parse and normalize
/// Updates, authenticate webhook deliveries, validate bot tokens, register webhooks, send
/// replies and fetch files.
namespace loket::providers::telegram {

/// RawWebhook.provider and the topic suffix (`channel.webhook.telegram`).
inline constexpr const char* kProvider = "telegram";
/// The integration provider name in the API and the database.
inline constexpr const char* kIntegration = "telegram_bot";
/// The header Telegram sends with the `secret_token` given to setWebhook.
inline constexpr const char* kSecretHeader = "x-telegram-bot-api-secret-token";

/// Turns one webhook Update into at most one normalized message. Pure; never throws.
/// Drop reasons: `edited_message`, `group_chat`, `service_message`, `start_command`,
/// `bot_sender`, `unsupported_update`, `malformed`.
/// - Private chats only; group, supergroup and channel posts are dropped (`group_chat`).
/// - Text or caption becomes the text; photos (largest size), documents, voice, audio,
///   video, animations and video notes become attachments; a message with attachments and no
///   text reads `[attachment: <name>]`; stickers, locations and contacts become a short text.
/// - Edited messages are dropped (the original stays as the customer sent it).
/// - The dedup key is `<chat_id>:<message_id>`, stable across redeliveries even after
///   update_id sequences reset.
providers::Normalized normalize(const events::RawWebhook& raw);

/// The chat id of an Update body (for the Kafka key), or std::nullopt when the body is not
/// a JSON object. An Update without a chat yields "".
std::optional<std::string> chat_id_of(const std::string& body);

/// The bot as getMe describes it.
struct BotInfo {
  std::int64_t id = 0;
  std::string username;  ///< without '@'
  std::string first_name;
};

/// The numeric bot id in a token `123456789:AA…` (the part before ':'), or "" when the token
/// does not have that shape.
std::string bot_id_from_token(const std::string& token);

/// A downloaded file.
struct File {
  std::string bytes;
  std::string file_path;
};

/// Calls the Bot API at `api_base` (LOKET_TELEGRAM_API_BASE, default https://api.telegram.org).
/// Every method throws providers::ProviderError on failure, with retryable set per
/// is_retryable_status() and Telegram's `description` as the message. Thread-safe.
class Client {
 public:
  explicit Client(std::string api_base);
  /// Validates `token` (getMe). @throws ProviderError (401 for a bad token).
  BotInfo get_me(const std::string& token) const;
  /// Registers `url` as the bot's webhook with `secret_token` (1–256 of A-Z a-z 0-9 _ -).
  void set_webhook(const std::string& token, const std::string& url, const std::string& secret_token) const;
  /// Removes the bot's webhook.
  void delete_webhook(const std::string& token) const;
  /// Sends `text` (split into 4096-character parts) to `chat_id`; returns the last sent
  /// message id.
  std::int64_t send_message(const std::string& token, const std::string& chat_id, const std::string& text) const;
  /// getFile then downloads the file (bots may download at most 20 MB).
  File download_file(const std::string& token, const std::string& file_id) const;

 private:
  std::string call(const std::string& token, const std::string& method, const std::string& json_body) const;
  std::string api_base_;
};

/// The Telegram adapter (webhooks at `/api/v1/webhooks/telegram/<integrationId>` with the
/// secret-token header; `connect` takes `botToken`, checks it with getMe and registers the
/// webhook; replies go to the chat), calling the Bot API at `LOKET_TELEGRAM_API_BASE`.
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::telegram
