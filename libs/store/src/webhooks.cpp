#include "loket/store/webhooks.hpp"

#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {
namespace {
constexpr const char* kEndpointColumns =
    "e.id, e.workspace_id, e.url, e.description, array_to_string(e.events, E'\\x1f'), e.enabled, "
    "coalesce(e.disabled_reason, ''), e.secret, e.secret_key_id, e.previous_secret, "
    "coalesce(e.previous_secret_key_id, ''), coalesce(rfc3339(e.previous_until), ''), "
    "coalesce(e.previous_until > now(), false), coalesce(rfc3339(e.failing_since), ''), rfc3339(e.created_at), "
    "rfc3339(e.updated_at), coalesce(e.integration_id, '') ";

WebhookEndpoint endpoint_from(const pqxx::row& r, int at = 0) {
  WebhookEndpoint e;
  e.id = r[at + 0].as<std::string>();
  e.workspace_id = r[at + 1].as<std::string>();
  e.url = r[at + 2].as<std::string>();
  e.description = r[at + 3].as<std::string>();
  for (auto& t : core::split(r[at + 4].as<std::string>(""), '\x1f'))
    if (!t.empty()) e.events.push_back(t);
  e.enabled = r[at + 5].as<bool>();
  e.disabled_reason = r[at + 6].as<std::string>();
  e.secret = pqxx::binarystring(r[at + 7]).str();
  e.secret_key_id = r[at + 8].as<std::string>();
  if (!r[at + 9].is_null()) e.previous_secret = pqxx::binarystring(r[at + 9]).str();
  e.previous_secret_key_id = r[at + 10].as<std::string>();
  e.previous_until = r[at + 11].as<std::string>();
  e.previous_valid = r[at + 12].as<bool>();
  e.failing_since = r[at + 13].as<std::string>();
  e.created_at = r[at + 14].as<std::string>();
  e.updated_at = r[at + 15].as<std::string>();
  e.integration_id = r[at + 16].as<std::string>();
  return e;
}

constexpr const char* kDeliveryColumns =
    "d.id, d.endpoint_id, d.workspace_id, d.event_id, d.event_type, d.ticket_id, d.payload, d.status, d.attempts, "
    "d.last_status_code, d.last_latency_ms, coalesce(d.last_error, ''), coalesce(d.response_excerpt, ''), "
    "coalesce(rfc3339(d.next_attempt_at), ''), rfc3339(d.created_at), coalesce(rfc3339(d.delivered_at), '') ";

WebhookDelivery delivery_from(const pqxx::row& r) {
  WebhookDelivery d;
  d.id = r[0].as<std::string>();
  d.endpoint_id = r[1].as<std::string>();
  d.workspace_id = r[2].as<std::string>();
  d.event_id = r[3].as<std::string>();
  d.event_type = r[4].as<std::string>();
  d.ticket_id = r[5].as<std::string>();
  d.payload = r[6].as<std::string>();
  d.status = r[7].as<std::string>();
  d.attempts = r[8].as<int>();
  if (!r[9].is_null()) d.last_status_code = r[9].as<int>();
  if (!r[10].is_null()) d.last_latency_ms = r[10].as<int>();
  d.last_error = r[11].as<std::string>();
  d.response_excerpt = r[12].as<std::string>();
  d.next_attempt_at = d.status == "pending" ? r[13].as<std::string>() : "";
  d.created_at = r[14].as<std::string>();
  d.delivered_at = r[15].as<std::string>();
  return d;
}

std::string joined(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "\x1f") + s;
  return out;
}
}  // namespace

std::vector<WebhookEndpoint> list_webhook_endpoints(pqxx::transaction_base& tx, const std::string& workspace_id) {
  std::vector<WebhookEndpoint> out;
  for (const auto& r :
       tx.exec_params(std::string("SELECT ") + kEndpointColumns +
                          "FROM webhook_endpoints e WHERE e.workspace_id = $1 ORDER BY e.created_at, e.id",
                      workspace_id))
    out.push_back(endpoint_from(r));
  return out;
}

std::optional<WebhookEndpoint> find_webhook_endpoint(pqxx::transaction_base& tx, const std::string& workspace_id,
                                                     const std::string& id) {
  auto r = tx.exec_params(
      std::string("SELECT ") + kEndpointColumns + "FROM webhook_endpoints e WHERE e.workspace_id = $1 AND e.id = $2",
      workspace_id, id);
  if (r.empty()) return std::nullopt;
  return endpoint_from(r[0]);
}

WebhookEndpoint save_webhook_endpoint(pqxx::work& tx, const WebhookEndpoint& e, int previous_until_seconds) {
  pqxx::binarystring previous(e.previous_secret);  // '' = none (a secret is never empty)
  tx.exec_params0(
      "INSERT INTO webhook_endpoints (id, workspace_id, url, description, events, enabled, secret, secret_key_id, "
      "previous_secret, previous_secret_key_id, previous_until, integration_id) "
      "VALUES ($1, $2, $3, $4, coalesce(string_to_array($5, E'\\x1f'), '{}'), $6, $7, $8, nullif($9, ''::bytea), "
      "nullif($10, ''), "
      "CASE WHEN $11 > 0 THEN now() + make_interval(secs => $11) END, nullif($12, '')) "
      "ON CONFLICT (id) DO UPDATE SET url = EXCLUDED.url, description = EXCLUDED.description, "
      "events = EXCLUDED.events, enabled = EXCLUDED.enabled, "
      "disabled_reason = CASE WHEN EXCLUDED.enabled THEN NULL ELSE webhook_endpoints.disabled_reason END, "
      "owners_notice_at = CASE WHEN EXCLUDED.enabled THEN NULL ELSE webhook_endpoints.owners_notice_at END, "
      "failing_since = CASE WHEN EXCLUDED.enabled AND NOT webhook_endpoints.enabled THEN NULL "
      "ELSE webhook_endpoints.failing_since END, "
      "secret = EXCLUDED.secret, secret_key_id = EXCLUDED.secret_key_id, "
      "previous_secret = CASE WHEN $11 > 0 THEN EXCLUDED.previous_secret ELSE webhook_endpoints.previous_secret END, "
      "previous_secret_key_id = CASE WHEN $11 > 0 THEN EXCLUDED.previous_secret_key_id "
      "ELSE webhook_endpoints.previous_secret_key_id END, "
      "previous_until = CASE WHEN $11 > 0 THEN EXCLUDED.previous_until ELSE webhook_endpoints.previous_until END, "
      "updated_at = now()",
      e.id, e.workspace_id, e.url, e.description, joined(e.events), e.enabled, pqxx::binarystring(e.secret),
      e.secret_key_id, previous, e.previous_secret_key_id, previous_until_seconds, e.integration_id);
  return *find_webhook_endpoint(tx, e.workspace_id, e.id);
}

bool delete_webhook_endpoint(pqxx::work& tx, const std::string& workspace_id, const std::string& id) {
  return !tx.exec_params("DELETE FROM webhook_endpoints WHERE workspace_id = $1 AND id = $2 RETURNING id", workspace_id,
                         id)
              .empty();
}

int enqueue_webhook_deliveries(pqxx::work& tx, const std::vector<WebhookEvent>& events) {
  if (events.empty()) return 0;
  std::vector<std::vector<std::optional<std::string>>> rows;
  rows.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    rows.push_back({std::to_string(i), e.workspace_id, e.event_id, e.event_type, e.ticket_id, e.payload});
  }
  // One statement for the batch; ORDER BY numbers the rows (seq) in event order. Not a named
  // prepared statement, here and in the claim and the outcomes: a generic plan made while the
  // table was young (a fresh install, the first minutes of a burst) kept scanning the wrong
  // index once it had grown (35 s claims); planned each time, the plan follows the table.
  static const std::string kEnqueue =
      "INSERT INTO webhook_deliveries (id, endpoint_id, workspace_id, event_id, event_type, ticket_id, payload, "
      "status, next_attempt_at) "
      "SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), e.id, r.ws, r.ev, r.ty, r.t, r.p, 'pending', "
      "greatest(now(), (SELECT max(q.next_attempt_at) FROM webhook_deliveries q WHERE q.endpoint_id = e.id "
      "AND q.ticket_id = r.t AND q.status = 'pending')) "  // not due before the ticket's earlier deliveries
      "FROM jsonb_to_recordset($1::jsonb) AS r(o int, ws text, ev text, ty text, t text, p text) "
      "JOIN webhook_endpoints e ON e.workspace_id = r.ws AND e.enabled AND r.ty = ANY(e.events) "
      "AND e.integration_id IS NULL "
      "ORDER BY r.o, e.id ON CONFLICT (endpoint_id, event_id) DO NOTHING";
  return static_cast<int>(
      tx.exec_params(kEnqueue, json_records({"o", "ws", "ev", "ty", "t", "p"}, rows)).affected_rows());
}

bool enqueue_inbox_webhook(pqxx::work& tx, const std::string& integration_id, const WebhookEvent& e) {
  auto r = tx.exec_params1(
      "WITH ep AS (SELECT id FROM webhook_endpoints WHERE integration_id = $1), "
      "ins AS (INSERT INTO webhook_deliveries (id, endpoint_id, workspace_id, event_id, event_type, ticket_id, "
      "payload, status, next_attempt_at) SELECT $2, ep.id, $3, $4, $5, $6, $7, 'pending', "
      "greatest(now(), (SELECT max(q.next_attempt_at) FROM webhook_deliveries q WHERE q.endpoint_id = ep.id "
      "AND q.ticket_id = $6 AND q.status = 'pending')) FROM ep "
      "ON CONFLICT (endpoint_id, event_id) DO NOTHING) "
      "SELECT count(*) FROM ep",
      integration_id, core::new_id("msg"), e.workspace_id, e.event_id, e.event_type, e.ticket_id, e.payload);
  return r[0].as<int>() > 0;
}

std::optional<WebhookEndpoint> inbox_webhook_endpoint(pqxx::transaction_base& tx, const std::string& integration_id) {
  auto r = tx.exec_params(
      std::string("SELECT ") + kEndpointColumns + " FROM webhook_endpoints e WHERE e.integration_id = $1",
      integration_id);
  if (r.empty()) return std::nullopt;
  return endpoint_from(r[0]);
}

std::optional<WebhookBatch> claim_webhook_deliveries(pqxx::work& tx, int lease_seconds, int max_batches, int batch) {
  // A delivery can be claimed when it is pending, due, not leased, and the first pending one of
  // its endpoint and ticket. The last test is a scalar subquery (one probe of
  // webhook_deliveries_order per row): as NOT EXISTS it became an anti-join the planner, with no
  // statistics yet for a new endpoint, could run as a scan of all its rows per row.
  auto claimable = [](const char* endpoint) {
    return std::string(" FROM webhook_deliveries c WHERE c.endpoint_id = ") + endpoint +
           " AND c.status = 'pending' AND c.next_attempt_at <= now()"
           " AND (c.leased_until IS NULL OR c.leased_until < now())"
           " AND c.seq = (SELECT min(p.seq) FROM webhook_deliveries p WHERE p.endpoint_id = c.endpoint_id"
           " AND p.ticket_id = c.ticket_id AND p.status = 'pending')"
           " ORDER BY c.next_attempt_at, c.seq";
  };
  static const std::string kClaim =
      // Batches in flight per endpoint: the rows of one claim share one leased_until (this
      // transaction's now() plus the lease), so distinct values count claims.
      "WITH busy AS ("
      " SELECT endpoint_id FROM webhook_deliveries WHERE status = 'pending' AND leased_until > now()"
      " GROUP BY endpoint_id HAVING count(DISTINCT leased_until) >= $2), "
      "pick AS ("  // the endpoint not busy whose first claimable delivery is due earliest
      " SELECT e.id FROM webhook_endpoints e CROSS JOIN LATERAL (SELECT c.next_attempt_at, c.seq" +
      claimable("e.id") +
      " LIMIT 1 FOR UPDATE SKIP LOCKED) c"
      " WHERE e.enabled AND e.id NOT IN (SELECT endpoint_id FROM busy)"
      " ORDER BY c.next_attempt_at, c.seq LIMIT 1), "
      "next AS (SELECT c.id FROM pick CROSS JOIN LATERAL (SELECT c.id" +
      claimable("pick.id") +
      " LIMIT $3 FOR UPDATE SKIP LOCKED) c) "
      "UPDATE webhook_deliveries d SET leased_until = now() + make_interval(secs => $1), "
      "attempts = d.attempts + 1 FROM next WHERE d.id = next.id RETURNING " +
      kDeliveryColumns;
  auto rows = tx.exec_params(kClaim, lease_seconds, max_batches, batch);
  if (rows.empty()) return std::nullopt;
  WebhookBatch out;
  for (const auto& r : rows) out.deliveries.push_back(delivery_from(r));
  auto e = tx.exec_params1(std::string("SELECT ") + kEndpointColumns + "FROM webhook_endpoints e WHERE e.id = $1",
                           out.deliveries.front().endpoint_id);
  out.endpoint = endpoint_from(e);
  return out;
}

void record_webhook_attempts(pqxx::work& tx, const std::string& endpoint_id,
                             const std::vector<std::pair<std::string, WebhookAttempt>>& attempts) {
  if (attempts.empty()) return;
  using O = WebhookAttempt::Outcome;
  std::vector<std::vector<std::optional<std::string>>> rows;
  bool delivered = false;
  for (const auto& [id, a] : attempts) {
    delivered = delivered || a.outcome == O::kDelivered;
    const char* status = a.outcome == O::kDelivered ? "delivered" : a.outcome == O::kRetry ? "pending" : "failed";
    rows.push_back({id, status,
                    a.status_code ? std::optional<std::string>(std::to_string(*a.status_code)) : std::nullopt,
                    std::to_string(a.latency_ms), a.error, a.response_excerpt, std::to_string(a.retry_in_seconds)});
  }
  static const std::string kRecord =
      "WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) "
      "AS r(id text, st text, code int, lat int, err text, ex text, wait int)), "
      "u AS (UPDATE webhook_deliveries d SET status = r.st, leased_until = NULL, last_status_code = r.code, "
      "last_latency_ms = r.lat, last_error = nullif(r.err, ''), response_excerpt = nullif(r.ex, ''), "
      "next_attempt_at = CASE WHEN r.st = 'pending' THEN now() + make_interval(secs => r.wait) "
      "ELSE d.next_attempt_at END, delivered_at = CASE WHEN r.st = 'delivered' THEN now() END "
      // Joined by id, and the followers through u's own columns: a new endpoint has no
      // statistics, and a plan keyed on "endpoint_id = $2" would scan all its rows.
      "FROM r WHERE d.id = r.id "
      "RETURNING d.endpoint_id, d.ticket_id, d.seq, d.status, d.next_attempt_at), "
      // The ticket's later deliveries cannot go before this one: due no earlier than its
      // retry, so a claim never scans rows waiting behind one; due now once it is done.
      "f AS (UPDATE webhook_deliveries f SET next_attempt_at = CASE WHEN u.status = 'pending' "
      "THEN u.next_attempt_at ELSE now() END FROM u WHERE f.endpoint_id = u.endpoint_id AND f.ticket_id = u.ticket_id "
      "AND f.status = 'pending' AND f.seq > u.seq AND CASE WHEN u.status = 'pending' "
      "THEN f.next_attempt_at < u.next_attempt_at ELSE f.attempts = 0 AND f.next_attempt_at > now() END) "
      "UPDATE webhook_endpoints SET failing_since = CASE WHEN $3 THEN NULL ELSE now() END "
      "WHERE id = $2 AND (failing_since IS NULL) = NOT $3";  // only a change: no write, no lock
  tx.exec_params0(kRecord, json_records({"id", "st", "code", "lat", "err", "ex", "wait"}, rows), endpoint_id,
                  delivered);
}

void disable_webhook_endpoint(pqxx::work& tx, const std::string& id, const std::string& reason) {
  tx.exec_params0(
      "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $2, owners_notice_at = now(), "
      "updated_at = now() WHERE id = $1 AND enabled",
      id, reason);
}

bool disable_webhook_endpoint_failing_since(pqxx::work& tx, const std::string& id, int seconds,
                                            const std::string& reason) {
  return !tx.exec_params(
                "UPDATE webhook_endpoints SET enabled = false, disabled_reason = $3, owners_notice_at = now(), "
                "updated_at = now() WHERE id = $1 AND enabled AND failing_since < now() - make_interval(secs => $2) "
                "RETURNING id",
                id, seconds, reason)
              .empty();
}

std::optional<WebhookEndpoint> claim_owners_notice(pqxx::work& tx, int retry_seconds) {
  auto r = tx.exec_params(
      "UPDATE webhook_endpoints e SET owners_notice_at = now() + make_interval(secs => $1) WHERE e.id = ("
      " SELECT id FROM webhook_endpoints WHERE owners_notice_at <= now() AND NOT enabled"
      " ORDER BY owners_notice_at LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING " +
          std::string(kEndpointColumns),
      retry_seconds);
  if (r.empty()) return std::nullopt;
  return endpoint_from(r[0]);
}

void clear_owners_notice(pqxx::work& tx, const std::string& id) {
  tx.exec_params0("UPDATE webhook_endpoints SET owners_notice_at = NULL WHERE id = $1", id);
}

std::vector<WebhookDelivery> list_webhook_deliveries(pqxx::transaction_base& tx, const std::string& endpoint_id,
                                                     const std::string& status, int limit) {
  std::vector<WebhookDelivery> out;
  for (const auto& r : tx.exec_params(std::string("SELECT ") + kDeliveryColumns +
                                          "FROM webhook_deliveries d WHERE d.endpoint_id = $1 "
                                          "AND ($2 = '' OR d.status = $2) ORDER BY d.seq DESC LIMIT $3",
                                      endpoint_id, status, limit))
    out.push_back(delivery_from(r));
  return out;
}

std::optional<WebhookDelivery> redeliver_webhook(pqxx::work& tx, const std::string& endpoint_id,
                                                 const std::string& delivery_id) {
  auto r = tx.exec_params(
      "UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = now(), leased_until = NULL "
      "WHERE d.endpoint_id = $1 AND d.id = $2 RETURNING " +
          std::string(kDeliveryColumns),
      endpoint_id, delivery_id);
  if (r.empty()) return std::nullopt;
  return delivery_from(r[0]);
}

int replay_webhooks(pqxx::work& tx, const std::string& endpoint_id, const std::string& from, const std::string& to) {
  return static_cast<int>(tx.exec_params("UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = now(), "
                                         "leased_until = NULL WHERE endpoint_id = $1 AND created_at >= $2::timestamptz "
                                         "AND created_at < $3::timestamptz RETURNING id",
                                         endpoint_id, from, to)
                              .size());
}

}  // namespace loket::store
