// The hosted support form `/support/<accountId>` and the requester's status page `/t/<token>`
// (seed 002): one static page (services/api/pages/, embedded at build time) whose script talks
// to the public API. Strict CSP: no inline script or style, nothing from other origins.
#include <regex>

#include "api.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/store.hpp"
#include "loket/store/tickets.hpp"

namespace loket::api {
namespace pages {
extern const std::string_view k_html, k_js, k_css;
}

namespace {
// `brand`: the workspace's name, shown in the bar and the title ("" keeps "Support"/"Bantuan").
http::Response page(int status, const std::string& view, const std::string& account, const std::string& token,
                    const std::string& brand = "") {
  // The account and token are checked against strict patterns before they reach the page, so
  // they need no escaping beyond that; the brand is a workspace's free text and is escaped.
  std::string html = core::replace_all(std::string(pages::k_html), "{{view}}", view);
  html = core::replace_all(std::move(html), "{{account}}", account);
  html = core::replace_all(std::move(html), "{{token}}", token);
  html = core::replace_all(std::move(html), "{{brand}}", core::html_escape(brand));
  http::Response res;
  res.status = status;
  res.content_type = "text/html; charset=utf-8";
  res.body = std::move(html);
  res.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                           "img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'");
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");  // the status URL is a credential
  res.headers.emplace_back("Cache-Control", view == "status" ? "no-store" : "no-cache");
  return res;
}

http::Response asset(std::string_view body, const char* type) {
  http::Response res;
  res.content_type = type;
  res.body = std::string(body);
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Cache-Control", "public, max-age=300");
  return res;
}
}  // namespace

void add_page_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const store::Principal&;
  add(r, ctx, "GET", "/support/:accountId", Access::kPublic, [&ctx](Q q, P) {
    static const std::regex account_re("acc_[0-9a-f]{24}");
    const std::string& account = q.params.at("accountId");
    std::optional<store::Workspace> ws;
    if (std::regex_match(account, account_re)) {
      auto conn = ctx.pool.acquire();
      pqxx::read_transaction tx(*conn);
      ws = store::load_workspace(tx, account);
    }
    return ws ? page(200, "form", account, "", ws->name) : page(404, "missing", "", "");
  });
  add(r, ctx, "GET", "/t/:token", Access::kPublic, [&ctx](Q q, P) {
    static const std::regex token_re("[A-Za-z0-9_-]{20,100}");
    const std::string& token = q.params.at("token");
    std::optional<store::Workspace> ws;
    if (std::regex_match(token, token_re)) {
      auto conn = ctx.pool.acquire();
      pqxx::read_transaction tx(*conn);
      if (auto t = store::find_by_access_token(tx, token)) ws = store::load_workspace(tx, t->workspace_id);
    }
    return ws ? page(200, "status", "", token, ws->name) : page(404, "missing", "", "");
  });
  add(r, ctx, "GET", "/assets/public.js", Access::kPublic,
      [](Q, P) { return asset(pages::k_js, "text/javascript; charset=utf-8"); });
  add(r, ctx, "GET", "/assets/public.css", Access::kPublic,
      [](Q, P) { return asset(pages::k_css, "text/css; charset=utf-8"); });
}

}  // namespace loket::api
