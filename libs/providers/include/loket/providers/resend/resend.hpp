#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "loket/providers/adapter.hpp"
#include "loket/providers/common.hpp"

/// Resend adapter for requester emails (shared/reference/providers.md §6): validate an API key,
/// send an email with threading headers.
namespace loket::providers::resend {

/// The integration provider name in the API and the database.
inline constexpr const char* kIntegration = "email_resend";
/// The provider recorded on deliveries the platform's own Resend account sends.
inline constexpr const char* kPlatform = "resend";

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

 private:
  std::string api_base_;
};

/// The Resend adapter: `connect` takes `apiKey`, `fromEmail`, `fromName` and checks the key;
/// mailer() sends as the workspace, platform_mailer() as the platform (LOKET_RESEND_API_KEY,
/// LOKET_EMAIL_FROM), through `LOKET_RESEND_API_BASE`.
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::resend
