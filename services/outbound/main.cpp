// loket-outbound: ticket.events → provider deliveries, with outbound.retry (outbound.retry.team for
// team chats) and outbound.dlq.
// Configuration: docs/operations.md.
#include <algorithm>
#include <functional>
#include <thread>

#include "loket/core/config.hpp"
#include "loket/core/json.hpp"
#include "loket/core/lifecycle.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/events/events.hpp"
#include "loket/ops/admin.hpp"
#include "loket/ops/dead_letters.hpp"
#include "loket/ops/watch.hpp"
#include "outbound.hpp"
#include "webhooks.hpp"

using namespace loket;

namespace {
// Runs `handle` for record `rec`, retrying transient database and broker
// failures until done or stopped; a permanent failure dead-letters `rec`.
void handle_with_retry(const kafka::Record& rec, const std::function<void()>& handle,
                       const ops::DeadLetters& dead_letters) {
  std::string error;
  auto done = core::retry_transient("outbound handling", handle, store::is_permanent, core::stop_requested, error);
  if (done == core::Attempted::kStopped ||
      (done == core::Attempted::kPermanent && !dead_letters.send(rec, error, core::stop_requested)))
    throw std::runtime_error("stopped");
}

using BatchHandler = std::function<void(const std::vector<kafka::Record>&)>;

// A thread consuming `topic` as consumer group `group` in batches of up to `batch` records,
// each through `handle`; a failure stops the process.
std::thread consumer_thread(const kafka::Properties& props, const std::string& group, const std::string& topic,
                            int batch, BatchHandler handle) {
  return std::thread([props, group, topic, batch, handle = std::move(handle)] {
    try {
      kafka::Consumer consumer(props, group, {topic});
      auto lag = ops::watch_consumer_lag(group, consumer);
      kafka::consume_loop(consumer, batch, handle, core::stop_requested);
    } catch (const std::exception& e) {
      if (!core::stop_requested()) {
        core::log(core::Level::kError, "consumer failed", {{"group", group}, {"error", e.what()}});
        core::request_stop();
      }
    }
  });
}

// A batch handler running `handle` on each record in turn.
BatchHandler each(std::function<void(const kafka::Record&)> handle) {
  return [handle = std::move(handle)](const std::vector<kafka::Record>& records) {
    for (const auto& rec : records) handle(rec);
  };
}

// Fans a consumed batch out into webhook deliveries in one transaction (retrying transient
// failures); records that are not events are dead-lettered, and when the batch fails for good
// each record is tried alone so only the bad one is dead-lettered.
void fan_out_batch(const std::vector<kafka::Record>& records, store::Pool& pool, const ops::DeadLetters& dead_letters,
                   outbound::WebhookWakeup& wakeup) {
  std::vector<std::string> values;
  values.reserve(records.size());
  for (const auto& rec : records) values.push_back(rec.value);
  outbound::FanOut out;
  std::string error;
  auto done = core::retry_transient(
      "webhook fan-out", [&] { out = outbound::fan_out(values, pool); }, store::is_permanent, core::stop_requested,
      error);
  if (done == core::Attempted::kStopped) throw std::runtime_error("stopped");
  if (done == core::Attempted::kPermanent) {
    for (const auto& rec : records)
      handle_with_retry(
          rec, [&] { outbound::fan_out({rec.value}, pool); }, dead_letters);
    wakeup.notify();
    return;
  }
  for (const auto& [i, why] : out.rejected)
    if (!dead_letters.send(records[i], why, core::stop_requested)) throw std::runtime_error("stopped");
  if (out.added > 0) wakeup.notify();
}
}  // namespace

int main() {
  core::init_logging("outbound");
  core::install_signal_handlers();
  try {
    auto pool_ptr = store::pool_from_env(4);
    auto& pool = *pool_ptr;
    auto keys = crypto::keyring_from_env();
    outbound::Options opt;
    opt.max_attempts = static_cast<int>(core::env_int("LOKET_OUTBOUND_MAX_ATTEMPTS", opt.max_attempts));
    opt.base_backoff = core::env_ms("LOKET_OUTBOUND_BACKOFF_MS", opt.base_backoff);
    auto providers = providers::Registry::standard(providers::settings_from_env());
    opt.providers = &providers;
    opt.email.public_app_url = core::env_or("LOKET_PUBLIC_APP_URL", opt.email.public_app_url);
    if (auto app = core::env_or("LOKET_AGENT_APP_URL", ""); !app.empty()) {
      while (!app.empty() && app.back() == '/') app.pop_back();
      opt.agent_ticket_url = app + core::env_or("LOKET_AGENT_TICKET_PATH", "/tickets/{ticketId}");
    }
    opt.email.inbound_domain = core::env_or("LOKET_INBOUND_EMAIL_DOMAIN", "");
    opt.email.max_attachment_bytes = static_cast<std::size_t>(
        core::env_int("LOKET_EMAIL_ATTACHMENTS_MAX_BYTES", static_cast<long long>(opt.email.max_attachment_bytes)));
    if (std::none_of(providers.adapters().begin(), providers.adapters().end(),
                     [](const auto& a) { return a->platform_mailer().has_value(); }))
      core::log(core::Level::kWarn,
                "no platform email sender (docs/channels/email-notifications.md): requester emails of "
                "workspaces without an email integration are skipped");
    auto props = kafka::properties_from_env();
    kafka::Producer producer(props);
    const std::string group = core::env_or("LOKET_OUTBOUND_GROUP", "loket-outbound");
    ops::DeadLetters dead_letters(producer, group);
    auto admin = ops::admin_from_env(9084, {{"postgres", [&] { return pool.ping(); }},
                                            {"kafka", [&] { return producer.reachable(std::chrono::seconds(1)); }}});
    std::vector<std::thread> threads;
    // Retries wait in line until due, so team chats' (whose Retry-After can be long) wait in a
    // line of their own.
    auto retry = each([&](const kafka::Record& rec) {
      events::DeliveryRetry r;
      try {
        r = events::delivery_retry_from_json(rec.value);
      } catch (const std::invalid_argument& e) {  // never deliverable: dead letter
        if (!dead_letters.send(rec, e.what(), core::stop_requested)) throw std::runtime_error("stopped");
        return;
      }
      auto wait = r.not_before_ms - core::now_ms();
      if (wait > 0 && !core::sleep_unless_stopped(std::chrono::milliseconds(wait))) throw std::runtime_error("stopped");
      handle_with_retry(
          rec,
          [&] {
            if (r.target.empty())  // the customer's delivery, else one team chat's
              outbound::handle_event(r.event, r.attempt, pool, producer, keys, opt);
            else
              outbound::handle_team_event(r.event, r.attempt, r.target, pool, producer, keys, opt);
          },
          dead_letters);
    });
    threads.push_back(consumer_thread(props, group + "-retry", kafka::kOutboundRetryTopic, 1, retry));
    threads.push_back(consumer_thread(props, group + "-team-retry", kafka::kOutboundTeamRetryTopic, 1, retry));
    // Team chats (Slack, Discord) and integrators' webhooks read the same events in groups of
    // their own: a slow or dead one never delays a customer's reply.
    threads.push_back(consumer_thread(
        props, group + "-team", kafka::kTicketEventsTopic, 50, each([&](const auto& rec) {
          handle_with_retry(
              rec, [&] { outbound::handle_team_event(rec.value, 1, "", pool, producer, keys, opt); }, dead_letters);
        })));
    auto webhooks = outbound::webhook_options_from_env();
    outbound::WebhookWakeup wakeup;
    outbound::WebhookDispatch dispatch(webhooks);
    // The dispatch workers' connections: one each, so they never wait for one another nor take
    // the customers' replies' connections; their writes (leases, outcomes, notices) may be lost
    // in a crash of PostgreSQL and are then done again, so they do not wait for the disk.
    auto dispatch_limits = pool.limits();
    dispatch_limits.asynchronous_commit = true;
    store::Pool dispatch_pool(pool.url(), static_cast<std::size_t>(webhooks.workers), dispatch_limits);
    threads.push_back(
        consumer_thread(props, group + "-webhooks", kafka::kTicketEventsTopic, 500,
                        [&](const auto& records) { fan_out_batch(records, pool, dead_letters, wakeup); }));
    for (int i = 0; i < webhooks.workers; ++i)
      threads.emplace_back([&] {
        http::Session session;  // this worker's kept-alive connections
        while (!core::stop_requested()) {
          try {
            const auto seen = wakeup.seen();  // a delivery queued while this one looks wakes it
            if (!outbound::deliver_webhook_batch(dispatch_pool, keys, webhooks, dispatch, session) &&
                !outbound::send_owners_notice(dispatch_pool, keys, providers))
              wakeup.wait(seen, std::chrono::milliseconds(500));
          } catch (const std::exception& e) {  // the database is away: wait, then go on
            core::log(core::Level::kWarn, "webhook dispatch failed", {{"error", e.what()}});
            core::sleep_unless_stopped(std::chrono::seconds(1));
          }
        }
      });
    kafka::Consumer consumer(props, group, {kafka::kTicketEventsTopic});
    auto lag = ops::watch_consumer_lag(group, consumer);
    core::log(core::Level::kInfo, "outbound consuming", {{"topic", kafka::kTicketEventsTopic}});
    try {
      kafka::consume_loop(
          consumer, 50,
          [&](const std::vector<kafka::Record>& batch) {
            for (const auto& rec : batch)
              handle_with_retry(
                  rec, [&] { outbound::handle_event(rec.value, 1, pool, producer, keys, opt); }, dead_letters);
          },
          core::stop_requested);
    } catch (...) {
      core::request_stop();
    }
    core::request_stop();
    wakeup.notify();
    for (auto& t : threads) t.join();
  } catch (const std::exception& e) {
    if (core::stop_requested()) return 0;
    core::log(core::Level::kError, "outbound failed", {{"error", e.what()}});
    return 1;
  }
  return core::stop_requested() ? 0 : 1;
}
