#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/ssrf.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/instagram/instagram.hpp"

namespace loket::providers::instagram {
namespace {
constexpr std::size_t kMaxTextChars = 1000;  // the Send API takes less than 1,000 characters
constexpr std::size_t kMaxMediaBytes = 25u << 20;

}  // namespace

Client::Client(Api api) : api_(std::move(api)) {}

std::pair<std::string, std::string> Client::me(const std::string& token) const {
  auto res = http::fetch(bearer_request(token, api_.graph + "/" + api_.version + "/me?fields=user_id,username"));
  if (!res.ok()) throw_graph_error("Instagram account", res);
  auto d = json_object(res, "Instagram account");
  std::string id = core::json_string(d, "user_id").value_or("");
  if (id.empty()) throw ProviderError("Instagram account: the token names no professional account", 400, false);
  return {id, core::json_string(d, "username").value_or("")};
}

Profile Client::profile(const std::string& token, const std::string& igsid) const {
  auto req = bearer_request(
      token, api_.graph + "/" + api_.version + "/" + http::percent_encode(igsid) + "?fields=name,username");
  req.timeout = std::chrono::seconds(5);
  auto res = http::fetch(req);
  if (!res.ok()) throw_graph_error("Instagram profile", res, true);
  auto d = json_object(res, "Instagram profile");
  return {core::json_string(d, "name").value_or(""), core::json_string(d, "username").value_or("")};
}

std::string Client::send_text(const std::string& token, const std::string& account_id, const std::string& igsid,
                              const std::string& text, const std::string& tag) const {
  std::string mid, rest = text;
  do {
    std::string part = core::utf8_truncate(rest, kMaxTextChars);
    rest.erase(0, part.size());
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    core::json_put(w, "recipient");
    w.StartObject();
    core::json_kv(w, "id", igsid);
    w.EndObject();
    core::json_put(w, "message");
    w.StartObject();
    core::json_kv(w, "text", part);
    w.EndObject();
    if (!tag.empty()) {
      core::json_kv(w, "messaging_type", "MESSAGE_TAG");
      core::json_kv(w, "tag", tag);
    }
    w.EndObject();
    auto req =
        bearer_request(token, api_.graph + "/" + api_.version + "/" + http::percent_encode(account_id) + "/messages");
    req.method = "POST";
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = sb.GetString();
    auto res = http::fetch(req);
    if (!res.ok()) throw_graph_error("Instagram send message", res, true);
    mid = core::json_string(json_object(res, "Instagram send message"), "message_id").value_or("");
  } while (!rest.empty());
  return mid;
}

std::string Client::download(const std::string& url) const {
  bool allowed = false;
  for (const auto& base : api_.media_bases) allowed = allowed || url_under(url, base);
  if (!allowed)
    throw ProviderError("Instagram attachment URL is on a host we do not download from: refused", 400, false);
  http::ClientRequest req;
  req.url = url;
  req.timeout = std::chrono::seconds(60);
  req.max_response_bytes = kMaxMediaBytes;
  req.max_redirects = 3;
  req.guard = &http::ssrf_policy();  // the URL and its redirects come from the webhook
  auto res = http::fetch(req);
  if (!res.ok()) throw error_from_response("Instagram attachment", res, "");  // 403/404: expired, permanent
  return std::move(res.body);
}

}  // namespace loket::providers::instagram
