#pragma once
#include <pqxx/pqxx>

#include <optional>
#include <string>

/// Where replies and requester emails stand on their way out (DESIGN.md "outbound"): a
/// message's delivery state and the once-per-ticket notifications (ticket received, CSAT
/// survey). Every function takes the caller's transaction; settled deliveries are announced as
/// `message.delivery_updated` through the outbox in it.
namespace loket::store {

/// The delivery status of message `message_id` (pending, sent, failed, skipped), or nullopt
/// when the message has none (requester messages, notes) or does not exist.
std::optional<std::string> delivery_status(pqxx::transaction_base& tx, const std::string& message_id);

/// One delivery attempt's outcome on a reply.
struct DeliveryOutcome {
  std::string workspace_id, ticket_id, message_id;
  std::string status;               ///< pending (a retry is scheduled), sent, failed or skipped
  std::string error;                ///< "" when none
  std::string provider;             ///< the adapter's webhook name, or "email"
  std::string integration_id;       ///< the integration it went out through ("" = unchanged)
  std::string provider_message_id;  ///< the provider's id of the sent message ("" = none)
};

/// Writes `d` on its message (status, error, one more attempt; when sent, delivered_at, the
/// integration and the provider's id, which later delivery receipts match on) and, unless it is
/// still pending, emits `message.delivery_updated`.
void record_delivery(pqxx::work& tx, const DeliveryOutcome& d);

/// Marks failed what Loket sent as email with Message-ID `message_id` in workspace
/// `workspace_id` (providers::email::read_sent_message_id: a reply or auto-reply message, the
/// received notice, the CSAT survey), with the bounce's `error`; a message also emits
/// `message.delivery_updated`. Returns false (changing nothing) when it names nothing of this
/// workspace or is failed already.
bool fail_sent_email(pqxx::work& tx, const std::string& workspace_id, const std::string& message_id,
                     const std::string& provider, const std::string& error);

/// Marks failed the agent reply that integration `integration_id` sent as
/// `external_message_id`, with the provider's `error`, and emits `message.delivery_updated`.
/// Returns false (changing nothing) when no such reply exists or it is failed already, so a
/// redelivered receipt is announced once.
bool fail_delivery(pqxx::work& tx, const std::string& integration_id, const std::string& external_message_id,
                   const std::string& provider, const std::string& error);

/// The id of the `kind` notification (ticket_received, csat_survey, transcript) of `ticket_id`
/// to `recipient` while it is still pending (created pending when new), or nullopt once it has
/// settled: one notification per ticket, kind and `once_key` (the requesting event's id for a
/// transcript, "" for the once-per-ticket kinds), whatever the redeliveries.
std::optional<std::string> pending_notification(pqxx::work& tx, const std::string& workspace_id,
                                                const std::string& ticket_id, const std::string& kind,
                                                const std::string& recipient, const std::string& once_key = "");

/// Whether the team notification of event `event_id` to team-chat integration
/// `integration_id` is still to be posted (created pending when new): false once it settled,
/// so a redelivered event posts once per integration.
bool pending_team_notice(pqxx::work& tx, const std::string& event_id, const std::string& integration_id,
                         const std::string& workspace_id, const std::string& ticket_id);

/// Records an attempt on a team notification: status (pending, sent, failed), error ("" =
/// none), the provider's message id ("" = none).
void record_team_notice(pqxx::work& tx, const std::string& event_id, const std::string& integration_id,
                        const std::string& status, const std::string& error, const std::string& provider_message_id);

/// Records an attempt on notification `id`: status (pending, sent, failed, skipped), error ("" =
/// none) and the provider's message id ("" = none).
void record_notification(pqxx::work& tx, const std::string& id, const std::string& status, const std::string& error,
                         const std::string& provider_message_id);

}  // namespace loket::store
