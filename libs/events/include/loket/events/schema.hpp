#pragma once
#include <string>

namespace loket::events {

/// Validates JSON text `json` against the schema file `proto/<schema_name>.schema.json`
/// (JSON Schema draft-04, RapidJSON's validator). Returns "" when valid, otherwise a
/// description of the first violation. `proto_dir` defaults to the source tree's proto/.
/// Thread-safe (schemas are loaded per call).
std::string validate(const std::string& schema_name, const std::string& json, const std::string& proto_dir = "");

/// The schema name for a record on `topic` with JSON `json`: `channel.webhook`,
/// `channel.inbound`, `ticket.events.<type>` or `outbound.retry` (also for `outbound.retry.team`)/`outbound.dlq`.
std::string schema_for(const std::string& topic, const std::string& json);

}  // namespace loket::events
