#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "loket/crypto/crypto.hpp"
#include "loket/providers/adapter.hpp"
#include "loket/providers/common.hpp"

/// Resend adapter (shared/reference/providers.md §6): a workspace's or the platform's email
/// sender (validate an API key, send an email with threading headers), and Resend Receiving —
/// the platform's inbound email domain hosted at Resend, whose signed `email.received` webhooks
/// become mail for the workspaces' aliases (docs/channels/email.md).
namespace loket::providers::resend {

/// The integration provider name in the API and the database.
inline constexpr const char* kIntegration = "email_resend";
/// The provider recorded on deliveries the platform's own Resend account sends.
inline constexpr const char* kPlatform = "resend";

/// RawWebhook.provider and topic suffix of Resend Receiving (`channel.webhook.resend`).
inline constexpr const char* kWebhook = "resend";
inline constexpr const char* kWebhookPath = "/api/v1/webhooks/resend";
/// The one event type Loket takes; others are acknowledged and ignored.
inline constexpr const char* kReceivedEvent = "email.received";

/// Whether a Standard Webhooks (Svix) signature holds (providers.md §6, vector S1): one of the
/// space-separated `v1,<base64>` entries of `signatures` (the `svix-signature` header) equals
/// HMAC-SHA256 over "<id>.<timestamp>.<body>" under one of `secrets` (`whsec_<base64 key>`;
/// several while rotating), and `timestamp` (Unix seconds, `svix-timestamp`) is within
/// `tolerance_s` of `now_s`. Constant time per comparison. Pure.
bool verify_signature(const std::vector<std::string>& secrets, std::string_view id, std::string_view timestamp,
                      std::string_view body, std::string_view signatures, std::int64_t now_s,
                      std::int64_t tolerance_s = 300);

/// Where an `email.received` event `body` goes: one target per workspace among its recipients
/// (`data.received_for`, else `data.to`; the first email::kMaxAddresses), for that workspace's
/// email alias integration, keyed and threaded by the recipient (a reply address wins over the
/// alias). Empty for every other event type. Pure.
/// @throws Refusal (400) for a body that is not a Resend event or lacks data.email_id; (404)
/// when no recipient is a workspace's address on `domain`.
std::vector<WebhookTarget> route_received(std::string_view body, std::string_view domain, const crypto::Keyring* keys);

/// `data.email_id` of a stored `email.received` event (≤ 64 characters of `A-Za-z0-9-_`).
/// @throws ProviderError (permanent) when absent or unusable.
std::string email_id_of(std::string_view body);

/// What an `email_resend` integration keeps encrypted.
struct Credentials {
  std::string api_key;     ///< `re_…`
  std::string from_email;  ///< on a domain verified with Resend
  std::string from_name;
};
/// JSON text of `c`, for Keyring::encrypt.
std::string to_json(const Credentials& c);
/// Parses to_json() output. @throws std::invalid_argument when apiKey or fromEmail is missing.
Credentials credentials_from_json(const std::string& json);

/// One email (providers::Email); `headers` go to Resend's `headers` (Message-ID, In-Reply-To, References).
using Email = providers::Email;

/// `"Name" <address>` with the name quoted and stripped of quotes and line breaks; just the
/// address when `name` is empty.
std::string mailbox(const std::string& name, const std::string& address);

/// Calls Resend at `api_base` (LOKET_RESEND_API_BASE, default https://api.resend.com). Failures
/// throw providers::ProviderError with Resend's `name` and `message` ("invalid_api_key: …"),
/// retryable per is_retryable_status(). Thread-safe.
class Client {
 public:
  explicit Client(std::string api_base);
  /// Checks `api_key` with `GET /domains`: 200 (full access) and 401 `restricted_api_key`
  /// (sending only) are valid. @throws ProviderError (permanent) for a bad key.
  void validate_key(const std::string& api_key) const;
  /// `POST /emails`; returns Resend's email id.
  std::string send(const std::string& api_key, const Email& email) const;
  /// The raw RFC 5322 bytes of received email `email_id`: `GET /emails/receiving/{id}`, then its
  /// `raw.download_url` through the SSRF guard (≤ 3 redirects, 60 s). @throws ProviderError:
  /// permanent when Resend refuses (404, 401), the URL is refused or the message passes
  /// `max_bytes`; retryable per is_retryable_status().
  std::string received_message(const std::string& api_key, const std::string& email_id, std::size_t max_bytes) const;

 private:
  std::string api_base_;
};

/// The Resend adapter: `connect` takes `apiKey`, `fromEmail`, `fromName` and checks the key;
/// mailer() sends as the workspace, platform_mailer() as the platform (LOKET_RESEND_API_KEY,
/// LOKET_EMAIL_FROM), through `LOKET_RESEND_API_BASE`. Receives at kWebhookPath when
/// LOKET_RESEND_WEBHOOK_SECRET (the endpoint's `whsec_…`; several space-separated while
/// rotating), LOKET_RESEND_API_KEY (full access: it reads received mail) and
/// LOKET_INBOUND_EMAIL_DOMAIN are set.
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::resend
