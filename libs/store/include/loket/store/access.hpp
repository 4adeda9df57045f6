#pragma once
#include <pqxx/pqxx>

#include <chrono>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

/// Who may do what: agents and their roles, sign-in sessions, workspace API keys, and the
/// shared counters behind rate limits and sign-in throttling (issue 3 "Workspaces, people and
/// keys"). Secrets (passwords, session tokens, API keys) are stored only as hashes.
namespace loket::store {

/// Roles, weakest first. An API key acts as `kAdmin` (it cannot manage owners).
enum class Role { kAgent = 0, kAdmin = 1, kOwner = 2 };

/// "agent", "admin" or "owner".
std::string to_string(Role r);
/// The role named `s`, or nullopt.
std::optional<Role> role_from_string(const std::string& s);

/// An authenticated caller.
struct Principal {
  std::string workspace_id;
  Role role = Role::kAgent;
  std::string agent_id;    ///< the signed-in agent; empty for an API key
  std::string agent_name;  ///< empty for an API key
  std::string session_id;  ///< empty for an API key
  std::string api_key_id;  ///< empty for a session
  /// The rate-limit bucket of this credential: "key:<id>" or "agent:<id>".
  std::string bucket() const { return api_key_id.empty() ? "agent:" + agent_id : "key:" + api_key_id; }
};

/// A rate-limit bucket after counting a hit.
struct RateWindow {
  int hits = 0;     ///< hits within the last window's length (sliding), including the one just counted
  int reset_s = 0;  ///< seconds until the current window ends (the earliest a retry can get through)
};

/// The principal for bearer `token` (an `sk_live_…` API key or a session token) and its
/// rate-limit window after counting this request (window `window_s` seconds), in one round
/// trip; nullopt when the token is unknown, revoked, expired or its agent deactivated.
/// Tokens are looked up by SHA-256 and compared in constant time. Stamps an API key's last
/// use at most once a minute.
std::optional<std::pair<Principal, RateWindow>> authenticate(pqxx::transaction_base& tx, const std::string& token,
                                                             int window_s);

/// Counts a hit on `bucket` (e.g. "ip:127.0.0.1") in the `window_s`-second windows shared by
/// every replica (table rate_limits) and returns the sliding count: this window's hits plus the
/// previous window's weighted by their overlap with the last `window_s` seconds, rounded up
/// (migration 0011), so no burst of twice a limit fits across a window boundary.
RateWindow rate_limit_hit(pqxx::transaction_base& tx, const std::string& bucket, int window_s);
/// Takes back one hit of `bucket`'s current window (an attempt that turned out right).
void rate_limit_refund(pqxx::transaction_base& tx, const std::string& bucket, int window_s);

/// An agent (a person who signs in).
struct Agent {
  std::string id, workspace_id, email, name, created_at;
  Role role = Role::kAgent;
  bool active = true;
  bool away = false;                        ///< set by the agent: never auto-assigned while away
  std::optional<std::string> last_seen_at;  ///< last API request or realtime presence (30 s grain)
};

/// Thrown when a unique value (an agent's email) is already taken.
struct Conflict : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Creates an agent; `email` is stored lower-case; `password` hashed with argon2id.
/// @throws Conflict when the email already signs in somewhere.
Agent create_agent(pqxx::work& tx, const std::string& workspace_id, const std::string& email, const std::string& name,
                   Role role, const std::string& password);
/// The agents of `workspace_id`, oldest first.
std::vector<Agent> list_agents(pqxx::transaction_base& tx, const std::string& workspace_id);
/// Agent `id` of `workspace_id`, or nullopt (also for another workspace's id).
std::optional<Agent> load_agent(pqxx::transaction_base& tx, const std::string& workspace_id, const std::string& id);
/// Sets whether agent `id` is away (issue 20: auto-assignment passes them by).
void set_away(pqxx::work& tx, const std::string& id, bool away);
/// Marks `agent_ids` (agents with a live realtime connection) as seen now; rows already seen in
/// the last 30 s are left alone.
void mark_agents_seen(pqxx::work& tx, const std::vector<std::string>& agent_ids);

/// Updates name / role / active; deactivating revokes the agent's sessions.
Agent update_agent(pqxx::work& tx, const Agent& a, const std::optional<std::string>& name, std::optional<Role> role,
                   std::optional<bool> active);

/// Which of `session_ids` (of active agents, unexpired) and `api_key_ids` are still valid, in
/// one round trip: realtime closes the sockets of the others.
std::set<std::string> valid_credentials(pqxx::transaction_base& tx, const std::vector<std::string>& session_ids,
                                        const std::vector<std::string>& api_key_ids);

/// Serializes changes to the agents of `workspace_id` for the rest of `tx`, so two concurrent
/// demotions cannot leave the workspace without an owner.
void lock_agents(pqxx::work& tx, const std::string& workspace_id);

/// The number of active owners of `workspace_id`.
int active_owners(pqxx::transaction_base& tx, const std::string& workspace_id);

/// The active agent signing in with `email` and `password`, or nullopt (wrong password,
/// unknown email or deactivated; the caller cannot tell which). Runs argon2id even for an
/// unknown email so timing does not reveal which emails exist.
std::optional<Agent> check_password(pqxx::transaction_base& tx, const std::string& email, const std::string& password);
/// Replaces the agent's password and revokes every session of the agent.
void set_password(pqxx::work& tx, const std::string& agent_id, const std::string& password);

/// A new sign-in session.
struct NewSession {
  std::string token;       ///< `lks_…`, 256 random bits; shown once
  std::string expires_at;  ///< RFC 3339
};
/// Opens a session for `agent` that lasts `ttl`.
NewSession create_session(pqxx::work& tx, const Agent& agent, std::chrono::seconds ttl);
/// Revokes one session (sign out).
void revoke_session(pqxx::work& tx, const std::string& session_id);

/// A workspace API key as listed (never the key itself).
struct ApiKey {
  std::string id, name, prefix, created_at;
  std::optional<std::string> created_by, last_used_at, revoked_at;
};
/// A key just created: its listing and the plaintext, shown once.
struct NewApiKey {
  ApiKey meta;
  std::string key;  ///< `sk_live_` + 192 random bits; only its SHA-256 is stored
};
/// Creates an API key named `name` for `workspace_id` (`created_by`: the agent who made it).
NewApiKey create_api_key(pqxx::work& tx, const std::string& workspace_id, const std::string& name,
                         const std::optional<std::string>& created_by = std::nullopt);

/// Every key of the workspace, newest first (revoked ones included, marked).
std::vector<ApiKey> list_api_keys(pqxx::transaction_base& tx, const std::string& workspace_id);
/// Revokes key `id` of `workspace_id`; false when there is no such key.
bool revoke_api_key(pqxx::work& tx, const std::string& workspace_id, const std::string& id);

/// What claim_idempotency_key found.
struct IdempotencyClaim {
  enum class State { kNew, kReplay, kInProgress, kMismatch } state = State::kNew;
  int status = 0;               ///< the stored status (kReplay)
  std::string response;         ///< the stored response body, ciphertext (kReplay)
  std::string response_key_id;  ///< the keyring key it is encrypted with
};
/// Claims `key` for a request whose method, path and body hash to `request_hash`, in its own
/// committed transaction: kNew (run it, then finish), kReplay (answer the stored response),
/// kInProgress (the first request is still running), kMismatch (the key was used for another
/// request). Keys older than 24 hours are forgotten, every workspace's (rows deleted).
IdempotencyClaim claim_idempotency_key(pqxx::work& tx, const std::string& workspace_id, const std::string& key,
                                       const std::string& request_hash);
/// Stores the response for a claimed key: `status` and the body's ciphertext `response` under
/// keyring key `key_id` (responses may hold secrets: a new API key, a session token).
void finish_idempotency_key(pqxx::work& tx, const std::string& workspace_id, const std::string& key, int status,
                            const std::string& response, const std::string& key_id);
/// Forgets a claimed key (the request failed with a server error and may be retried).
void release_idempotency_key(pqxx::work& tx, const std::string& workspace_id, const std::string& key);

}  // namespace loket::store
