#include "loket/store/mailboxes.hpp"

namespace loket::store {

std::vector<MailboxLease> lease_mailboxes(pqxx::work& tx, const std::string& provider, const std::string& owner,
                                          std::chrono::seconds lease, int limit) {
  tx.exec_params0(
      "INSERT INTO mailbox_cursors (integration_id) SELECT id FROM integrations "
      "WHERE provider = $1 AND status <> 'disconnected' ON CONFLICT DO NOTHING",
      provider);
  auto rows = tx.exec_params(
      "WITH free AS ("
      "  SELECT c.integration_id FROM mailbox_cursors c JOIN integrations i ON i.id = c.integration_id"
      "  WHERE i.provider = $1 AND i.status <> 'disconnected'"
      "    AND (c.lease_owner = $2 OR c.lease_until IS NULL OR c.lease_until < now())"
      "  ORDER BY c.polled_at NULLS FIRST LIMIT $4 FOR UPDATE OF c SKIP LOCKED) "
      "UPDATE mailbox_cursors c SET lease_owner = $2, lease_until = now() + $3 * interval '1 second' "
      "FROM free WHERE c.integration_id = free.integration_id "
      "RETURNING c.integration_id, c.folder, c.uidvalidity, c.last_uid",
      provider, owner, static_cast<long long>(lease.count()), limit);
  std::vector<MailboxLease> out;
  for (const auto& row : rows) {
    auto integ = find_integration(tx, row[0].as<std::string>());
    if (!integ) continue;
    out.push_back({std::move(*integ), row[1].as<std::string>(), row[2].as<std::int64_t>(), row[3].as<std::int64_t>()});
  }
  return out;
}

bool advance_mailbox(pqxx::work& tx, const std::string& id, const std::string& owner, const std::string& folder,
                     std::int64_t uidvalidity, std::int64_t last_uid, std::chrono::seconds lease) {
  auto r = tx.exec_params(
      "UPDATE mailbox_cursors SET folder = $3, uidvalidity = $4, last_uid = $5, polled_at = now(), last_error = NULL, "
      "lease_until = now() + $6 * interval '1 second' "
      "WHERE integration_id = $1 AND lease_owner = $2 AND lease_until > now()",
      id, owner, folder, uidvalidity, last_uid, static_cast<long long>(lease.count()));
  return r.affected_rows() == 1;
}

void record_mailbox_poll(pqxx::work& tx, const std::string& id, const std::string& owner, const std::string& error) {
  tx.exec_params0(
      "UPDATE mailbox_cursors SET polled_at = now(), last_error = NULLIF($3, '') "
      "WHERE integration_id = $1 AND lease_owner = $2",
      id, owner, error);
}

void release_mailboxes(pqxx::work& tx, const std::string& owner) {
  tx.exec_params0("UPDATE mailbox_cursors SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = $1", owner);
}

}  // namespace loket::store
