#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

/// Outgoing webhooks for integrators (issue 18; docs/webhooks.md): endpoints, and one delivery
/// per endpoint and subscribed ticket event, kept until delivered or given up on.
namespace loket::store {

/// A webhook endpoint (its secrets still encrypted, AAD = id).
struct WebhookEndpoint {
  std::string id, workspace_id, url, description;
  std::vector<std::string> events;  ///< ticket event types, e.g. "ticket.created"
  bool enabled = true;
  std::string disabled_reason;  ///< why Loket turned it off ("" = it did not)
  std::string secret, secret_key_id;
  /// The secret before the last rotation, which still signs until previous_until ("" = none).
  std::string previous_secret, previous_secret_key_id, previous_until;
  bool previous_valid = false;  ///< previous_until is in the future
  std::string failing_since;    ///< RFC 3339 of the first failure since the last success, "" = none
  std::string created_at, updated_at;
  /// The API-channel inbox whose agent replies it receives ("" = an integrator's endpoint, fed
  /// by ticket events). The channel owns it: its events and existence follow the integration.
  std::string integration_id;
};

/// The workspace's endpoints, oldest first.
std::vector<WebhookEndpoint> list_webhook_endpoints(pqxx::transaction_base& tx, const std::string& workspace_id);

/// Endpoint `id` of `workspace_id`, or nullopt.
std::optional<WebhookEndpoint> find_webhook_endpoint(pqxx::transaction_base& tx, const std::string& workspace_id,
                                                     const std::string& id);

/// Inserts `e`, or updates its url, description, events, enabled (clearing disabled_reason
/// when enabled) and secrets; `previous_until_seconds` > 0 keeps `e.previous_secret` signing
/// for that long from now. Returns the stored endpoint.
WebhookEndpoint save_webhook_endpoint(pqxx::work& tx, const WebhookEndpoint& e, int previous_until_seconds = 0);

/// Deletes endpoint `id` of `workspace_id` and its deliveries; false when there is none.
bool delete_webhook_endpoint(pqxx::work& tx, const std::string& workspace_id, const std::string& id);

/// One ticket event offered to webhook endpoints.
struct WebhookEvent {
  std::string workspace_id, event_id, event_type, ticket_id;
  std::string payload;  ///< the ticket.events record, as published
};

/// One delivery per enabled endpoint of each event's workspace subscribed to its type, each
/// once however often this runs, numbered in the order of `events` (deliveries of one ticket
/// go out in that order): due now, or waiting behind the ticket's earlier pending delivery to
/// the same endpoint until that one is done (record_webhook_attempts). Two statements for the
/// whole batch (a key-share lock on the last pending delivery of each endpoint and ticket, then
/// the insert). Returns how many were new.
int enqueue_webhook_deliveries(pqxx::work& tx, const std::vector<WebhookEvent>& events);

/// Queues `e` for the endpoint of API-channel inbox `integration_id` (its agent replies), once
/// however often this runs, behind the ticket's pending delivery there if it has one (as
/// enqueue_webhook_deliveries). False when the inbox has no endpoint (it was created without a
/// webhookUrl).
bool enqueue_inbox_webhook(pqxx::work& tx, const std::string& integration_id, const WebhookEvent& e);

/// The endpoint of API-channel inbox `integration_id`, or nullopt.
std::optional<WebhookEndpoint> inbox_webhook_endpoint(pqxx::transaction_base& tx, const std::string& integration_id);

/// A delivery, as the log shows it and the dispatcher sends it.
struct WebhookDelivery {
  std::string id, endpoint_id, workspace_id, event_id, event_type, ticket_id, payload, status;
  int attempts = 0;
  std::optional<int> last_status_code, last_latency_ms;
  std::string last_error, response_excerpt, next_attempt_at, created_at, delivered_at;
};

/// How an attempt ended.
struct WebhookAttempt {
  enum class Outcome { kDelivered, kRetry, kFailed } outcome = Outcome::kDelivered;
  int retry_in_seconds = 0;  ///< kRetry: when to try again
  std::optional<int> status_code;
  int latency_ms = 0;
  std::string error, response_excerpt;
};

/// Deliveries of one endpoint claimed together.
struct WebhookBatch {
  WebhookEndpoint endpoint;
  std::vector<WebhookDelivery> deliveries;  ///< never empty; each of a different ticket
};

/// A place in an endpoint's queue: deliveries are claimed in (due time, seq) order.
struct WebhookPosition {
  std::int64_t due_us = 0;  ///< next_attempt_at, microseconds since the Unix epoch
  std::int64_t seq = 0;
  friend bool operator<(const WebhookPosition& a, const WebhookPosition& b) {
    return a.due_us != b.due_us ? a.due_us < b.due_us : a.seq < b.seq;
  }
};

/// What one claim found.
struct WebhookClaim {
  std::optional<WebhookBatch> batch;  ///< nullopt: nothing was due (or another worker took it)
  /// Each endpoint looked at, and where its next claim may start: nothing before that place was
  /// claimable (delivered, failed, leased, not yet due, or waiting behind an earlier delivery of
  /// its ticket, which brings it forward when done).
  std::vector<std::pair<std::string, WebhookPosition>> positions;
};

/// How long after its due time a delivery may still appear in the queue (the write that made it
/// due can commit that much later): a claim never starts later than this before now.
constexpr int kWebhookLateWriteSeconds = 1;

/// Claims up to `batch` due deliveries of one endpoint for an attempt each: pending, due, not
/// leased, each the first pending one of its endpoint and ticket (so one ticket's deliveries go
/// out in event order, and a batch holds distinct tickets), of the enabled endpoint not in
/// `skip` whose first such delivery is due earliest. Each endpoint is looked at from its
/// position in `from` (absent: from the start), or from kWebhookLateWriteSeconds before now if
/// that is earlier — so a claim does not walk the dead index entries of the deliveries already
/// made. The caller keeps the positions the claim returns and forgets them now and then (every
/// few seconds): a delivery whose lease ran out behind a position (its worker died) is found again
/// then. The claim is a lease of `lease_seconds` (then another worker may take the rows) and
/// counts an attempt. `take`, when given, is asked before an endpoint's batch is claimed, in
/// due order, and false passes on to the next endpoint (the caller's limit of batches in
/// flight: reserve a place there, and give it back when the claim comes back empty). Two
/// statements (a look at each endpoint; the claim, which returns the endpoint too), each whole
/// on its own: `tx` may be a pqxx::nontransaction (no BEGIN and COMMIT round trips; a lease
/// lost in a crash of PostgreSQL is only a claim made again, so the outbound's dispatch
/// connections do not wait for the disk either). Concurrent workers never claim the same
/// delivery.
WebhookClaim claim_webhook_deliveries(pqxx::transaction_base& tx,
                                      const std::vector<std::pair<std::string, WebhookPosition>>& from,
                                      const std::vector<std::string>& skip, int lease_seconds, int batch,
                                      const std::function<bool(const std::string&)>& take = {});

/// Records attempts (delivery id, outcome) on deliveries of `endpoint_id`, and the endpoint's
/// failing_since: cleared when any was delivered, else set by the first failure. The next
/// pending delivery of a ticket whose delivery is done (delivered or failed) stops waiting
/// behind it and is due now; a retried one keeps its ticket's later deliveries waiting. Locks
/// the recorded deliveries FOR UPDATE, in id order, before writing them (waiting for a fan-out
/// that is queueing behind one of them); two statements, the second (bringing deliveries
/// forward) only when one is done. An outcome lost in a crash of PostgreSQL is an attempt made
/// again, so the outbound's dispatch connections commit it without waiting for the disk.
void record_webhook_attempts(pqxx::work& tx, const std::string& endpoint_id,
                             const std::vector<std::pair<std::string, WebhookAttempt>>& attempts);

/// Brings in every pending delivery still waiting behind an earlier one of its ticket when
/// there is no earlier pending one any more (due now): none is left so by this version, but a
/// dispatcher of the version before (during a rolling upgrade) finishes deliveries without
/// bringing the next one in. Reads every pending delivery once (webhook_deliveries_order: about
/// 1 s for 100,000); one caller at a time over all processes, the others return 0 at once.
/// Returns how many it brought in.
int release_stranded_webhook_deliveries(pqxx::work& tx);

/// Turns endpoint `id` off with `reason` when it is on (its pending deliveries wait until it is
/// enabled again), and makes its workspace owners due an email about it (claim_owners_notice).
void disable_webhook_endpoint(pqxx::work& tx, const std::string& id, const std::string& reason);

/// Turns endpoint `id` off with `reason` when it has failed for more than `seconds` without a
/// delivery in between, like disable_webhook_endpoint; true when it did.
bool disable_webhook_endpoint_failing_since(pqxx::work& tx, const std::string& id, int seconds,
                                            const std::string& reason);

/// Claims an endpoint Loket turned off whose owners are due the email about it, for
/// `retry_seconds` (then it is due again unless clear_owners_notice() was called); nullopt when
/// none is due. Enabling an endpoint again cancels its notice. Concurrent callers never claim
/// the same endpoint.
std::optional<WebhookEndpoint> claim_owners_notice(pqxx::work& tx, int retry_seconds);

/// The owners of endpoint `id` were told (or cannot be): no notice is due any more.
void clear_owners_notice(pqxx::work& tx, const std::string& id);

/// The endpoint's deliveries, newest first, at most `limit`; only `status` when not "".
std::vector<WebhookDelivery> list_webhook_deliveries(pqxx::transaction_base& tx, const std::string& endpoint_id,
                                                     const std::string& status, int limit);

/// Queues delivery `delivery_id` of `endpoint_id` again now (same webhook-id); nullopt when
/// there is no such delivery.
std::optional<WebhookDelivery> redeliver_webhook(pqxx::work& tx, const std::string& endpoint_id,
                                                 const std::string& delivery_id);

/// Queues again every delivery of `endpoint_id` created in [from, to) (RFC 3339), in their
/// original order; returns how many.
int replay_webhooks(pqxx::work& tx, const std::string& endpoint_id, const std::string& from, const std::string& to);

}  // namespace loket::store
