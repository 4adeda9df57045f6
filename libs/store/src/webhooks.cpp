#include "loket/store/webhooks.hpp"

#include <algorithm>

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

namespace {
// Locks (FOR KEY SHARE, in id order) the last pending delivery of each (endpoint, ticket) that
// `pairs_sql` selects (as ep, t): the one a new delivery of that pair is queued behind. Its
// outcome cannot be recorded until the new one is committed (record_webhook_attempts first
// locks its deliveries FOR UPDATE, in id order too: no circle), and the record then looks for
// the next one to bring forward in a statement of its own, which sees the new one. A delivery
// whose outcome is being recorded is waited for and, once recorded, passed over: the new one is
// not queued behind it. So "is an earlier delivery pending?" and "this one is done: bring the
// next one forward" cannot miss each other. Only that one delivery per pair is locked, and the
// weakest lock that does it: bringing a delivery forward (a no-key update) never waits for it.
template <typename... Args>
void lock_queue_tails(pqxx::work& tx, const std::string& pairs_sql, Args&&... args) {
  tx.exec_params(
      "SELECT 1 FROM webhook_deliveries l WHERE l.id = ANY(ARRAY(SELECT (SELECT q.id FROM webhook_deliveries q "
      "WHERE q.endpoint_id = x.ep AND q.ticket_id = x.t AND q.status = 'pending' ORDER BY q.seq DESC LIMIT 1) "
      "FROM (" +
          pairs_sql + ") x)) AND l.status = 'pending' ORDER BY l.id FOR KEY SHARE OF l",
      std::forward<Args>(args)...);
}

// SQL of a position (microseconds since the epoch, as bigint) for timestamptz `ts`, and back.
std::string micros_of(const std::string& ts) { return "(extract(epoch FROM " + ts + ") * 1000000)::bigint"; }
std::string time_of(const std::string& micros) {
  return "(timestamptz 'epoch' + " + micros + " * interval '1 microsecond')";
}

// The conditions under which delivery `c` may be claimed: pending, not waiting behind an
// earlier one, due, not leased, and the first pending delivery of its endpoint and ticket (a
// scalar subquery: one probe of webhook_deliveries_order per row; as NOT EXISTS it became an
// anti-join the planner, with no statistics yet for a new endpoint, could run as a scan of all
// the endpoint's rows per row). webhook_deliveries_next answers them in (due, seq) order.
constexpr const char* kClaimable =
    " c.status = 'pending' AND NOT c.behind AND c.next_attempt_at <= now()"
    " AND (c.leased_until IS NULL OR c.leased_until < now())"
    " AND c.seq = (SELECT min(p.seq) FROM webhook_deliveries p WHERE p.endpoint_id = c.endpoint_id"
    " AND p.ticket_id = c.ticket_id AND p.status = 'pending') ";
}  // namespace

int enqueue_webhook_deliveries(pqxx::work& tx, const std::vector<WebhookEvent>& events) {
  if (events.empty()) return 0;
  std::vector<std::vector<std::optional<std::string>>> rows;
  rows.reserve(events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    rows.push_back({std::to_string(i), e.workspace_id, e.event_id, e.event_type, e.ticket_id, e.payload});
  }
  const std::string records = json_records({"o", "ws", "ev", "ty", "t", "p"}, rows);
  static const std::string kMatches =  // each event with each endpoint that takes it
      "FROM jsonb_to_recordset($1::jsonb) AS r(o int, ws text, ev text, ty text, t text, p text) "
      "JOIN webhook_endpoints e ON e.workspace_id = r.ws AND e.enabled AND r.ty = ANY(e.events) "
      "AND e.integration_id IS NULL ";
  lock_queue_tails(tx, "SELECT DISTINCT e.id AS ep, r.t " + std::string(kMatches), records);
  // One statement for the batch; ORDER BY numbers the rows (seq) in event order. A delivery
  // waits behind the ticket's pending one, or an earlier new one of this batch. Not a named
  // prepared statement, here and in the claim and the outcomes: a generic plan made while the
  // table was young (a fresh install, the first minutes of a burst) kept scanning the wrong
  // index once it had grown (35 s claims); planned each time, the plan follows the table.
  static const std::string kEnqueue =
      "INSERT INTO webhook_deliveries (id, endpoint_id, workspace_id, event_id, event_type, ticket_id, payload, "
      "status, next_attempt_at, behind) "
      "SELECT 'msg_' || replace(gen_random_uuid()::text, '-', ''), n.eid, n.ws, n.ev, n.ty, n.t, n.p, 'pending', "
      "statement_timestamp(), n.nth > 1 OR EXISTS (SELECT 1 FROM webhook_deliveries q WHERE q.endpoint_id = n.eid "
      "AND q.ticket_id = n.t AND q.status = 'pending') "
      "FROM (SELECT e.id AS eid, r.*, row_number() OVER (PARTITION BY e.id, r.t ORDER BY r.o) AS nth " +
      std::string(kMatches) +
      "AND NOT EXISTS (SELECT 1 FROM webhook_deliveries x WHERE x.endpoint_id = e.id AND x.event_id = r.ev)) n "
      "ORDER BY n.o, n.eid ON CONFLICT (endpoint_id, event_id) DO NOTHING";
  return static_cast<int>(tx.exec_params(kEnqueue, records).affected_rows());
}

bool enqueue_inbox_webhook(pqxx::work& tx, const std::string& integration_id, const WebhookEvent& e) {
  lock_queue_tails(tx, "SELECT id AS ep, $2::text AS t FROM webhook_endpoints WHERE integration_id = $1",
                   integration_id, e.ticket_id);
  auto r = tx.exec_params1(
      "WITH ep AS (SELECT id FROM webhook_endpoints WHERE integration_id = $1), "
      "ins AS (INSERT INTO webhook_deliveries (id, endpoint_id, workspace_id, event_id, event_type, ticket_id, "
      "payload, status, next_attempt_at, behind) SELECT $2, ep.id, $3, $4, $5, $6, $7, 'pending', "
      "statement_timestamp(), EXISTS (SELECT 1 FROM webhook_deliveries q WHERE q.endpoint_id = ep.id "
      "AND q.ticket_id = $6 AND q.status = 'pending') FROM ep "
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

WebhookClaim claim_webhook_deliveries(pqxx::transaction_base& tx,
                                      const std::vector<std::pair<std::string, WebhookPosition>>& from,
                                      const std::vector<std::string>& skip, int lease_seconds, int batch,
                                      const std::function<bool(const std::string&)>& take) {
  std::vector<std::vector<std::optional<std::string>>> starts;
  for (const auto& [id, p] : from) starts.push_back({id, std::to_string(p.due_us), std::to_string(p.seq)});
  // 1. Each enabled endpoint's first claimable delivery, looked for from its start: the
  // caller's position for it, but never later than kWebhookLateWriteSeconds before now (a
  // delivery made due just before then may not have been visible when the position was taken).
  static const std::string kLook =
      "WITH s AS (SELECT r.id, least(" + time_of("r.us") +
      ", now() - make_interval(secs => $3)) AS at, "
      "CASE WHEN " +
      time_of("r.us") +
      " < now() - make_interval(secs => $3) THEN r.seq ELSE 0 END AS seq "
      "FROM jsonb_to_recordset($1::jsonb) AS r(id text, us bigint, seq bigint)) "
      "SELECT e.id, " +
      micros_of("c.next_attempt_at") + ", c.seq, " + micros_of("now()") +
      " FROM webhook_endpoints e LEFT JOIN s ON s.id = e.id "
      "LEFT JOIN LATERAL (SELECT c.next_attempt_at, c.seq FROM webhook_deliveries c WHERE c.endpoint_id = e.id "
      "AND (c.next_attempt_at, c.seq) >= (coalesce(s.at, '-infinity'), coalesce(s.seq, 0)) AND" +
      kClaimable +
      "ORDER BY c.next_attempt_at, c.seq LIMIT 1) c ON true "
      "WHERE e.enabled AND e.id <> ALL(string_to_array($2, E'\\x1f'))";
  WebhookClaim out;
  std::vector<std::pair<std::string, WebhookPosition>> due;  // endpoints with a claimable delivery
  for (const auto& r :
       tx.exec_params(kLook, json_records({"id", "us", "seq"}, starts), joined(skip), kWebhookLateWriteSeconds)) {
    if (r[1].is_null()) {  // nothing claimable up to now
      out.positions.emplace_back(r[0].as<std::string>(), WebhookPosition{r[3].as<std::int64_t>(), 0});
      continue;
    }
    out.positions.emplace_back(r[0].as<std::string>(),
                               WebhookPosition{r[1].as<std::int64_t>(), r[2].as<std::int64_t>()});
    due.push_back(out.positions.back());
  }
  std::sort(due.begin(), due.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  auto pick = std::find_if(due.begin(), due.end(), [&](const auto& d) { return !take || take(d.first); });
  if (pick == due.end()) return out;
  // 2. Its claimable deliveries from there, in order, with the endpoint; rows another worker is
  // claiming are skipped.
  static const std::string kClaim =
      "WITH n AS (SELECT c.id FROM webhook_deliveries c WHERE c.endpoint_id = $2 AND (c.next_attempt_at, c.seq) >= (" +
      time_of("$3::bigint") + ", $4::bigint) AND" + kClaimable +
      "ORDER BY c.next_attempt_at, c.seq LIMIT $5 FOR UPDATE SKIP LOCKED) "
      "UPDATE webhook_deliveries d SET leased_until = now() + make_interval(secs => $1), "
      "attempts = d.attempts + 1 FROM n, webhook_endpoints e WHERE d.id = n.id AND e.id = d.endpoint_id RETURNING " +
      kDeliveryColumns + ", " + micros_of("d.next_attempt_at") + ", d.seq, " + kEndpointColumns;
  auto rows = tx.exec_params(kClaim, lease_seconds, pick->first, pick->second.due_us, pick->second.seq, batch);
  if (rows.empty()) return out;
  WebhookBatch claimed;
  WebhookPosition last = pick->second;
  for (const auto& r : rows) {
    claimed.deliveries.push_back(delivery_from(r));
    last = std::max(last, WebhookPosition{r[16].as<std::int64_t>(), r[17].as<std::int64_t>()});
  }
  for (auto& [id, p] : out.positions)
    if (id == pick->first) p = last;
  claimed.endpoint = endpoint_from(rows[0], 18);
  out.batch = std::move(claimed);
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
  const std::string records = json_records({"id", "st", "code", "lat", "err", "ex", "wait"}, rows);
  std::string done;  // comma-separated (a delivery id has no comma)
  for (const auto& row : rows)
    if (*row[1] != "pending") done += (done.empty() ? "" : ",") + *row[0];
  // The deliveries are locked FOR UPDATE, in id order, before they are written (see
  // lock_queue_tails(): a delivery being queued behind one of them is committed first); the
  // update alone would take a no-key lock, which a fan-out's key-share lock does not wait for.
  static const std::string kRecord =
      "WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) "
      "AS r(id text, st text, code int, lat int, err text, ex text, wait int)), "
      "l AS (SELECT k.id FROM webhook_deliveries k WHERE k.id IN (SELECT id FROM r) ORDER BY k.id FOR UPDATE), "
      "u AS (UPDATE webhook_deliveries d SET status = r.st, leased_until = NULL, last_status_code = r.code, "
      "last_latency_ms = r.lat, last_error = nullif(r.err, ''), response_excerpt = nullif(r.ex, ''), "
      "next_attempt_at = CASE WHEN r.st = 'pending' THEN statement_timestamp() + make_interval(secs => r.wait) "
      "ELSE d.next_attempt_at END, delivered_at = CASE WHEN r.st = 'delivered' THEN now() END "
      "FROM r JOIN l ON l.id = r.id WHERE d.id = r.id) "
      "UPDATE webhook_endpoints SET failing_since = CASE WHEN $3 THEN NULL ELSE now() END "
      "WHERE id = $2 AND (failing_since IS NULL) = NOT $3";  // only a change: no write, no lock
  tx.exec_params0(kRecord, records, endpoint_id, delivered);
  if (done.empty()) return;
  // The next pending delivery of each done one's ticket, if it waits behind, is due now (its
  // place in the queue is new, ahead of where claims start). A statement of its own: it sees a
  // delivery queued while the outcome waited for its lock. Through the done ones' own columns:
  // a new endpoint has no statistics, and a plan keyed on "endpoint_id = $2" would scan all
  // its rows.
  static const std::string kBringForward =
      "UPDATE webhook_deliveries f SET behind = false, next_attempt_at = statement_timestamp() "
      "FROM (SELECT (SELECT n.id FROM webhook_deliveries n WHERE n.endpoint_id = d.endpoint_id "
      "AND n.ticket_id = d.ticket_id AND n.status = 'pending' AND n.seq > d.seq ORDER BY n.seq LIMIT 1) AS id "
      "FROM webhook_deliveries d WHERE d.id = ANY(string_to_array($1, ','))) nx WHERE f.id = nx.id AND f.behind";
  tx.exec_params0(kBringForward, done);
}

int release_stranded_webhook_deliveries(pqxx::work& tx) {
  if (!tx.exec1("SELECT pg_try_advisory_xact_lock(hashtext('loket:webhook-mend'))")[0].as<bool>()) return 0;
  return static_cast<int>(
      tx.exec("UPDATE webhook_deliveries d SET behind = false, next_attempt_at = statement_timestamp() "
              "FROM (SELECT DISTINCT ON (endpoint_id, ticket_id) id, behind FROM webhook_deliveries "
              "WHERE status = 'pending' ORDER BY endpoint_id, ticket_id, seq) h WHERE d.id = h.id AND h.behind")
          .affected_rows());
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
      "UPDATE webhook_deliveries d SET status = 'pending', next_attempt_at = statement_timestamp(), "
      "leased_until = NULL, behind = false "
      "WHERE d.endpoint_id = $1 AND d.id = $2 RETURNING " +
          std::string(kDeliveryColumns),
      endpoint_id, delivery_id);
  if (r.empty()) return std::nullopt;
  return delivery_from(r[0]);
}

int replay_webhooks(pqxx::work& tx, const std::string& endpoint_id, const std::string& from, const std::string& to) {
  return static_cast<int>(
      tx.exec_params("UPDATE webhook_deliveries SET status = 'pending', next_attempt_at = statement_timestamp(), "
                     "leased_until = NULL, behind = false WHERE endpoint_id = $1 AND created_at >= $2::timestamptz "
                     "AND created_at < $3::timestamptz RETURNING id",
                     endpoint_id, from, to)
          .size());
}

}  // namespace loket::store
