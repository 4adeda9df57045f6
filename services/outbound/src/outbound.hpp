#pragma once
#include <chrono>
#include <functional>
#include <string>

#include "loket/crypto/crypto.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/providers/common.hpp"
#include "email.hpp"
#include "loket/store/store.hpp"

/// The outbound worker: delivers agent public replies on the ticket's channel, with retries
/// (`outbound.retry`) and dead letters (`outbound.dlq`); the delivery result is recorded on
/// the message and announced as `message.delivery_updated` (DESIGN.md "outbound").
namespace loket::outbound {

/// Settings (LOKET_OUTBOUND_MAX_ATTEMPTS, LOKET_OUTBOUND_BACKOFF_MS).
struct Options {
  int max_attempts = 6;                          ///< total tries before dead-lettering
  std::chrono::milliseconds base_backoff{1000};  ///< doubled per attempt, capped at 60 s
  providers::Endpoints endpoints;                ///< provider API base URLs
  /// Public base URL of ingress (LOKET_PUBLIC_WEBHOOK_URL); when set, Twilio sends report late
  /// failures to the integration's webhook URL as status callbacks.
  std::string public_webhook_url;
  EmailOptions email;  ///< requester email (Resend)
};

/// What handle_event() did.
enum class Outcome { kIgnored, kSent, kFailed, kSkipped, kRetryScheduled, kDeadLettered, kAlreadyDone };

/// Handles one `ticket.events` record value, or one `outbound.retry` record value (which
/// wraps the event with `attempt` and `notBeforeMs`). `ticket.created` sends the requester the
/// ticket-received email and a resolution (`ticket.updated` to resolved) the CSAT survey, when
/// the ticket has an email address. `message.created` for a public agent or system message
/// with a pending delivery is delivered: tickets of other channels by email (Resend); `telegram` tickets go out through the ticket's
/// bot; `whatsapp` tickets through the workspace's most recently connected WhatsApp
/// integration (Twilio or Cloud API, seed 000) to the requester's E.164 number, and the
/// provider's message id is stored on the message. Idempotent: a message already sent or failed
/// is not sent again. Retryable provider errors go to `outbound.retry` (acknowledged before
/// returning) until max_attempts, then to `outbound.dlq` with status failed.
/// @throws on database or broker failure (the caller retries the record).
Outcome handle_event(const std::string& value, int attempt, store::Pool& pool,
                     kafka::Producer& producer, const crypto::Keyring& keys, const Options& opt);

}  // namespace loket::outbound
