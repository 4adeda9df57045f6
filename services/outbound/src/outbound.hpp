#pragma once
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "email.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/events/ticket_events.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/store.hpp"

/// The outbound worker: delivers agent public replies on the ticket's channel, with retries
/// (`outbound.retry`) and dead letters (`outbound.dlq`); the delivery result is recorded on
/// the message and announced as `message.delivery_updated` (DESIGN.md "outbound").
namespace loket::outbound {

/// Settings (LOKET_OUTBOUND_MAX_ATTEMPTS, LOKET_OUTBOUND_BACKOFF_MS) and the providers that
/// send. The registry must outlive every call.
struct Options {
  int max_attempts = 6;                            ///< total tries before dead-lettering
  std::chrono::milliseconds base_backoff{1000};    ///< doubled per attempt, capped at 60 s
  const providers::Registry* providers = nullptr;  ///< the adapters replies and emails go out through
  EmailOptions email;                              ///< requester email
  /// The ticket in the agent app, linked from team notifications: LOKET_AGENT_APP_URL +
  /// LOKET_AGENT_TICKET_PATH (default "/tickets/{ticketId}"); "" = no link.
  std::string agent_ticket_url;
};

/// The integrations a reply may go out through, looked up by the caller (the database in the
/// worker, fakes in tests).
struct IntegrationLookup {
  /// The integration with this id (any status), or nullopt.
  std::function<std::optional<store::Integration>(const std::string& id)> by_id;
  /// The ticket's workspace's most recently connected live integration of these providers.
  std::function<std::optional<store::Integration>(const std::vector<std::string>& providers)> latest;
};

/// Where a reply goes: the integration that sends it and the recipient, or why it cannot go.
struct Target {
  std::optional<store::Integration> integration;
  std::string to;     ///< chat id or E.164 number
  std::string error;  ///< "" when the reply can go; else the reason recorded as its failure
};

/// Chooses where a reply on `route` goes, per its channel's providers::ReplyTo (`channel` must not
/// reply by email): kThread → the chat (`externalThreadId`) through the integration the ticket
/// came in on (`integrationId`); kPhone → the requester's E.164 number (else the thread id)
/// through the workspace's most recently connected integration of the channel (seed 000). A
/// missing, disconnected or credential-less integration or an empty recipient sets `error`.
/// Pure over `lookup`.
Target choose_target(const providers::ChannelDescriptor& channel, const events::Route& route,
                     const providers::Registry& providers, const IntegrationLookup& lookup);

/// What handle_event() did.
enum class Outcome { kIgnored, kSent, kFailed, kSkipped, kRetryScheduled, kDeadLettered, kAlreadyDone };

/// Handles one `ticket.events` record value, or one `outbound.retry` record value (which
/// wraps the event with `attempt` and `notBeforeMs`). `ticket.created` sends the requester the
/// ticket-received email and a resolution (`ticket.updated` to resolved) the CSAT survey, when
/// the ticket has an email address; `transcript.requested` emails the conversation to the
/// address asked for (once per event). `message.created` for a public agent or system message
/// with a pending delivery is delivered per the ticket channel's providers::ReplyTo: by email
/// (the workspace's mailer, else the platform's); to the chat through the integration the
/// ticket came in on; or to the requester's E.164 number through the workspace's most recently
/// connected integration of the channel (seed 000), and the provider's message id is stored on
/// the message. Idempotent: a message already sent or failed
/// is not sent again. Retryable provider errors go to `outbound.retry` (acknowledged before
/// returning) until max_attempts, then to `outbound.dlq` with status failed.
/// @throws on database or broker failure (the caller retries the record).
Outcome handle_event(const std::string& value, int attempt, store::Pool& pool, kafka::Producer& producer,
                     const crypto::Keyring& keys, const Options& opt);

/// Handles one `ticket.events` record for the team chats (issue 18; a consumer group of its
/// own, so a slow Slack never delays a customer's reply): a customer's first message on a
/// ticket is posted as a new ticket, a later one as a reply, and `sla.warning` / `sla.breached`
/// (issue 21) as "SLA at risk" / "SLA breached", to every `active` integration of
/// the workspace whose provider has team_notices — or only to `target` ("team:<integrationId>",
/// from an `outbound.retry` record). Once per event and integration (`team_notices` rows); each
/// integration retries on its own (429 with Retry-After, 5xx, unreachable) until max_attempts,
/// then `outbound.dlq`; a destination the provider says is gone marks the integration `error`.
/// Returns the last integration's outcome (kIgnored when there is nothing to post).
/// @throws on database or broker failure (the caller retries the record).
Outcome handle_team_event(const std::string& value, int attempt, const std::string& target, store::Pool& pool,
                          kafka::Producer& producer, const crypto::Keyring& keys, const Options& opt);

}  // namespace loket::outbound
