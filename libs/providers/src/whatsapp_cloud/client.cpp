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

std::string Client::post_message(const std::string& token, const std::string& phone_number_id, const std::string& to,
                                 const char* type, const std::function<void(core::JsonWriter&)>& content) const {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "messaging_product", "whatsapp");
  core::json_kv(w, "recipient_type", "individual");
  core::json_kv(w, "to", to.substr(to.rfind('+') == 0 ? 1 : 0));
  core::json_kv(w, "type", type);
  core::json_put(w, type);
  w.StartObject();
  content(w);
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
  return msgs && msgs->IsArray() && !msgs->Empty() ? core::json_string((*msgs)[0], "id").value_or("") : "";
}

std::string Client::send_text(const std::string& token, const std::string& phone_number_id, const std::string& to,
                              const std::string& text) const {
  std::string wamid;
  std::string rest = text;
  do {
    std::string part = core::utf8_truncate(rest, kMaxTextChars);
    rest.erase(0, part.size());
    wamid = post_message(token, phone_number_id, to, "text", [&](core::JsonWriter& w) {
      core::json_put(w, "preview_url");
      w.Bool(false);
      core::json_kv(w, "body", part);
    });
  } while (!rest.empty());
  return wamid;
}

std::string Client::send_template(const std::string& token, const std::string& phone_number_id, const std::string& to,
                                  const events::TemplateRef& t) const {
  return post_message(token, phone_number_id, to, "template", [&](core::JsonWriter& w) {
    core::json_kv(w, "name", t.name);
    core::json_put(w, "language");
    w.StartObject();
    core::json_kv(w, "code", t.language);
    w.EndObject();
    core::json_put(w, "components");
    w.StartArray();
    if (!t.variables.empty()) {
      w.StartObject();
      core::json_kv(w, "type", "body");
      core::json_put(w, "parameters");
      w.StartArray();
      for (const auto& [name, value] : t.variables) {
        w.StartObject();
        core::json_kv(w, "type", "text");
        if (name.find_first_not_of("0123456789") != std::string::npos) core::json_kv(w, "parameter_name", name);
        core::json_kv(w, "text", value);
        w.EndObject();
      }
      w.EndArray();
      w.EndObject();
    }
    w.EndArray();
  });
}

std::vector<MessageTemplate> templates_from_page(const std::string& body, std::string& after) {
  auto d = json_object({200, body, {}, ""}, "Graph message templates");
  after.clear();
  const auto* data = core::json_member(d, "data");
  if (!data || !data->IsArray()) throw ProviderError("Graph message templates: the answer has no data", 502, true);
  std::vector<MessageTemplate> out;
  for (const auto& item : data->GetArray()) {
    if (!item.IsObject() || core::json_string(item, "status").value_or("") != "APPROVED") continue;
    MessageTemplate t{core::json_string(item, "id").value_or(""),
                      core::json_string(item, "name").value_or(""),
                      core::json_string(item, "language").value_or(""),
                      core::json_string(item, "category").value_or(""),
                      "",
                      {}};
    std::string header, text, footer;
    bool sendable = !t.id.empty() && !t.name.empty() && !t.language.empty();
    const auto* components = core::json_member(item, "components");
    if (!components || !components->IsArray()) continue;
    for (const auto& c : components->GetArray()) {
      const std::string type = core::json_string(c, "type").value_or("");
      const std::string value = core::json_string(c, "text").value_or("");
      if (type == "HEADER") {
        sendable = sendable && core::json_string(c, "format").value_or("TEXT") == "TEXT" &&
                   template_placeholders(value).empty();
        header = value;
      } else if (type == "BODY") {
        text = value;
      } else if (type == "FOOTER") {
        footer = value;
      } else if (type == "BUTTONS") {
        const auto* buttons = core::json_member(c, "buttons");
        if (buttons && buttons->IsArray())
          for (const auto& b : buttons->GetArray()) {
            const std::string kind = core::json_string(b, "type").value_or("");
            sendable = sendable &&
                       (kind == "QUICK_REPLY" || kind == "PHONE_NUMBER" ||
                        (kind == "URL" && template_placeholders(core::json_string(b, "url").value_or("")).empty()));
          }
      } else {
        sendable = false;  // carousels, limited-time offers, …: parameters Loket does not fill
      }
    }
    if (!sendable || text.empty()) continue;
    t.variables = template_placeholders(text);
    for (const auto* part : {&header, &text, &footer})
      if (!part->empty()) t.text += (t.text.empty() ? "" : "\n\n") + *part;
    out.push_back(std::move(t));
  }
  if (const auto* paging = core::json_member(d, "paging"); paging && core::json_member(*paging, "next"))
    if (const auto* cursors = core::json_member(*paging, "cursors"))
      after = core::json_string(*cursors, "after").value_or("");
  return out;
}

std::vector<MessageTemplate> Client::templates(const std::string& token, const std::string& waba_id) const {
  constexpr int kMaxPages = 10;
  std::vector<MessageTemplate> out;
  std::string after;
  for (int page = 0; page < kMaxPages; ++page) {
    std::string path = http::percent_encode(waba_id) +
                       "/message_templates?fields=id,name,language,status,category,components&limit=100";
    if (!after.empty()) path += "&after=" + http::percent_encode(after);
    auto found = templates_from_page(get_json(token, path, "Graph message templates"), after);
    out.insert(out.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    if (after.empty()) break;
  }
  return out;
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
