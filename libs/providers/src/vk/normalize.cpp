#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/providers/vk/vk.hpp"

namespace loket::providers::vk {
namespace {
using core::json_member;
using core::json_string;

constexpr std::int64_t kChatPeers = 2000000000;  // peer ids of community chats start here

// A decimal id member (VK sends numbers), "" when absent or not a positive integer.
std::string id_text(const rapidjson::Value& v, const char* key) {
  auto n = core::json_int(v, key);
  return n && *n > 0 ? std::to_string(*n) : "";
}

// The URL of the largest size of a photo attachment.
std::string largest_photo(const rapidjson::Value& photo) {
  const auto* sizes = json_member(photo, "sizes");
  std::string url;
  std::int64_t best = -1;
  if (sizes == nullptr || !sizes->IsArray()) return url;
  for (const auto& s : sizes->GetArray()) {
    auto area = core::json_int(s, "width").value_or(0) * core::json_int(s, "height").value_or(0);
    if (auto u = json_string(s, "url"); u && area > best) {
      best = area;
      url = *u;
    }
  }
  return url;
}

// Reads `message.attachments[]` into files and readable lines.
void read_attachments(const rapidjson::Value& msg, events::InboundMessage& m, std::vector<std::string>& lines) {
  const auto* list = json_member(msg, "attachments");
  if (list == nullptr || !list->IsArray()) return;
  int n = 0;
  for (const auto& a : list->GetArray()) {
    std::string type = json_string(a, "type").value_or("");
    const auto* item = json_member(a, type.c_str());
    if (item == nullptr || !item->IsObject()) {
      lines.push_back("[" + (type.empty() ? std::string("attachment") : type) + "]");
      continue;
    }
    events::AttachmentRef f;
    if (type == "photo") {
      f.external_ref = largest_photo(*item);
      f.content_type = "image/jpeg";
      f.filename = media_filename(f.content_type, ++n);
    } else if (type == "doc") {
      f.external_ref = json_string(*item, "url").value_or("");
      f.filename = core::utf8_truncate(json_string(*item, "title").value_or(""), 200);
      f.content_type = "application/octet-stream";
      f.size = core::json_int(*item, "size").value_or(0);
      if (f.filename.empty()) f.filename = media_filename(f.content_type, ++n);
    } else if (type == "audio_message") {
      f.external_ref = json_string(*item, "link_ogg").value_or(json_string(*item, "link_mp3").value_or(""));
      f.content_type = "audio/ogg";
      f.filename = media_filename(f.content_type, ++n);
    } else if (type == "sticker") {
      lines.push_back("[sticker]");
      continue;
    } else if (type == "link") {
      lines.push_back("[link: " + json_string(*item, "url").value_or("") + "] " +
                      json_string(*item, "title").value_or(""));
      continue;
    } else if (type == "wall" || type == "video") {
      // https://vk.com/wall-1_2, https://vk.com/video-1_2: people open them in VK.
      auto owner = core::json_int(*item, "owner_id");
      if (type == "wall" && !owner) owner = core::json_int(*item, "from_id");
      lines.push_back("[" + std::string(type == "wall" ? "wall post" : "video") + ": https://vk.com/" + type +
                      std::to_string(owner.value_or(0)) + "_" + id_text(*item, "id") + "]");
      continue;
    } else if (type == "audio") {
      lines.push_back("[audio: " + json_string(*item, "artist").value_or("") + " — " +
                      json_string(*item, "title").value_or("") + "]");
      continue;
    } else {  // market, poll, gift, graffiti, and types VK adds later
      lines.push_back("[" + type + "]");
      continue;
    }
    if (f.external_ref.empty()) {
      lines.push_back("[" + type + "]");
      continue;
    }
    m.attachments.push_back(std::move(f));
  }
}
}  // namespace

std::optional<Event> read_event(const std::string& body) {
  rapidjson::Document d;
  core::parse_json(d, body);
  if (!d.IsObject()) return std::nullopt;
  Event e;
  e.type = json_string(d, "type").value_or("");
  e.group_id = id_text(d, "group_id");
  if (e.type.empty() || e.group_id.empty()) return std::nullopt;
  e.event_id = json_string(d, "event_id").value_or("");
  e.secret = json_string(d, "secret");
  if (const auto* obj = json_member(d, "object"))
    if (const auto* msg = json_member(*obj, "message")) e.peer = id_text(*msg, "peer_id");
  return e;
}

std::int32_t random_id(const std::string& message_id, int part) {
  auto h = crypto::sha256(message_id + "#" + std::to_string(part));
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(h[i]);
  v &= 0x7fffffffu;
  return static_cast<std::int32_t>(v == 0 ? 1 : v);
}

Normalized normalize(const events::RawWebhook& raw) {
  Normalized out;
  rapidjson::Document d;
  core::parse_json(d, raw.body);
  auto event = read_event(raw.body);
  if (!event || !d.IsObject()) {
    out.dropped.push_back("malformed");
    return out;
  }
  if (!raw.routing_key.empty() && event->group_id != raw.routing_key) return out;
  if (event->type == "confirmation") return out.dropped.push_back("confirmation"), out;
  if (event->type == "message_reply") return out.dropped.push_back("echo"), out;
  if (event->type == "message_edit") return out.dropped.push_back("edited_message"), out;
  if (event->type != "message_new") return out.dropped.push_back("other_event"), out;
  const auto* obj = json_member(d, "object");
  const auto* msg = obj ? json_member(*obj, "message") : nullptr;
  if (msg == nullptr || !msg->IsObject()) return out.dropped.push_back("malformed"), out;
  auto peer = core::json_int(*msg, "peer_id").value_or(0);
  if (peer >= kChatPeers) return out.dropped.push_back("group_chat"), out;
  std::string id = id_text(*msg, "id"), from = id_text(*msg, "from_id");
  if (id.empty() || from.empty() || peer <= 0) return out.dropped.push_back("malformed"), out;
  auto m = new_message(raw, kProvider, "vk");
  std::vector<std::string> lines;
  if (auto text = json_string(*msg, "text"); text && !core::trim(*text).empty()) lines.push_back(*text);
  read_attachments(*msg, m, lines);
  if (const auto* fwd = json_member(*msg, "fwd_messages"); fwd && fwd->IsArray() && !fwd->Empty())
    lines.push_back("[forwarded messages: " + std::to_string(fwd->Size()) + "]");
  for (const auto& l : lines) m.text += (m.text.empty() ? "" : "\n") + l;
  if (m.text.empty()) {
    if (m.attachments.empty()) return out.dropped.push_back("malformed"), out;
    m.text = attachment_placeholder(m.attachments);
  }
  m.external_thread_id = std::to_string(peer);
  m.external_message_id = id;
  m.sender.external_id = from;
  if (auto date = core::json_int(*msg, "date"); date && *date > 0) m.sent_at_ms = *date * 1000;
  out.messages.push_back(std::move(m));
  return out;
}

}  // namespace loket::providers::vk
