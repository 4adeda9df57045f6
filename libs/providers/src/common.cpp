#include "loket/providers/common.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/ssrf.hpp"
#include "loket/providers/adapter.hpp"
#include "loket/providers/error.hpp"

namespace loket::providers {

events::InboundMessage new_message(const events::RawWebhook& raw, const std::string& provider,
                                   const std::string& channel) {
  events::InboundMessage m;
  m.event_id = core::new_id("evt");
  m.integration_id = raw.integration_id;
  m.workspace_id = raw.workspace_id;
  m.provider = provider;
  m.channel = channel;
  m.sent_at_ms = raw.received_at_ms;
  return m;
}

events::DeliveryReceipt new_failure(const events::RawWebhook& raw, const std::string& provider,
                                    const std::string& recipient, const std::string& external_message_id,
                                    const std::string& error) {
  events::DeliveryReceipt r;
  r.event_id = core::new_id("evt");
  r.integration_id = raw.integration_id;
  r.workspace_id = raw.workspace_id;
  r.provider = provider;
  r.recipient = recipient;
  r.external_message_id = external_message_id;
  r.status = "failed";
  r.error = error;
  r.at_ms = raw.received_at_ms;
  return r;
}

bool secret_matches(std::string_view given, std::string_view stored_hash) {
  return !given.empty() && !stored_hash.empty() && crypto::constant_time_equal(crypto::sha256(given), stored_hash);
}

std::string field(const rapidjson::Value& body, const char* key) {
  return core::trim(core::json_string(body, key).value_or(""));
}

std::string first_value(const std::multimap<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? std::string() : it->second;
}

bool url_under(std::string_view url, std::string_view base) {
  if (base.empty() || url.substr(0, base.size()) != base) return false;
  return url.size() == base.size() || url[base.size()] == '/' || url[base.size()] == '?';
}

std::string media_filename(std::string_view content_type, int n) {
  struct Kind {
    std::string_view type, stem, ext;
  };
  static constexpr Kind kKinds[] = {
      {"image/jpeg", "photo", ".jpg"},    {"image/png", "photo", ".png"},      {"image/gif", "photo", ".gif"},
      {"image/webp", "sticker", ".webp"}, {"audio/ogg", "voice", ".ogg"},      {"audio/mpeg", "audio", ".mp3"},
      {"audio/mp4", "audio", ".m4a"},     {"audio/aac", "audio", ".aac"},      {"audio/amr", "audio", ".amr"},
      {"video/mp4", "video", ".mp4"},     {"video/3gpp", "video", ".3gp"},     {"application/pdf", "document", ".pdf"},
      {"text/vcard", "contact", ".vcf"},  {"text/x-vcard", "contact", ".vcf"}, {"text/plain", "document", ".txt"},
  };
  std::string type = core::to_lower(content_type.substr(0, content_type.find(';')));
  std::string num = "-" + std::to_string(n);
  for (const auto& k : kKinds)
    if (type == k.type) return std::string(k.stem) + num + std::string(k.ext);
  for (std::string_view family : {"image", "audio", "video"})
    if (type.rfind(std::string(family) + "/", 0) == 0)
      return (family == "image" ? std::string("photo") : std::string(family)) + num;
  return "file" + num;
}

std::string attachment_placeholder(const std::vector<events::AttachmentRef>& files) {
  std::string names;
  for (const auto& f : files) names += (names.empty() ? "" : ", ") + f.filename;
  return "[attachment: " + names + "]";
}

std::string webhook_url_field(const rapidjson::Value& body, const char* key, const std::vector<std::string>& hosts,
                              std::string_view path_prefix, std::string_view example) {
  const std::string url = field(body, key);
  const std::string hint = std::string(key) + " must be a webhook URL like " + std::string(example);
  if (url.empty() || url.size() > 500) throw Refusal::invalid(hint);
  for (unsigned char c : url)
    if (c <= 0x20 || c >= 0x7f) throw Refusal::invalid(hint + " (no spaces or special characters)");
  std::string_view rest = url;
  if (rest.rfind("https://", 0) == 0) {
    rest.remove_prefix(8);
  } else if (rest.rfind("http://", 0) == 0 && http::ssrf_policy().allow_http) {
    rest.remove_prefix(7);
  } else {
    throw Refusal::invalid(hint + " (https only)");
  }
  auto slash = rest.find('/');
  const std::string authority = core::to_lower(rest.substr(0, slash));
  if (slash == std::string_view::npos || authority.find('@') != std::string::npos) throw Refusal::invalid(hint);
  bool listed = false;
  for (const auto& h : hosts) listed = listed || h == authority;
  if (!listed) throw Refusal::invalid(hint + " (" + authority + " is not a host this provider uses)");
  if (rest.substr(slash).rfind(path_prefix, 0) != 0 || rest.size() - slash <= path_prefix.size())
    throw Refusal::invalid(hint);
  return url;
}

std::string webhook_credentials(const std::string& url) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "webhookUrl", url);
  w.EndObject();
  return sb.GetString();
}

std::string webhook_url_of(const std::string& credentials) {
  rapidjson::Document d;
  d.Parse(credentials.c_str(), credentials.size());
  auto url = d.HasParseError() ? std::nullopt : core::json_string(d, "webhookUrl");
  if (!url || url->empty()) throw std::invalid_argument("the webhook credentials have no webhookUrl");
  return *url;
}

http::ClientResponse post_webhook(const std::string& url, const std::string& body) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = url;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = body;
  req.timeout = std::chrono::seconds(5);
  req.max_response_bytes = 64 << 10;
  req.guard = &http::ssrf_policy();
  return http::fetch(req);
}

std::vector<std::string> host_list(const Settings& settings, const std::string& name,
                                   std::vector<std::string> fallback) {
  std::vector<std::string> out;
  for (auto& h : core::split(settings.get(name), ','))
    if (auto t = core::to_lower(core::trim(h)); !t.empty()) {
      while (t.size() > 1 && t.back() == '/') t.pop_back();  // "https://cdn.example/" = "https://cdn.example"
      out.push_back(t);
    }
  return out.empty() ? fallback : out;
}

bool valid_hub_signature(std::string_view app_secret, std::string_view body, std::string_view header) {
  constexpr std::string_view kPrefix = "sha256=";
  if (app_secret.empty() || header.substr(0, kPrefix.size()) != kPrefix) return false;
  return crypto::constant_time_equal(core::to_hex(crypto::hmac_sha256(app_secret, body)),
                                     core::to_lower(header.substr(kPrefix.size())));
}

Handshake hub_handshake(const http::Request& req) {
  std::string challenge = req.query_param("hub.challenge"), token = req.query_param("hub.verify_token");
  auto token_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  };
  if (req.query_param("hub.mode") != "subscribe" || challenge.empty() || challenge.size() > 256 ||
      !std::all_of(challenge.begin(), challenge.end(), token_char))
    throw Refusal::invalid("expected hub.mode=subscribe with a hub.challenge");
  // An empty token never matches any integration.
  if (token.empty()) throw Refusal(403, "FORBIDDEN", "hub.verify_token matches no connected integration");
  Handshake h{crypto::sha256(token), {}};
  h.answer.content_type = "text/plain";
  h.answer.body = challenge;
  return h;
}

void throw_graph_error(const std::string& what, const http::ClientResponse& res, bool token_gone) {
  static const std::set<std::int64_t> kTemporary = {1, 2, 4, 17, 341, 80007, 130429, 131000, 131016, 131056, 133004};
  rapidjson::Document d;
  core::parse_json(d, res.body);
  const auto* err = d.IsObject() ? core::json_member(d, "error") : nullptr;
  if (err == nullptr || !err->IsObject()) throw error_from_response(what, res, "");
  auto code = core::json_int(*err, "code").value_or(0);
  std::string description = "(#" + std::to_string(code) + ") " + core::json_string(*err, "message").value_or("");
  if (const auto* data = core::json_member(*err, "error_data"))
    if (auto details = core::json_string(*data, "details"); details && !details->empty())
      description += ": " + *details;
  auto e = error_from_response(what, res, description);
  if (token_gone && code == 190) throw IntegrationGone(std::string(e.what()) + " — reconnect the account", e.status());
  if (kTemporary.count(code) > 0 && !e.retryable()) throw ProviderError(e.what(), e.status(), true);
  throw e;
}

http::ClientRequest bearer_request(const std::string& token, std::string url) {
  http::ClientRequest req;
  req.url = std::move(url);
  req.headers = {{"Authorization", "Bearer " + token}};
  req.timeout = std::chrono::seconds(15);
  return req;
}

rapidjson::Document json_object(const http::ClientResponse& res, const std::string& what) {
  rapidjson::Document d;
  core::parse_json(d, res.body);
  if (!d.IsObject()) throw ProviderError(what + ": response is not JSON", 502, true);
  return d;
}

}  // namespace loket::providers
