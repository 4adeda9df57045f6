#include <algorithm>
#include <map>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"

namespace loket::providers::whatsapp_cloud {
namespace {
using core::json_member;
using core::json_string;

// Calls `f(value)` for each `entry[].changes[]` of a parsed notification, with its field name.
template <typename F>
void for_each_change(const rapidjson::Value& d, F&& f) {
  const auto* entries = json_member(d, "entry");
  if (entries == nullptr || !entries->IsArray()) return;
  for (const auto& entry : entries->GetArray()) {
    const auto* changes = json_member(entry, "changes");
    if (changes == nullptr || !changes->IsArray()) continue;
    for (const auto& change : changes->GetArray()) {
      const auto* value = json_member(change, "value");
      if (value != nullptr && value->IsObject()) f(json_string(change, "field").value_or(""), *value);
    }
  }
}

std::string phone_number_id(const rapidjson::Value& value) {
  const auto* meta = json_member(value, "metadata");
  return meta ? json_string(*meta, "phone_number_id").value_or("") : "";
}

const rapidjson::Value* array_of(const rapidjson::Value& v, const char* key) {
  const auto* a = json_member(v, key);
  return a != nullptr && a->IsArray() ? a : nullptr;
}

std::string number_text(const rapidjson::Value& v, const char* key) {
  const auto* n = json_member(v, key);
  if (n == nullptr) return "?";
  if (n->IsNumber()) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", n->GetDouble());
    return buf;
  }
  return n->IsString() ? n->GetString() : "?";
}

// Fills `m` from one `messages[]` item; returns a drop reason or "".
std::string read_message(const rapidjson::Value& msg, events::InboundMessage& m) {
  std::string type = json_string(msg, "type").value_or("");
  if (type == "text") {
    const auto* t = json_member(msg, "text");
    m.text = t ? json_string(*t, "body").value_or("") : "";
  } else if (type == "image" || type == "video" || type == "audio" || type == "document" || type == "sticker") {
    const auto* media = json_member(msg, type.c_str());
    auto id = media ? json_string(*media, "id") : std::nullopt;
    if (!id) return "malformed";
    events::AttachmentRef a;
    a.external_ref = *id;
    a.content_type = json_string(*media, "mime_type").value_or("application/octet-stream");
    a.filename = json_string(*media, "filename").value_or("");
    if (a.filename.empty()) a.filename = media_filename(a.content_type, 1);
    m.attachments.push_back(std::move(a));
    m.text = json_string(*media, "caption").value_or("");
  } else if (type == "location") {
    const auto* loc = json_member(msg, "location");
    if (loc == nullptr) return "malformed";
    m.text = "[location: " + number_text(*loc, "latitude") + ", " + number_text(*loc, "longitude") + "]";
    for (const char* k : {"name", "address"})
      if (auto s = json_string(*loc, k); s && !s->empty()) m.text += " " + *s;
  } else if (type == "contacts") {
    const auto* cards = array_of(msg, "contacts");
    if (cards == nullptr) return "malformed";
    for (const auto& c : cards->GetArray()) {
      const auto* name = json_member(c, "name");
      std::string line = "[contact: " + (name ? json_string(*name, "formatted_name").value_or("") : "");
      if (const auto* phones = array_of(c, "phones"))
        for (const auto& p : phones->GetArray()) line += " " + json_string(p, "phone").value_or("");
      m.text += (m.text.empty() ? "" : "\n") + line + "]";
    }
  } else if (type == "button") {
    const auto* b = json_member(msg, "button");
    m.text = b ? json_string(*b, "text").value_or("") : "";
  } else if (type == "interactive") {
    const auto* i = json_member(msg, "interactive");
    for (const char* kind : {"button_reply", "list_reply"})
      if (const auto* r = i ? json_member(*i, kind) : nullptr) m.text = json_string(*r, "title").value_or("");
  } else if (type == "reaction") {
    return "reaction";
  } else {
    return "unsupported_message";  // unsupported, system, order, unknown future types
  }
  if (core::trim(m.text).empty()) {
    if (m.attachments.empty()) return type == "text" ? "malformed" : "unsupported_message";
    m.text = attachment_placeholder(m.attachments);
  }
  return "";
}
}  // namespace

std::string to_json(const Credentials& c) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "accessToken", c.access_token);
  core::json_kv(w, "appSecret", c.app_secret);
  core::json_kv(w, "verifyToken", c.verify_token);
  core::json_kv(w, "wabaId", c.waba_id);
  w.EndObject();
  return sb.GetString();
}

Credentials credentials_from_json(const std::string& json) {
  rapidjson::Document d;
  core::parse_json(d, json);
  if (!d.IsObject()) throw std::invalid_argument("WhatsApp Cloud credentials are not a JSON object");
  Credentials c;
  c.access_token = json_string(d, "accessToken").value_or("");
  c.app_secret = json_string(d, "appSecret").value_or("");
  c.verify_token = json_string(d, "verifyToken").value_or("");
  c.waba_id = json_string(d, "wabaId").value_or("");
  if (c.access_token.empty()) throw std::invalid_argument("WhatsApp Cloud credentials lack accessToken");
  return c;
}

bool valid_signature(std::string_view app_secret, std::string_view body, std::string_view header) {
  return valid_hub_signature(app_secret, body, header);
}

std::optional<std::vector<std::string>> phone_number_ids(const std::string& body) {
  rapidjson::Document d;
  core::parse_json(d, body);
  if (!d.IsObject()) return std::nullopt;
  std::vector<std::string> ids;
  for_each_change(d, [&](const std::string&, const rapidjson::Value& value) {
    auto id = phone_number_id(value);
    if (!id.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  });
  return ids;
}

std::string first_sender(const std::string& body, const std::string& pnid) {
  rapidjson::Document d;
  core::parse_json(d, body);
  std::string from;
  if (!d.IsObject()) return from;
  for_each_change(d, [&](const std::string&, const rapidjson::Value& value) {
    if (!from.empty() || phone_number_id(value) != pnid) return;
    if (const auto* msgs = array_of(value, "messages"); msgs && !msgs->Empty())
      from = json_string((*msgs)[0], "from").value_or("");
  });
  return from;
}

Normalized normalize(const events::RawWebhook& raw) {
  Normalized out;
  rapidjson::Document d;
  core::parse_json(d, raw.body);
  if (!d.IsObject() || !json_member(d, "entry")) {
    out.dropped.push_back("malformed");
    return out;
  }
  for_each_change(d, [&](const std::string& field, const rapidjson::Value& value) {
    if (field != "messages") {
      out.dropped.push_back("other_field");
      return;
    }
    if (!raw.routing_key.empty() && phone_number_id(value) != raw.routing_key) return;
    std::map<std::string, std::string> names;  // wa_id → profile name
    if (const auto* contacts = array_of(value, "contacts"))
      for (const auto& c : contacts->GetArray()) {
        const auto* profile = json_member(c, "profile");
        if (auto wa = json_string(c, "wa_id"); wa && profile) names[*wa] = json_string(*profile, "name").value_or("");
      }
    if (const auto* statuses = array_of(value, "statuses"))
      for (const auto& st : statuses->GetArray()) {
        auto wamid = json_string(st, "id").value_or("");
        if (json_string(st, "status").value_or("") != "failed" || wamid.empty()) {
          out.dropped.push_back("status");  // sent, delivered, read: nothing to tell the agent
          continue;
        }
        std::string error = "WhatsApp rejected the message";
        if (const auto* errors = array_of(st, "errors"); errors && !errors->Empty()) {
          const auto& e = (*errors)[0];
          error = "(#" + std::to_string(core::json_int(e, "code").value_or(0)) + ") " +
                  json_string(e, "title").value_or(json_string(e, "message").value_or(""));
          if (const auto* data = json_member(e, "error_data"))
            if (auto details = json_string(*data, "details"); details && !details->empty()) error += ": " + *details;
        }
        auto r = new_failure(raw, kProvider, "+" + json_string(st, "recipient_id").value_or(""), wamid, error);
        try {
          r.at_ms = core::epoch_seconds_to_ms(std::stoll(json_string(st, "timestamp").value_or("0")));
        } catch (const std::exception&) {
        }
        out.receipts.push_back(std::move(r));
      }
    const auto* msgs = array_of(value, "messages");
    if (msgs == nullptr) return;
    for (const auto& msg : msgs->GetArray()) {
      auto from = json_string(msg, "from").value_or("");
      auto id = json_string(msg, "id").value_or("");
      std::string phone = "+" + from;
      if (id.empty() || !core::is_e164(phone)) {
        out.dropped.push_back("malformed");
        continue;
      }
      auto m = new_message(raw, kProvider, "whatsapp");
      if (auto reason = read_message(msg, m); !reason.empty()) {
        out.dropped.push_back(reason);
        continue;
      }
      m.external_thread_id = phone;
      m.external_message_id = id;
      m.sender.external_id = from;
      m.sender.phone = phone;
      m.sender.name = core::trim(names.count(from) ? names[from] : "");
      if (m.sender.name.empty()) m.sender.name = phone;
      try {
        m.sent_at_ms = core::epoch_seconds_to_ms(std::stoll(json_string(msg, "timestamp").value_or("0")));
      } catch (const std::exception&) {
      }
      out.messages.push_back(std::move(m));
    }
  });
  return out;
}

}  // namespace loket::providers::whatsapp_cloud
