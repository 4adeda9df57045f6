#pragma once
#include <atomic>
#include <string>
#include <vector>

#include "loket/events/events.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/providers/registry.hpp"

/// The inbound worker: `channel.webhook.*` → normalized `channel.inbound` (DESIGN.md "inbound").
namespace loket::inbound {

/// Normalizes one `channel.webhook.<provider>` record value with the adapter of its provider
/// into the messages and delivery receipts it carries and one drop reason per item dropped
/// (counted and logged, never silent). Pure; never throws (unparseable records become
/// `malformed`, providers `providers` does not know `unsupported_provider`).
providers::Normalized normalize_record(const std::string& value, const providers::Registry& providers);

/// Normalizes a batch and publishes every message and delivery receipt to `channel.inbound`, retrying a failed
/// publish with backoff until the broker acknowledges (so the caller may commit the batch
/// afterwards), or until `stop()`; returns false when stopped before everything was acknowledged.
/// Counts `loket_inbound_total{provider,kind}` (message, receipt) and
/// `loket_inbound_dropped_total{provider,reason}` in ops::metrics().
bool process_batch(const std::vector<kafka::Record>& batch, const providers::Registry& providers,
                   kafka::Producer& producer, const std::function<bool()>& stop);

}  // namespace loket::inbound
