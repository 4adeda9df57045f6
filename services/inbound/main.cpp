// loket-inbound: channel.webhook.* → channel.inbound. Configuration: docs/operations.md.
#include "inbound.hpp"
#include "loket/core/config.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/ops/admin.hpp"
#include "loket/ops/dead_letters.hpp"
#include "loket/ops/watch.hpp"

using namespace loket;

int main() {
  core::init_logging("inbound");
  core::install_signal_handlers();
  try {
    auto providers = providers::Registry::standard(providers::settings_from_env());
    auto props = kafka::properties_from_env();
    kafka::Producer producer(props);
    const std::string group = core::env_or("LOKET_INBOUND_GROUP", "loket-inbound");
    ops::DeadLetters dead_letters(producer, group);
    inbound::DeadLetter dead_letter = [&](const kafka::Record& rec, const std::string& error) {
      return dead_letters.send(rec, error, core::stop_requested);
    };
    // Every provider's topic; not the dead-letter topics beside them.
    kafka::Consumer consumer(props, group, {"^channel\\.webhook\\.[a-z0-9_]+$"});
    auto admin = ops::admin_from_env(9082, {{"kafka", [&] { return producer.reachable(std::chrono::seconds(1)); }}});
    auto lag = ops::watch_consumer_lag(group, consumer);
    core::log(core::Level::kInfo, "inbound consuming", {{"topics", "channel.webhook.*"}});
    kafka::consume_loop(
        consumer, 500,
        [&](const std::vector<kafka::Record>& batch) {
          if (!inbound::process_batch(batch, providers, producer, dead_letter, core::stop_requested))
            throw std::runtime_error("stopped before the batch was published");
        },
        core::stop_requested);
  } catch (const std::exception& e) {
    if (core::stop_requested()) return 0;
    core::log(core::Level::kError, "inbound failed", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
