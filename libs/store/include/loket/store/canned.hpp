#pragma once
#include <optional>
#include <string>
#include <vector>

#include <pqxx/pqxx>

/// Canned responses (issue 20): saved replies with a short code, workspace-wide or one agent's
/// own. Rendering their variables is the api's (services/api/src/canned.cpp).
namespace loket::store {

/// One canned response.
struct CannedResponse {
  std::string id, workspace_id;
  std::string owner_id;  ///< the agent it belongs to; "" = the whole workspace
  std::string short_code, title, body;
  std::string created_at, updated_at;  ///< RFC 3339 UTC
};

/// The responses of workspace `ws` agent `agent_id` may use ("" for an API key: workspace-wide
/// only), personal ones first, then by short code; with `q`, those whose short code starts with
/// it or whose title contains it (case-insensitive, `q` matched literally). At most `limit`.
std::vector<CannedResponse> list_canned(pqxx::transaction_base& tx, const std::string& ws, const std::string& agent_id,
                                        const std::string& q, int limit);

/// Response `id` of workspace `ws` if `agent_id` may use it (workspace-wide, or their own).
std::optional<CannedResponse> load_canned(pqxx::transaction_base& tx, const std::string& ws, const std::string& id,
                                          const std::string& agent_id);

/// How many responses workspace `ws` has (all scopes).
int count_canned(pqxx::transaction_base& tx, const std::string& ws);

/// Inserts `c` (new id) or updates its short code, title and body (`c.id` set); fills the
/// timestamps. @throws pqxx::unique_violation when its scope already has the short code.
void save_canned(pqxx::work& tx, CannedResponse& c, bool is_new);

/// Deletes response `id` of workspace `ws`; whether it existed.
bool delete_canned(pqxx::work& tx, const std::string& ws, const std::string& id);

}  // namespace loket::store
