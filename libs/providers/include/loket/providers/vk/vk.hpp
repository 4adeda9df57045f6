#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loket/http/url.hpp"
#include "loket/providers/adapter.hpp"
#include "loket/providers/common.hpp"

/// VKontakte community messages through the Callback API (shared/reference/providers.md §5,
/// docs/channels/vk.md): the `confirmation` answer, the `secret` of every event, `message_new`
/// normalized, user names from users.get, replies through messages.send with a `random_id`
/// derived from Loket's message id, and the community's Callback API server registered by Loket.
namespace loket::providers::vk {

/// The integration provider name, RawWebhook.provider and topic suffix.
inline constexpr const char* kProvider = "vk";

/// What a VK integration keeps encrypted.
struct Credentials {
  std::string access_token;  ///< community token with the messages (and, to register the server, manage) right
  std::string group_id;      ///< the community's numeric id
  std::string secret_key;    ///< the Callback API "Secret key": VK sends it in every event
  std::string confirmation;  ///< what the `confirmation` request must be answered with
};
/// JSON text of `c`, for Keyring::encrypt.
std::string to_json(const Credentials& c);
/// Parses to_json() output. @throws std::invalid_argument when a field is missing.
Credentials credentials_from_json(const std::string& json);

/// One Callback API event as ingress reads it before authenticating.
struct Event {
  std::string type;      ///< "message_new", "confirmation", …
  std::string group_id;  ///< decimal
  std::string event_id;
  std::optional<std::string> secret;  ///< absent when VK sent none
  std::string peer;                   ///< `object.message.peer_id` of message events, "" otherwise
};
/// Reads the envelope of a Callback API request, or std::nullopt when `body` is not one
/// (not a JSON object with a string `type` and a positive integer `group_id`).
std::optional<Event> read_event(const std::string& body);

/// The `random_id` of part `part` (0-based) of Loket message `message_id`: the same message is
/// never delivered twice however often it is retried. A positive 31-bit integer. Pure.
std::int32_t random_id(const std::string& message_id, int part);

/// Turns one Callback API event into messages (`message_new` for API 5.103+, taken only for
/// raw.routing_key, the group id ingress routed on). Thread = the user's peer id; dedup key =
/// the message id; no name (the writer asks users.get: Adapter::sender_name). Photos (largest
/// size), documents and voice messages become attachments (external_ref = their URL); stickers,
/// links, wall posts, videos, audio, forwarded messages and other types become readable text.
/// Drop reasons: `confirmation`, `echo` (message_reply: our own sends), `edited_message`,
/// `group_chat` (peer ids of community chats), `other_event`, `malformed`. Pure; never throws.
providers::Normalized normalize(const events::RawWebhook& raw);

/// Where the VK API is (LOKET_VK_API_BASE, LOKET_VK_API_VERSION, LOKET_VK_MEDIA_HOSTS).
struct Api {
  std::string base = "https://api.vk.com";  ///< methods at <base>/method/<name>; no trailing '/'
  std::string version = "5.199";
  /// Hosts attachment URLs may be on, each with its subdomains (`userapi.com` takes
  /// `sun9-1.userapi.com`); `host:port` entries for tests. Any other URL is refused.
  std::vector<std::string> media_hosts = {"userapi.com", "vk.com", "vk.me", "vkuser.net", "vk-cdn.net"};
};

/// A community as groups.getById answers.
struct Community {
  std::string id, name, screen_name;
};

/// Calls VK API methods with a community token (POST form, `Authorization: Bearer`). VK answers
/// errors with HTTP 200 and `{"error":{"error_code","error_msg"}}`: codes 6, 9 and 10 (rate
/// limits, internal error) are retryable; 5 (the token is invalid or revoked) throws
/// IntegrationGone; every other code is permanent (901/902: the user does not accept messages
/// from the community). Thread-safe.
class Client {
 public:
  explicit Client(Api api);
  /// groups.getById for `group_id`: validates the token against the community.
  Community community(const std::string& token, const std::string& group_id) const;
  /// groups.getCallbackConfirmationCode.
  std::string confirmation_code(const std::string& token, const std::string& group_id) const;
  /// Registers `url` as a Callback API server of the community with `secret` (reusing a server
  /// already at that URL) and subscribes it to message events with this API version.
  void register_server(const std::string& token, const std::string& group_id, const std::string& url,
                       const std::string& secret) const;
  /// Deletes the community's servers at `url` (best effort: errors are thrown, the caller logs).
  void remove_server(const std::string& token, const std::string& group_id, const std::string& url) const;
  /// users.get: "First Last" of user `user_id`, "" when unknown.
  std::string user_name(const std::string& token, const std::string& user_id) const;
  /// messages.send of `text` to `peer_id` in parts of at most 4,000 characters, each with
  /// random_id(message_id, part). Returns the last part's message id.
  std::string send(const std::string& token, const std::string& peer_id, const std::string& text,
                   const std::string& message_id) const;
  /// Downloads an attachment URL on api.media_hosts (https, or http for a `host:port` entry),
  /// at most 25 MB, through the SSRF guard. @throws ProviderError (permanent) for another URL.
  std::string download(const std::string& url) const;

 private:
  std::string call(const std::string& token, const std::string& method,
                   std::vector<std::pair<std::string, std::string>> params) const;
  Api api_;
};

/// The VK adapter (`POST /api/v1/webhooks/vk`: events routed by `group_id`, checked with the
/// `secret`; answered `ok`, or the confirmation string; `connect` takes `groupId`, `accessToken`).
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::vk
