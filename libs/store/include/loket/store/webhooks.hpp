#pragma once
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
/// go out in that order), and due no earlier than the ticket's pending deliveries to the same
/// endpoint. One statement for the whole batch. Returns how many were new.
int enqueue_webhook_deliveries(pqxx::work& tx, const std::vector<WebhookEvent>& events);

/// Queues `e` for the endpoint of API-channel inbox `integration_id` (its agent replies), once
/// however often this runs, due no earlier than the ticket's pending deliveries there. False when the inbox has no
/// endpoint (it was created without a webhookUrl).
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

/// Claims up to `batch` due deliveries of one endpoint for an attempt each: pending, due, not
/// leased, each the first pending one of its endpoint and ticket (so one ticket's deliveries go
/// out in event order, and a batch holds distinct tickets), of the enabled endpoint with fewer
/// than `max_batches` claims in flight whose first such delivery is due earliest. The claim is
/// a lease of `lease_seconds` (then another worker may take the rows) and counts an attempt.
/// nullopt when nothing is due. One statement (and one to read the endpoint); concurrent
/// workers never claim the same delivery, and exceed `max_batches` only by claiming at the
/// very same moment.
std::optional<WebhookBatch> claim_webhook_deliveries(pqxx::work& tx, int lease_seconds, int max_batches, int batch);

/// Records attempts (delivery id, outcome) on deliveries of `endpoint_id` in one statement, and
/// the endpoint's failing_since: cleared when any was delivered, else set by the first failure.
/// The ticket's later deliveries follow: due no earlier than a retried one's next attempt (so
/// rows waiting behind it are not due, and claims never scan them), due now once it is done.
void record_webhook_attempts(pqxx::work& tx, const std::string& endpoint_id,
                             const std::vector<std::pair<std::string, WebhookAttempt>>& attempts);

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
