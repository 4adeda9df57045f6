#pragma once
#include <string>

#include "loket/kafka/kafka.hpp"
#include "loket/ops/metrics.hpp"

namespace loket::ops {

/// Exports the lag of `consumer` (a member of `group`) as the gauge
/// `loket_consumer_lag{group,topic,partition}`, read at every scrape while the hook lives.
/// Destroy the hook before the consumer.
[[nodiscard]] ScrapeHook watch_consumer_lag(const std::string& group, const kafka::Consumer& consumer);

}  // namespace loket::ops
