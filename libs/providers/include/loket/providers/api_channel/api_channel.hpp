#pragma once
#include <memory>
#include <string>

#include "loket/providers/adapter.hpp"

/// The API channel (issue 18; seed 004 "Creating an API channel inbox";
/// docs/channels/api-channel.md): an inbox the integrator's own backend or app pushes its users'
/// messages into through the public client API, receiving agents' replies as signed webhooks.
/// Nothing to call at a provider: connect() makes the inbox identifier and HMAC token.
namespace loket::providers::api_channel {

/// The integration provider name in the API and the database; also the ticket channel.
inline constexpr const char* kIntegration = "api";

/// The adapter. Connect body: {name (1–100 characters), webhookUrl? (checked by the SSRF
/// guard), hmacMandatory? (default false)}; it shows `inboxIdentifier` and `hmacToken` once.
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::api_channel
