#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loket/core/json.hpp"
#include "loket/providers/adapter.hpp"
#include "loket/providers/common.hpp"

/// Meta WhatsApp Cloud API adapter (shared/reference/providers.md §3): the verify-token
/// handshake, X-Hub-Signature-256, normalizing message notifications, validating a token
/// against the phone number's record, sending text and downloading media via the Graph API.
namespace loket::providers::whatsapp_cloud {

/// RawWebhook.provider, the topic suffix and the integration provider name.
inline constexpr const char* kProvider = "whatsapp_cloud";
/// The request header carrying `sha256=<hex HMAC>` (lower case).
inline constexpr const char* kSignatureHeader = "x-hub-signature-256";

/// What a Cloud API integration keeps encrypted.
struct Credentials {
  std::string access_token;
  std::string app_secret;    ///< "" when the workspace did not give one
  std::string verify_token;  ///< the handshake token (kept so reconnecting can show it again)
  std::string waba_id;       ///< optional WhatsApp Business Account id
};
/// JSON text of `c`, for Keyring::encrypt.
std::string to_json(const Credentials& c);
/// Parses to_json() output. @throws std::invalid_argument when accessToken is missing.
Credentials credentials_from_json(const std::string& json);

/// Whether `header` is `sha256=` + the lower-case hex HMAC-SHA256 of the raw `body` bytes
/// under `app_secret` (vectors M1, M2). Constant time; false for an empty secret.
bool valid_signature(std::string_view app_secret, std::string_view body, std::string_view header);

/// The distinct `entry[].changes[].value.metadata.phone_number_id` values of a notification,
/// in order of appearance, or std::nullopt when `body` is not a JSON object. Ingress routes on
/// these without parsing anything else.
std::optional<std::vector<std::string>> phone_number_ids(const std::string& body);

/// The first sender (`messages[].from`) for `phone_number_id` in a notification, "" when none
/// (status-only deliveries): the Kafka key's thread part.
std::string first_sender(const std::string& body, const std::string& phone_number_id);

/// Turns one notification into messages, taking only changes for raw.routing_key (the
/// phone_number_id ingress routed on). Thread and requester phone = "+" + `from`; dedup key =
/// the `wamid`; name from `contacts[].profile.name`. Text, captions, buttons, interactive
/// replies, locations and contacts become text; image, document, audio, voice, video and
/// sticker media become attachments (external_ref = media id). A `failed` status becomes a
/// DeliveryReceipt with Meta's code and reason (e.g. 131047, the 24-hour window). Drop
/// reasons, one per item: `status` (sent/delivered/read receipts), `reaction`, `unsupported_message`,
/// `other_field`, `malformed`. Pure; never throws.
providers::Normalized normalize(const events::RawWebhook& raw);

/// The templates of one `GET /{waba-id}/message_templates` page Loket can send: status APPROVED,
/// components HEADER (TEXT without variables), BODY, FOOTER and BUTTONS of QUICK_REPLY,
/// PHONE_NUMBER or URL without variables; `text` = header, body and footer separated by blank
/// lines; `variables` = the body's placeholders. Sets `after` to the next page's cursor ("" at
/// the end). @throws ProviderError (502) when `body` is not a page.
std::vector<MessageTemplate> templates_from_page(const std::string& body, std::string& after);

/// The phone number's record on the Graph API.
struct PhoneNumber {
  std::string id, display_phone_number, verified_name;
};

/// Downloaded media.
struct Media {
  std::string bytes, mime_type;
};

/// Where the Graph API is (LOKET_GRAPH_API_BASE, LOKET_GRAPH_API_VERSION, LOKET_GRAPH_MEDIA_BASES).
struct Api {
  std::string graph = "https://graph.facebook.com";  ///< no trailing '/'
  std::string version = "v21.0";
  /// Where the Graph API may send us to download media besides `graph` itself (its media URLs
  /// point at Meta's CDN); any other URL is refused.
  std::vector<std::string> media_bases = {"https://lookaside.fbsbx.com"};
};

/// Calls the Graph API at api.graph / api.version with a Bearer token.
/// Failures throw providers::ProviderError with Graph's `error.message` and `error.code`
/// ("(#131047) Re-engagement message"), retryable per is_retryable_status(). Thread-safe.
class Client {
 public:
  explicit Client(Api api);
  /// GET /{phone-number-id}: validates the token against the number (401/190 when rejected).
  PhoneNumber phone_number(const std::string& token, const std::string& phone_number_id) const;
  /// POST /{phone-number-id}/messages with a text message to `to` (E.164), split into parts of
  /// at most 4096 characters; returns the last `wamid`.
  std::string send_text(const std::string& token, const std::string& phone_number_id, const std::string& to,
                        const std::string& text) const;
  /// POST /{phone-number-id}/messages with approved template `t` (body parameters in order;
  /// `parameter_name` for named ones) to `to` (E.164); returns the `wamid`.
  std::string send_template(const std::string& token, const std::string& phone_number_id, const std::string& to,
                            const events::TemplateRef& t) const;
  /// GET /{waba-id}/message_templates: the APPROVED templates whose only variables are in the
  /// body (see templates_from_page), following `paging.cursors.after` for at most 10 pages of 100.
  std::vector<MessageTemplate> templates(const std::string& token, const std::string& waba_id) const;
  /// GET /{media-id} for the media URL, then downloads it with the same token. The URL must lie
  /// under the Graph base or api.media_bases.
  /// @throws ProviderError (permanent) for another URL; ProviderError for HTTP failures.
  Media download_media(const std::string& token, const std::string& media_id) const;

 private:
  std::string get_json(const std::string& token, const std::string& path, const std::string& what) const;
  // POSTs a message of `type` to `to` (/{phone-number-id}/messages), `content` writing the
  // members of its `type` object; returns its wamid.
  std::string post_message(const std::string& token, const std::string& phone_number_id, const std::string& to,
                           const char* type, const std::function<void(core::JsonWriter&)>& content) const;
  Api api_;
};

/// The Cloud API adapter (`GET/POST /api/v1/webhooks/whatsapp-cloud`: the verify-token
/// handshake, notifications routed by phone_number_id and checked with X-Hub-Signature-256 when
/// the integration has an app secret; `connect` takes `accessToken`, `phoneNumberId`,
/// `displayNumber`, optional `appSecret`, `verifyToken`, `wabaId`).
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::whatsapp_cloud
