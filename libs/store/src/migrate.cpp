#include "loket/core/log.hpp"
#include "loket/store/store.hpp"

namespace loket::store {

int migrate(pqxx::connection& conn) {
  {
    pqxx::work tx(conn);
    tx.exec0(
        "CREATE TABLE IF NOT EXISTS schema_migrations (name text PRIMARY KEY, "
        "applied_at timestamptz NOT NULL DEFAULT now())");
    tx.commit();
  }
  int applied = 0;
  for (const auto& m : migrations()) {
    pqxx::work tx(conn);
    tx.exec("SELECT pg_advisory_xact_lock(4242001)");
    auto done = tx.exec_params("SELECT 1 FROM schema_migrations WHERE name = $1", m.name);
    if (!done.empty()) continue;
    tx.exec0(m.sql);
    tx.exec_params0("INSERT INTO schema_migrations (name) VALUES ($1)", m.name);
    tx.commit();
    core::log(core::Level::kInfo, "migration applied", {{"migration", m.name}});
    ++applied;
  }
  return applied;
}

}  // namespace loket::store
