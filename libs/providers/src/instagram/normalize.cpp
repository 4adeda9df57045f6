#include <algorithm>

#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/providers/instagram/instagram.hpp"

namespace loket::providers::instagram {
namespace {
using core::json_member;
using core::json_string;

// Calls `f(entry_id, event)` for each `entry[].messaging[]` of a parsed `instagram` webhook, and
// `other(entry_id)` for each entry that carries something else (`changes`: comments, mentions).
template <typename F, typename G>
void for_each_event(const rapidjson::Value& d, F&& f, G&& other) {
  const auto* entries = json_member(d, "entry");
  if (entries == nullptr || !entries->IsArray()) return;
  for (const auto& entry : entries->GetArray()) {
    std::string id = json_string(entry, "id").value_or("");
    const auto* events = json_member(entry, "messaging");
    if (events == nullptr || !events->IsArray()) {
      other(id);
      continue;
    }
    for (const auto& e : events->GetArray())
      if (e.IsObject()) f(id, e);
  }
}

bool is_instagram(const rapidjson::Document& d) {
  return d.IsObject() && json_string(d, "object").value_or("") == "instagram" && json_member(d, "entry");
}

std::string id_of(const rapidjson::Value& e, const char* who) {
  const auto* p = json_member(e, who);
  return p ? json_string(*p, "id").value_or("") : "";
}

bool flag(const rapidjson::Value& v, const char* key) {
  const auto* f = json_member(v, key);
  return f != nullptr && f->IsBool() && f->GetBool();
}

// The customer of an event: the sender, or the recipient of the business's own message.
std::string customer_of(const rapidjson::Value& e) {
  const auto* msg = json_member(e, "message");
  return msg != nullptr && flag(*msg, "is_echo") ? id_of(e, "recipient") : id_of(e, "sender");
}

// Reads `message.attachments[]` into files (image, video, audio, file) and readable lines
// (shares, reels, posts, story mentions, anything newer).
void read_attachments(const rapidjson::Value& msg, events::InboundMessage& m, std::vector<std::string>& lines) {
  const auto* list = json_member(msg, "attachments");
  if (list == nullptr || !list->IsArray()) return;
  int n = 0;
  for (const auto& a : list->GetArray()) {
    std::string type = json_string(a, "type").value_or("");
    const auto* payload = json_member(a, "payload");
    std::string url = payload ? json_string(*payload, "url").value_or("") : "";
    if (type == "image" || type == "video" || type == "audio" || type == "file") {
      if (url.empty()) continue;
      events::AttachmentRef f;
      f.external_ref = url;
      f.content_type = type == "image"   ? "image/jpeg"
                       : type == "video" ? "video/mp4"
                       : type == "audio" ? "audio/mp4"
                                         : "application/octet-stream";
      f.filename = media_filename(f.content_type, ++n);
      m.attachments.push_back(std::move(f));
    } else if (type == "story_mention") {
      lines.push_back("[story mention: " + url +
                      "] (Instagram keeps a story for 24 hours; the link stops working then)");
    } else {  // share, ig_reel, reel, ig_post, and types Meta adds later: a link people can open
      std::string title = payload ? json_string(*payload, "title").value_or("") : "";
      std::string label = type == "share" ? "shared post" : type.empty() ? "attachment" : type;
      std::string line = "[" + label + (url.empty() ? "" : ": " + url) + "]";
      if (!title.empty()) line += " " + title;
      lines.push_back(line);
    }
  }
}

// Fills `m` from a `message` or `postback` event; returns a drop reason or "".
std::string read_event(const rapidjson::Value& e, events::InboundMessage& m) {
  if (json_member(e, "reaction")) return "reaction";
  if (json_member(e, "read")) return "read";
  if (json_member(e, "referral") && !json_member(e, "message")) return "referral";
  if (const auto* pb = json_member(e, "postback"); pb && pb->IsObject()) {  // a button the customer tapped
    m.external_message_id = json_string(*pb, "mid").value_or("");
    m.text = json_string(*pb, "title").value_or(json_string(*pb, "payload").value_or(""));
    return m.external_message_id.empty() || core::trim(m.text).empty() ? "malformed" : "";
  }
  const auto* msg = json_member(e, "message");
  if (msg == nullptr || !msg->IsObject()) return "other_field";
  if (flag(*msg, "is_deleted")) return "deleted";
  if (flag(*msg, "is_unsupported")) return "unsupported_message";
  m.external_message_id = json_string(*msg, "mid").value_or("");
  if (m.external_message_id.empty()) return "malformed";
  m.from_business = flag(*msg, "is_echo");
  std::vector<std::string> lines;
  if (const auto* reply = json_member(*msg, "reply_to"))
    if (const auto* story = json_member(*reply, "story"))
      lines.push_back("[reply to story: " + json_string(*story, "url").value_or("") + "]");
  read_attachments(*msg, m, lines);
  if (auto text = json_string(*msg, "text"); text && !core::trim(*text).empty()) lines.push_back(*text);
  for (const auto& l : lines) m.text += (m.text.empty() ? "" : "\n") + l;
  if (m.text.empty()) {
    if (m.attachments.empty()) return "unsupported_message";
    m.text = attachment_placeholder(m.attachments);
  }
  return "";
}
}  // namespace

std::optional<std::vector<std::string>> account_ids(const std::string& body) {
  rapidjson::Document d;
  core::parse_json(d, body);
  if (!is_instagram(d)) return std::nullopt;
  std::vector<std::string> ids;
  auto add = [&](const std::string& id) {
    if (!id.empty() && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  };
  for_each_event(
      d, [&](const std::string& id, const rapidjson::Value&) { add(id); }, add);
  return ids;
}

std::string first_customer(const std::string& body, const std::string& account_id) {
  rapidjson::Document d;
  core::parse_json(d, body);
  std::string out;
  if (!is_instagram(d)) return out;
  for_each_event(
      d,
      [&](const std::string& id, const rapidjson::Value& e) {
        if (out.empty() && id == account_id) out = customer_of(e);
      },
      [](const std::string&) {});
  return out;
}

Normalized normalize(const events::RawWebhook& raw) {
  Normalized out;
  rapidjson::Document d;
  core::parse_json(d, raw.body);
  if (!is_instagram(d)) {
    out.dropped.push_back("malformed");
    return out;
  }
  for_each_event(
      d,
      [&](const std::string& id, const rapidjson::Value& e) {
        if (!raw.routing_key.empty() && id != raw.routing_key) return;
        auto m = new_message(raw, kProvider, "instagram");
        if (auto reason = read_event(e, m); !reason.empty()) {
          out.dropped.push_back(reason);
          return;
        }
        std::string customer = customer_of(e);
        if (customer.empty() || customer.size() > 64) {
          out.dropped.push_back("malformed");
          return;
        }
        m.external_thread_id = customer;
        m.sender.external_id = customer;
        if (auto ts = core::json_int(e, "timestamp"); ts && *ts > 0) m.sent_at_ms = *ts;
        out.messages.push_back(std::move(m));
      },
      [&](const std::string& id) {
        if (raw.routing_key.empty() || id == raw.routing_key) out.dropped.push_back("other_field");
      });
  return out;
}

}  // namespace loket::providers::instagram
