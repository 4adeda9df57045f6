#pragma once
#include <pqxx/pqxx>

#include "loket/crypto/crypto.hpp"
#include "loket/events/ticket_events.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

/// PostgreSQL access shared by the services: connection pool, migrations, the outbox, and
/// the rows every service reads (workspaces, API keys, integrations). libpqxx types appear
/// here on purpose: callers compose these calls inside their own transactions.
namespace loket::store {

/// One versioned migration (libs/store/migrations/NNNN_name.sql), embedded at build time.
struct Migration {
  std::string name;
  std::string sql;
};

/// Every migration in order.
const std::vector<Migration>& migrations();

/// Applies the migrations not yet recorded in `schema_migrations`, each in its own
/// transaction, under an advisory lock so concurrent callers are safe. Returns how many ran.
/// @throws pqxx::failure when a migration fails (that migration is rolled back).
int migrate(pqxx::connection& conn);

/// How long a pool waits, and lets a statement run.
struct PoolLimits {
  /// How long acquire() waits for a free connection before giving up (PoolExhausted).
  std::chrono::milliseconds acquire_timeout{5000};
  /// PostgreSQL's statement_timeout on every connection; 0 = none. A statement past it fails
  /// with SQLSTATE 57014 (query_canceled).
  std::chrono::milliseconds statement_timeout{0};
  /// Connections run with synchronous_commit = off: a commit returns before its WAL is on disk,
  /// and the last few ms of commits are lost if PostgreSQL crashes. Only for a pool whose every
  /// write may be lost and done again (a lease, an attempt's outcome: outbound's webhook dispatch).
  bool asynchronous_commit = false;
};

/// acquire() waited PoolLimits::acquire_timeout and every connection stayed busy: transient
/// (the api answers 503 with Retry-After; consumers retry).
class PoolExhausted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A fixed-size pool of connections to `url`. Thread-safe. Its connections run with
/// `jit = off`, the limits' statement_timeout and, if asked, synchronous_commit = off. A
/// connection returned broken is dropped, and with it every idle one (a database restart breaks
/// them all at once; each would otherwise fail one request).
class Pool {
 public:
  /// Opens lazily; `size` connections at most.
  Pool(std::string url, std::size_t size, PoolLimits limits = {});
  ~Pool();

  /// A borrowed connection, returned to the pool on destruction.
  class Lease {
   public:
    Lease(Pool* pool, std::unique_ptr<pqxx::connection> conn);
    Lease(Lease&&) noexcept = default;
    ~Lease();
    pqxx::connection& operator*() { return *conn_; }
    pqxx::connection* operator->() { return conn_.get(); }

   private:
    Pool* pool_;
    std::unique_ptr<pqxx::connection> conn_;
  };

  /// Borrows a connection, waiting while all are in use, at most PoolLimits::acquire_timeout.
  /// @throws pqxx::broken_connection when the database cannot be reached; PoolExhausted when no
  /// connection came free in time.
  Lease acquire();

  /// The connection string (for a connection of one's own, e.g. LISTEN).
  const std::string& url() const { return url_; }

  /// The limits this pool's connections run with (for a second pool like this one).
  const PoolLimits& limits() const { return limits_; }

  /// The most connections this pool opens.
  std::size_t size() const { return size_; }

  /// "" when the database accepts a new connection and answers `SELECT 1`, else the error
  /// (readiness). Uses its own short-lived connection, so a busy pool does not look broken.
  std::string ping() const;

 private:
  void give_back(std::unique_ptr<pqxx::connection> conn);
  std::string url_;
  std::size_t size_;
  PoolLimits limits_;
  std::size_t open_ = 0;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::mutex mu_;
  std::condition_variable cv_;
};

/// A pool for LOKET_DATABASE_URL with LOKET_DB_POOL_SIZE connections (or `default_size`),
/// LOKET_DB_ACQUIRE_TIMEOUT_MS and LOKET_DB_STATEMENT_TIMEOUT_MS (or `defaults`').
/// @throws std::runtime_error when LOKET_DATABASE_URL is unset.
std::unique_ptr<Pool> pool_from_env(std::size_t default_size, PoolLimits defaults = {});

/// Runs `fn(pqxx::work&)` in a transaction on a pooled connection and commits; retries up to
/// `attempts` times on serialization failures, deadlocks and broken connections.
template <typename Fn>
auto with_tx(Pool& pool, Fn&& fn, int attempts = 5) {
  for (int i = 1;; ++i) {
    try {
      auto conn = pool.acquire();
      pqxx::work tx(*conn);
      if constexpr (std::is_void_v<decltype(fn(tx))>) {
        fn(tx);
        tx.commit();
        return;
      } else {
        auto result = fn(tx);
        tx.commit();
        return result;
      }
    } catch (const pqxx::serialization_failure&) {
      if (i >= attempts) throw;
    } catch (const pqxx::deadlock_detected&) {
      if (i >= attempts) throw;
    } catch (const pqxx::broken_connection&) {
      if (i >= attempts) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * i));
    }
  }
}

/// Whether `e` is a failure retrying cannot cure (DESIGN.md "Errors"): PostgreSQL refused the
/// data (SQLSTATE class 22, data exception, e.g. 22021 a NUL byte) or a constraint (class 23,
/// except 23505: a unique violation is a concurrent dedup conflict the retry resolves), or a record did not parse or
/// validate (std::invalid_argument). Connection loss, timeouts, serialization failures, deadlocks and everything else
/// are transient. Pure.
bool is_permanent(const std::exception& e);

/// Registers `sql` as prepared statement `name` on the transaction's connection (a no-op
/// when it already is), so a hot query is parsed and planned once per connection. Call it
/// right before `tx.exec_prepared(name, ...)`.
inline void prepare(pqxx::transaction_base& tx, const std::string& name, const std::string& sql) {
  tx.conn().prepare(name, sql);
}

/// Collects the outbox rows that outbox_add / emit_ticket_event append to `tx` on this thread
/// while it lives, and writes them in one multi-row INSERT at flush() (in the order they were
/// added, so the relay publishes them in that order). For a writer of many messages per
/// transaction: one statement instead of one per event. Rows not flushed are discarded (the
/// transaction is being rolled back). Not copyable; one thread; scopes nest.
class OutboxBatch {
 public:
  explicit OutboxBatch(pqxx::work& tx);
  ~OutboxBatch();
  OutboxBatch(const OutboxBatch&) = delete;
  OutboxBatch& operator=(const OutboxBatch&) = delete;

  /// Inserts the collected rows (in statements of up to 500 rows). Call before committing.
  /// @throws pqxx exceptions on database failure.
  void flush();

 private:
  friend void outbox_add(pqxx::work&, const std::string&, const std::string&, const std::string&);
  pqxx::work& tx_;
  OutboxBatch* outer_;
  std::string values_;  // "(topic,key,payload),..." quoted for SQL
  std::size_t rows_ = 0;
};

/// Appends an outbox row (published to `topic` with `key` by the writer's relay) inside `tx`
/// (or to the live OutboxBatch of `tx` on this thread).
void outbox_add(pqxx::work& tx, const std::string& topic, const std::string& key, const std::string& payload);

/// An outbox row waiting for the relay.
struct OutboxRow {
  std::int64_t id = 0;
  std::string topic, key, payload;
};

/// Makes `tx` the only relay for its lifetime: false when another relay holds the outbox.
bool try_lock_outbox(pqxx::work& tx);

/// The oldest `limit` outbox rows, in id order.
std::vector<OutboxRow> read_outbox(pqxx::transaction_base& tx, int limit);

/// Deletes exactly the outbox rows `ids` (published): a writer that committed a lower id since
/// read_outbox keeps its row.
void delete_outbox(pqxx::work& tx, const std::vector<std::int64_t>& ids);

/// The number of outbox rows not yet published.
std::int64_t outbox_backlog(pqxx::transaction_base& tx);

/// Appends the `ticket.events` domain event `data` about `ticket_id` (a new event id, occurred
/// now) to the outbox inside `tx`, keyed by the ticket id. Returns the event id.
std::string emit_ticket_event(pqxx::work& tx, const std::string& workspace_id, const std::string& ticket_id,
                              events::TicketEvent::Data data);

/// A stored integration (credentials still encrypted).
struct Integration {
  std::string id;
  std::string workspace_id;
  std::string provider;
  std::string status;
  std::string display_name;
  std::string routing_key;
  std::string credentials;  ///< ciphertext, empty when none
  std::string credentials_key_id;
  std::string webhook_secret_hash;  ///< raw SHA-256, empty when none
  std::string last_error;
  std::string created_at;    ///< RFC 3339
  std::string number;        ///< E.164 number of a WhatsApp integration, "" otherwise
  std::string connected_at;  ///< RFC 3339; set on connect and on every reconnect
};

/// Loads integration `id` (any workspace) or std::nullopt.
std::optional<Integration> find_integration(pqxx::transaction_base& tx, const std::string& id);

/// The connected (not disconnected) integration of `provider` with `routing_key` (bot id,
/// Twilio number, Cloud phone_number_id), or std::nullopt.
std::optional<Integration> find_live_integration(pqxx::transaction_base& tx, const std::string& provider,
                                                 const std::string& routing_key);

/// The connected integration of `provider` whose webhook secret (or verify token) hashes to
/// `secret_hash` (raw SHA-256), or std::nullopt.
std::optional<Integration> find_integration_by_secret(pqxx::transaction_base& tx, const std::string& provider,
                                                      const std::string& secret_hash);

/// The workspace's most recently (re)connected integration among `providers`, or std::nullopt
/// (seed 000: replies go out via the most recently connected WhatsApp integration).
std::optional<Integration> latest_integration(pqxx::transaction_base& tx, const std::string& workspace_id,
                                              const std::vector<std::string>& providers);

/// The workspace's connected (not disconnected) integrations, oldest first.
std::vector<Integration> list_integrations(pqxx::transaction_base& tx, const std::string& workspace_id);

/// Serializes connecting the identity `routing_key` of `provider`, and the number `number` when
/// not "", for the rest of `tx`: two workspaces connecting the same bot or number at once are
/// decided one after the other.
void lock_integration_identity(pqxx::work& tx, const std::string& provider, const std::string& routing_key,
                               const std::string& number);

/// Whether `number` (E.164) is connected to a workspace other than `workspace_id`.
bool number_connected_elsewhere(pqxx::transaction_base& tx, const std::string& number, const std::string& workspace_id);

/// Inserts `i`, or with `refresh` updates row `i.id` in place: credentials (ciphertext) and
/// their key id, display name, webhook secret hash, status and number; connected_at = now() and
/// last_error cleared. Other fields of a refreshed row stay. @throws pqxx::unique_violation when
/// a concurrent connect took the identity first.
void save_integration(pqxx::work& tx, const Integration& i, bool refresh);

/// Sets integration `id`'s status and last error ("" = none).
void set_integration_status(pqxx::work& tx, const std::string& id, const std::string& status,
                            const std::string& last_error);

/// Marks integration `id` disconnected and erases its credentials and webhook secret hash; an
/// API inbox's reply webhook endpoint is turned off.
void disconnect_integration(pqxx::work& tx, const std::string& id);

/// Outcome of re-encrypting stored credentials.
struct Rotation {
  int reencrypted = 0;  ///< rows moved to the active key
  int verified = 0;     ///< rows that decrypt with the keyring (all of them, afterwards)
};

/// Master-key rotation: re-encrypts every integration's credentials and every ticket's
/// requester access token that are not under `keys`' active key with it (row id as associated data, as always), then
/// decrypts every row as a check. One transaction; safe to run while services run (they decrypt with any key of their
/// keyring).
/// @throws std::runtime_error naming the first row no key of `keys` decrypts (nothing changed).
Rotation rotate_credentials(pqxx::work& tx, const crypto::Keyring& keys);

/// A new workspace with its first API key.
struct NewWorkspace {
  std::string account_id;  ///< `acc_` + 24 hex
  std::string api_key;     ///< `sk_live_…`, shown once; only its hash is stored
};

/// An integration Loket keeps for every workspace (providers::ProviderDescriptor::platform: the
/// email alias), its routing key the account id.
struct PlatformIntegration {
  std::string provider;      ///< the descriptor's name
  std::string display_name;  ///< the descriptor's label
};

}  // namespace loket::store
namespace loket::providers {
class Registry;
}  // namespace loket::providers
namespace loket::store {

/// The platform integrations of `registry` (providers::Registry::platform()).
std::vector<PlatformIntegration> platform_integrations(const providers::Registry& registry);

/// Creates a workspace named `name`, an API key and its `platform` integrations inside `tx`.
NewWorkspace create_workspace(pqxx::work& tx, const std::string& name,
                              const std::vector<PlatformIntegration>& platform = {});

/// Gives every workspace (or only `workspace_id`) that lacks one a live integration of each of
/// `platform`; idempotent (run by `loket-admin migrate` for workspaces made before a provider
/// existed). Returns how many were added.
int add_platform_integrations(pqxx::work& tx, const std::vector<PlatformIntegration>& platform,
                              const std::string& workspace_id = "");

/// Whether workspace `id` exists.
bool workspace_exists(pqxx::transaction_base& tx, const std::string& id);

/// A workspace's settings.
struct Workspace {
  std::string id, name, created_at;       ///< created_at: RFC 3339
  std::optional<std::string> auto_reply;  ///< the new-ticket auto-reply template, nullopt = off
  bool require_signed_webhooks = false;   ///< integrations must authenticate every webhook
  std::string time_zone = "UTC";          ///< IANA zone reports' days are counted in (docs/reports.md)
};

/// Workspace `id`, or nullopt.
std::optional<Workspace> load_workspace(pqxx::transaction_base& tx, const std::string& id);

/// Whether `name` is an IANA time zone PostgreSQL knows ("Europe/Amsterdam", "UTC"): letters,
/// digits, _ + - and / only (no POSIX offsets, no paths), at most 64 characters. Uses a savepoint.
bool is_time_zone(pqxx::dbtransaction& tx, const std::string& name);

/// The settings PATCH /api/v1/workspace changes; unset members stay as they are.
struct WorkspaceChange {
  std::optional<std::string> name;
  std::optional<std::string> auto_reply;  ///< "" turns the auto-reply off
  std::optional<bool> require_signed_webhooks;
  std::optional<std::string> time_zone;  ///< a valid IANA zone (the caller checked); recounts the rollup
};

/// Applies `change` to workspace `id`.
void update_workspace(pqxx::work& tx, const std::string& id, const WorkspaceChange& change);

/// Serializes, until `tx` ends, everything that decides which webhooks workspace `id` accepts:
/// its require_signed_webhooks setting and integrations being connected. Take it before reading
/// the setting in either.
void lock_webhook_policy(pqxx::work& tx, const std::string& workspace_id);

}  // namespace loket::store
