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

Client::Client(std::string api_base) : api_base_(std::move(api_base)) {
  while (!api_base_.empty() && api_base_.back() == '/') api_base_.pop_back();
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
    http::ClientRequest req;
    req.method = "POST";
    req.url = api_base_ + "/2010-04-01/Accounts/" + http::percent_encode(c.account_sid) + "/Messages.json";
    req.basic_auth = c.account_sid + ":" + c.auth_token;
    req.headers = {{"Content-Type", "application/x-www-form-urlencoded"}};
    std::vector<std::pair<std::string, std::string>> form = {
        {"To", "whatsapp:" + to}, {"From", "whatsapp:" + from}, {"Body", part}};
    if (!status_callback.empty()) form.emplace_back("StatusCallback", status_callback);
    req.body = http::build_query(form);
    req.timeout = std::chrono::seconds(15);
    auto res = http::fetch(req);
    if (!res.ok()) fail("Twilio CreateMessage", res);
    rapidjson::Document d;
    core::parse_json(d, res.body);
    last_sid = d.IsObject() ? core::json_string(d, "sid").value_or("") : "";
  } while (!rest.empty());
  return last_sid;
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
