#pragma once
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "loket/events/events.hpp"
#include "loket/kafka/kafka.hpp"

/// The inbound worker: `channel.webhook.*` → normalized `channel.inbound` (DESIGN.md "inbound").
namespace loket::inbound {

/// The outcome of normalizing one raw record: a message to publish, or a drop reason
/// (counted and logged, never silent).
struct Outcome {
  std::optional<events::InboundMessage> message;
  std::string dropped_reason;
};

/// Normalizes one `channel.webhook.<provider>` record value. Pure; never throws
/// (unparseable records become `malformed`, unknown providers `unsupported_provider`).
Outcome normalize_record(const std::string& value);

/// Drop counters by reason. Thread-safe.
class DropCounters {
 public:
  void add(const std::string& reason);
  std::map<std::string, long> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, long> counts_;
};

/// Normalizes a batch and publishes every message to `channel.inbound`, retrying a failed
/// publish with backoff until the broker acknowledges (so the caller may commit the batch
/// afterwards), or until `stop()`; returns false when stopped before everything was acknowledged.
bool process_batch(const std::vector<kafka::Record>& batch, kafka::Producer& producer,
                   DropCounters& drops, const std::function<bool()>& stop);

}  // namespace loket::inbound
