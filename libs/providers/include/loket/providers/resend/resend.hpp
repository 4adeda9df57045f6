#pragma once
#include <string>
#include <utility>
#include <vector>

#include "loket/providers/common.hpp"

/// Resend adapter for requester emails (shared/reference/providers.md §6): validate an API key,
/// send an email with threading headers.
namespace loket::providers::resend {

/// The integration provider name in the API and the database.
inline constexpr const char* kIntegration = "email_resend";

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

/// One email. `headers` go to Resend's `headers` (Message-ID, In-Reply-To, References).
struct Email {
  std::string from;  ///< "Name <address>" or an address
  std::string to;
  std::string subject, text, html, reply_to;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string idempotency_key;  ///< ≤ 256 characters; the same key never sends twice within 24 h
};

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

}  // namespace loket::providers::resend
