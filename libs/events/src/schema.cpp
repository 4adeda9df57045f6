#include "loket/events/schema.hpp"
#include "loket/events/events.hpp"

#include <rapidjson/document.h>
#include <rapidjson/schema.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <fstream>
#include <sstream>

#include "loket/core/json.hpp"

namespace loket::events {

std::string validate(const std::string& schema_name, const std::string& json, const std::string& proto_dir) {
  std::string dir = proto_dir.empty() ? LOKET_PROTO_DIR : proto_dir;
  std::string path = dir + "/" + schema_name + ".schema.json";
  std::ifstream in(path);
  if (!in) return "no schema file " + path;
  std::stringstream ss;
  ss << in.rdbuf();
  rapidjson::Document sd;
  sd.Parse(ss.str().c_str());
  if (sd.HasParseError()) return "schema " + path + " is not valid JSON";
  rapidjson::SchemaDocument schema(sd);
  rapidjson::Document d;
  if (auto err = core::parse_json(d, json, kRecordLimits); !err.empty()) return "record is not valid JSON: " + err;
  rapidjson::SchemaValidator v(schema);
  if (d.Accept(v)) return "";
  rapidjson::StringBuffer where, doc;
  v.GetInvalidSchemaPointer().StringifyUriFragment(where);
  v.GetInvalidDocumentPointer().StringifyUriFragment(doc);
  return std::string("violates ") + schema_name + " at schema " + where.GetString() + " (keyword '" +
         v.GetInvalidSchemaKeyword() + "') for document " + doc.GetString();
}

std::string schema_for(const std::string& topic, const std::string& json) {
  if (topic != "outbound.dlq" && topic.size() > 4 && topic.compare(topic.size() - 4, 4, ".dlq") == 0)
    return "dead_letter";
  if (topic.rfind("channel.webhook.", 0) == 0) return "channel.webhook";
  if (topic == "outbound.retry.team") return "outbound.retry";  // the same records, team chats' only
  if (topic == "channel.inbound" && is_delivery_receipt(json)) return "channel.inbound.delivery_receipt";
  if (topic == "ticket.events") {
    rapidjson::Document d;
    core::parse_json(d, json, kRecordLimits);
    return "ticket.events." + core::json_string(d, "type").value_or("unknown");
  }
  return topic;
}

}  // namespace loket::events
