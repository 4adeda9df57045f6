#include <algorithm>
#include <map>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/twilio/twilio.hpp"

namespace loket::providers::twilio {
namespace {
constexpr long kMaxMedia = 10;  // Twilio delivers at most 10 media per message
}  // namespace

std::string to_json(const Credentials& c) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "accountSid", c.account_sid);
  core::json_kv(w, "authToken", c.auth_token);
  core::json_kv(w, "webhookSecret", c.webhook_secret);
  w.EndObject();
  return sb.GetString();
}

Credentials credentials_from_json(const std::string& json) {
  rapidjson::Document d;
  core::parse_json(d, json);
  if (!d.IsObject()) throw std::invalid_argument("Twilio credentials are not a JSON object");
  Credentials c;
  c.account_sid = core::json_string(d, "accountSid").value_or("");
  c.auth_token = core::json_string(d, "authToken").value_or("");
  c.webhook_secret = core::json_string(d, "webhookSecret").value_or("");
  if (c.account_sid.empty() || c.auth_token.empty())
    throw std::invalid_argument("Twilio credentials lack accountSid or authToken");
  return c;
}

bool is_account_sid(std::string_view sid) {
  if (sid.size() != 34 || sid.substr(0, 2) != "AC") return false;
  for (char c : sid.substr(2))
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

std::string whatsapp_number(std::string_view address) {
  constexpr std::string_view kPrefix = "whatsapp:";
  if (address.substr(0, kPrefix.size()) != kPrefix) return "";
  auto number = address.substr(kPrefix.size());
  return core::is_e164(number) ? std::string(number) : "";
}

std::string error_text(const std::string& code, const std::string& status) {
  // Twilio's status callbacks carry only the code; these are the WhatsApp ones agents meet.
  static const std::map<std::string, std::string> kKnown = {
      {"63016",
       "Failed to send freeform message because you are outside the allowed window "
       "(WhatsApp's 24-hour customer-service window); use a message template"},
      {"63003", "Channel could not find To address (the number is not on WhatsApp)"},
      {"63024", "Invalid message recipient"},
      {"63018", "Rate limit exceeded for the WhatsApp sender"},
      {"63032", "The user has opted out of marketing messages"},
  };
  if (code.empty()) return "Twilio reported the message " + status;
  auto it = kKnown.find(code);
  return "Twilio error " + code + ": " + (it == kKnown.end() ? "message " + status : it->second);
}

Normalized normalize(const events::RawWebhook& raw) {
  auto form = http::parse_query(raw.body);
  auto get = [&](const std::string& k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  Normalized out;
  std::string sid = get("MessageSid"), from = get("From"), to = get("To");
  if (sid.empty() || from.empty() || to.empty()) {
    out.dropped.push_back("malformed");
    return out;
  }
  if (form.count("MessageStatus") && !form.count("Body") && !form.count("NumMedia")) {
    std::string status = get("MessageStatus");
    if (status != "failed" && status != "undelivered") {
      out.dropped.push_back("status_callback");  // queued, sent, delivered, read
      return out;
    }
    out.receipts.push_back(new_failure(raw, kProvider, whatsapp_number(to), sid, error_text(get("ErrorCode"), status)));
    return out;
  }
  std::string phone = whatsapp_number(from);
  if (phone.empty() || whatsapp_number(to).empty()) {
    out.dropped.push_back("not_whatsapp");
    return out;
  }
  auto m = new_message(raw, kProvider, "whatsapp");  // sent_at: Twilio sends no timestamp
  m.external_thread_id = phone;
  m.external_message_id = sid;
  m.sender.external_id = get("WaId");
  m.sender.phone = phone;
  m.sender.name = core::trim(get("ProfileName"));
  if (m.sender.name.empty()) m.sender.name = phone;
  m.text = get("Body");

  long media = 0;
  try {
    media = std::clamp(std::stol("0" + get("NumMedia")), 0L, kMaxMedia);
  } catch (const std::exception&) {
  }
  for (long i = 0; i < media; ++i) {
    std::string url = get("MediaUrl" + std::to_string(i));
    if (url.empty()) continue;
    events::AttachmentRef a;
    a.external_ref = url;
    a.content_type = get("MediaContentType" + std::to_string(i));
    if (a.content_type.empty()) a.content_type = "application/octet-stream";
    a.filename = media_filename(a.content_type, static_cast<int>(m.attachments.size() + 1));
    m.attachments.push_back(std::move(a));
  }
  if (core::trim(m.text).empty()) {
    if (!get("Latitude").empty() && !get("Longitude").empty()) {
      m.text = "[location: " + get("Latitude") + ", " + get("Longitude") + "]";
      if (auto label = get("Label").empty() ? get("Address") : get("Label"); !label.empty()) m.text += " " + label;
    } else if (!get("ButtonText").empty()) {
      m.text = get("ButtonText");
    } else if (!m.attachments.empty()) {
      m.text = attachment_placeholder(m.attachments);
    } else {
      out.dropped.push_back("empty_message");
      return out;
    }
  }
  out.messages.push_back(std::move(m));
  return out;
}

}  // namespace loket::providers::twilio
