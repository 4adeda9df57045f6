#include "loket/store/api_contacts.hpp"

#include "loket/core/ids.hpp"
#include "rows.hpp"

namespace loket::store {
namespace {
constexpr const char* kContactColumns =
    "id, workspace_id, integration_id, source_id, name, email, phone, rfc3339(created_at)";

ApiContact contact_from(const pqxx::row& r) {
  ApiContact c;
  c.id = r[0].as<std::string>();
  c.workspace_id = r[1].as<std::string>();
  c.integration_id = r[2].as<std::string>();
  c.source_id = r[3].as<std::string>();
  c.name = opt(r[4]);
  c.email = opt(r[5]);
  c.phone = opt(r[6]);
  c.created_at = r[7].as<std::string>();
  return c;
}

// The contact's conversations, newest first: only `ticket_id` when given, only those not
// closed when `open_only`.
std::vector<Ticket> conversations(pqxx::transaction_base& tx, const ApiContact& c,
                                  const std::optional<std::string>& ticket_id, bool open_only, int limit) {
  std::vector<Ticket> out;
  for (const auto& r :
       tx.exec_params(std::string("SELECT ") + kTicketColumns +
                          " FROM tickets WHERE workspace_id = $1 AND integration_id = $2 "
                          "AND external_thread_id = $3 AND ($5::text IS NULL OR id = $5) "
                          "AND (NOT $6 OR status <> 'closed') ORDER BY created_at DESC, id DESC LIMIT $4",
                      c.workspace_id, c.integration_id, c.id, limit, ticket_id, open_only))
    out.push_back(ticket_from_row(r));
  return out;
}
}  // namespace

std::pair<ApiContact, bool> upsert_api_contact(pqxx::work& tx, const ApiContact& c) {
  // xmax = 0 only on a row this statement inserted.
  auto r = tx.exec_params1(
      std::string("INSERT INTO api_contacts (id, workspace_id, integration_id, source_id, name, email, phone) "
                  "VALUES ($1, $2, $3, $4, $5, $6, $7) "
                  "ON CONFLICT (integration_id, source_id) DO UPDATE SET "
                  "name = coalesce(EXCLUDED.name, api_contacts.name), "
                  "email = coalesce(EXCLUDED.email, api_contacts.email), "
                  "phone = coalesce(EXCLUDED.phone, api_contacts.phone), updated_at = now() "
                  "RETURNING ") +
          kContactColumns + ", xmax = 0",
      core::new_id("ctc"), c.workspace_id, c.integration_id, c.source_id, c.name, c.email, c.phone);
  return {contact_from(r), r[8].as<bool>()};
}

std::optional<ApiContact> find_api_contact(pqxx::transaction_base& tx, const std::string& integration_id,
                                           const std::string& source_id) {
  auto r = tx.exec_params(
      std::string("SELECT ") + kContactColumns + " FROM api_contacts WHERE integration_id = $1 AND source_id = $2",
      integration_id, source_id);
  if (r.empty()) return std::nullopt;
  return contact_from(r[0]);
}

std::vector<Ticket> api_conversations(pqxx::transaction_base& tx, const ApiContact& c, int limit) {
  return conversations(tx, c, std::nullopt, false, limit);
}

std::optional<Ticket> api_conversation(pqxx::transaction_base& tx, const ApiContact& c, const std::string& ticket_id) {
  auto found = conversations(tx, c, ticket_id, false, 1);
  if (found.empty()) return std::nullopt;
  return found[0];
}

std::optional<Ticket> latest_open_api_conversation(pqxx::transaction_base& tx, const ApiContact& c) {
  auto found = conversations(tx, c, std::nullopt, true, 1);
  if (found.empty()) return std::nullopt;
  return found[0];
}

}  // namespace loket::store
