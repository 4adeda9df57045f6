// loket-writer: channel.inbound → tickets and messages in PostgreSQL; runs the outbox relay.
// Configuration: docs/operations.md.
#include <thread>

#include "loket/core/config.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/ops/admin.hpp"
#include "loket/ops/watch.hpp"
#include "writer.hpp"

using namespace loket;

int main() {
  core::init_logging("writer");
  core::install_signal_handlers();
  try {
    auto pool_ptr = store::pool_from_env(4);
    auto& pool = *pool_ptr;
    auto keys = crypto::keyring_from_env();
    auto props = kafka::properties_from_env();
    kafka::Producer producer(props);
    std::thread relay([&] {
      auto idle = core::env_ms("LOKET_OUTBOX_POLL_MS", std::chrono::milliseconds(50));
      while (!core::stop_requested()) {
        try {
          if (writer::relay_once(pool, producer, 500) == 0) core::sleep_unless_stopped(idle);
        } catch (const std::exception& e) {
          core::log(core::Level::kError, "outbox relay failed; retrying", {{"error", e.what()}});
          core::sleep_unless_stopped(std::chrono::seconds(1));
        }
      }
    });
    auto fetch = writer::provider_fetcher(keys, providers::endpoints_from_env());
    writer::Settings settings{keys, core::env_or("LOKET_PUBLIC_APP_URL", "http://127.0.0.1:8080")};
    const std::string group = core::env_or("LOKET_WRITER_GROUP", "loket-writer");
    kafka::Consumer consumer(props, group, {kafka::kInboundTopic});
    auto admin = ops::admin_from_env(9083, {{"postgres", [&] { return pool.ping(); }},
                                            {"kafka", [&] { return producer.reachable(std::chrono::seconds(1)); }}});
    auto lag = ops::watch_consumer_lag(group, consumer);
    auto backlog = writer::watch_outbox(pool);
    core::log(core::Level::kInfo, "writer consuming", {{"topic", kafka::kInboundTopic}});
    try {
      kafka::consume_loop(
          consumer, static_cast<std::size_t>(core::env_int("LOKET_WRITER_BATCH", 500)),
          [&](const std::vector<kafka::Record>& batch) {
            if (!writer::process_batch(pool, batch, fetch, settings, core::stop_requested))
              throw std::runtime_error("stopped before the batch was written");
          },
          core::stop_requested);
    } catch (...) {
      core::request_stop();
      relay.join();
      throw;
    }
    relay.join();
  } catch (const std::exception& e) {
    if (core::stop_requested()) return 0;
    core::log(core::Level::kError, "writer failed", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
