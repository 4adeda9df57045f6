#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/twilio/twilio.hpp"

namespace loket::providers::twilio {
namespace {
constexpr std::size_t kMaxBodyChars = 1600;  // Twilio's limit for one message body
constexpr std::size_t kMaxMediaBytes = 25u << 20;

// Throws the ProviderError for a failed Twilio response, with Twilio's own code and message.
[[noreturn]] void fail(const std::string& what, const http::ClientResponse& res) {
  rapidjson::Document d;
  core::parse_json(d, res.body);
  std::string description;
  if (d.IsObject()) {
    auto code = core::json_int(d, "code");
    auto message = core::json_string(d, "message").value_or("");
    if (code)
      description = "Twilio error " + std::to_string(*code) + ": " + message;
    else
      description = message;
  }
  int retry_after = res.retry_after_seconds();
  throw error_from_response(what, res, description, retry_after);
}
}  // namespace

Client::Client(std::string api_base, std::string content_base)
    : api_base_(std::move(api_base)), content_base_(std::move(content_base)) {
  for (auto* base : {&api_base_, &content_base_})
    while (!base->empty() && base->back() == '/') base->pop_back();
}

Account Client::fetch_account(const Credentials& c) const {
  http::ClientRequest req;
  req.url = api_base_ + "/2010-04-01/Accounts/" + http::percent_encode(c.account_sid) + ".json";
  req.basic_auth = c.account_sid + ":" + c.auth_token;
  auto res = http::fetch(req);
  if (!res.ok()) fail("Twilio FetchAccount", res);
  rapidjson::Document d;
  core::parse_json(d, res.body);
  if (!d.IsObject()) throw ProviderError("Twilio FetchAccount: response is not JSON", 502, true);
  Account a;
  a.sid = core::json_string(d, "sid").value_or("");
  a.friendly_name = core::json_string(d, "friendly_name").value_or("");
  a.status = core::json_string(d, "status").value_or("");
  a.type = core::json_string(d, "type").value_or("");
  return a;
}

std::string Client::send_message(const Credentials& c, const std::string& from, const std::string& to,
                                 const std::string& text, const std::string& status_callback) const {
  std::string last_sid;
  std::string rest = text;
  do {
    std::string part = core::utf8_truncate(rest, kMaxBodyChars);
    rest.erase(0, part.size());
    last_sid =
        create_message(c, {{"To", "whatsapp:" + to}, {"From", "whatsapp:" + from}, {"Body", part}}, status_callback);
  } while (!rest.empty());
  return last_sid;
}

std::string Client::send_template(const Credentials& c, const std::string& from, const std::string& to,
                                  const events::TemplateRef& t, const std::string& status_callback) const {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  for (const auto& [name, value] : t.variables) core::json_kv(w, name, value);
  w.EndObject();
  return create_message(c,
                        {{"To", "whatsapp:" + to},
                         {"From", "whatsapp:" + from},
                         {"ContentSid", t.id},
                         {"ContentVariables", sb.GetString()}},
                        status_callback);
}

std::string Client::create_message(const Credentials& c, std::vector<std::pair<std::string, std::string>> form,
                                   const std::string& status_callback) const {
  http::ClientRequest req;
  req.method = "POST";
  req.url = api_base_ + "/2010-04-01/Accounts/" + http::percent_encode(c.account_sid) + "/Messages.json";
  req.basic_auth = c.account_sid + ":" + c.auth_token;
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
  if (!status_callback.empty()) form.emplace_back("StatusCallback", status_callback);
  req.body = http::build_query(form);
  req.timeout = std::chrono::seconds(15);
  auto res = http::fetch(req);
  if (!res.ok()) fail("Twilio CreateMessage", res);
  rapidjson::Document d;
  core::parse_json(d, res.body);
  return d.IsObject() ? core::json_string(d, "sid").value_or("") : "";
}

std::vector<MessageTemplate> templates_from_page(const std::string& body, std::string& next) {
  rapidjson::Document d;
  core::parse_json(d, body);
  const auto* contents = core::json_member(d, "contents");
  if (!contents || !contents->IsArray())
    throw ProviderError("Twilio ListContentAndApprovals: the answer has no contents", 502, true);
  std::vector<MessageTemplate> out;
  for (const auto& item : contents->GetArray()) {
    // approval_requests is documented flat ({"status":…}) and seen keyed by channel ({"whatsapp":{…}}).
    const auto* approval = core::json_member(item, "approval_requests");
    if (const auto* wa = approval ? core::json_member(*approval, "whatsapp") : nullptr) approval = wa;
    if (!approval || core::to_lower(core::json_string(*approval, "status").value_or("")) != "approved") continue;
    MessageTemplate t{core::json_string(item, "sid").value_or(""),
                      core::json_string(item, "friendly_name").value_or(""),
                      core::json_string(item, "language").value_or(""),
                      core::json_string(*approval, "category").value_or(""),
                      "",
                      {}};
    if (const auto* types = core::json_member(item, "types"); types && types->IsObject()) {
      if (const auto* text = core::json_member(*types, "twilio/text"))
        t.text = core::json_string(*text, "body").value_or("");
      for (auto it = types->MemberBegin(); t.text.empty() && it != types->MemberEnd(); ++it)
        t.text = core::json_string(it->value, "body").value_or("");
    }
    std::string keys;  // every variable is sent (some fill a URL or a button, not the body)
    if (const auto* vars = core::json_member(item, "variables"); vars && vars->IsObject())
      for (auto it = vars->MemberBegin(); it != vars->MemberEnd(); ++it)
        keys += "{{" + std::string(it->name.GetString(), it->name.GetStringLength()) + "}}";
    t.variables = template_placeholders(keys + t.text);
    if (t.id.empty() || t.text.empty()) continue;
    out.push_back(std::move(t));
  }
  next.clear();
  if (const auto* meta = core::json_member(d, "meta")) next = core::json_string(*meta, "next_page_url").value_or("");
  return out;
}

std::vector<MessageTemplate> Client::templates(const Credentials& c) const {
  constexpr int kMaxPages = 10;
  const std::string list = content_base_ + "/v1/ContentAndApprovals";
  std::vector<MessageTemplate> out;
  std::string url = list + "?PageSize=500";
  for (int page = 0; page < kMaxPages && !url.empty(); ++page) {
    http::ClientRequest req;
    req.url = url;
    req.basic_auth = c.account_sid + ":" + c.auth_token;
    req.timeout = std::chrono::seconds(15);
    auto res = http::fetch(req);
    if (!res.ok()) fail("Twilio ListContentAndApprovals", res);
    auto found = templates_from_page(res.body, url);
    out.insert(out.end(), std::make_move_iterator(found.begin()), std::make_move_iterator(found.end()));
    if (!url_under(url, list)) url.clear();  // only ever follow pages of the same list
  }
  return out;
}

std::string Client::download_media(const Credentials& c, const std::string& media_url) const {
  // Only this account's media on the configured API host: never a URL a payload made up.
  std::string allowed = api_base_ + "/2010-04-01/Accounts/" + c.account_sid + "/Messages/";
  if (media_url.rfind(allowed, 0) != 0 || media_url.find("/Media/", allowed.size()) == std::string::npos ||
      media_url.find("..") != std::string::npos)
    throw ProviderError("Twilio media URL is not under " + allowed + ": refused", 400, false);
  http::ClientRequest req;
  req.url = media_url;
  req.basic_auth = c.account_sid + ":" + c.auth_token;
  req.timeout = std::chrono::seconds(60);
  req.max_response_bytes = kMaxMediaBytes;
  req.max_redirects = 3;
  req.guard = &http::ssrf_policy();  // the URL and its redirects come from the provider
  auto res = http::fetch(req);
  if (!res.ok()) fail("Twilio media download", res);
  return std::move(res.body);
}

}  // namespace loket::providers::twilio
