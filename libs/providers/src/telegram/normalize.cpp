#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/providers/telegram/telegram.hpp"

namespace loket::providers::telegram {
namespace {
using core::json_int;
using core::json_member;
using core::json_string;

std::string id_text(const rapidjson::Value& v) {
  if (v.IsInt64()) return std::to_string(v.GetInt64());
  if (v.IsString()) return v.GetString();
  return "";
}

Normalized drop(std::string reason) { return Normalized{{}, {}, {std::move(reason)}}; }

// Adds the attachment in `field` of `msg`, if present, with a default name.
void add_file(const rapidjson::Value& msg, const char* field, const std::string& default_name,
              const std::string& default_type, std::vector<events::AttachmentRef>& out) {
  const auto* f = json_member(msg, field);
  if (f == nullptr || !f->IsObject()) return;
  auto file_id = json_string(*f, "file_id");
  if (!file_id) return;
  events::AttachmentRef a;
  a.external_ref = *file_id;
  a.filename = json_string(*f, "file_name").value_or(default_name);
  a.content_type = json_string(*f, "mime_type").value_or(default_type);
  a.size = json_int(*f, "file_size").value_or(0);
  out.push_back(std::move(a));
}
}  // namespace

std::optional<std::string> chat_id_of(const std::string& body) {
  rapidjson::Document d;
  core::parse_json(d, body);
  if (!d.IsObject()) return std::nullopt;
  for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it) {
    if (!it->value.IsObject()) continue;
    const auto* chat = json_member(it->value, "chat");
    if (chat == nullptr) {
      // callback_query carries its chat inside "message".
      if (const auto* m = json_member(it->value, "message")) chat = json_member(*m, "chat");
    }
    if (chat != nullptr)
      if (const auto* id = json_member(*chat, "id")) return id_text(*id);
  }
  return std::string();
}

std::string bot_id_from_token(const std::string& token) {
  auto colon = token.find(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 >= token.size()) return "";
  for (std::size_t i = 0; i < colon; ++i)
    if (!std::isdigit(static_cast<unsigned char>(token[i]))) return "";
  return token.substr(0, colon);
}

Normalized normalize(const events::RawWebhook& raw) {
  rapidjson::Document d;
  core::parse_json(d, raw.body);
  if (!d.IsObject() || !json_int(d, "update_id")) return drop("malformed");
  if (json_member(d, "edited_message") || json_member(d, "edited_business_message")) return drop("edited_message");
  if (json_member(d, "channel_post") || json_member(d, "edited_channel_post")) return drop("group_chat");
  const auto* msg = json_member(d, "message");
  if (msg == nullptr) msg = json_member(d, "business_message");
  if (msg == nullptr || !msg->IsObject()) return drop("unsupported_update");

  const auto* chat = json_member(*msg, "chat");
  const auto* from = json_member(*msg, "from");
  auto message_id = json_int(*msg, "message_id");
  if (chat == nullptr || !chat->IsObject() || !message_id) return drop("malformed");
  auto type = json_string(*chat, "type").value_or("private");
  if (type != "private") return drop("group_chat");
  const auto* chat_id_v = json_member(*chat, "id");
  std::string chat_id = chat_id_v ? id_text(*chat_id_v) : "";
  if (chat_id.empty()) return drop("malformed");
  if (from != nullptr && from->IsObject()) {
    const auto* is_bot = json_member(*from, "is_bot");
    if (is_bot && is_bot->IsBool() && is_bot->GetBool()) return drop("bot_sender");
  }

  auto m = new_message(raw, kProvider, "telegram");
  m.external_thread_id = chat_id;
  m.external_message_id = chat_id + ":" + std::to_string(*message_id);
  m.sent_at_ms = core::epoch_seconds_to_ms(json_int(*msg, "date").value_or(0));

  const rapidjson::Value& person = (from != nullptr && from->IsObject()) ? *from : *chat;
  if (const auto* pid = json_member(person, "id")) m.sender.external_id = id_text(*pid);
  std::string name = json_string(person, "first_name").value_or("");
  if (auto last = json_string(person, "last_name"); last && !last->empty()) name += (name.empty() ? "" : " ") + *last;
  m.sender.handle = json_string(person, "username").value_or("");
  m.sender.name = name.empty() ? (m.sender.handle.empty() ? "Telegram user" : "@" + m.sender.handle) : name;

  m.text = json_string(*msg, "text").value_or(json_string(*msg, "caption").value_or(""));

  if (const auto* photo = json_member(*msg, "photo"); photo && photo->IsArray() && !photo->Empty()) {
    const auto& largest = (*photo)[photo->Size() - 1];
    if (auto fid = json_string(largest, "file_id"))
      m.attachments.push_back({*fid, "photo-1.jpg", "image/jpeg", json_int(largest, "file_size").value_or(0), ""});
  }
  add_file(*msg, "document", "document", "application/octet-stream", m.attachments);
  add_file(*msg, "voice", "voice-1.ogg", "audio/ogg", m.attachments);
  add_file(*msg, "audio", "audio-1.mp3", "audio/mpeg", m.attachments);
  add_file(*msg, "video", "video-1.mp4", "video/mp4", m.attachments);
  add_file(*msg, "animation", "animation-1.mp4", "video/mp4", m.attachments);
  add_file(*msg, "video_note", "video-note-1.mp4", "video/mp4", m.attachments);

  if (m.text.empty()) {
    if (const auto* s = json_member(*msg, "sticker")) {
      m.text = "[sticker " + json_string(*s, "emoji").value_or("") + "]";
    } else if (const auto* loc = json_member(*msg, "location")) {
      auto num = [&](const char* k) {
        const auto* v = json_member(*loc, k);
        return v && v->IsNumber() ? std::to_string(v->GetDouble()) : std::string("?");
      };
      m.text = "[location: " + num("latitude") + ", " + num("longitude") + "]";
    } else if (const auto* c = json_member(*msg, "contact")) {
      m.text = "[contact: " + json_string(*c, "first_name").value_or("") + " " +
               json_string(*c, "phone_number").value_or("") + "]";
    } else if (!m.attachments.empty()) {
      m.text = attachment_placeholder(m.attachments);
    } else {
      return drop("service_message");
    }
  }
  if (core::trim(m.text) == "/start") return drop("start_command");
  Normalized out;
  out.messages.push_back(std::move(m));
  return out;
}

}  // namespace loket::providers::telegram
