#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "loket/kafka/kafka.hpp"

namespace loket::ops {

/// Where a consumer puts records it can never process (DESIGN.md "Topics and events"): an
/// events::DeadLetter on `<topic>.dlq` with the original record, the error and the consumer,
/// so the partition moves on and `loket-admin redrive` can put it back after a fix. Every dead
/// letter is logged (error level) and counted in `loket_dead_letters_total{topic,consumer}`.
/// Thread-safe (the producer is).
class DeadLetters {
 public:
  /// `consumer` names who gives up, e.g. the consumer group "loket-writer".
  DeadLetters(kafka::Producer& producer, std::string consumer);
  /// Publishes `rec` with `error` and waits for the broker, retrying with capped backoff until
  /// it acknowledges; returns false when `stop()` turned true first (do not commit `rec` then).
  bool send(const kafka::Record& rec, const std::string& error, const std::function<bool()>& stop) const;

 private:
  kafka::Producer& producer_;
  std::string consumer_;
};

/// What redrive() did.
struct Redriven {
  int republished = 0;  ///< dead letters put back on their original topic
  int skipped = 0;      ///< older than `since_ms`, or not a dead letter (left alone)
};

/// Puts the dead letters on `dlq_topic` back on the topic each was consumed from (same key and
/// value, so consumers dedup as usual), as consumer group `loket-redrive`: each dead letter is
/// redriven once, and a later run takes only newer ones. Dead letters that failed before
/// `since_ms` (epoch ms; 0 = all) are passed over. Returns once no record arrived for `idle`.
/// @throws std::runtime_error when the broker does not acknowledge a republished record.
Redriven redrive(const kafka::Properties& props, const std::string& dlq_topic, std::int64_t since_ms,
                 std::chrono::milliseconds idle = std::chrono::seconds(5));

}  // namespace loket::ops
