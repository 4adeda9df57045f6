#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/http/ssrf.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/resend/resend.hpp"

namespace loket::providers::resend {
namespace {
[[noreturn]] void fail(const std::string& what, const http::ClientResponse& res) {
  rapidjson::Document d;
  core::parse_json(d, res.body);
  std::string description;
  if (d.IsObject())
    description = core::json_string(d, "name").value_or("error") + ": " + core::json_string(d, "message").value_or("");
  int retry_after = res.retry_after_seconds();
  throw error_from_response(what, res, description, retry_after);
}

std::string clean_field(const std::string& v) {
  std::string out;
  for (char c : v)
    if (c != '\r' && c != '\n' && c != '"') out += c;
  return out;
}
}  // namespace

std::string to_json(const Credentials& c) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "apiKey", c.api_key);
  core::json_kv(w, "fromEmail", c.from_email);
  core::json_kv(w, "fromName", c.from_name);
  w.EndObject();
  return sb.GetString();
}

Credentials credentials_from_json(const std::string& json) {
  rapidjson::Document d;
  core::parse_json(d, json);
  if (!d.IsObject()) throw std::invalid_argument("Resend credentials are not a JSON object");
  Credentials c{core::json_string(d, "apiKey").value_or(""), core::json_string(d, "fromEmail").value_or(""),
                core::json_string(d, "fromName").value_or("")};
  if (c.api_key.empty() || c.from_email.empty())
    throw std::invalid_argument("Resend credentials lack apiKey or fromEmail");
  return c;
}

std::string mailbox(const std::string& name, const std::string& address) {
  std::string n = clean_field(name);
  return n.empty() ? clean_field(address) : "\"" + n + "\" <" + clean_field(address) + ">";
}

Client::Client(std::string api_base) : api_base_(std::move(api_base)) {
  while (!api_base_.empty() && api_base_.back() == '/') api_base_.pop_back();
}

void Client::validate_key(const std::string& api_key) const {
  http::ClientRequest req;
  req.url = api_base_ + "/domains";
  req.headers = {{"Authorization", "Bearer " + api_key}};
  auto res = http::fetch(req);
  if (res.ok()) return;
  if (res.status == 401 && res.body.find("restricted_api_key") != std::string::npos) return;  // sending-only key
  fail("Resend", res);
}

std::string Client::send(const std::string& api_key, const Email& e) const {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "from", e.from);
  core::json_put(w, "to");
  w.StartArray();
  core::json_put(w, e.to);
  w.EndArray();
  core::json_kv(w, "subject", e.subject);
  core::json_kv(w, "text", e.text);
  if (!e.html.empty()) core::json_kv(w, "html", e.html);
  if (!e.reply_to.empty()) core::json_kv(w, "reply_to", e.reply_to);
  if (!e.headers.empty()) {
    core::json_put(w, "headers");
    w.StartObject();
    for (const auto& [k, v] : e.headers) core::json_kv(w, k, v);
    w.EndObject();
  }
  if (!e.attachments.empty()) {  // resend.com/docs/api-reference/emails/send-email: content in base64
    core::json_put(w, "attachments");
    w.StartArray();
    for (const auto& a : e.attachments) {
      w.StartObject();
      core::json_kv(w, "filename", a.filename);
      core::json_kv(w, "content", core::base64(a.bytes));
      if (!a.content_type.empty()) core::json_kv(w, "content_type", a.content_type);
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  http::ClientRequest req;
  req.method = "POST";
  req.url = api_base_ + "/emails";
  req.headers = {{"Authorization", "Bearer " + api_key}, {"Content-Type", "application/json"}};
  if (!e.idempotency_key.empty()) req.headers.emplace_back("Idempotency-Key", e.idempotency_key.substr(0, 256));
  req.body = sb.GetString();
  req.timeout = std::chrono::seconds(15);
  auto res = http::fetch(req);
  if (!res.ok()) fail("Resend", res);
  rapidjson::Document d;
  core::parse_json(d, res.body);
  return d.IsObject() ? core::json_string(d, "id").value_or("") : "";
}

std::string Client::received_message(const std::string& api_key, const std::string& email_id,
                                     std::size_t max_bytes) const {
  http::ClientRequest req;
  req.url = api_base_ + "/emails/receiving/" + email_id;
  req.headers = {{"Authorization", "Bearer " + api_key}};
  req.timeout = std::chrono::seconds(15);
  auto res = http::fetch(req);
  if (!res.ok()) fail("Resend", res);
  rapidjson::Document d;
  core::parse_json(d, res.body);
  const auto* raw = d.IsObject() ? core::json_member(d, "raw") : nullptr;
  auto url = raw ? core::json_string(*raw, "download_url") : std::nullopt;
  if (!url || url->empty())
    throw ProviderError("Resend: received email " + email_id + " has no raw.download_url", res.status, false);
  http::ClientRequest get;
  get.url = *url;
  get.guard = &http::ssrf_policy();  // a URL the provider chose
  get.max_redirects = 3;
  get.max_response_bytes = max_bytes;
  get.timeout = std::chrono::seconds(60);
  auto file = http::fetch(get);
  if (file.refused) throw ProviderError("Resend raw message download: " + file.error, 403, false);
  if (file.too_large)
    throw ProviderError("Resend: received email " + email_id + " is larger than LOKET_EMAIL_MAX_BYTES (" +
                            std::to_string(max_bytes) + " bytes)",
                        413, false);
  if (!file.ok()) throw error_from_response("Resend raw message download", file, "");
  return std::move(file.body);
}

}  // namespace loket::providers::resend
