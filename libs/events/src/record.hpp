#pragma once
// Reading and writing helpers shared by the record types' JSON (not a public header).
#include <stdexcept>
#include <string>

#include "loket/core/json.hpp"
#include "loket/events/events.hpp"

namespace loket::events::record {

/// The JSON object of record `json` (within kRecordLimits). @throws std::invalid_argument naming `what`.
inline rapidjson::Document parse(const std::string& json, const char* what) {
  rapidjson::Document d;
  core::parse_json(d, json, kRecordLimits);
  if (!d.IsObject()) throw std::invalid_argument(std::string(what) + " is not a JSON object");
  return d;
}

/// The string member `key` of `v`. @throws std::invalid_argument naming `what` when absent.
inline std::string need(const rapidjson::Value& v, const char* key, const char* what) {
  auto s = core::json_string(v, key);
  if (!s) throw std::invalid_argument(std::string(what) + " lacks string field '" + key + "'");
  return *s;
}

/// Opens a record object with its `eventId` and `schemaVersion`.
inline void start(core::JsonWriter& w, const std::string& event_id) {
  w.StartObject();
  core::json_kv(w, "eventId", event_id);
  core::json_put(w, "schemaVersion");
  w.Int(kSchemaVersion);
}

}  // namespace loket::events::record
