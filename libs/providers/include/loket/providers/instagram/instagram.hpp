#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "loket/providers/adapter.hpp"
#include "loket/providers/common.hpp"

/// Instagram direct messages through the Instagram API with Instagram Login
/// (shared/reference/providers.md §4; docs/channels/instagram.md): Meta's verify-token handshake
/// and X-Hub-Signature-256, normalizing `messaging` webhooks, validating the token against the
/// professional account, profile names, sending through the Send API and downloading
/// attachments from Meta's CDN.
namespace loket::providers::instagram {

/// The integration provider name, RawWebhook.provider and topic suffix.
inline constexpr const char* kProvider = "instagram";

/// What an Instagram integration keeps encrypted.
struct Credentials {
  std::string access_token;  ///< Instagram User access token (instagram_business_manage_messages)
  std::string app_secret;    ///< signs every webhook (required)
  std::string verify_token;  ///< the handshake token (kept so reconnecting can show it again)
};
/// JSON text of `c`, for Keyring::encrypt.
std::string to_json(const Credentials& c);
/// Parses to_json() output. @throws std::invalid_argument when accessToken or appSecret is missing.
Credentials credentials_from_json(const std::string& json);

/// The distinct `entry[].id` values (Instagram professional account ids) of an `instagram`
/// webhook, in order, or std::nullopt when `body` is not one. Ingress routes on these.
std::optional<std::vector<std::string>> account_ids(const std::string& body);

/// The customer of the first messaging event for account `account_id` ("" when none): the
/// sender, or the recipient of an echo. The Kafka key's thread part.
std::string first_customer(const std::string& body, const std::string& account_id);

/// Turns one webhook into messages, taking only entries for raw.routing_key (the account id
/// ingress routed on). Thread = the customer's Instagram-scoped id (IGSID); dedup key =
/// `message.mid`; no name (the writer asks the profile: Adapter::sender_name). Text and
/// postbacks become text; image, video, audio and file attachments become attachments
/// (external_ref = the CDN URL, downloaded at once: it expires); shares, reels, posts, story
/// replies and story mentions become text with their link (a story mention's media is not
/// stored and its link stops working after 24 h). Echoes (`is_echo`) become messages
/// `from_business` in the customer's thread (our own sends are recognised by their mid when
/// stored). Drop reasons: `reaction`, `read`, `deleted`, `unsupported_message`, `referral`,
/// `other_field`, `malformed`. Pure; never throws.
providers::Normalized normalize(const events::RawWebhook& raw);

/// A customer's profile.
struct Profile {
  std::string name, username;
};

/// Where the Instagram Graph API is (LOKET_INSTAGRAM_API_BASE, LOKET_INSTAGRAM_API_VERSION,
/// LOKET_INSTAGRAM_MEDIA_BASES).
struct Api {
  std::string graph = "https://graph.instagram.com";  ///< no trailing '/'
  std::string version = "v21.0";
  /// Where attachment URLs may point (Meta's CDN); any other URL is refused.
  std::vector<std::string> media_bases = {"https://lookaside.fbsbx.com", "https://scontent.cdninstagram.com"};
};

/// Calls the Instagram Graph API with a Bearer token. Failures throw ProviderError with Graph's
/// `(#code) message`, retryable per is_retryable_status() and Meta's temporary codes; error 190
/// (token expired or revoked) throws IntegrationGone. Thread-safe.
class Client {
 public:
  explicit Client(Api api);
  /// GET /me: the professional account's id (`user_id`) and username; validates the token.
  std::pair<std::string, std::string> me(const std::string& token) const;
  /// GET /{igsid}?fields=name,username.
  Profile profile(const std::string& token, const std::string& igsid) const;
  /// POST /{account}/messages: `text` to `igsid` in parts of at most 1,000 characters; with
  /// `tag` (e.g. "HUMAN_AGENT") as a tagged message. Returns the last part's message id.
  std::string send_text(const std::string& token, const std::string& account_id, const std::string& igsid,
                        const std::string& text, const std::string& tag = "") const;
  /// Downloads an attachment URL (no token: the CDN URL is signed), which must lie under
  /// api.media_bases; at most 25 MB, through the SSRF guard.
  /// @throws ProviderError (permanent) for another URL or an expired one (403/404).
  std::string download(const std::string& url) const;

 private:
  Api api_;
};

/// The Instagram adapter (`GET/POST /api/v1/webhooks/instagram`: the verify-token handshake,
/// webhooks routed by account id and checked with X-Hub-Signature-256; `connect` takes
/// `accessToken`, `instagramAccountId`, `appSecret`, optional `verifyToken`).
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::instagram
