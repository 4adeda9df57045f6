#include "loket/store/canned.hpp"

#include "loket/core/text.hpp"
#include "rows.hpp"

namespace loket::store {
namespace {
constexpr const char* kColumns =
    "id, workspace_id, coalesce(owner_id, ''), short_code, title, body, rfc3339(created_at), rfc3339(updated_at)";

CannedResponse from_row(const pqxx::row& r) {
  return {r[0].as<std::string>(), r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
          r[4].as<std::string>(), r[5].as<std::string>(), r[6].as<std::string>(), r[7].as<std::string>()};
}

}  // namespace

std::vector<CannedResponse> list_canned(pqxx::transaction_base& tx, const std::string& ws, const std::string& agent_id,
                                        const std::string& q, int limit) {
  const std::string pattern = like_literal(core::to_lower(q));
  std::vector<CannedResponse> out;
  for (const auto& r :
       tx.exec_params(std::string("SELECT ") + kColumns +
                          " FROM canned_responses WHERE workspace_id = $1 "
                          "AND (owner_id IS NULL OR owner_id = $2) "
                          "AND ($3 = '' OR short_code LIKE $3 || '%' OR lower(title) LIKE '%' || $3 || '%') "
                          "ORDER BY owner_id IS NULL, short_code LIMIT $4",
                      ws, agent_id, pattern, limit))
    out.push_back(from_row(r));
  return out;
}

std::optional<CannedResponse> load_canned(pqxx::transaction_base& tx, const std::string& ws, const std::string& id,
                                          const std::string& agent_id) {
  auto rows = tx.exec_params(std::string("SELECT ") + kColumns +
                                 " FROM canned_responses WHERE id = $1 AND workspace_id = $2 "
                                 "AND (owner_id IS NULL OR owner_id = $3)",
                             id, ws, agent_id);
  if (rows.empty()) return std::nullopt;
  return from_row(rows[0]);
}

int count_canned(pqxx::transaction_base& tx, const std::string& ws) {
  return tx.exec_params1("SELECT count(*) FROM canned_responses WHERE workspace_id = $1", ws)[0].as<int>();
}

void save_canned(pqxx::work& tx, CannedResponse& c, bool is_new) {
  auto row = is_new ? tx.exec_params1(
                          "INSERT INTO canned_responses (id, workspace_id, owner_id, short_code, title, body) "
                          "VALUES ($1, $2, nullif($3, ''), $4, $5, $6) "
                          "RETURNING rfc3339(created_at), rfc3339(updated_at)",
                          c.id, c.workspace_id, c.owner_id, c.short_code, c.title, c.body)
                    : tx.exec_params1(
                          "UPDATE canned_responses SET short_code = $3, title = $4, body = $5, "
                          "updated_at = now() WHERE id = $1 AND workspace_id = $2 "
                          "RETURNING rfc3339(created_at), rfc3339(updated_at)",
                          c.id, c.workspace_id, c.short_code, c.title, c.body);
  c.created_at = row[0].as<std::string>();
  c.updated_at = row[1].as<std::string>();
}

bool delete_canned(pqxx::work& tx, const std::string& ws, const std::string& id) {
  return tx.exec_params0("DELETE FROM canned_responses WHERE id = $1 AND workspace_id = $2", id, ws).affected_rows() >
         0;
}

}  // namespace loket::store
