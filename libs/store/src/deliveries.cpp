#include "loket/store/deliveries.hpp"

#include "loket/core/ids.hpp"
#include "loket/providers/email/reply_address.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {

std::optional<std::string> delivery_status(pqxx::transaction_base& tx, const std::string& message_id) {
  auto r = tx.exec_params("SELECT delivery_status FROM messages WHERE id = $1", message_id);
  if (r.empty()) return std::nullopt;
  return opt(r[0][0]);
}

void record_delivery(pqxx::work& tx, const DeliveryOutcome& d) {
  tx.exec_params0(
      "UPDATE messages SET delivery_status = $2, delivery_error = nullif($3, ''), "
      "delivery_attempts = delivery_attempts + 1, "
      "delivered_at = CASE WHEN $2 = 'sent' THEN now() ELSE delivered_at END, "
      // the sending integration and provider id only for a sent message
      "integration_id = CASE WHEN $2 = 'sent' THEN coalesce(nullif($4, ''), integration_id) ELSE integration_id END, "
      "external_message_id = CASE WHEN $2 = 'sent' THEN coalesce(nullif($5, ''), external_message_id) "
      "ELSE external_message_id END WHERE id = $1",
      d.message_id, d.status, d.error, d.integration_id, d.provider_message_id);
  if (d.status == "pending") return;  // attempts/error noted; no event until it settles
  emit_ticket_event(tx, d.workspace_id, d.ticket_id,
                    events::DeliveryUpdated{d.message_id, d.provider, d.status,
                                            d.error.empty() ? std::nullopt : std::optional<std::string>(d.error)});
}

bool fail_delivery(pqxx::work& tx, const std::string& integration_id, const std::string& external_message_id,
                   const std::string& provider, const std::string& error) {
  auto row = tx.exec_params(
      "UPDATE messages SET delivery_status = 'failed', delivery_error = $3 "
      "WHERE integration_id = $1 AND external_message_id = $2 AND author_type = 'agent' "
      "AND delivery_status IS DISTINCT FROM 'failed' RETURNING id, ticket_id, workspace_id",
      integration_id, external_message_id, error);
  if (row.empty()) return false;
  emit_ticket_event(tx, row[0][2].as<std::string>(), row[0][1].as<std::string>(),
                    events::DeliveryUpdated{row[0][0].as<std::string>(), provider, "failed", error});
  return true;
}

bool fail_sent_email(pqxx::work& tx, const std::string& workspace_id, const std::string& message_id,
                     const std::string& provider, const std::string& error) {
  using Kind = providers::email::SentMail::Kind;
  auto sent = providers::email::read_sent_message_id(message_id);
  if (!sent) return false;
  if (sent->kind != Kind::kMessage)
    return !tx.exec_params(
                  "UPDATE notifications SET status = 'failed', error = $4 WHERE workspace_id = $1 AND "
                  "ticket_id = $2 AND kind = $3 AND status <> 'failed' RETURNING id",
                  workspace_id, sent->id, sent->kind == Kind::kReceivedNotice ? "ticket_received" : "csat_survey",
                  error)
                .empty();
  auto row = tx.exec_params(
      "UPDATE messages SET delivery_status = 'failed', delivery_error = $3 WHERE workspace_id = $1 AND id = $2 "
      "AND author_type <> 'requester' AND delivery_status IS DISTINCT FROM 'failed' RETURNING ticket_id",
      workspace_id, sent->id, error);
  if (row.empty()) return false;
  emit_ticket_event(tx, workspace_id, row[0][0].as<std::string>(),
                    events::DeliveryUpdated{sent->id, provider, "failed", error});
  return true;
}

std::optional<std::string> pending_notification(pqxx::work& tx, const std::string& workspace_id,
                                                const std::string& ticket_id, const std::string& kind,
                                                const std::string& recipient, const std::string& once_key) {
  tx.exec_params0(
      "INSERT INTO notifications (id, workspace_id, ticket_id, kind, recipient, status, once_key) "
      "VALUES ($1, $2, $3, $4, $5, 'pending', $6) ON CONFLICT (ticket_id, kind, once_key) DO NOTHING",
      core::new_id("ntf"), workspace_id, ticket_id, kind, recipient, once_key);
  auto r = tx.exec_params("SELECT id, status FROM notifications WHERE ticket_id = $1 AND kind = $2 AND once_key = $3",
                          ticket_id, kind, once_key);
  if (r[0][1].as<std::string>() != "pending") return std::nullopt;
  return r[0][0].as<std::string>();
}

void record_notification(pqxx::work& tx, const std::string& id, const std::string& status, const std::string& error,
                         const std::string& provider_message_id) {
  tx.exec_params0(
      "UPDATE notifications SET status = $2, error = nullif($3, ''), attempts = attempts + 1, "
      "provider_message_id = nullif($4, ''), sent_at = CASE WHEN $2 = 'sent' THEN now() END WHERE id = $1",
      id, status, error, provider_message_id);
}

bool pending_team_notice(pqxx::work& tx, const std::string& event_id, const std::string& integration_id,
                         const std::string& workspace_id, const std::string& ticket_id) {
  tx.exec_params0(
      "INSERT INTO team_notices (event_id, integration_id, workspace_id, ticket_id, status) "
      "VALUES ($1, $2, $3, $4, 'pending') ON CONFLICT DO NOTHING",
      event_id, integration_id, workspace_id, ticket_id);
  return tx.exec_params1("SELECT status FROM team_notices WHERE event_id = $1 AND integration_id = $2", event_id,
                         integration_id)[0]
             .as<std::string>() == "pending";
}

void record_team_notice(pqxx::work& tx, const std::string& event_id, const std::string& integration_id,
                        const std::string& status, const std::string& error, const std::string& provider_message_id) {
  tx.exec_params0(
      "UPDATE team_notices SET status = $3, error = nullif($4, ''), attempts = attempts + 1, "
      "provider_message_id = nullif($5, ''), sent_at = CASE WHEN $3 = 'sent' THEN now() END "
      "WHERE event_id = $1 AND integration_id = $2",
      event_id, integration_id, status, error, provider_message_id);
}

}  // namespace loket::store
