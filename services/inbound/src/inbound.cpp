#include "inbound.hpp"

#include <thread>

#include "loket/core/log.hpp"
#include "loket/ops/metrics.hpp"
#include "loket/providers/error.hpp"

namespace loket::inbound {

namespace {
ops::Registry& registry() {
  static ops::Registry& r = []() -> ops::Registry& {
    auto& m = ops::metrics();
    m.describe("loket_inbound_total", ops::Registry::Type::kCounter,
               "Normalized records published to channel.inbound, by provider and kind (message, receipt).");
    m.describe("loket_inbound_dropped_total", ops::Registry::Type::kCounter,
               "Webhook items dropped by inbound (receipts, edits, unsupported, malformed), by provider and reason.");
    return m;
  }();
  return r;
}

enum class Fetched { kWhole, kFailed, kStopped };

// Sleeps `d` in steps, false as soon as stop() says so.
bool pause(std::chrono::milliseconds d, const std::function<bool()>& stop) {
  for (auto left = d; left.count() > 0; left -= std::chrono::milliseconds(100)) {
    if (stop()) return false;
    std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds(100)));
  }
  return !stop();
}

// Replaces `raw` with what it points at (providers::Adapter::expand), retrying while the
// provider is unreachable; kFailed with `error` once the failure is permanent or kExpandAttempts
// are used (the record is dead-lettered then, and redriven once the provider answers).
Fetched expand(events::RawWebhook& raw, const providers::Registry& providers, const std::function<bool()>& stop,
               std::string& error) {
  const auto* adapter = providers.find_webhook(raw.provider);
  if (!adapter) return Fetched::kWhole;
  auto backoff = std::chrono::milliseconds(500);
  for (int attempt = 1;; ++attempt) {
    try {
      if (auto whole = adapter->expand(raw)) raw = std::move(*whole);
      return Fetched::kWhole;
    } catch (const providers::ProviderError& e) {
      error = e.what();
      if (!e.retryable() || attempt == kExpandAttempts) return Fetched::kFailed;
      auto wait = e.retry_after_seconds() > 0 ? std::chrono::milliseconds(1000 * std::min(e.retry_after_seconds(), 10))
                                              : backoff;
      core::log(core::Level::kWarn, "fetching a webhook's content failed; retrying",
                {{"provider", raw.provider}, {"attempt", std::to_string(attempt)}, {"error", error}});
      if (!pause(wait, stop)) return Fetched::kStopped;
      backoff *= 2;
    } catch (const std::exception& e) {  // a defect, not an outage: never retried
      error = e.what();
      return Fetched::kFailed;
    }
  }
}
}  // namespace

providers::Normalized normalize(const events::RawWebhook& raw, const providers::Registry& providers) {
  if (const auto* adapter = providers.find_webhook(raw.provider)) return adapter->normalize(raw);
  return {{}, {}, {"unsupported_provider"}};
}

bool process_batch(const std::vector<kafka::Record>& batch, const providers::Registry& providers,
                   kafka::Producer& producer, const DeadLetter& dead_letter, const std::function<bool()>& stop) {
  struct Pending {
    std::string key, value;
  };
  std::vector<Pending> todo;
  for (const auto& rec : batch) {
    events::RawWebhook raw;
    try {
      raw = events::raw_webhook_from_json(rec.value);
    } catch (const std::invalid_argument& e) {  // not what ingress publishes: never normalizable
      if (!dead_letter(rec, std::string("malformed channel.webhook record: ") + e.what())) return false;
      continue;
    }
    std::string error;
    switch (expand(raw, providers, stop, error)) {
      case Fetched::kWhole:
        break;
      case Fetched::kStopped:
        return false;
      case Fetched::kFailed:
        if (!dead_letter(rec, "fetching the content of a " + raw.provider + " webhook failed: " + error)) return false;
        continue;
    }
    auto out = normalize(raw, providers);
    const std::string provider = rec.topic.substr(rec.topic.rfind('.') + 1);
    if (!out.messages.empty())
      registry().add("loket_inbound_total", {{"provider", provider}, {"kind", "message"}}, out.messages.size());
    if (!out.receipts.empty())
      registry().add("loket_inbound_total", {{"provider", provider}, {"kind", "receipt"}}, out.receipts.size());
    for (const auto& reason : out.dropped) {
      registry().add("loket_inbound_dropped_total", {{"provider", provider}, {"reason", reason}});
      core::log(reason == "malformed" ? core::Level::kWarn : core::Level::kInfo, "webhook item dropped",
                {{"reason", reason}, {"topic", rec.topic}, {"offset", std::to_string(rec.offset)}});
    }
    for (const auto& m : out.messages)
      todo.push_back({events::thread_key(m.integration_id, m.external_thread_id), events::to_json(m)});
    for (const auto& r : out.receipts)
      todo.push_back({events::thread_key(r.integration_id, r.recipient), events::to_json(r)});
  }
  auto backoff = std::chrono::milliseconds(100);
  while (!todo.empty()) {
    std::mutex mu;
    std::vector<Pending> failed;
    std::string last_error;
    for (const auto& p : todo)
      producer.produce(kafka::kInboundTopic, p.key, p.value, [&, p](const std::string& err) {
        if (err.empty()) return;
        std::lock_guard lock(mu);
        failed.push_back(p);
        last_error = err;
      });
    while (!producer.flush(std::chrono::milliseconds(500)))
      if (stop()) return false;
    if (failed.empty()) return true;
    core::log(core::Level::kWarn, "publishing to channel.inbound failed; retrying",
              {{"count", std::to_string(failed.size())}, {"error", last_error}});
    todo = std::move(failed);
    if (stop()) return false;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
  }
  return true;
}

}  // namespace loket::inbound
