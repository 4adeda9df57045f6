#include "harness.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <strings.h>

#include <algorithm>
#include <atomic>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <pqxx/pqxx>
#include <thread>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/access.hpp"
#include "loket/store/store.hpp"

extern char** environ;

namespace e2e {
using namespace loket;

const Env& env() {
  static Env e = [] {
    auto get = [](const char* n) {
      const char* v = std::getenv(n);
      return v ? std::string(v) : std::string();
    };
    Env x{get("LOKET_TEST_DATABASE_URL"), get("LOKET_TEST_KAFKA_BROKERS"), get("LOKET_TEST_BROKER_CONTROL"),
          get("LOKET_TEST_BIN_DIR"), get("LOKET_TEST_STATE_DIR")};
    if (x.database_url.empty() || x.brokers.empty() || x.bin_dir.empty()) {
      std::fprintf(stderr, "LOKET_TEST_* not set: run tests/run.sh; skipping\n");
      std::exit(77);
    }
    return x;
  }();
  return e;
}

FakeTelegram::FakeTelegram() {
  server_ = std::make_unique<http::Server>(http::ServerOptions{"127.0.0.1", 0, 1 << 20, 30},
                                           [this](const http::Request& r) { return handle(r); });
  server_->start();
}

std::string FakeTelegram::base() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

std::vector<Call> FakeTelegram::calls(const std::string& method) const {
  std::lock_guard lock(mu_);
  std::vector<Call> out;
  for (const auto& c : calls_)
    if (c.method == method) out.push_back(c);
  return out;
}

http::Response FakeTelegram::handle(const http::Request& r) {
  http::Response res;
  auto ok = [&](const std::string& result) {
    res.body = "{\"ok\":true,\"result\":" + result + "}";
    return res;
  };
  auto fail = [&](int code, const std::string& desc) {
    res.status = code;
    res.body = "{\"ok\":false,\"error_code\":" + std::to_string(code) + ",\"description\":\"" + desc + "\"}";
    return res;
  };
  if (r.path.rfind("/file/bot", 0) == 0) {
    res.content_type = "application/octet-stream";
    res.body = file_bytes;
    return res;
  }
  // /bot<token>/<method>
  auto slash = r.path.find('/', 4);
  if (r.path.rfind("/bot", 0) != 0 || slash == std::string::npos) return fail(404, "Not Found");
  std::string token = r.path.substr(4, slash - 4), method = r.path.substr(slash + 1);
  rapidjson::Document body;
  body.Parse(r.body.c_str());
  {
    std::lock_guard lock(mu_);
    calls_.push_back({token, method, r.body});
  }
  if (token.find("bad") != std::string::npos) return fail(401, "Unauthorized");
  if (method == "getMe") {
    std::string id = token.substr(0, token.find(':'));
    return ok("{\"id\":" + id + ",\"is_bot\":true,\"first_name\":\"Acme Support\",\"username\":\"bot" + id + "_bot\"}");
  }
  if (method == "setWebhook") {
    if (token.find("nohook") != std::string::npos)
      return fail(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook");
    return ok("true");
  }
  if (method == "deleteWebhook") return ok("true");
  if (method == "sendMessage") {
    std::string chat;
    if (body.IsObject() && body.HasMember("chat_id"))
      chat = body["chat_id"].IsInt64() ? std::to_string(body["chat_id"].GetInt64()) : "";
    std::lock_guard lock(mu_);
    if (blocked_chats.count(chat)) return fail(403, "Forbidden: bot was blocked by the user");
    if (auto it = flaky_chats.find(chat); it != flaky_chats.end() && it->second > 0) {
      --it->second;
      return fail(502, "Bad Gateway");
    }
    return ok("{\"message_id\":" + std::to_string(calls_.size() + 1000) + ",\"chat\":{\"id\":" + chat +
              ",\"type\":\"private\"},\"date\":1767225600,\"text\":\"x\"}");
  }
  if (method == "getFile") {
    std::string fid = body.IsObject() && body.HasMember("file_id") ? body["file_id"].GetString() : "";
    return ok("{\"file_id\":\"" + fid +
              "\",\"file_unique_id\":\"u\",\"file_size\":17,\"file_path\":\"photos/file_1.jpg\"}");
  }
  return fail(404, "Not Found: method not found");
}

namespace {
std::string auth_of(const http::Request& r) {
  std::string a = r.header("authorization");
  if (a.rfind("Bearer ", 0) == 0) return a.substr(7);
  return a;
}

http::Response json_response(int status, const std::string& body) {
  http::Response res;
  res.status = status;
  res.body = body;
  return res;
}
}  // namespace

FakeApi::FakeApi() {
  server_ = std::make_unique<http::Server>(http::ServerOptions{"127.0.0.1", 0, 1 << 20, 30},
                                           [this](const http::Request& r) { return handle(r); });
  server_->start();
}

FakeApi::~FakeApi() = default;

std::string FakeApi::base() const { return "http://127.0.0.1:" + std::to_string(server_->port()); }

std::vector<ApiCall> FakeApi::calls(const std::string& part) const {
  std::lock_guard lock(mu_);
  std::vector<ApiCall> out;
  for (const auto& c : calls_)
    if (c.path.find(part) != std::string::npos) out.push_back(c);
  return out;
}

std::size_t FakeApi::record(const http::Request& r, const std::string& auth) {
  std::lock_guard lock(mu_);
  ApiCall c{auth, r.path, r.body, {}, ""};
  for (const auto& [k, v] : r.headers) c.headers[loket::core::to_lower(k)] = v;
  calls_.push_back(std::move(c));
  return calls_.size() - 1;
}

void FakeApi::close_window(const std::string& recipient) {
  std::lock_guard lock(mu_);
  closed_windows_.insert(recipient);
}

bool FakeApi::window_closed(const std::string& recipient) const {
  std::lock_guard lock(mu_);
  return closed_windows_.count(recipient) > 0;
}

void FakeApi::set_result(std::size_t call, const std::string& id) {
  std::lock_guard lock(mu_);
  calls_[call].result = id;
}

namespace {
// The Content API's list in Twilio's shape: an approved template, an unsubmitted draft, and the
// link to page 2 (an approved quick-reply whose approval is keyed by channel).
std::string content_page_1(const std::string& base) {
  return std::string(
             R"({"contents":[{"date_created":"2025-03-14T09:12:44Z","date_updated":"2025-03-14T09:40:02Z","sid":")") +
         FakeTwilio::kContentOrderUpdate +
         R"(","account_sid":"AC0123456789abcdef0123456789abcdef","friendly_name":"order_update","language":"en","variables":{"1":"Ana","2":"#1"},"types":{"twilio/text":{"body":"Hi {{1}}, your order {{2}} has shipped."}},"approval_requests":{"name":"order_update","category":"UTILITY","content_type":"twilio/text","status":"approved","rejection_reason":"","allow_category_change":true}},)"
         R"({"date_created":"2025-05-10T08:00:00Z","date_updated":"2025-05-10T08:00:00Z","sid":"HX3d9e1f2a3b4c5d6e7f8091a2b3c4d5e6","account_sid":"AC0123456789abcdef0123456789abcdef","friendly_name":"draft_offer","language":"en","variables":{},"types":{"twilio/text":{"body":"A draft."}},"approval_requests":{"name":"","category":"","content_type":"","status":"unsubmitted","rejection_reason":"","allow_category_change":true}}],)"
         R"("meta":{"page":0,"page_size":500,"first_page_url":")" +
         base + R"(/v1/ContentAndApprovals?PageSize=500&Page=0","previous_page_url":null,"url":")" + base +
         R"(/v1/ContentAndApprovals?PageSize=500&Page=0","next_page_url":")" + base +
         R"(/v1/ContentAndApprovals?PageSize=500&Page=1&PageToken=PT2","key":"contents"}})";
}

std::string content_page_2() {
  return std::string(
             R"({"contents":[{"date_created":"2025-04-02T11:00:00Z","date_updated":"2025-04-02T11:20:00Z","sid":")") +
         FakeTwilio::kContentMenu +
         R"(","account_sid":"AC0123456789abcdef0123456789abcdef","friendly_name":"menu","language":"es","variables":{"1":"Sari"},"types":{"twilio/quick-reply":{"body":"Hola {{1}}, ¿en qué te ayudamos?","actions":[{"title":"Mi pedido","id":"order"}]}},"approval_requests":{"whatsapp":{"type":"whatsapp","name":"menu","category":"MARKETING","content_type":"twilio/quick-reply","status":"approved","rejection_reason":"","allow_category_change":true,"flows":null}}}],)"
         R"("meta":{"page":1,"page_size":500,"previous_page_url":null,"next_page_url":null,"key":"contents"}})";
}
}  // namespace

http::Response FakeTwilio::handle(const http::Request& r) {
  std::string auth = r.header("authorization");
  auto call = record(r, auth);
  if (r.path.rfind("/media-store/", 0) == 0) {  // where Twilio's media URLs redirect to
    http::Response res;
    res.content_type = "image/jpeg";
    res.body = media_bytes;
    return res;
  }
  // Basic auth must be "<sid>:<token>"; tokens containing "bad" are wrong.
  std::string decoded;
  if (auth.rfind("Basic ", 0) == 0) {
    std::string b64 = auth.substr(6);
    // decode base64 (test-only, small)
    static const std::string kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned v = 0;
    int bits = 0;
    for (char c : b64) {
      auto pos = kAlphabet.find(c);
      if (pos == std::string::npos) break;
      v = (v << 6) | static_cast<unsigned>(pos);
      bits += 6;
      if (bits >= 8) {
        bits -= 8;
        decoded += static_cast<char>((v >> bits) & 0xff);
      }
    }
  }
  const auto unauthorized = [] {
    return json_response(
        401,
        R"({"code":20003,"message":"Authenticate","more_info":"https://www.twilio.com/docs/errors/20003","status":401})");
  };
  if (r.path == "/v1/ContentAndApprovals") {  // the Content API: two pages of templates
    if (decoded.rfind("AC", 0) != 0 || decoded.find("bad") != std::string::npos) return unauthorized();
    return json_response(200, r.query_param("PageToken").empty() ? content_page_1(base()) : content_page_2());
  }
  const std::string prefix = "/2010-04-01/Accounts/";
  if (r.path.rfind(prefix, 0) != 0) return json_response(404, R"({"code":20404,"message":"not found","status":404})");
  std::string rest = r.path.substr(prefix.size());
  std::string sid = rest.substr(0, rest.find_first_of("/."));
  if (decoded.rfind(sid + ":", 0) != 0 || decoded.find("bad") != std::string::npos) return unauthorized();
  if (rest == sid + ".json")
    return json_response(
        200, "{\"sid\":\"" + sid + "\",\"friendly_name\":\"Acme\",\"status\":\"active\",\"type\":\"Full\"}");
  if (rest == sid + "/Messages.json" && r.method == "POST") {
    auto form = http::parse_query(r.body);
    std::string to = form.count("To") ? form.find("To")->second : "";
    const std::string content = form.count("ContentSid") ? form.find("ContentSid")->second : "";
    if (!content.empty() && content != kContentOrderUpdate && content != kContentMenu)
      return json_response(
          400,
          R"({"code":21655,"message":"The ContentSid is Invalid.","more_info":"https://www.twilio.com/docs/errors/21655","status":400})");
    if (content.empty() && to.rfind("whatsapp:", 0) == 0 && window_closed(to.substr(9)))
      return json_response(
          400,
          R"({"code":63016,"message":"Failed to send freeform message because you are outside the allowed window. If you are using WhatsApp, please use a Message Template.","more_info":"https://www.twilio.com/docs/errors/63016","status":400})");
    std::string msid = "SM" + core::to_hex(core::random_bytes(16));
    set_result(call, msid);
    return json_response(201, "{\"sid\":\"" + msid + "\",\"status\":\"queued\",\"direction\":\"outbound-api\"}");
  }
  if (rest.find("/Media/") != std::string::npos) {
    http::Response res;
    res.status = 302;
    res.headers.emplace_back("Location", base() + "/media-store/" + rest.substr(rest.rfind('/') + 1));
    return res;
  }
  return json_response(404, R"({"code":20404,"message":"The requested resource was not found","status":404})");
}

namespace {
// GET /{waba-id}/message_templates in the Graph API's shape, in two pages: a positional template
// with header and footer and a pending one, then a named-parameter template and one with an
// image header (not sendable by Loket).
std::string graph_templates_page_1() {
  return R"({"data":[{"name":"order_shipped","parameter_format":"POSITIONAL","components":[{"type":"HEADER","format":"TEXT","text":"Your order is on its way"},{"type":"BODY","text":"Hi {{1}}, order {{2}} has shipped. Questions? Just reply.","example":{"body_text":[["Ana","#1042"]]}},{"type":"FOOTER","text":"Acme Shop"}],"language":"en_US","status":"APPROVED","category":"UTILITY","id":"1190416925457735"},)"
         R"({"name":"refund_update","parameter_format":"POSITIONAL","components":[{"type":"BODY","text":"Your refund of {{1}} is on its way."}],"language":"en_US","status":"PENDING","category":"UTILITY","id":"972331964702955"}],)"
         R"("paging":{"cursors":{"before":"MAZDZD","after":"MjQZD"},"next":"https://graph.facebook.com/v21.0/1/message_templates?after=MjQZD"}})";
}

std::string graph_templates_page_2() {
  return R"({"data":[{"name":"follow_up","parameter_format":"NAMED","components":[{"type":"BODY","text":"Hai {{customer_name}}, apakah masalah {{topic}} sudah beres? Balas kapan saja.","example":{"body_text_named_params":[{"param_name":"customer_name","example":"Sari"},{"param_name":"topic","example":"pengiriman"}]}}],"language":"id","status":"APPROVED","category":"UTILITY","id":"804623111856410"},)"
         R"({"name":"spring_sale","parameter_format":"POSITIONAL","components":[{"type":"HEADER","format":"IMAGE","example":{"header_handle":["4::aW1hZ2U=:ARb"]}},{"type":"BODY","text":"Our spring sale starts today, {{1}}!"}],"language":"en_US","status":"APPROVED","category":"MARKETING","id":"1597302717544312"}],)"
         R"("paging":{"cursors":{"before":"QVFI","after":"QVFI"}}})";
}

// Whether a send's `template` names an approved template with the right parameters.
bool known_template(const rapidjson::Value& t) {
  if (!t.IsObject() || !t.HasMember("name") || !t["name"].IsString()) return false;
  const std::string name = t["name"].GetString();
  std::size_t params = 0;
  if (t.HasMember("components") && t["components"].IsArray())
    for (const auto& c : t["components"].GetArray())
      if (c.HasMember("parameters") && c["parameters"].IsArray()) params += c["parameters"].Size();
  return (name == "order_shipped" && params == 2) || (name == "follow_up" && params == 2);
}
}  // namespace

http::Response FakeGraph::handle(const http::Request& r) {
  std::string token = auth_of(r);
  auto call = record(r, token);
  if (token.empty() || token.find("bad") != std::string::npos)
    return json_response(
        401,
        R"({"error":{"message":"Error validating access token: Session has expired.","type":"OAuthException","code":190,"error_subcode":463,"fbtrace_id":"AbCdEf"}})");
  if (r.path.rfind("/lookaside/", 0) == 0) {
    http::Response res;
    res.content_type = "image/png";
    res.body = media_bytes;
    return res;
  }
  // /vNN.N/<id>[/messages]
  auto parts = core::split(r.path, '/');
  if (parts.size() < 2 || parts[0].rfind("v", 0) != 0)
    return json_response(404, R"({"error":{"message":"Unknown path","code":803}})");
  const std::string& id = parts[1];
  if (parts.size() == 3 && parts[2] == "message_templates" && r.method == "GET")
    return json_response(200, r.query_param("after").empty() ? graph_templates_page_1() : graph_templates_page_2());
  if (parts.size() == 3 && parts[2] == "messages" && r.method == "POST") {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    std::string to = d.IsObject() && d.HasMember("to") ? d["to"].GetString() : "";
    const bool templated = d.IsObject() && d.HasMember("template");
    if (templated && !known_template(d["template"]))
      return json_response(
          400,
          R"({"error":{"message":"(#132001) Template name does not exist in the translation","type":"OAuthException","code":132001,"error_data":{"messaging_product":"whatsapp","details":"template name does not exist in the language"},"fbtrace_id":"AbC"}})");
    if (!templated && window_closed(to))
      return json_response(
          400,
          R"({"error":{"message":"Re-engagement message","type":"OAuthException","code":131047,"error_data":{"messaging_product":"whatsapp","details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."},"fbtrace_id":"AbC"}})");
    std::string wamid = "wamid." + core::to_hex(core::random_bytes(12));
    set_result(call, wamid);
    return json_response(200, "{\"messaging_product\":\"whatsapp\",\"contacts\":[{\"input\":\"" + to +
                                  "\",\"wa_id\":\"" + to + "\"}],\"messages\":[{\"id\":\"" + wamid + "\"}]}");
  }
  if (parts.size() == 2 && id.rfind("media", 0) == 0)
    return json_response(200, "{\"messaging_product\":\"whatsapp\",\"url\":\"" + base() + "/lookaside/" + id +
                                  "\",\"mime_type\":\"image/png\",\"file_size\":\"19\",\"id\":\"" + id + "\"}");
  if (parts.size() == 2 && id == "offsite")
    return json_response(
        200,
        R"({"messaging_product":"whatsapp","url":"http://127.0.0.2:9/steal","mime_type":"image/png","id":"offsite"})");
  if (parts.size() == 2)
    return json_response(
        200,
        "{\"verified_name\":\"Acme Support\",\"code_verification_status\":\"VERIFIED\",\"display_phone_number\":\"+62 "
        "812-0000-0000\",\"quality_rating\":\"GREEN\",\"platform_type\":\"CLOUD_API\",\"id\":\"" +
            id + "\"}");
  return json_response(404, R"({"error":{"message":"Unknown path","code":803}})");
}

void FakeInstagram::revoke(const std::string& token) {
  std::lock_guard lock(revoked_mu_);
  revoked_.insert(token);
}

http::Response FakeInstagram::handle(const http::Request& r) {
  if (r.path.rfind("/cdn/", 0) == 0) {  // the attachment CDN: signed URLs, no token
    record(r, "");
    if (r.path.rfind("/cdn/expired", 0) == 0) return json_response(403, R"({"error":"URL signature expired"})");
    http::Response res;
    res.content_type = "image/jpeg";
    res.body = media_bytes;
    return res;
  }
  std::string token = auth_of(r);
  auto call = record(r, token);
  bool revoked;
  {
    std::lock_guard lock(revoked_mu_);
    revoked = revoked_.count(token) > 0;
  }
  if (token.empty() || token.find("bad") != std::string::npos || revoked)
    return json_response(
        401,
        R"({"error":{"message":"Error validating access token: The session has been invalidated because the user changed their password or Facebook has changed the session for security reasons.","type":"OAuthException","code":190,"error_subcode":460,"fbtrace_id":"AxYz"}})");
  auto parts = core::split(r.path, '/');  // vNN.N, id[, messages]
  if (parts.size() < 2 || parts[0].rfind("v", 0) != 0)
    return json_response(404, R"({"error":{"message":"Unknown path","code":803}})");
  const std::string& id = parts[1];
  if (parts.size() == 3 && parts[2] == "messages" && r.method == "POST") {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    std::string to = d.IsObject() && d.HasMember("recipient") ? d["recipient"]["id"].GetString() : "";
    bool tagged = d.IsObject() && d.HasMember("tag") && std::string(d["tag"].GetString()) == "HUMAN_AGENT";
    if (window_closed(to) && !tagged)
      return json_response(
          400,
          R"({"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2534022,"fbtrace_id":"AbC"}})");
    std::string mid = "aWdf" + core::to_hex(core::random_bytes(12));
    set_result(call, mid);
    return json_response(200, R"({"recipient_id":")" + to + R"(","message_id":")" + mid + "\"}");
  }
  if (id == "me") {
    auto account = token.rfind("ig-", 0) == 0 ? token.substr(3, token.find('-', 3) - 3) : "17841400000000000";
    return json_response(200, R"({"user_id":")" + account + R"(","username":"toko_ig","id":"9876543210"})");
  }
  return json_response(200, R"({"name":"Sari Dewi","username":"sari.dewi","id":")" + id + "\"}");
}

FakeVk::~FakeVk() {
  for (auto& t : confirming_) t.join();
}

std::vector<std::string> FakeVk::delivered(const std::string& peer) const {
  std::lock_guard lock(vk_mu_);
  std::vector<std::string> out;
  for (const auto& [p, text] : order_)
    if (p == peer) out.push_back(text);
  return out;
}

std::vector<std::string> FakeVk::confirmations() const {
  std::lock_guard lock(vk_mu_);
  return confirmations_;
}

std::vector<std::string> FakeVk::servers(const std::string& group) const {
  std::lock_guard lock(vk_mu_);
  std::vector<std::string> out;
  if (auto it = servers_.find(group); it != servers_.end())
    for (const auto& [id, url] : it->second) out.push_back(url);
  return out;
}

http::Response FakeVk::handle(const http::Request& r) {
  auto call = record(r, auth_of(r));
  if (r.path.rfind("/cdn/", 0) == 0) {
    http::Response res;
    res.content_type = "image/jpeg";
    res.body = media_bytes;
    return res;
  }
  auto error = [](int code, const std::string& msg) {
    return json_response(200, R"({"error":{"error_code":)" + std::to_string(code) + R"(,"error_msg":")" + msg +
                                  R"(","request_params":[]}})");
  };
  std::string token = auth_of(r), method = r.path.substr(r.path.rfind('/') + 1);
  auto form = http::parse_query(r.body);
  auto param = [&](const char* k) {
    auto it = form.find(k);
    return it == form.end() ? std::string() : it->second;
  };
  if (token.empty() || token.find("bad") != std::string::npos)
    return error(5, "User authorization failed: invalid access_token (4).");
  const std::string group = param("group_id");
  if (method == "groups.getById")
    return json_response(
        200, R"({"response":{"groups":[{"id":)" + group +
                 R"(,"name":"Toko VK","screen_name":"tokovk","is_closed":0,"type":"group"}],"profiles":[]}})");
  if (method == "groups.getCallbackConfirmationCode")
    return json_response(200, R"({"response":{"code":"c0nf)" + group + R"("}})");
  if (method == "groups.getCallbackServers") {
    std::lock_guard lock(vk_mu_);
    std::string items;
    for (const auto& [id, url] : servers_[group])
      items += (items.empty() ? "" : ",") + std::string(R"({"id":)") + std::to_string(id) +
               R"(,"title":"Loket","url":")" + url + R"(","status":"ok"})";
    return json_response(
        200, R"({"response":{"count":)" + std::to_string(servers_[group].size()) + R"(,"items":[)" + items + "]}}");
  }
  if (method == "groups.addCallbackServer") {
    if (token.find("nomanage") != std::string::npos) return error(15, "Access denied: no access to call this method");
    int id;
    {
      std::lock_guard lock(vk_mu_);
      id = next_server_++;
      servers_[group].emplace_back(id, param("url"));
      // VK asks the new server to confirm itself, as pressing "Confirm" does.
      confirming_.emplace_back([this, url = param("url"), group] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        http::ClientRequest req;
        req.method = "POST";
        req.url = url;
        req.headers = {{"Content-Type", "application/json"}};
        req.body = R"({"type":"confirmation","group_id":)" + group + "}";
        auto res = http::fetch(req);
        std::lock_guard lock(vk_mu_);
        confirmations_.push_back(res.status == 200 ? res.body : "HTTP " + std::to_string(res.status));
      });
    }
    return json_response(200, R"({"response":{"server_id":)" + std::to_string(id) + "}}");
  }
  if (method == "groups.deleteCallbackServer") {
    std::lock_guard lock(vk_mu_);
    auto& list = servers_[group];
    list.erase(std::remove_if(list.begin(), list.end(),
                              [&](const auto& s) { return std::to_string(s.first) == param("server_id"); }),
               list.end());
    return json_response(200, R"({"response":1})");
  }
  if (method == "groups.editCallbackServer" || method == "groups.setCallbackSettings")
    return json_response(200, R"({"response":1})");
  if (method == "users.get")
    return json_response(
        200, R"({"response":[{"id":)" + param("user_ids") +
                 R"(,"first_name":"Ivan","last_name":"Petrov","can_access_closed":true,"is_closed":false}]})");
  if (method == "messages.send") {
    const std::string peer = param("peer_id"), random = param("random_id");
    if (window_closed(peer)) return error(901, "Can't send messages for users without permission");
    std::string id;
    {
      std::lock_guard lock(vk_mu_);
      auto key = std::make_pair(peer, random);
      auto it = sent_.find(key);
      if (it == sent_.end()) {  // a repeated random_id is not delivered again
        id = std::to_string(5000 + sent_.size());
        sent_[key] = id;
        order_.emplace_back(peer, param("message"));
      } else {
        id = it->second;
      }
    }
    set_result(call, id);
    if (lose_responses.load() > 0) {
      --lose_responses;
      return json_response(500, "Internal Server Error");
    }
    return json_response(200, R"({"response":)" + id + "}");
  }
  return error(3, "Unknown method passed");
}

std::vector<std::string> FakeResend::emails_to(const std::string& address) const {
  std::vector<std::string> out;
  for (const auto& c : calls("/emails")) {
    rapidjson::Document d;
    d.Parse(c.body.c_str());
    if (d.IsObject() && d.HasMember("to") && d["to"].IsArray() && d["to"].Size() == 1 &&
        std::string(d["to"][0].GetString()) == address && !c.result.empty())
      out.push_back(c.body);
  }
  return out;
}

void FakeResend::receive(const std::string& email_id, const std::string& raw) {
  std::lock_guard lock(received_mu_);
  received_[email_id] = raw;
}

http::Response FakeResend::handle(const http::Request& r) {
  std::string key = auth_of(r);
  auto call = record(r, key);
  const std::string raw_prefix = "/raw/", receiving_prefix = "/emails/receiving/";
  auto received = [&](const std::string& id) -> std::optional<std::string> {
    std::lock_guard lock(received_mu_);
    auto it = received_.find(id);
    return it == received_.end() ? std::nullopt : std::optional(it->second);
  };
  if (r.path.rfind(raw_prefix, 0) == 0) {  // the signed storage URL: no API key
    auto raw = received(r.path.substr(raw_prefix.size()));
    if (!raw) return json_response(404, R"({"message":"expired"})");
    http::Response res;
    res.content_type = "message/rfc822";
    res.body = *raw;
    return res;
  }
  if (key.find("bad") != std::string::npos || key.empty())
    return json_response(403, R"({"statusCode":403,"name":"invalid_api_key","message":"API key is invalid"})");
  if (r.path == "/domains") {
    if (key.find("restricted") != std::string::npos)
      return json_response(
          401,
          R"({"statusCode":401,"name":"restricted_api_key","message":"This API key is restricted to only send emails"})");
    return json_response(200, R"({"data":[]})");
  }
  if (r.path.rfind(receiving_prefix, 0) == 0 && r.method == "GET") {
    std::string id = r.path.substr(receiving_prefix.size());
    if (receiving_failures.fetch_sub(1) > 0)
      return json_response(503, R"({"statusCode":503,"name":"internal_server_error","message":"Try again"})");
    if (!received(id))
      return json_response(404, R"({"statusCode":404,"name":"not_found","message":"Email not found"})");
    return json_response(200, "{\"object\":\"email\",\"id\":\"" + id + "\",\"raw\":{\"download_url\":\"" + base() +
                                  raw_prefix + id + "\",\"expires_at\":\"2030-01-01T00:00:00.000Z\"}}");
  }
  if (r.path == "/emails" && r.method == "POST") {
    rapidjson::Document d;
    d.Parse(r.body.c_str());
    std::string to =
        d.IsObject() && d.HasMember("to") && d["to"].IsArray() && d["to"].Size() ? d["to"][0].GetString() : "";
    if (to.rfind("bounce", 0) == 0)
      return json_response(
          422,
          R"({"statusCode":422,"name":"validation_error","message":"Invalid `to` field. The email address needs to follow the `email@example.com` format."})");
    if (to.rfind("flaky", 0) == 0 && flaky_failures.fetch_sub(1) > 0)
      return json_response(500,
                           R"({"statusCode":500,"name":"internal_server_error","message":"Unexpected server error"})");
    std::string id = core::to_hex(core::random_bytes(16));
    set_result(call, id);
    return json_response(200, "{\"id\":\"" + id + "\"}");
  }
  return json_response(404, R"({"statusCode":404,"name":"not_found","message":"Not found"})");
}

std::string mail_ca_file() {
  return (env().state_dir.empty() ? std::string("/tmp") : env().state_dir) + "/mail-ca.pem";
}

// A port the OS says is free and that this process has not handed out before: a port is only
// bound when the service starts, so the OS may offer it again in between (an api and its admin
// endpoint once got the same one).
int free_port() {
  static std::mutex mu;
  static std::set<int> given;
  std::lock_guard lock(mu);
  for (;;) {
    boost::asio::io_context io;
    boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
    int port = a.local_endpoint().port();
    if (given.insert(port).second) return port;
  }
}

std::vector<std::string> FakeTeamChat::posts(const std::string& path) const {
  std::vector<std::string> out;
  for (const auto& c : calls(path))
    if (c.path == path && !c.result.empty()) out.push_back(c.body);
  return out;
}

std::vector<ApiCall> FakeReceiver::received(const std::string& path) const {
  std::vector<ApiCall> out;
  for (auto& c : calls(path))
    if (c.path == path && !c.result.empty()) out.push_back(std::move(c));
  return out;
}

http::Response FakeReceiver::handle(const http::Request& r) {
  auto call = record(r, "");
  if (down) return json_response(503, R"({"error":"maintenance"})");
  if (r.path.find("gone") != std::string::npos) return json_response(410, R"({"error":"gone"})");
  if (r.path.find("slow") != std::string::npos) std::this_thread::sleep_for(std::chrono::seconds(3));
  if (r.path.find("flaky") != std::string::npos && flaky_calls++ % 3 == 0)
    return json_response(500, R"({"error":"try again"})");
  set_result(call, "ok");
  return json_response(200, R"({"ok":true})");
}

void FakeTeamChat::remove(const std::string& path) {
  std::lock_guard lock(removed_mu_);
  removed_.insert(path);
}

http::Response FakeTeamChat::handle(const http::Request& r) {
  auto call = record(r, "");
  const bool slack = r.path.rfind("/services/", 0) == 0, discord = r.path.rfind("/api/webhooks/", 0) == 0;
  auto text = [](int status, const std::string& body) {
    http::Response res = json_response(status, body);
    res.content_type = "text/plain; charset=utf-8";
    return res;
  };
  if (!slack && !discord) return text(404, "not found");
  bool gone = r.path.find("gone") != std::string::npos;
  {
    std::lock_guard lock(removed_mu_);
    gone = gone || removed_.count(r.path) > 0;
  }
  if (gone)
    return slack ? text(404, "no_service") : json_response(404, R"({"message":"Unknown Webhook","code":10015})");
  if (limited.fetch_sub(1) > 0) {
    auto res =
        slack ? text(429, "rate_limited")
              : json_response(429, R"({"message":"You are being rate limited.","retry_after":0.4,"global":false})");
    res.headers.emplace_back("Retry-After", "1");
    return res;
  }
  limited.store(0);
  rapidjson::Document d;
  d.Parse(r.body.c_str());
  if (d.HasParseError() || !d.IsObject())
    return slack ? text(400, "invalid_payload") : json_response(400, R"({"message":"Invalid Form Body","code":50035})");
  const std::string id = std::to_string(1000000 + call);
  set_result(call, slack ? "ok" : id);
  return slack ? text(200, "ok") : json_response(200, R"({"id":")" + id + R"(","channel_id":"42"})");
}

Stack::Stack(const std::string& telegram_base, const std::string& twilio_base, const std::string& graph_base,
             const std::string& resend_base, const std::string& team_chat_base) {
  api_port_ = free_port();
  ingress_port_ = free_port();
  const auto& e = env();
  for (char** p = environ; *p; ++p)
    if (std::string(*p).rfind("LOKET_", 0) != 0) env_.push_back(*p);
  env_.push_back("LOKET_DATABASE_URL=" + e.database_url);
  env_.push_back("LOKET_KAFKA_BROKERS=" + e.brokers);
  env_.push_back("LOKET_MASTER_KEY=k1:" + std::string(64, '7'));
  env_.push_back("LOKET_API_PORT=" + std::to_string(api_port_));
  env_.push_back("LOKET_INGRESS_PORT=" + std::to_string(ingress_port_));
  env_.push_back("LOKET_API_ADDRESS=127.0.0.1");
  env_.push_back("LOKET_INGRESS_ADDRESS=127.0.0.1");
  env_.push_back("LOKET_PUBLIC_WEBHOOK_URL=" + ingress_url());
  env_.push_back("LOKET_TELEGRAM_API_BASE=" + telegram_base);
  env_.push_back("LOKET_TWILIO_API_BASE=" + twilio_base);
  env_.push_back("LOKET_TWILIO_CONTENT_API_BASE=" + twilio_base);
  env_.push_back("LOKET_GRAPH_API_BASE=" + graph_base);
  env_.push_back("LOKET_RESEND_API_BASE=" + resend_base);
  env_.push_back("LOKET_INSTAGRAM_API_BASE=" + instagram().base());
  env_.push_back("LOKET_INSTAGRAM_MEDIA_BASES=" + instagram().base() + "/cdn");
  env_.push_back("LOKET_VK_API_BASE=" + vk().base());
  env_.push_back("LOKET_VK_MEDIA_HOSTS=" + vk().base().substr(vk().base().find("://") + 3));
  env_.push_back("LOKET_OUTBOUND_ALLOW_PRIVATE=1");  // the fakes run on 127.0.0.1: the SSRF guard must let them
  const std::string team_host = team_chat_base.substr(team_chat_base.find("://") + 3);  // 127.0.0.1:<port>
  env_.push_back("LOKET_SLACK_WEBHOOK_HOSTS=" + team_host);
  env_.push_back("LOKET_DISCORD_WEBHOOK_HOSTS=" + team_host);
  env_.push_back("LOKET_AGENT_APP_URL=https://agents.loket.test/");
  env_.push_back("LOKET_WEBHOOK_RETRY_SCHEDULE=1,1,1,1,2,2,2,2");  // ~3 days in production
  env_.push_back("LOKET_WEBHOOK_TIMEOUT_MS=2000");
  env_.push_back("LOKET_RESEND_API_KEY=re_platform_key");
  env_.push_back("LOKET_EMAIL_FROM=Loket Support <support@mail.loket.test>");
  env_.push_back("LOKET_PUBLIC_APP_URL=" + api_url());
  env_.push_back("LOKET_INBOUND_EMAIL_DOMAIN=in.loket.test");
  env_.push_back("LOKET_EMAIL_INGRESS_PASSWORD=mta-secret");
  env_.push_back("LOKET_EMAIL_ATTACHMENTS_MAX_BYTES=65536");  // email_test: attached below, linked above
  env_.push_back("LOKET_RESEND_WEBHOOK_SECRET=" + std::string(kResendWebhookSecret));
  // Workspace mailboxes: the private Dovecot's certificate is trusted (the tests put it at
  // mail_ca_file()), and mailboxes are polled every half second.
  env_.push_back("LOKET_MAILBOX_CA_FILE=" + mail_ca_file());
  env_.push_back("LOKET_MAILBOX_POLL_MS=500");
  env_.push_back("LOKET_EMAIL_MAX_BYTES=3145728");  // 3 MiB: the 413 test need not send 25 MiB
  env_.push_back("LOKET_TICKETS_PER_SENDER_HOUR=5");
  env_.push_back("LOKET_OUTBOUND_BACKOFF_MS=200");
  env_.push_back("LOKET_SNOOZE_SWEEP_MS=300");        // snooze_test waits for a snooze to end
  env_.push_back("LOKET_REPLY_WINDOW_SWEEP_MS=500");  // instagram_test moves a window's clock and waits for the event
  env_.push_back("LOKET_INGRESS_ACK_TIMEOUT_MS=2000");
  env_.push_back("LOKET_LOG_LEVEL=info");
  // Polling tests make many calls a minute; the rate-limit test starts its own replicas.
  env_.push_back("LOKET_RATE_LIMIT_PER_MINUTE=1000000");
  env_.push_back("LOKET_RATE_LIMIT_IP_PER_MINUTE=1000000");
  env_.push_back("LOKET_CORS_ORIGINS=https://app.example.test");
  for (const char* s : {"api", "ingress", "inbound", "writer", "outbound"}) start(s);
  // 30 s: five services starting on 2 cores beside another stack (the README's demo) once took
  // the ingress past 10 s.
  REQUIRE(wait_until([&] { return http_get(api_url() + "/healthz").ok(); }, std::chrono::seconds(30)));
  REQUIRE(wait_until([&] { return http_get(ingress_url() + "/healthz").ok(); }, std::chrono::seconds(30)));
}

Stack::~Stack() {
  for (auto& [name, pid] : pids_) kill(pid, SIGTERM);
  for (auto& [name, pid] : pids_) waitpid(pid, nullptr, 0);
}

std::string Stack::start_api(const std::string& name, const std::vector<std::string>& extra_env) {
  int port = free_port();
  auto saved = env_;
  env_.push_back("LOKET_API_PORT=" + std::to_string(port));  // later entries win in getenv
  for (const auto& e : extra_env) env_.push_back(e);
  // getenv returns the first match: move the overrides to the front.
  std::rotate(env_.begin(), env_.begin() + static_cast<long>(saved.size()), env_.end());
  start(name, "api");
  env_ = saved;
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  REQUIRE(wait_until([&] { return http_get(url + "/healthz").ok(); }, std::chrono::seconds(10)));
  return url;
}

void Stack::start(const std::string& svc) { start(svc, svc); }

void Stack::start(const std::string& name, const std::string& svc) {
  std::string bin = env().bin_dir + "/loket-" + svc;
  std::string log = (env().state_dir.empty() ? "/tmp" : env().state_dir) + "/e2e-" + name + ".log";
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  // Each process gets its own admin port (a running dev stack holds the default ones).
  admin_ports_[name] = free_port();
  std::string admin = "LOKET_ADMIN_PORT=" + std::to_string(admin_ports_[name]);
  std::vector<char*> envp{admin.data()};  // getenv returns the first match
  for (auto& s : env_) envp.push_back(s.data());
  envp.push_back(nullptr);
  char* argv[] = {bin.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  pids_[name] = pid;
}

std::pair<std::chrono::milliseconds, int> Stack::stop_timed(const std::string& name, int sig) {
  auto it = pids_.find(name);
  REQUIRE(it != pids_.end());
  auto start = std::chrono::steady_clock::now();
  kill(it->second, sig);
  int status = 0;
  waitpid(it->second, &status, 0);
  pids_.erase(it);
  return {std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start), status};
}

void Stack::stop(const std::string& svc, int sig) {
  auto it = pids_.find(svc);
  if (it == pids_.end()) return;
  kill(it->second, sig);
  waitpid(it->second, nullptr, 0);
  pids_.erase(it);
}

FakeTelegram& telegram() {
  static FakeTelegram t;
  return t;
}

FakeTwilio& twilio() {
  static FakeTwilio t;
  return t;
}

FakeGraph& graph() {
  static FakeGraph g;
  return g;
}

FakeInstagram& instagram() {
  static FakeInstagram f;
  return f;
}

FakeVk& vk() {
  static FakeVk f;
  return f;
}

FakeResend& resend() {
  static FakeResend r;
  return r;
}

FakeReceiver& receiver() {
  static FakeReceiver r;
  return r;
}

FakeTeamChat& team_chat() {
  static FakeTeamChat t;
  return t;
}

Stack& stack() {
  static Stack s(telegram().base(), twilio().base(), graph().base(), resend().base(), team_chat().base());
  return s;
}

std::vector<std::pair<std::string, std::string>> api_routes() {
  FILE* p = popen((env().bin_dir + "/loket-api --routes").c_str(), "r");
  if (!p) throw std::runtime_error("loket-api --routes did not start");
  std::vector<std::pair<std::string, std::string>> out;
  char line[512];
  while (fgets(line, sizeof line, p)) {
    std::string route(line);
    route.erase(route.find_last_not_of('\n') + 1);
    const auto sp = route.find(' ');
    if (sp != std::string::npos) out.emplace_back(route.substr(0, sp), route.substr(sp + 1));
  }
  if (pclose(p) != 0 || out.empty()) throw std::runtime_error("loket-api --routes failed");
  return out;
}

std::pair<std::string, std::string> new_workspace(const std::string& name) {
  pqxx::connection c(env().database_url);
  pqxx::work tx(c);
  auto w = store::create_workspace(tx, name,
                                   store::platform_integrations(providers::Registry::standard(providers::Settings())));
  tx.commit();
  return {w.account_id, w.api_key};
}

std::pair<std::string, std::string> new_workspace_with_owner(const std::string& name, const std::string& email,
                                                             const std::string& password) {
  pqxx::connection c(env().database_url);
  pqxx::work tx(c);
  auto w = store::create_workspace(tx, name,
                                   store::platform_integrations(providers::Registry::standard(providers::Settings())));
  store::create_agent(tx, w.account_id, email, "Owner " + name, store::Role::kOwner, password);
  tx.commit();
  return {w.account_id, w.api_key};
}

OwnedWorkspace new_signed_in_workspace(const std::string& name) {
  const std::string email = unique_email("owner"), password = "correct horse battery staple";
  auto [account, key] = new_workspace_with_owner(name, email, password);
  auto login = api("POST", "/api/v1/auth/login", "", R"({"email":")" + email + R"(","password":")" + password + "\"}");
  if (login.status != 201) throw std::runtime_error("the owner could not sign in: " + login.raw);
  return {account, key, str(login.data(), "token")};
}

std::string random_digits(int n) {
  std::string out;
  for (unsigned char b : core::random_bytes(static_cast<std::size_t>(n))) out += static_cast<char>('1' + b % 9);
  return out;
}

std::string unique_email(const std::string& who) {
  return who + "-" + core::to_hex(core::random_bytes(5)) + "@example.test";
}

std::string Json::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
}

std::string str(const rapidjson::Value& v, const char* k) {
  return v.IsObject() && v.HasMember(k) && v[k].IsString() ? std::string(v[k].GetString(), v[k].GetStringLength()) : "";
}

Json call(const std::string& base, const std::string& method, const std::string& path, const std::string& token,
          const std::string& body, std::vector<std::pair<std::string, std::string>> headers) {
  http::ClientRequest req;
  req.method = method;
  req.url = base + path;
  req.headers = std::move(headers);
  if (!token.empty()) req.headers.emplace_back("Authorization", "Bearer " + token);
  if (!body.empty() && body[0] == '{') req.headers.emplace_back("Content-Type", "application/json");
  req.body = body;
  auto res = http::fetch(req);
  Json j;
  j.status = res.status;
  j.raw = res.body;
  j.headers.assign(res.headers.begin(), res.headers.end());
  j.doc.Parse(res.body.c_str());
  return j;
}

http::ClientResponse http_get(const std::string& url, const std::string& bearer) {
  http::ClientRequest req;
  req.url = url;
  if (!bearer.empty()) req.headers = {{"Authorization", "Bearer " + bearer}};
  return http::fetch(req);
}

Json api(const std::string& method, const std::string& path, const std::string& key, const std::string& body) {
  return call(stack().api_url(), method, path, key, body);
}

std::string multipart(const std::string& filename, const std::string& type, const std::string& bytes) {
  return "--LoketBoundary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + filename +
         "\"\r\nContent-Type: " + type + "\r\n\r\n" + bytes + "\r\n--LoketBoundary--\r\n";
}

int verify_with_library(const std::vector<ApiCall>& calls, const std::vector<std::string>& secrets) {
  rapidjson::StringBuffer sb;
  loket::core::JsonWriter w(sb);
  w.StartArray();
  for (const auto& secret : secrets)
    for (const auto& c : calls) {
      w.StartObject();
      loket::core::json_kv(w, "secret", secret);
      loket::core::json_kv(w, "id", c.headers.at("webhook-id"));
      loket::core::json_kv(w, "timestamp", c.headers.at("webhook-timestamp"));
      loket::core::json_kv(w, "signature", c.headers.at("webhook-signature"));
      loket::core::json_kv(w, "body", c.body);
      w.EndObject();
    }
  w.EndArray();
  const std::string file = env().state_dir + "/webhooks-" + loket::core::new_id("v") + ".json";
  std::ofstream(file) << sb.GetString();
  const std::string cmd = "NODE_PATH='" + env().bin_dir + "/../tools/node_modules' node '" +
                          std::string(LOKET_SOURCE_DIR) + "/tests/webhooks/verify.cjs' '" + file + "'";
  int rc = std::system(cmd.c_str());
  std::remove(file.c_str());
  return rc;
}

Json upload(const std::string& base, const std::string& key, const std::string& body) {
  return call(base, "POST", "/api/v1/attachments", key, body,
              {{"Content-Type", "multipart/form-data; boundary=LoketBoundary"}});
}

struct WsClient::Impl {
  boost::asio::io_context io;
  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws{io};
  std::thread reader;
  mutable std::mutex mu;
  std::vector<std::string> messages;
  bool closed = false;
};

WsClient::WsClient(const std::string& base, const std::string& target) : impl_(std::make_unique<Impl>()) {
  namespace beast = boost::beast;
  auto colon = base.rfind(':');
  std::string port = base.substr(colon + 1);
  boost::asio::ip::tcp::resolver resolver(impl_->io);
  boost::asio::connect(impl_->ws.next_layer(), resolver.resolve("127.0.0.1", port));
  beast::websocket::response_type res;
  boost::system::error_code ec;
  impl_->ws.handshake(res, "127.0.0.1:" + port, target, ec);
  if (ec) {
    status_ = static_cast<int>(res.result_int());
    impl_->closed = true;
    return;
  }
  impl_->reader = std::thread([im = impl_.get()] {
    for (;;) {
      beast::flat_buffer buf;
      boost::system::error_code rec;
      im->ws.read(buf, rec);
      std::lock_guard lock(im->mu);
      if (rec) {
        im->closed = true;
        return;
      }
      im->messages.push_back(beast::buffers_to_string(buf.data()));
    }
  });
}

WsClient::~WsClient() {
  boost::system::error_code ec;
  impl_->ws.next_layer().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  if (impl_->reader.joinable()) impl_->reader.join();
}

std::vector<std::string> WsClient::messages() const {
  std::lock_guard lock(impl_->mu);
  return impl_->messages;
}

bool WsClient::closed() const {
  std::lock_guard lock(impl_->mu);
  return impl_->closed;
}

http::ClientResponse post_update(const std::string& id, const std::string& secret, const std::string& update) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = stack().ingress_url() + "/api/v1/webhooks/telegram/" + id;
  req.headers = {{"Content-Type", "application/json"}};
  if (!secret.empty()) req.headers.emplace_back("X-Telegram-Bot-Api-Secret-Token", secret);
  req.body = update;
  return http::fetch(req);
}

std::string text_update(long update_id, long chat_id, long message_id, const std::string& text,
                        const std::string& first_name, const std::string& last_name) {
  return "{\"update_id\":" + std::to_string(update_id) + ",\"message\":{\"message_id\":" + std::to_string(message_id) +
         ",\"from\":{\"id\":" + std::to_string(chat_id) + ",\"is_bot\":false,\"first_name\":\"" + first_name +
         "\",\"last_name\":\"" + last_name +
         "\",\"language_code\":\"en\"},\"chat\":{\"id\":" + std::to_string(chat_id) + ",\"first_name\":\"" +
         first_name + "\",\"type\":\"private\"},\"date\":1767225600,\"text\":\"" + core::json_escape(text) + "\"}}";
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

http::ClientResponse post_hub_signed(const std::string& path, const std::string& body, const std::string& app_secret) {
  http::ClientRequest req;
  req.method = "POST";
  req.url = stack().ingress_url() + path;
  req.headers = {{"Content-Type", "application/json"}};
  if (!app_secret.empty())
    req.headers.emplace_back("X-Hub-Signature-256", "sha256=" + core::to_hex(crypto::hmac_sha256(app_secret, body)));
  req.body = body;
  return http::fetch(req);
}

std::vector<std::string> ticket_ids(const std::string& key, const std::string& query) {
  auto r = api("GET", "/api/v1/tickets" + query, key);
  REQUIRE(r.status == 200);
  std::vector<std::string> out;
  for (const auto& t : r.data()["items"].GetArray()) out.push_back(t["id"].GetString());
  return out;
}

Json ticket_messages(const std::string& key, const std::string& ticket) {
  return api("GET", "/api/v1/tickets/" + ticket + "/messages", key);
}

std::pair<std::string, std::string> settled_delivery(const std::string& key, const std::string& ticket,
                                                     const std::string& message_id) {
  std::pair<std::string, std::string> out;
  wait_until(
      [&] {
        auto m = ticket_messages(key, ticket);
        for (const auto& x : m.data().GetArray())
          if (str(x, "id") == message_id && x["delivery"].IsObject()) {
            out = {str(x["delivery"], "status"), str(x["delivery"], "error")};
            return out.first == "sent" || out.first == "failed";
          }
        return false;
      },
      std::chrono::seconds(15));
  return out;
}

std::string agent_reply(const std::string& key, const std::string& ticket, const std::string& body) {
  auto r =
      api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":")" + core::json_escape(body) + "\"}");
  REQUIRE(r.status == 201);
  return str(r.data(), "id");
}

long long sql_number(const std::string& query) {
  pqxx::connection c(env().database_url);
  pqxx::read_transaction tx(c);
  return tx.exec1(query)[0].as<long long>();
}

std::string sql_text(const std::string& query) {
  pqxx::connection c(env().database_url);
  pqxx::read_transaction tx(c);
  return tx.exec1(query)[0].as<std::string>();
}

void sql_exec(const std::string& statement) {
  pqxx::connection c(env().database_url);
  pqxx::work tx(c);
  tx.exec0(statement);
  tx.commit();
}

std::string bot_token(const std::string& tail) {
  static std::atomic<long> next{700000000L +
                                static_cast<long>(std::stoul(core::to_hex(core::random_bytes(3)), nullptr, 16)) * 100};
  return std::to_string(next++) + ":AA" + tail;
}

std::pair<std::string, std::string> connect_bot(const std::string& key, const std::string& token) {
  auto before = telegram().calls("setWebhook").size();
  auto res = api("POST", "/api/v1/channels", key, "{\"provider\":\"telegram_bot\",\"botToken\":\"" + token + "\"}");
  INFO(res.raw);
  REQUIRE((res.status == 201 || res.status == 200));
  std::string id = res.data()["id"].GetString();
  auto hooks = telegram().calls("setWebhook");
  REQUIRE(hooks.size() == before + 1);
  rapidjson::Document d;
  d.Parse(hooks.back().body.c_str());
  REQUIRE(std::string(d["url"].GetString()) == stack().ingress_url() + "/api/v1/webhooks/telegram/" + id);
  return {id, d["secret_token"].GetString()};
}

}  // namespace e2e
