#include "loket/core/config.hpp"
#include "loket/store/store.hpp"

namespace loket::store {

Pool::Pool(std::string url, std::size_t size, PoolLimits limits) : url_(std::move(url)), size_(size), limits_(limits) {}
Pool::~Pool() = default;

Pool::Lease::Lease(Pool* pool, std::unique_ptr<pqxx::connection> conn) : pool_(pool), conn_(std::move(conn)) {}

Pool::Lease::~Lease() {
  if (pool_ != nullptr && conn_) pool_->give_back(std::move(conn_));
}

Pool::Lease Pool::acquire() {
  std::unique_lock lock(mu_);
  if (!cv_.wait_for(lock, limits_.acquire_timeout, [&] { return !idle_.empty() || open_ < size_; }))
    throw PoolExhausted("no database connection came free within " + std::to_string(limits_.acquire_timeout.count()) +
                        " ms (all " + std::to_string(size_) + " in use)");
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(c));
  }
  ++open_;
  lock.unlock();
  try {
    auto conn = std::make_unique<pqxx::connection>(url_);
    // Loket's statements are short; PostgreSQL's JIT, triggered by a cost estimate rather than
    // by real work (a search's planner guess), compiled for ~0.4 s to save microseconds.
    pqxx::nontransaction(*conn).exec0(
        "SET jit = off; SET statement_timeout = " + std::to_string(limits_.statement_timeout.count()) +
        (limits_.asynchronous_commit ? "; SET synchronous_commit = off" : ""));
    return Lease(this, std::move(conn));
  } catch (...) {
    std::lock_guard relock(mu_);
    --open_;
    cv_.notify_one();
    throw;
  }
}

std::string Pool::ping() const {
  try {
    pqxx::connection c(url_);
    pqxx::nontransaction tx(c);
    tx.exec("SELECT 1");
    return "";
  } catch (const std::exception& e) {
    return std::string("PostgreSQL: ") + e.what();
  }
}

void Pool::give_back(std::unique_ptr<pqxx::connection> conn) {
  std::lock_guard lock(mu_);
  if (conn->is_open()) {
    idle_.push_back(std::move(conn));
    cv_.notify_one();
    return;
  }
  // Broken: the database restarted or the network dropped, which breaks the idle ones too.
  open_ -= 1 + idle_.size();
  idle_.clear();
  cv_.notify_all();
}

std::unique_ptr<Pool> pool_from_env(std::size_t default_size, PoolLimits defaults) {
  PoolLimits limits = defaults;
  limits.acquire_timeout =
      std::chrono::milliseconds(core::env_int("LOKET_DB_ACQUIRE_TIMEOUT_MS", defaults.acquire_timeout.count()));
  limits.statement_timeout =
      std::chrono::milliseconds(core::env_int("LOKET_DB_STATEMENT_TIMEOUT_MS", defaults.statement_timeout.count()));
  return std::make_unique<Pool>(
      core::env_required("LOKET_DATABASE_URL", "PostgreSQL URL, e.g. postgresql://loket@127.0.0.1:5432/loket"),
      static_cast<std::size_t>(core::env_int("LOKET_DB_POOL_SIZE", static_cast<std::int64_t>(default_size))), limits);
}

bool is_permanent(const std::exception& e) {
  if (dynamic_cast<const std::invalid_argument*>(&e)) return true;
  const auto* sql = dynamic_cast<const pqxx::sql_error*>(&e);
  if (!sql) return false;
  const std::string state = sql->sqlstate();
  // 23505 is the dedup conflict of a concurrent writer: the retry finds the stored message.
  return state.rfind("22", 0) == 0 || (state.rfind("23", 0) == 0 && state != "23505");
}

}  // namespace loket::store
