#pragma once
#include <atomic>
#include <string>
#include <vector>

#include "loket/events/events.hpp"
#include "loket/kafka/kafka.hpp"
#include "loket/providers/registry.hpp"

/// The inbound worker: `channel.webhook.*` → normalized `channel.inbound` (DESIGN.md "inbound").
namespace loket::inbound {

/// Normalizes one stored webhook with the adapter of its provider into the messages and
/// delivery receipts it carries and one drop reason per item dropped (counted and logged, never
/// silent). Pure; never throws (a provider `providers` does not know: `unsupported_provider`).
providers::Normalized normalize(const events::RawWebhook& raw, const providers::Registry& providers);

/// Puts a record that can never be normalized on its dead-letter topic (ops::DeadLetters::send);
/// returns false when stopped before the broker acknowledged.
using DeadLetter = std::function<bool(const kafka::Record& record, const std::string& error)>;

/// Attempts at fetching what a webhook points at (providers::Adapter::expand) while its provider
/// is unreachable (backoff 0.5, 1, 2 s, or its Retry-After up to 10 s) before the record is
/// dead-lettered for redrive: a provider outage holds the partition seconds, not hours.
inline constexpr int kExpandAttempts = 4;

/// Normalizes a batch and publishes every message and delivery receipt to `channel.inbound`
/// (a record that is not a RawWebhook, or whose content cannot be fetched, goes to
/// `dead_letter`), retrying a failed
/// publish with backoff until the broker acknowledges (so the caller may commit the batch
/// afterwards), or until `stop()`; returns false when stopped before everything was acknowledged.
/// Counts `loket_inbound_total{provider,kind}` (message, receipt) and
/// `loket_inbound_dropped_total{provider,reason}` in ops::metrics().
bool process_batch(const std::vector<kafka::Record>& batch, const providers::Registry& providers,
                   kafka::Producer& producer, const DeadLetter& dead_letter, const std::function<bool()>& stop);

}  // namespace loket::inbound
