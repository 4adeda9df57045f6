#pragma once
#include <stdexcept>
#include <string>

#include "loket/http/client.hpp"

namespace loket::providers {

/// A failed call to a provider API. `retryable` is decided once, here near the I/O:
/// transport errors, 408, 429 and 5xx are retryable; other 4xx are permanent (bad token,
/// blocked by the user, bad request) and must not be retried. `retry_after_seconds` is the
/// provider's hint (0 when none). `message` is the provider's own description, safe to show
/// an agent.
class ProviderError : public std::runtime_error {
 public:
  ProviderError(std::string message, int status, bool retryable, int retry_after_seconds = 0)
      : std::runtime_error(std::move(message)),
        status_(status),
        retryable_(retryable),
        retry_after_seconds_(retry_after_seconds) {}
  int status() const { return status_; }
  bool retryable() const { return retryable_; }
  int retry_after_seconds() const { return retry_after_seconds_; }

 private:
  int status_;
  bool retryable_;
  int retry_after_seconds_;
};

/// A permanent failure that means the integration itself is dead (a deleted Slack or Discord
/// webhook, an archived channel, a revoked token): the caller marks the integration `error`
/// with this message, so an admin sees why and reconnects.
class IntegrationGone : public ProviderError {
 public:
  IntegrationGone(std::string message, int status) : ProviderError(std::move(message), status, false) {}
};

/// Whether an HTTP outcome (status 0 = no response) is worth retrying.
bool is_retryable_status(int status);

/// Builds the ProviderError for a failed response `res` from `provider`, with
/// `description` as the provider's message (falls back to the transport error or status).
ProviderError error_from_response(const std::string& provider, const http::ClientResponse& res,
                                  const std::string& description, int retry_after_seconds = 0);

}  // namespace loket::providers
