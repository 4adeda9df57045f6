// loket-writer: channel.inbound → tickets and messages in PostgreSQL; runs the outbox relay.
// Configuration: docs/operations.md.
#include <algorithm>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "loket/core/config.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/ops/admin.hpp"
#include "loket/ops/dead_letters.hpp"
#include "loket/ops/watch.hpp"
#include "loket/store/assignment.hpp"
#include "loket/store/reports.hpp"
#include "loket/store/sla.hpp"
#include "loket/store/tickets.hpp"
#include "writer.hpp"

using namespace loket;

int main() {
  core::init_logging("writer");
  core::install_signal_handlers();
  try {
    // Several consumers (see below); two connections each (a batch's transaction and its ticket
    // numbering), the relay's and the reports'.
    const int consumers = std::max(1, static_cast<int>(core::env_int("LOKET_WRITER_CONSUMERS", 2)));
    auto pool_ptr = store::pool_from_env(std::max(6, 2 * consumers + 2));
    auto& pool = *pool_ptr;
    auto keys = crypto::keyring_from_env();
    auto props = kafka::properties_from_env();
    kafka::Producer producer(props);
    std::thread relay([&] {
      auto idle = core::env_ms("LOKET_OUTBOX_POLL_MS", std::chrono::milliseconds(50));
      // Reply windows about to close are announced from here too (issue 19), and tickets of
      // offline agents reassigned (issue 20).
      auto sweep_every = core::env_ms("LOKET_REPLY_WINDOW_SWEEP_MS", std::chrono::seconds(30));
      auto lead = core::env_ms("LOKET_REPLY_WINDOW_WARNING_MS", std::chrono::hours(1));
      auto next_sweep = std::chrono::steady_clock::now();
      // Snoozed tickets wake, and SLA warnings and breaches are announced, within this of their time
      // (issue 21): the schedule is the ticket row.
      auto clock_every = core::env_ms("LOKET_SNOOZE_SWEEP_MS", std::chrono::seconds(5));
      auto next_tick = next_sweep;
      while (!core::stop_requested()) {
        try {
          if (std::chrono::steady_clock::now() >= next_tick) {
            next_tick = std::chrono::steady_clock::now() + clock_every;
            store::with_tx(pool, [&](pqxx::work& tx) { store::wake_snoozed(tx, 500); });
            store::with_tx(pool, [&](pqxx::work& tx) { store::sweep_sla(tx, 500); });  // sla.warning, sla.breached
          }
          if (std::chrono::steady_clock::now() >= next_sweep) {
            next_sweep = std::chrono::steady_clock::now() + sweep_every;
            store::with_tx(pool, [&](pqxx::work& tx) { store::announce_closing_windows(tx, lead.count(), 500); });
            // Tickets of agents gone offline go to someone online (issue 20 auto-assignment).
            store::with_tx(pool, [&](pqxx::work& tx) { store::reassign_from_offline(tx, 500); });
          }
          if (writer::relay_once(pool, producer, 500) == 0) core::sleep_unless_stopped(idle);
        } catch (const std::exception& e) {
          core::log(core::Level::kError, "outbox relay failed; retrying", {{"error", e.what()}});
          core::sleep_unless_stopped(std::chrono::seconds(1));
        }
      }
    });
    // Reports (issue 21): the deltas the tickets' triggers wrote fold into the rollup, and a
    // workspace whose rollup is not counted in its time zone (new, changed) is recounted — minutes
    // for a big one, hence a thread of its own, never in the relay's way.
    std::thread reports([&] {
      auto every = core::env_ms("LOKET_SNOOZE_SWEEP_MS", std::chrono::seconds(5));
      while (!core::stop_requested()) {
        try {
          store::with_tx(pool, [&](pqxx::work& tx) { return store::rebuild_stale_report_rollup(tx); });
          // Up to 20 rounds of 20,000 while there are that many.
          auto fold = [&](pqxx::work& tx) { return store::fold_report_deltas(tx, 20000); };
          for (int round = 0; round < 20 && store::with_tx(pool, fold) == 20000; ++round) {
          }
        } catch (const std::exception& e) {
          core::log(core::Level::kError, "report rollup failed; retrying", {{"error", e.what()}});
        }
        core::sleep_unless_stopped(every);
      }
    });
    auto providers = providers::Registry::standard(providers::settings_from_env());
    auto fetch = writer::provider_fetcher(keys, providers);
    writer::Settings settings{keys,
                              static_cast<int>(core::env_int("LOKET_TICKETS_PER_SENDER_HOUR",
                                                             writer::Settings{keys}.tickets_per_sender_hour)),
                              writer::provider_name_lookup(keys, providers)};
    const std::string group = core::env_or("LOKET_WRITER_GROUP", "loket-writer");
    ops::DeadLetters dead_letters(producer, group);
    writer::DeadLetter dead_letter = [&](const kafka::Record& rec, const std::string& error) {
      return dead_letters.send(rec, error, core::stop_requested);
    };
    // Several consumers of the group in one process: their partitions are written concurrently,
    // so one batch's round trips and commit overlap another's (threads never share a partition,
    // hence never a conversation thread).
    std::vector<std::unique_ptr<kafka::Consumer>> group_members;
    std::vector<ops::ScrapeHook> lag;
    for (int i = 0; i < consumers; ++i) {
      group_members.push_back(
          std::make_unique<kafka::Consumer>(props, group, std::vector<std::string>{kafka::kInboundTopic}));
      lag.push_back(ops::watch_consumer_lag(group, *group_members.back()));
    }
    auto admin = ops::admin_from_env(9083, {{"postgres", [&] { return pool.ping(); }},
                                            {"kafka", [&] { return producer.reachable(std::chrono::seconds(1)); }}});
    auto backlog = writer::watch_outbox(pool);
    const auto batch_size = static_cast<std::size_t>(core::env_int("LOKET_WRITER_BATCH", 500));
    core::log(core::Level::kInfo, "writer consuming",
              {{"topic", kafka::kInboundTopic}, {"consumers", std::to_string(consumers)}});
    std::exception_ptr failure;
    std::mutex failure_mu;
    std::vector<std::thread> workers;
    for (auto& member : group_members)
      workers.emplace_back([&, &consumer = *member] {
        try {
          kafka::consume_loop(
              consumer, batch_size,
              [&](const std::vector<kafka::Record>& batch) {
                if (!writer::process_batch(pool, batch, fetch, settings, dead_letter, core::stop_requested))
                  throw std::runtime_error("stopped before the batch was written");
              },
              core::stop_requested);
        } catch (...) {
          std::lock_guard lock(failure_mu);
          if (!failure) failure = std::current_exception();
          core::request_stop();
        }
      });
    for (auto& w : workers) w.join();
    relay.join();
    reports.join();
    if (failure) std::rethrow_exception(failure);
  } catch (const std::exception& e) {
    if (core::stop_requested()) return 0;
    core::log(core::Level::kError, "writer failed", {{"error", e.what()}});
    return 1;
  }
  return 0;
}
