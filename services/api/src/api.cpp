// The guard every route passes (authentication, rate limits, roles, idempotency) and CORS.
#include "api.hpp"
#include "loket/ops/metrics.hpp"

#include <algorithm>

#include "loket/core/ids.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"

namespace loket::api {
namespace {
constexpr int kWindowSeconds = 60;
constexpr std::size_t kMaxIdempotencyKeyLength = 255;

void set_rate_headers(http::Response& res, int limit, const store::RateWindow& w) {
  res.headers.emplace_back("X-RateLimit-Limit", std::to_string(limit));
  res.headers.emplace_back("X-RateLimit-Remaining", std::to_string(std::max(0, limit - w.hits)));
  res.headers.emplace_back("X-RateLimit-Reset", std::to_string(w.reset_s));
}

http::Response over_limit(int limit, const store::RateWindow& w) {
  auto res =
      http::json_error(429, "RATE_LIMITED",
                       "more than " + std::to_string(limit) + " requests this minute; retry after the window resets");
  res.headers.emplace_back("Retry-After", std::to_string(w.reset_s));
  return res;
}

bool has_role(const store::Principal& p, Access access) {
  switch (access) {
    case Access::kPublic:
    case Access::kAgent:
      return true;
    case Access::kAdmin:
      return p.role >= store::Role::kAdmin;
    case Access::kOwner:
      return p.role == store::Role::kOwner;
    case Access::kSession:
      return !p.agent_id.empty();
  }
  return false;
}

store::RateWindow ip_hit(Context& ctx, const std::string& ip, const std::string& bucket = "ip:") {
  auto conn = ctx.pool.acquire();
  pqxx::nontransaction tx(*conn);
  return store::rate_limit_hit(tx, bucket + ip, kWindowSeconds);
}

// The live-chat surface: the widget's pages and assets, and the visitor's API calls.
bool chat_surface(const std::string& path) {
  return path == "/widget.js" || path.rfind("/widget/", 0) == 0 || path.rfind("/assets/chat/", 0) == 0 ||
         (path.rfind("/api/v1/widget/", 0) == 0 && path != "/api/v1/widget/secret");
}

// The inbox identifier of a client API path (/api/v1/public/inboxes/<identifier>/…), or "".
std::string inbox_of(const std::string& path) {
  constexpr std::string_view kPrefix = "/api/v1/public/inboxes/";
  if (path.rfind(kPrefix, 0) != 0) return "";
  auto end = path.find('/', kPrefix.size());
  return path.substr(kPrefix.size(), std::min<std::size_t>(end, path.size()) - kPrefix.size()).substr(0, 64);
}

// Runs `handler` at most once per Idempotency-Key of the workspace; retries get the first
// response (issue 3 "Idempotency").
http::Response idempotent(Context& ctx, const http::Request& req, const store::Principal& p, const std::string& key,
                          const std::function<http::Response()>& handler) {
  if (key.size() > kMaxIdempotencyKeyLength)
    return http::json_error(400, "VALIDATION_ERROR", "Idempotency-Key must be at most 255 characters");
  std::string hash = crypto::sha256(req.method + " " + req.path + "\n" + req.body);
  auto claim = store::with_tx(
      ctx.pool, [&](pqxx::work& tx) { return store::claim_idempotency_key(tx, p.workspace_id, key, hash); });
  using S = store::IdempotencyClaim::State;
  // Stored responses are encrypted: some hold a secret shown once (a new API key, a session).
  const std::string aad = p.workspace_id + "\n" + key;
  if (claim.state == S::kReplay) {
    http::Response res;
    res.status = claim.status;
    try {
      res.body = ctx.keys.decrypt(claim.response, claim.response_key_id, aad);
    } catch (const std::exception&) {  // its key was retired from LOKET_MASTER_KEY since
      return http::json_error(409, "CONFLICT",
                              "this Idempotency-Key was used already and its response cannot be replayed");
    }
    res.headers.emplace_back("Idempotent-Replayed", "true");
    return res;
  }
  if (claim.state == S::kInProgress)
    return http::json_error(409, "CONFLICT",
                            "a request with this Idempotency-Key is still being processed; retry shortly");
  if (claim.state == S::kMismatch)
    return http::json_error(422, "IDEMPOTENCY_KEY_REUSED",
                            "this Idempotency-Key was already used for a different request");
  http::Response res;
  try {
    res = handler();
  } catch (...) {
    store::with_tx(ctx.pool, [&](pqxx::work& tx) { store::release_idempotency_key(tx, p.workspace_id, key); });
    throw;
  }
  store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    if (res.status >= 500)
      store::release_idempotency_key(tx, p.workspace_id, key);
    else
      store::finish_idempotency_key(tx, p.workspace_id, key, res.status, ctx.keys.encrypt(res.body, aad),
                                    ctx.keys.active_key_id());
  });
  return res;
}
}  // namespace

std::string client_ip(const Context& ctx, const http::Request& req) {
  const auto& trusted = ctx.options.trusted_proxies;
  auto is_trusted = [&](const std::string& ip) {
    return std::find(trusted.begin(), trusted.end(), ip) != trusted.end();
  };
  if (!is_trusted(req.remote_address)) return req.remote_address;
  auto hops = core::split(req.header("x-forwarded-for"), ',');
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    std::string ip = core::trim(*it);
    if (!ip.empty() && !is_trusted(ip)) return ip;
  }
  return req.remote_address;
}

std::string bearer_token(const http::Request& req) {
  std::string auth = req.header("authorization");
  const std::string prefix = "Bearer ";
  // A chat visitor's session (wvs_…) is no agent credential: such requests are public ones.
  if (auth.rfind(prefix, 0) == 0) return auth.rfind("Bearer wvs_", 0) == 0 ? "" : auth.substr(prefix.size());
  return req.path == "/api/v1/realtime" && !req.header("upgrade").empty() ? req.query_param("access_token") : "";
}

std::string visitor_token(const http::Request& req) {
  std::string auth = req.header("authorization");
  if (auth.rfind("Bearer wvs_", 0) == 0) return auth.substr(7);
  return req.path == "/api/v1/widget/realtime" && !req.header("upgrade").empty() ? req.query_param("visitor_token")
                                                                                 : "";
}

namespace {
// Whether a string (key or value) anywhere in `v` holds U+0000. Depth is bounded by the parse.
bool holds_nul(const rapidjson::Value& v) {
  auto nul = [](const rapidjson::Value& s) {
    return std::string_view(s.GetString(), s.GetStringLength()).find('\0') != std::string_view::npos;
  };
  if (v.IsString()) return nul(v);
  if (v.IsArray()) return std::any_of(v.Begin(), v.End(), [](const rapidjson::Value& e) { return holds_nul(e); });
  if (v.IsObject())
    for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it)
      if (nul(it->name) || holds_nul(it->value)) return true;
  return false;
}
}  // namespace

std::optional<http::Response> parse_object(const http::Request& req, rapidjson::Document& d) {
  // A JSON body says so: a browser form posting text/plain to another origin (CSRF) never does.
  std::string type =
      core::to_lower(core::trim(req.header("content-type").substr(0, req.header("content-type").find(';'))));
  if (type != "application/json")
    return http::json_error(415, "UNSUPPORTED_MEDIA_TYPE", "send the body as Content-Type: application/json");
  // The body's size was checked against max_json_bytes already; strings must be UTF-8 here.
  auto err = core::parse_json(d, req.body, core::JsonLimits{req.body.size(), 64, true});
  if (!err.empty()) return http::json_error(400, "VALIDATION_ERROR", "the body is not valid JSON: " + err);
  if (!d.IsObject()) return http::json_error(400, "VALIDATION_ERROR", "the body must be a JSON object");
  if (holds_nul(d)) return http::json_error(400, "VALIDATION_ERROR", "text must not contain the character U+0000");
  return std::nullopt;
}

namespace {
// The workspace the current request authenticated as (for its access log line).
thread_local std::string t_workspace;

// An incoming X-Request-Id from a proxy when it is a sane token, else a new `req_` id.
std::string request_id(const http::Request& req) {
  std::string given = req.header("x-request-id");
  bool sane =
      !given.empty() && given.size() <= 64 &&
      given.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == std::string::npos;
  return sane ? given : core::new_id("req");
}
}  // namespace

Admission admit(Context& ctx, const http::Request& req) {
  Admission a;
  a.limit = ctx.options.rate_limit_ip_per_minute;
  std::string token = bearer_token(req);
  if (!token.empty()) {
    std::optional<std::pair<store::Principal, store::RateWindow>> found;
    {
      auto conn = ctx.pool.acquire();
      pqxx::nontransaction tx(*conn);
      found = store::authenticate(tx, token, kWindowSeconds);
    }
    if (found) {
      std::tie(a.principal, a.window) = *found;
      a.limit = ctx.options.rate_limit_per_minute;
    } else {
      a.window = ip_hit(ctx, client_ip(ctx, req));
      a.refusal = http::json_error(401, "UNAUTHORIZED",
                                   "the API key or session token is not valid (revoked, expired or unknown)");
    }
  } else if (chat_surface(req.path)) {
    // Per visitor session (any wvs_ token counts, valid or not: the handler checks it) under a
    // generous ceiling per IP, or only that ceiling before a session exists.
    std::string visitor = visitor_token(req);
    a.limit = ctx.options.rate_limit_chat_ip_per_minute;
    a.window = ip_hit(ctx, client_ip(ctx, req), "chat-ip:");
    if (a.window.hits <= a.limit && visitor.rfind("wvs_", 0) == 0) {
      a.limit = ctx.options.rate_limit_visitor_per_minute;
      a.window = ip_hit(ctx, core::to_hex(crypto::sha256(visitor)).substr(0, 32), "visitor:");
    }
  } else if (std::string inbox = inbox_of(req.path); !inbox.empty()) {
    a.limit = ctx.options.rate_limit_chat_ip_per_minute;
    a.window = ip_hit(ctx, client_ip(ctx, req), "chat-ip:");
    if (a.window.hits <= a.limit) {
      a.limit = ctx.options.rate_limit_inbox_per_minute;
      a.window = ip_hit(ctx, core::to_hex(crypto::sha256(inbox)).substr(0, 32), "inbox:");
    }
  } else {
    a.window = ip_hit(ctx, client_ip(ctx, req));
  }
  // Over the limit is 429 whatever the credential: a guesser gets no 401s to learn from.
  if (a.window.hits > a.limit) a.refusal = over_limit(a.limit, a.window);
  if (a.refusal) set_rate_headers(*a.refusal, a.limit, a.window);
  return a;
}

WorkspaceGate::Slot::~Slot() {
  if (gate_ == nullptr) return;
  std::lock_guard lock(gate_->mu_);
  if (--gate_->held_[workspace_id_] == 0) gate_->held_.erase(workspace_id_);
  gate_->cv_.notify_all();
}

std::optional<WorkspaceGate::Slot> WorkspaceGate::enter(const std::string& workspace_id, int limit,
                                                        std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  auto free = [&] {
    auto it = held_.find(workspace_id);
    return it == held_.end() || it->second < limit;
  };
  if (!cv_.wait_for(lock, wait, free)) return std::nullopt;
  ++held_[workspace_id];
  return Slot(this, workspace_id);
}

namespace {
http::Response unavailable(const std::string& message) {
  auto res = http::json_error(503, "UNAVAILABLE", message);
  res.headers.emplace_back("Retry-After", "1");
  return res;
}

// Runs `step`, once more when the database connection broke and `retry` says that is safe: a
// connection breaks on its first use after a database restart, and the pool then drops every idle
// one, so the second try runs on a fresh connection. The database's transient refusals (pool
// exhausted, statement_timeout, connection lost twice) become 503 with Retry-After.
http::Response refused(http::Response res, http::Response*) { return res; }
Admission refused(http::Response res, Admission*) {
  Admission a;
  a.refusal = std::move(res);
  return a;
}

template <typename Step>
auto with_database(Step&& step, bool retry) -> decltype(step()) {
  using Result = decltype(step());
  for (int attempt = 1;; ++attempt) {
    try {
      return step();
    } catch (const pqxx::broken_connection&) {
      if (retry && attempt == 1) continue;
      return refused(unavailable("the database connection was lost; try again"), static_cast<Result*>(nullptr));
    } catch (const store::PoolExhausted&) {
      return refused(unavailable("the service is busy; try again"), static_cast<Result*>(nullptr));
    } catch (const pqxx::sql_error& e) {
      if (e.sqlstate() != "57014") throw;  // query_canceled: statement_timeout
      return refused(unavailable("the request took too long; narrow it (e.g. fewer search words) and try again"),
                     static_cast<Result*>(nullptr));
    }
  }
}
}  // namespace

void add(http::Router& r, Context& ctx, const std::string& method, const std::string& pattern, Access access,
         Handler handler, bool upload) {
  r.add(method, pattern, [&ctx, access, handler = std::move(handler), upload](const http::Request& req) {
    // The guard's one statement may run twice (a rate-limit hit counted twice at worst).
    Admission a = with_database([&] { return admit(ctx, req); }, true);
    if (a.refusal) return *a.refusal;
    for (const auto& [name, value] : req.params)  // `/tickets/%ff%fe` is no id of ours: 404, not 500
      if (!core::is_storable_text(value)) {
        auto res = http::json_error(404, "NOT_FOUND", "no such " + name);
        set_rate_headers(res, a.limit, a.window);
        return res;
      }
    const store::Principal& p = a.principal;
    t_workspace = p.workspace_id;
    core::LogScope in_workspace("workspaceId", p.workspace_id);
    http::Response res;
    if (p.workspace_id.empty() && access != Access::kPublic) {
      res = http::json_error(401, "UNAUTHORIZED", "send Authorization: Bearer <API key or session token>");
    } else if (!has_role(p, access)) {
      res =
          access == Access::kSession
              ? http::json_error(403, "FORBIDDEN", "this endpoint needs a signed-in agent, not an API key")
              : http::json_error(403, "FORBIDDEN",
                                 "your role (" + store::to_string(p.role) + ") may not do this; ask an owner or admin");
    } else if (!upload && req.body.size() > ctx.options.max_json_bytes) {
      res = http::json_error(413, "PAYLOAD_TOO_LARGE",
                             "JSON bodies are limited to " + std::to_string(ctx.options.max_json_bytes) + " bytes");
    } else {
      // Reads run again on a fresh connection; writes retry inside store::with_tx, before COMMIT.
      const bool reads = req.method == "GET" || req.method == "HEAD";
      const int limit = ctx.options.workspace_concurrency > 0 ? ctx.options.workspace_concurrency
                                                              : std::max<int>(1, static_cast<int>(ctx.pool.size()) - 2);
      auto slot =
          p.workspace_id.empty() ? std::nullopt : ctx.gate.enter(p.workspace_id, limit, ctx.options.workspace_wait);
      if (!p.workspace_id.empty() && !slot) {
        res = http::json_error(429, "RATE_LIMITED", "too many requests of this workspace in progress; try again");
        res.headers.emplace_back("Retry-After", "1");
      } else {
        res = with_database(
            [&] {
              if (auto key = req.header("idempotency-key");
                  req.method == "POST" && !key.empty() && !p.workspace_id.empty())
                return idempotent(ctx, req, p, key, [&] { return handler(req, p); });
              return handler(req, p);
            },
            reads);
      }
    }
    set_rate_headers(res, a.limit, a.window);
    return res;
  });
}

http::Router make_router(Context& ctx) {
  http::Router r;
  r.add("GET", "/healthz", [](const http::Request&) { return http::json_ok(200, "{\"status\":\"ok\"}"); });
  add_auth_routes(r, ctx);
  add_channel_routes(r, ctx);
  add_webhook_routes(r, ctx);
  add_ticket_routes(r, ctx);
  add_attachment_routes(r, ctx);
  add_public_routes(r, ctx);
  add_page_routes(r, ctx);
  add_widget_routes(r, ctx);
  add_chat_routes(r, ctx);
  add_client_api_routes(r, ctx);
  add_canned_routes(r, ctx);
  add_macro_routes(r, ctx);
  add_inbox_routes(r, ctx);
  add_contact_routes(r, ctx);
  add_sla_routes(r, ctx);
  add_report_routes(r, ctx);
  // The WebSocket itself is accepted by Hub::upgrade; a plain GET learns how to connect.
  add(r, ctx, "GET", "/api/v1/realtime", Access::kAgent, [](const http::Request&, const store::Principal&) {
    auto res = http::json_error(426, "UPGRADE_REQUIRED", "connect to this URL with a WebSocket client");
    res.headers.emplace_back("Upgrade", "websocket");
    return res;
  });
  return r;
}

http::Response handle(Context& ctx, const http::Router& router, const http::Request& req) {
  static ops::Registry& metrics = []() -> ops::Registry& {
    auto& m = ops::metrics();
    m.describe("loket_http_request_duration_seconds", ops::Registry::Type::kHistogram,
               "HTTP request latency by route, method and status class.");
    return m;
  }();
  auto start = std::chrono::steady_clock::now();
  std::string route = "unmatched";  // unknown paths share one series
  core::LogScope in_request("requestId", request_id(req));
  t_workspace.clear();
  std::string origin = req.header("origin");
  bool allowed = !origin.empty() && std::find(ctx.options.cors_origins.begin(), ctx.options.cors_origins.end(),
                                              origin) != ctx.options.cors_origins.end();
  http::Response res;
  if (req.method == "OPTIONS" && !req.header("access-control-request-method").empty()) {
    res.status = allowed ? 204 : 403;
    res.content_type.clear();
    if (allowed) {
      res.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
      res.headers.emplace_back("Access-Control-Allow-Headers", "Authorization, Content-Type, Idempotency-Key");
      res.headers.emplace_back("Access-Control-Max-Age", "600");
    }
  } else {
    res = router.dispatch(req, &route);
    bool counted = std::any_of(res.headers.begin(), res.headers.end(),
                               [](const auto& h) { return h.first == "X-RateLimit-Limit"; });
    if (!counted && req.path != "/healthz")
      set_rate_headers(res, ctx.options.rate_limit_ip_per_minute, ip_hit(ctx, client_ip(ctx, req)));
  }
  if (allowed) {
    res.headers.emplace_back("Access-Control-Allow-Origin", origin);
    res.headers.emplace_back("Access-Control-Expose-Headers",
                             "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, "
                             "Retry-After, Idempotent-Replayed, Content-Disposition");
  }
  if (!origin.empty()) res.headers.emplace_back("Vary", "Origin");
  metrics.observe_since("loket_http_request_duration_seconds",
                        {{"route", route}, {"method", req.method}, {"status", std::to_string(res.status / 100) + "xx"}},
                        start);
  res.headers.emplace_back("X-Request-Id", core::LogScope::get("requestId"));
  // One access line per request: no query string, body or token (they may carry secrets).
  auto ms = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start).count();
  core::log(res.status >= 500   ? core::Level::kWarn
            : res.status >= 400 ? core::Level::kInfo
                                : core::Level::kDebug,
            "request",
            {{"method", req.method},
             {"route", route},
             {"status", std::to_string(res.status)},
             {"ms", std::to_string(ms / 1000.0)},
             {"workspaceId", t_workspace}});
  return res;
}

}  // namespace loket::api
