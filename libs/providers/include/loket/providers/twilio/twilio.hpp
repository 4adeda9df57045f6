#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "loket/providers/adapter.hpp"
#include "loket/providers/common.hpp"

/// Twilio Programmable Messaging adapter for WhatsApp (shared/reference/providers.md §2):
/// authenticate webhook deliveries (X-Twilio-Signature), normalize inbound messages, validate
/// credentials, send replies and download media.
namespace loket::providers::twilio {

/// RawWebhook.provider and the topic suffix (`channel.webhook.twilio`).
inline constexpr const char* kProvider = "twilio";
/// The integration provider name in the API and the database.
inline constexpr const char* kIntegration = "whatsapp_twilio";
/// The request header carrying the signature (lower case, as http::Request stores names).
inline constexpr const char* kSignatureHeader = "x-twilio-signature";

/// What a Twilio integration keeps encrypted: the account's credentials and the secret that
/// is part of its webhook URL (kept so reconnecting returns the same URL).
struct Credentials {
  std::string account_sid;  ///< `AC` + 32 hex characters
  std::string auth_token;
  std::string webhook_secret;
};
/// JSON text of `c`, for Keyring::encrypt.
std::string to_json(const Credentials& c);
/// Parses to_json() output. @throws std::invalid_argument when a field is missing.
Credentials credentials_from_json(const std::string& json);

/// Whether `sid` looks like an Account SID: "AC" followed by 32 hex digits.
bool is_account_sid(std::string_view sid);

/// X-Twilio-Signature for a form-encoded request: Base64(HMAC-SHA1(auth_token, url + each
/// distinct parameter name in byte order followed by each of its distinct values, sorted)).
/// `url` is the full URL Twilio requested, query string verbatim.
std::string signature(std::string_view auth_token, std::string_view url,
                      const std::multimap<std::string, std::string>& params);

/// Checks `header` against signature() in constant time, for `url` as given and with its
/// port removed or the scheme's default port added (Twilio signs either; vectors T1–T5).
bool valid_signature(std::string_view auth_token, std::string_view url,
                     const std::multimap<std::string, std::string>& params, std::string_view header);

/// Checks a JSON-bodied webhook (vector T6): the URL's `bodySHA256` query parameter must be
/// the hex SHA-256 of `body` and the signature is over the URL alone.
bool valid_json_signature(std::string_view auth_token, std::string_view url, std::string_view body,
                          std::string_view header);

/// The agent-facing text for a status callback's ErrorCode (e.g. 63016) and MessageStatus.
std::string error_text(const std::string& code, const std::string& status);

/// "whatsapp:+14155238886" → "+14155238886"; "" when `address` is not a WhatsApp address with
/// an E.164 number.
std::string whatsapp_number(std::string_view address);

/// Turns one form-encoded inbound-message webhook into at most one message:
/// thread and requester phone = the sender's E.164 number, dedup key = MessageSid, name =
/// ProfileName, media (`NumMedia`, `MediaUrlN`, `MediaContentTypeN`) as attachments to fetch
/// (named per media_filename()), a media-only message reads `[attachment: photo-1.jpg]`.
/// A status callback (`MessageStatus`) for a message we sent becomes a DeliveryReceipt when
/// it is `failed` or `undelivered` (e.g. ErrorCode 63016, outside the 24-hour window).
/// Drop reasons: `malformed` (no MessageSid/From/To), `status_callback` (other statuses),
/// `not_whatsapp` (SMS), `empty_message`. Pure; never throws.
providers::Normalized normalize(const events::RawWebhook& raw);

/// The account as Twilio's FetchAccount describes it.
struct Account {
  std::string sid, friendly_name, status, type;
};

/// The templates of one Content API `GET /v1/ContentAndApprovals` page that WhatsApp approved
/// (`approval_requests.status`, flat or under `whatsapp`, "approved") and that have a body:
/// id = Content SID, name = friendly_name, text = the body of `twilio/text` or else of the first
/// type that has one, variables = the keys of `variables`. Sets `next` to `meta.next_page_url`
/// ("" at the end). @throws ProviderError (502) when `body` is not a page.
std::vector<MessageTemplate> templates_from_page(const std::string& body, std::string& next);

/// Calls Twilio's REST API at `api_base` (LOKET_TWILIO_API_BASE) with HTTP Basic auth
/// (Account SID, auth token). Failures throw providers::ProviderError carrying Twilio's
/// `code` and `message` ("Twilio error 63016: …"), retryable per is_retryable_status().
/// Thread-safe.
class Client {
 public:
  /// `content_base`: the Content API (LOKET_TWILIO_CONTENT_API_BASE, https://content.twilio.com).
  Client(std::string api_base, std::string content_base);
  /// GET /2010-04-01/Accounts/{sid}.json: validates the credentials (401/20003 when wrong).
  Account fetch_account(const Credentials& c) const;
  /// Sends `text` from WhatsApp number `from` to `to` (both E.164), split into parts of at
  /// most 1600 characters; returns the last message SID. With a `status_callback` URL, Twilio
  /// reports later failures (e.g. 63016) there.
  std::string send_message(const Credentials& c, const std::string& from, const std::string& to,
                           const std::string& text, const std::string& status_callback = "") const;
  /// Sends approved Content template `t` (ContentSid, ContentVariables as a JSON object) from
  /// WhatsApp number `from` to `to`; returns the message SID.
  std::string send_template(const Credentials& c, const std::string& from, const std::string& to,
                            const events::TemplateRef& t, const std::string& status_callback = "") const;
  /// The account's WhatsApp-approved Content templates (templates_from_page), following
  /// `meta.next_page_url` under the Content API base for at most 10 pages of 500.
  std::vector<MessageTemplate> templates(const Credentials& c) const;
  /// Downloads a media file named by a webhook's MediaUrlN, following Twilio's redirect to
  /// its media store. Only URLs under the API base and this account's Messages are fetched.
  /// @throws ProviderError (permanent) for any other URL; ProviderError for HTTP failures.
  std::string download_media(const Credentials& c, const std::string& media_url) const;

 private:
  // POSTs one Messages.json form (with StatusCallback when given); returns the message SID.
  std::string create_message(const Credentials& c, std::vector<std::pair<std::string, std::string>> form,
                             const std::string& status_callback) const;
  std::string api_base_, content_base_;
};

/// The Twilio WhatsApp adapter (webhooks at `/api/v1/webhooks/twilio/whatsapp?secret=…`,
/// routed by our number, X-Twilio-Signature over `LOKET_PUBLIC_WEBHOOK_URL` + target; `connect`
/// takes `accountSid`, `authToken`, `whatsappNumber`), calling `LOKET_TWILIO_API_BASE` and, for
/// templates, `LOKET_TWILIO_CONTENT_API_BASE`.
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::twilio
