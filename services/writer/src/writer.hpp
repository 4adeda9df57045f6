#pragma once
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "loket/crypto/crypto.hpp"
#include "loket/events/events.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/ops/metrics.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/store.hpp"
#include "loket/store/tickets.hpp"

/// The writer worker: threads each normalized message into a ticket, exactly once
/// (DESIGN.md "writer", "Threading"), and runs the outbox relay.
namespace loket::writer {

/// Fetches an attachment's bytes from its provider (never called for refs that carry their
/// bytes). Returns nullopt when the provider cannot serve it (the message is stored anyway, the
/// attachment marked unavailable).
using AttachmentFetcher =
    std::function<std::optional<std::string>(const store::Integration&, const events::AttachmentRef&)>;

/// Looks up the display name of customer `sender_id` of an integration (providers::Adapter::
/// sender_name); "" when there is none or the lookup failed (never throws).
using NameLookup = std::function<std::string(const store::Integration&, const std::string& sender_id)>;

/// What new tickets need: the keyring that encrypts requester access tokens.
struct Settings {
  const crypto::Keyring& keys;
  /// New tickets one requester address may open per workspace and hour
  /// (LOKET_TICKETS_PER_SENDER_HOUR, default 20; 0 = no limit). Past it their messages join
  /// their latest open ticket, tagged `throttled`, with no auto-reply: a mail loop or a noisy
  /// system cannot flood the inbox, and nothing is dropped (issue 16, "No loops, no storms").
  int tickets_per_sender_hour = 20;
  /// Names customers whose message opens a ticket without one (Instagram, VK); empty = none.
  NameLookup name_of = {};
};

/// The tag of tickets that took messages past a sender's hourly limit.
inline constexpr const char* kThrottledTag = "throttled";

/// What happened to a message.
enum class Result { kCreatedTicket, kAppended, kDuplicate, kUnknownIntegration };

/// The workspace an integration belongs to, or nullopt when the integration is unknown.
using WorkspaceOf = std::function<std::optional<std::string>(const std::string& integration_id)>;

/// The threading decision for each message of `batch`, in order (DESIGN.md "Threading"): a
/// message of an unknown integration is kUnknownIntegration; one whose (integration, external
/// message id) is in `stored` or earlier in the batch is kDuplicate; one whose thread
/// (workspace of its integration, channel, external thread id) is in `open` or was opened
/// earlier in the batch is kAppended; otherwise it opens a ticket (kCreatedTicket). A message
/// with a ticket id in `replied` (same index; "" or absent = none; store::find_replied_ticket)
/// has that ticket's thread instead (store::kTicketThread). Pure.
std::vector<Result> thread_batch(const std::vector<events::InboundMessage>& batch, const WorkspaceOf& workspace_of,
                                 std::set<store::MessageKey> stored, std::set<store::ThreadKey> open,
                                 const std::vector<std::string>& replied = {});

/// Writes `batch` in order, in one transaction: dedup on (integration, external message id)
/// against stored messages and earlier ones of the batch, thread each into the non-closed
/// ticket its thread hints name (store::find_replied_ticket) or else the latest non-closed
/// ticket of (workspace, channel, thread), or open a new one (with the workspace's auto-reply
/// unless the message is automated; a customer named only by id is named by settings.name_of
/// first), insert message (as an agent's, already sent, when the business wrote it outside
/// Loket: it neither reopens the ticket nor sends anything), quoted text, Cc, raw source,
/// attachments and outbox events. The workspace comes from the integration row, not the
/// message. The batch's threads are locked (advisory locks, one global order) for the whole
/// transaction, so concurrent writers never open two tickets for one thread. Attachments are
/// fetched before the transaction. Returns one result per message, in order.
/// @throws pqxx exceptions on database failure (nothing of the batch is written then).
std::vector<Result> write_messages(store::Pool& pool, const std::vector<events::InboundMessage>& batch,
                                   const AttachmentFetcher& fetch, const Settings& settings);

/// Records a provider's late delivery failure on the message it names (integration + provider
/// message id, author agent) and announces `message.delivery_updated`, in one transaction.
/// Idempotent: a message already failed, or unknown, is left alone. Returns whether it changed.
/// @throws pqxx exceptions on database failure.
bool apply_receipt(store::Pool& pool, const events::DeliveryReceipt& r);

/// The lookup that asks the integration's adapter (providers::Adapter::sender_name) with
/// decrypted credentials; failures are logged and give "". `keys` and `providers` must outlive it.
NameLookup provider_name_lookup(const crypto::Keyring& keys, const providers::Registry& providers);

/// The fetcher that downloads through the integration's adapter (providers::Adapter::download),
/// decrypting credentials with `keys`; retryable failures are retried three times, then the
/// attachment is stored as unavailable. `keys` and `providers` must outlive the fetcher.
AttachmentFetcher provider_fetcher(const crypto::Keyring& keys, const providers::Registry& providers);

/// Puts a record that can never be written on its dead-letter topic (ops::DeadLetters::send);
/// returns false when stopped before the broker acknowledged.
using DeadLetter = std::function<bool(const kafka::Record& record, const std::string& error)>;

/// Processes a batch from `channel.inbound` in order: text made storable (NUL removed,
/// ill-formed UTF-8 replaced), each run of messages in one transaction (write_messages; if that
/// fails, its messages one by one so a refused record holds up only itself), delivery receipts
/// one by one. Transient failures (store::is_permanent false) are retried with capped backoff
/// until written or `stop()`; permanent ones and malformed records go to `dead_letter` and the
/// batch moves on. Returns false when stopped early (the caller must not commit). Also counts
/// `loket_writer_batch_seconds` and `loket_writer_batch_messages`.
bool process_batch(store::Pool& pool, const std::vector<kafka::Record>& batch, const AttachmentFetcher& fetch,
                   const Settings& settings, const DeadLetter& dead_letter, const std::function<bool()>& stop);

/// The process registry with the writer's families described: `loket_messages_written_total
/// {result}` (created_ticket, appended, duplicate, unknown_integration),
/// `loket_delivery_receipts_total{result}` (applied, unmatched), `loket_outbox_published_total`,
/// `loket_outbox_backlog` and `loket_outbox_publish_seconds`.
ops::Registry& registry();

/// Exports `loket_outbox_backlog` (rows waiting in the outbox), counted at every scrape while
/// the hook lives.
[[nodiscard]] ops::ScrapeHook watch_outbox(store::Pool& pool);

/// Publishes outbox rows, oldest first, in batches of up to `max_rows`: one relay at a time
/// (advisory lock), rows deleted only after the broker acknowledged them, and only those (a
/// concurrent writer may commit a lower id meanwhile; it goes out next time). Returns how many
/// rows were published (0 when another relay holds the lock or nothing is pending).
/// @throws std::runtime_error when the broker does not acknowledge (rows stay for next time).
int relay_once(store::Pool& pool, kafka::Producer& producer, int max_rows);

}  // namespace loket::writer
