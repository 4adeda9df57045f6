#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/telegram/telegram.hpp"

namespace loket::providers::telegram {
namespace {
constexpr std::size_t kMaxDownloadBytes = 20u << 20;
constexpr std::size_t kMaxTextChars = 4096;

rapidjson::Document parse_result(const http::ClientResponse& res) {
  rapidjson::Document d;
  core::parse_json(d, res.body);
  return d;
}

std::string json_body(std::initializer_list<std::pair<const char*, std::string>> fields) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  for (const auto& [k, v] : fields) core::json_kv(w, k, v);
  w.EndObject();
  return sb.GetString();
}
}  // namespace

Client::Client(std::string api_base) : api_base_(std::move(api_base)) {
  while (!api_base_.empty() && api_base_.back() == '/') api_base_.pop_back();
}

std::string Client::call(const std::string& token, const std::string& method, const std::string& json_body) const {
  http::ClientRequest req;
  req.method = "POST";
  req.url = api_base_ + "/bot" + token + "/" + method;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = json_body.empty() ? "{}" : json_body;
  req.timeout = std::chrono::seconds(15);
  auto res = http::fetch(req);
  auto d = parse_result(res);
  bool ok_flag = d.IsObject() && core::json_member(d, "ok") && (*core::json_member(d, "ok")).IsBool() &&
                 (*core::json_member(d, "ok")).GetBool();
  if (res.ok() && ok_flag) {
    const auto* result = core::json_member(d, "result");
    if (result == nullptr) return "null";
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    result->Accept(w);
    return sb.GetString();
  }
  std::string description = d.IsObject() ? core::json_string(d, "description").value_or("") : "";
  int retry_after = 0;
  if (const auto* p = core::json_member(d, "parameters"))
    retry_after = static_cast<int>(core::json_int(*p, "retry_after").value_or(0));
  if (res.ok()) {  // 200 with ok:false or garbage: treat as a server fault
    http::ClientResponse as_error = res;
    as_error.status = 502;
    throw error_from_response("Telegram " + method, as_error,
                              description.empty() ? "unexpected response" : description);
  }
  throw error_from_response("Telegram " + method, res, description, retry_after);
}

BotInfo Client::get_me(const std::string& token) const {
  auto json = call(token, "getMe", "");
  rapidjson::Document d;
  core::parse_json(d, json);
  BotInfo info;
  info.id = core::json_int(d, "id").value_or(0);
  info.username = core::json_string(d, "username").value_or("");
  info.first_name = core::json_string(d, "first_name").value_or("");
  if (info.id == 0) throw ProviderError("Telegram getMe: response has no bot id", 502, true);
  return info;
}

void Client::set_webhook(const std::string& token, const std::string& url, const std::string& secret_token) const {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "url", url);
  core::json_kv(w, "secret_token", secret_token);
  core::json_put(w, "allowed_updates");
  w.StartArray();
  core::json_put(w, "message");
  core::json_put(w, "edited_message");
  w.EndArray();
  w.EndObject();
  call(token, "setWebhook", sb.GetString());
}

void Client::delete_webhook(const std::string& token) const { call(token, "deleteWebhook", "{}"); }

std::int64_t Client::send_message(const std::string& token, const std::string& chat_id, const std::string& text) const {
  std::int64_t last_id = 0;
  std::string rest = text;
  do {
    std::string part = core::utf8_truncate(rest, kMaxTextChars);
    rest.erase(0, part.size());
    bool numeric = !chat_id.empty() && chat_id.find_first_not_of("-0123456789") == std::string::npos;
    std::string body;
    if (numeric) {
      rapidjson::StringBuffer sb;
      core::JsonWriter w(sb);
      w.StartObject();
      core::json_put(w, "chat_id");
      w.Int64(std::stoll(chat_id));
      core::json_kv(w, "text", part);
      w.EndObject();
      body = sb.GetString();
    } else {
      body = json_body({{"chat_id", chat_id}, {"text", part}});
    }
    auto json = call(token, "sendMessage", body);
    rapidjson::Document d;
    core::parse_json(d, json);
    last_id = core::json_int(d, "message_id").value_or(0);
  } while (!rest.empty());
  return last_id;
}

File Client::download_file(const std::string& token, const std::string& file_id) const {
  auto json = call(token, "getFile", json_body({{"file_id", file_id}}));
  rapidjson::Document d;
  core::parse_json(d, json);
  File f;
  f.file_path = core::json_string(d, "file_path").value_or("");
  if (f.file_path.empty()) throw ProviderError("Telegram getFile: no file_path (file too big for bots?)", 400, false);
  http::ClientRequest req;
  req.url = api_base_ + "/file/bot" + token + "/" + f.file_path;
  req.timeout = std::chrono::seconds(60);
  req.max_response_bytes = kMaxDownloadBytes;
  auto res = http::fetch(req);
  if (!res.ok()) throw error_from_response("Telegram file download", res, "");
  f.bytes = std::move(res.body);
  return f;
}

}  // namespace loket::providers::telegram
