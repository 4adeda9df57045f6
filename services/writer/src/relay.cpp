#include <atomic>

#include "loket/core/log.hpp"
#include "writer.hpp"

namespace loket::writer {

ops::Registry& registry() {
  static ops::Registry& r = []() -> ops::Registry& {
    auto& m = ops::metrics();
    using T = ops::Registry::Type;
    m.describe("loket_messages_written_total", T::kCounter,
               "Inbound messages handled by the writer, by result (created_ticket, appended, duplicate, "
               "unknown_integration).");
    m.describe("loket_delivery_receipts_total", T::kCounter,
               "Provider delivery-failure receipts, by result (applied, unmatched).");
    m.describe("loket_outbox_published_total", T::kCounter, "Outbox rows published to Kafka.");
    m.describe("loket_writer_batch_seconds", T::kHistogram,
               "Time to write one batch of messages (one transaction), attachments fetched included.");
    m.describe("loket_writer_batch_messages", T::kHistogram, "Messages per writer transaction.",
               {1, 2, 5, 10, 20, 50, 100, 200, 500});
    m.describe("loket_outbox_backlog", T::kGauge, "Outbox rows not yet published.");
    m.describe("loket_outbox_publish_seconds", T::kHistogram, "Time to publish and delete one outbox batch.");
    return m;
  }();
  return r;
}

ops::ScrapeHook watch_outbox(store::Pool& pool) {
  registry();
  return ops::metrics().on_scrape([&pool](ops::Registry& r) {
    try {
      auto conn = pool.acquire();
      pqxx::read_transaction tx(*conn);
      r.set("loket_outbox_backlog", {}, static_cast<double>(store::outbox_backlog(tx)));
    } catch (const std::exception&) {
      // the database is down: readiness says so; keep the last value
    }
  });
}

int relay_once(store::Pool& pool, kafka::Producer& producer, int max_rows) {
  auto conn = pool.acquire();
  pqxx::work tx(*conn);
  if (!store::try_lock_outbox(tx)) return 0;
  auto rows = store::read_outbox(tx, max_rows);
  if (rows.empty()) return 0;
  auto start = std::chrono::steady_clock::now();
  std::atomic<int> failed{0};
  std::string last_error;
  std::mutex mu;
  for (const auto& r : rows)
    producer.produce(r.topic, r.key, r.payload, [&](const std::string& err) {
      if (err.empty()) return;
      ++failed;
      std::lock_guard lock(mu);
      last_error = err;
    });
  if (!producer.flush(std::chrono::seconds(30)) || failed > 0)
    throw std::runtime_error("outbox relay: broker did not acknowledge (" + last_error + ")");
  std::vector<std::int64_t> ids;
  for (const auto& r : rows) ids.push_back(r.id);
  store::delete_outbox(tx, ids);
  tx.commit();
  registry().add("loket_outbox_published_total", {}, static_cast<double>(rows.size()));
  registry().observe_since("loket_outbox_publish_seconds", {}, start);
  return static_cast<int>(rows.size());
}

}  // namespace loket::writer
