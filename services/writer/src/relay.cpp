#include <atomic>

#include "loket/core/log.hpp"
#include "writer.hpp"

namespace loket::writer {

int relay_once(store::Pool& pool, kafka::Producer& producer, int max_rows) {
  auto conn = pool.acquire();
  pqxx::work tx(*conn);
  auto locked = tx.exec("SELECT pg_try_advisory_xact_lock(4242002)");
  if (!locked[0][0].as<bool>()) return 0;
  auto rows = tx.exec_params("SELECT id, topic, key, payload FROM outbox ORDER BY id LIMIT $1", max_rows);
  if (rows.empty()) return 0;
  std::atomic<int> failed{0};
  std::string last_error;
  std::mutex mu;
  for (const auto& r : rows)
    producer.produce(r[1].as<std::string>(), r[2].as<std::string>(), r[3].as<std::string>(),
                     [&](const std::string& err) {
                       if (err.empty()) return;
                       ++failed;
                       std::lock_guard lock(mu);
                       last_error = err;
                     });
  if (!producer.flush(std::chrono::seconds(30)) || failed > 0)
    throw std::runtime_error("outbox relay: broker did not acknowledge (" + last_error + ")");
  tx.exec_params0("DELETE FROM outbox WHERE id <= $1", rows[rows.size() - 1][0].as<std::int64_t>());
  tx.commit();
  return static_cast<int>(rows.size());
}

}  // namespace loket::writer
