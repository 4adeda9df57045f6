#pragma once
#include <atomic>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "loket/events/events.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/providers/common.hpp"

/// The inbound worker: `channel.webhook.*` → normalized `channel.inbound` (DESIGN.md "inbound").
namespace loket::inbound {

/// Normalizes one `channel.webhook.<provider>` record value (telegram, twilio,
/// whatsapp_cloud) into the messages and delivery receipts it carries and one drop reason per item dropped
/// (counted and logged, never silent). Pure; never throws (unparseable records become
/// `malformed`, unknown providers `unsupported_provider`).
providers::Normalized normalize_record(const std::string& value);

/// Drop counters by reason. Thread-safe.
class DropCounters {
 public:
  void add(const std::string& reason);
  std::map<std::string, long> snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, long> counts_;
};

/// Normalizes a batch and publishes every message and delivery receipt to `channel.inbound`, retrying a failed
/// publish with backoff until the broker acknowledges (so the caller may commit the batch
/// afterwards), or until `stop()`; returns false when stopped before everything was acknowledged.
bool process_batch(const std::vector<kafka::Record>& batch, kafka::Producer& producer,
                   DropCounters& drops, const std::function<bool()>& stop);

}  // namespace loket::inbound
