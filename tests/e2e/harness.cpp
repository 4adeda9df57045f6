#include "harness.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <strings.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <catch2/catch.hpp>
#include <cstdlib>
#include <pqxx/pqxx>
#include <thread>
#include <atomic>

#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/json.hpp"
#include "loket/http/envelope.hpp"
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
    Env x{get("LOKET_TEST_DATABASE_URL"), get("LOKET_TEST_KAFKA_BROKERS"),
          get("LOKET_TEST_BROKER_CONTROL"), get("LOKET_TEST_BIN_DIR"), get("LOKET_TEST_STATE_DIR")};
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
    if (token.find("nohook") != std::string::npos) return fail(400, "Bad Request: bad webhook: HTTPS url must be provided for webhook");
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
    return ok("{\"message_id\":" + std::to_string(calls_.size() + 1000) + ",\"chat\":{\"id\":" + chat + ",\"type\":\"private\"},\"date\":1767225600,\"text\":\"x\"}");
  }
  if (method == "getFile") {
    std::string fid = body.IsObject() && body.HasMember("file_id") ? body["file_id"].GetString() : "";
    return ok("{\"file_id\":\"" + fid + "\",\"file_unique_id\":\"u\",\"file_size\":17,\"file_path\":\"photos/file_1.jpg\"}");
  }
  return fail(404, "Not Found: method not found");
}

namespace {
int free_port() {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor a(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  return a.local_endpoint().port();
}
}  // namespace

Stack::Stack(const std::string& telegram_base) {
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
  env_.push_back("LOKET_OUTBOUND_BACKOFF_MS=200");
  env_.push_back("LOKET_INGRESS_ACK_TIMEOUT_MS=2000");
  env_.push_back("LOKET_LOG_LEVEL=info");
  // Polling tests make many calls a minute; the rate-limit test starts its own replicas.
  env_.push_back("LOKET_RATE_LIMIT_PER_MINUTE=1000000");
  env_.push_back("LOKET_RATE_LIMIT_IP_PER_MINUTE=1000000");
  env_.push_back("LOKET_CORS_ORIGINS=https://app.example.test");
  for (const char* s : {"api", "ingress", "inbound", "writer", "outbound"}) start(s);
  REQUIRE(wait_until([&] { return http::fetch({"GET", api_url() + "/healthz"}).ok(); }, std::chrono::seconds(10)));
  REQUIRE(wait_until([&] { return http::fetch({"GET", ingress_url() + "/healthz"}).ok(); }, std::chrono::seconds(10)));
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
  REQUIRE(wait_until([&] { return http::fetch({"GET", url + "/healthz"}).ok(); }, std::chrono::seconds(10)));
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
  std::vector<char*> envp;
  for (auto& s : env_) envp.push_back(s.data());
  envp.push_back(nullptr);
  char* argv[] = {bin.data(), nullptr};
  pid_t pid = 0;
  int rc = posix_spawn(&pid, bin.c_str(), &fa, nullptr, argv, envp.data());
  posix_spawn_file_actions_destroy(&fa);
  REQUIRE(rc == 0);
  pids_[name] = pid;
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

Stack& stack() {
  static Stack s(telegram().base());
  return s;
}

std::pair<std::string, std::string> new_workspace(const std::string& name) {
  pqxx::connection c(env().database_url);
  pqxx::work tx(c);
  auto w = store::create_workspace(tx, name);
  tx.commit();
  return {w.account_id, w.api_key};
}

std::pair<std::string, std::string> new_workspace_with_owner(const std::string& name, const std::string& email,
                                                             const std::string& password) {
  pqxx::connection c(env().database_url);
  pqxx::work tx(c);
  auto w = store::create_workspace(tx, name);
  store::create_agent(tx, w.account_id, email, "Owner " + name, store::Role::kOwner, password);
  tx.commit();
  return {w.account_id, w.api_key};
}

std::string unique_email(const std::string& who) {
  return who + "-" + core::to_hex(core::random_bytes(5)) + "@example.test";
}

std::string Json::header(const std::string& name) const {
  for (const auto& [k, v] : headers)
    if (strcasecmp(k.c_str(), name.c_str()) == 0) return v;
  return "";
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

Json api(const std::string& method, const std::string& path, const std::string& key,
         const std::string& body) {
  return call(stack().api_url(), method, path, key, body);
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
  return "{\"update_id\":" + std::to_string(update_id) + ",\"message\":{\"message_id\":" +
         std::to_string(message_id) + ",\"from\":{\"id\":" + std::to_string(chat_id) +
         ",\"is_bot\":false,\"first_name\":\"" + first_name + "\",\"last_name\":\"" + last_name +
         "\",\"language_code\":\"en\"},\"chat\":{\"id\":" + std::to_string(chat_id) +
         ",\"first_name\":\"" + first_name + "\",\"type\":\"private\"},\"date\":1767225600,\"text\":\"" +
         core::json_escape(text) + "\"}}";
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    if (pred()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pred();
}

long long sql_number(const std::string& query) {
  pqxx::connection c(env().database_url);
  pqxx::read_transaction tx(c);
  return tx.exec1(query)[0].as<long long>();
}

std::string bot_token(const std::string& tail) {
  static std::atomic<long> next{700000000L + static_cast<long>(std::stoul(core::to_hex(core::random_bytes(3)), nullptr, 16)) * 100};
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
