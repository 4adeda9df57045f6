#include <set>

#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"

namespace loket::providers::whatsapp_cloud {
namespace {
constexpr std::size_t kMaxTextChars = 4096;  // Cloud API text body limit
constexpr std::size_t kMaxMediaBytes = 25u << 20;

[[noreturn]] void fail(const std::string& what, const http::ClientResponse& res) { throw_graph_error(what, res); }

}  // namespace

Client::Client(Api api) : api_(std::move(api)) {}

std::string Client::get_json(const std::string& token, const std::string& path, const std::string& what) const {
  auto res = http::fetch(bearer_request(token, api_.graph + "/" + api_.version + "/" + path));
  if (!res.ok()) fail(what, res);
  return std::move(res.body);
}

PhoneNumber Client::phone_number(const std::string& token, const std::string& id) const {
  auto body = get_json(token, http::percent_encode(id), "Graph phone number");
  auto d = json_object({200, body, {}, ""}, "Graph phone number");
  PhoneNumber p;
  p.id = core::json_string(d, "id").value_or("");
  p.display_phone_number = core::json_string(d, "display_phone_number").value_or("");
  p.verified_name = core::json_string(d, "verified_name").value_or("");
  if (p.id != id) throw ProviderError("Graph phone number: the record is for another id", 400, false);
  return p;
}

std::string Client::send_text(const std::string& token, const std::string& phone_number_id, const std::string& to,
                              const std::string& text) const {
  std::string wamid;
  std::string rest = text;
  do {
    std::string part = core::utf8_truncate(rest, kMaxTextChars);
    rest.erase(0, part.size());
    rapidjson::StringBuffer sb;
    core::JsonWriter w(sb);
    w.StartObject();
    core::json_kv(w, "messaging_product", "whatsapp");
    core::json_kv(w, "recipient_type", "individual");
    core::json_kv(w, "to", to.substr(to.rfind('+') == 0 ? 1 : 0));
    core::json_kv(w, "type", "text");
    core::json_put(w, "text");
    w.StartObject();
    core::json_put(w, "preview_url");
    w.Bool(false);
    core::json_kv(w, "body", part);
    w.EndObject();
    w.EndObject();
    auto req = bearer_request(
        token, api_.graph + "/" + api_.version + "/" + http::percent_encode(phone_number_id) + "/messages");
    req.method = "POST";
    req.headers.emplace_back("Content-Type", "application/json");
    req.body = sb.GetString();
    auto res = http::fetch(req);
    if (!res.ok()) fail("Graph send message", res);
    auto d = json_object(res, "Graph send message");
    const auto* msgs = core::json_member(d, "messages");
    wamid = msgs && msgs->IsArray() && !msgs->Empty() ? core::json_string((*msgs)[0], "id").value_or("") : "";
  } while (!rest.empty());
  return wamid;
}

Media Client::download_media(const std::string& token, const std::string& media_id) const {
  auto d = json_object({200, get_json(token, http::percent_encode(media_id), "Graph media"), {}, ""}, "Graph media");
  Media m;
  std::string url = core::json_string(d, "url").value_or("");
  m.mime_type = core::json_string(d, "mime_type").value_or("");
  bool allowed = url_under(url, api_.graph);
  for (const auto& base : api_.media_bases) allowed = allowed || url_under(url, base);
  if (!allowed) throw ProviderError("Graph media URL is on a host we do not download from: refused", 400, false);
  auto req = bearer_request(token, url);
  req.timeout = std::chrono::seconds(60);
  req.max_response_bytes = kMaxMediaBytes;
  req.max_redirects = 3;
  req.guard = &http::ssrf_policy();  // the URL and its redirects come from the provider
  auto res = http::fetch(req);
  if (!res.ok()) fail("Graph media download", res);
  m.bytes = std::move(res.body);
  return m;
}

}  // namespace loket::providers::whatsapp_cloud
