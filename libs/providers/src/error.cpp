#include "loket/providers/error.hpp"

namespace loket::providers {

bool is_retryable_status(int status) { return status == 0 || status == 408 || status == 429 || status >= 500; }

ProviderError error_from_response(const std::string& provider, const http::ClientResponse& res,
                                  const std::string& description, int retry_after_seconds) {
  std::string msg = provider + ": ";
  if (res.status == 0)
    msg += "no response (" + res.error + ")";
  else if (!description.empty())
    msg += description + " (HTTP " + std::to_string(res.status) + ")";
  else
    msg += "HTTP " + std::to_string(res.status);
  return ProviderError(msg, res.status, is_retryable_status(res.status), retry_after_seconds);
}

}  // namespace loket::providers
