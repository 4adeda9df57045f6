#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/ssrf.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/vk/vk.hpp"

namespace loket::providers::vk {
namespace {
constexpr std::size_t kMaxTextChars = 4000;  // messages.send takes up to 4,096 characters per message
constexpr std::size_t kMaxMediaBytes = 25u << 20;

// The host[:port] of an http(s) URL and whether it is https; "" when it is not one.
std::pair<std::string, bool> host_of(const std::string& url) {
  bool https = url.rfind("https://", 0) == 0;
  if (!https && url.rfind("http://", 0) != 0) return {"", false};
  auto rest = url.substr(https ? 8 : 7);
  auto host = core::to_lower(rest.substr(0, rest.find_first_of("/?#")));
  if (host.find('@') != std::string::npos) return {"", false};
  return {host, https};
}

// Throws the error of a VK API answer `{"error":{"error_code","error_msg"}}`.
[[noreturn]] void fail(const std::string& method, const rapidjson::Value& err, int status) {
  auto code = core::json_int(err, "error_code").value_or(0);
  std::string text =
      "VK " + method + ": (#" + std::to_string(code) + ") " + core::json_string(err, "error_msg").value_or("");
  if (code == 5) throw IntegrationGone(text + " — reconnect the community with a new token", status);
  bool retryable = code == 6 || code == 9 || code == 10;  // too many requests, flood control, internal error
  throw ProviderError(text, retryable ? 429 : 400, retryable, retryable ? 1 : 0);
}
}  // namespace

Client::Client(Api api) : api_(std::move(api)) {}

std::string Client::call(const std::string& token, const std::string& method,
                         std::vector<std::pair<std::string, std::string>> params) const {
  params.emplace_back("v", api_.version);
  http::ClientRequest req;
  req.method = "POST";
  req.url = api_.base + "/method/" + method;
  req.headers = {{"Authorization", "Bearer " + token}, {"Content-Type", "application/x-www-form-urlencoded"}};
  req.body = http::build_query(params);
  req.timeout = std::chrono::seconds(10);
  req.max_response_bytes = 1u << 20;
  auto res = http::fetch(req);
  if (!res.ok()) throw error_from_response("VK " + method, res, "");
  rapidjson::Document d;
  core::parse_json(d, res.body);
  if (!d.IsObject()) throw ProviderError("VK " + method + ": response is not JSON", 502, true);
  if (const auto* err = core::json_member(d, "error"); err && err->IsObject()) fail(method, *err, res.status);
  const auto* response = core::json_member(d, "response");
  if (response == nullptr) throw ProviderError("VK " + method + ": response has no \"response\"", 502, true);
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  response->Accept(w);
  return sb.GetString();
}

Community Client::community(const std::string& token, const std::string& group_id) const {
  rapidjson::Document d;
  core::parse_json(d, call(token, "groups.getById", {{"group_id", group_id}}));
  // 5.199 answers {"groups":[…]}; earlier versions a bare array.
  const rapidjson::Value* list = d.IsObject() ? core::json_member(d, "groups") : &d;
  if (list == nullptr || !list->IsArray() || list->Empty() || !(*list)[0].IsObject())
    throw ProviderError("VK groups.getById: no community " + group_id, 400, false);
  const auto& g = (*list)[0];
  Community c;
  c.id = std::to_string(core::json_int(g, "id").value_or(0));
  c.name = core::json_string(g, "name").value_or("");
  c.screen_name = core::json_string(g, "screen_name").value_or("");
  if (c.id != group_id) throw ProviderError("VK groups.getById: the token is for community " + c.id, 400, false);
  return c;
}

std::string Client::confirmation_code(const std::string& token, const std::string& group_id) const {
  rapidjson::Document d;
  core::parse_json(d, call(token, "groups.getCallbackConfirmationCode", {{"group_id", group_id}}));
  auto code = d.IsObject() ? core::json_string(d, "code").value_or("") : "";
  if (code.empty()) throw ProviderError("VK groups.getCallbackConfirmationCode: no code", 502, true);
  return code;
}

void Client::register_server(const std::string& token, const std::string& group_id, const std::string& url,
                             const std::string& secret) const {
  std::string server_id;
  rapidjson::Document d;
  core::parse_json(d, call(token, "groups.getCallbackServers", {{"group_id", group_id}}));
  if (const auto* items = d.IsObject() ? core::json_member(d, "items") : nullptr; items && items->IsArray())
    for (const auto& s : items->GetArray())
      if (core::json_string(s, "url").value_or("") == url)
        server_id = std::to_string(core::json_int(s, "id").value_or(0));
  if (server_id.empty()) {
    core::parse_json(d, call(token, "groups.addCallbackServer",
                             {{"group_id", group_id}, {"url", url}, {"title", "Loket"}, {"secret_key", secret}}));
    server_id = std::to_string(d.IsObject() ? core::json_int(d, "server_id").value_or(0) : 0);
  } else {
    call(token, "groups.editCallbackServer",
         {{"group_id", group_id}, {"server_id", server_id}, {"url", url}, {"title", "Loket"}, {"secret_key", secret}});
  }
  call(token, "groups.setCallbackSettings",
       {{"group_id", group_id},
        {"server_id", server_id},
        {"api_version", api_.version},
        {"message_new", "1"},
        {"message_reply", "1"},
        {"message_edit", "1"},
        {"message_allow", "1"},
        {"message_deny", "1"}});
}

void Client::remove_server(const std::string& token, const std::string& group_id, const std::string& url) const {
  rapidjson::Document d;
  core::parse_json(d, call(token, "groups.getCallbackServers", {{"group_id", group_id}}));
  if (const auto* items = d.IsObject() ? core::json_member(d, "items") : nullptr; items && items->IsArray())
    for (const auto& s : items->GetArray())
      if (core::json_string(s, "url").value_or("") == url)
        call(token, "groups.deleteCallbackServer",
             {{"group_id", group_id}, {"server_id", std::to_string(core::json_int(s, "id").value_or(0))}});
}

std::string Client::user_name(const std::string& token, const std::string& user_id) const {
  rapidjson::Document d;
  core::parse_json(d, call(token, "users.get", {{"user_ids", user_id}}));
  if (!d.IsArray() || d.Empty() || !d[0].IsObject()) return "";
  return core::trim(core::json_string(d[0], "first_name").value_or("") + " " +
                    core::json_string(d[0], "last_name").value_or(""));
}

std::string Client::send(const std::string& token, const std::string& peer_id, const std::string& text,
                         const std::string& message_id) const {
  std::string id, rest = text;
  int part = 0;
  do {
    std::string chunk = core::utf8_truncate(rest, kMaxTextChars);
    rest.erase(0, chunk.size());
    id = call(token, "messages.send",
              {{"peer_id", peer_id},
               {"random_id", std::to_string(random_id(message_id, part++))},
               {"message", chunk},
               {"dont_parse_links", "1"}});
  } while (!rest.empty());
  return id;
}

std::string Client::download(const std::string& url) const {
  auto [host, https] = host_of(url);
  bool allowed = false;
  for (const auto& h : api_.media_hosts) {
    bool local = h.find(':') != std::string::npos;  // host:port: a test's server, http allowed
    if ((https || local) && (host == h || (!local && host.ends_with("." + h)))) allowed = true;
  }
  if (host.empty() || !allowed)
    throw ProviderError("VK attachment URL is on a host we do not download from: refused", 400, false);
  http::ClientRequest req;
  req.url = url;
  req.timeout = std::chrono::seconds(60);
  req.max_response_bytes = kMaxMediaBytes;
  req.max_redirects = 3;
  req.guard = &http::ssrf_policy();  // the URL and its redirects come from the webhook
  auto res = http::fetch(req);
  if (!res.ok()) throw error_from_response("VK attachment", res, "");
  return std::move(res.body);
}

}  // namespace loket::providers::vk
