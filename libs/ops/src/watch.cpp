#include "loket/ops/watch.hpp"

namespace loket::ops {

ScrapeHook watch_consumer_lag(const std::string& group, const kafka::Consumer& consumer) {
  auto& m = metrics();
  m.describe("loket_consumer_lag", Registry::Type::kGauge,
             "Records between a consumer group's position and the end of each assigned partition.");
  return m.on_scrape([group, &consumer](Registry& r) {
    for (const auto& l : consumer.lag())
      r.set("loket_consumer_lag", {{"group", group}, {"topic", l.topic}, {"partition", std::to_string(l.partition)}},
            static_cast<double>(l.lag));
  });
}

}  // namespace loket::ops
