// The hosted support form `/support/<accountId>` and the requester's status page `/t/<token>`
// (seed 002): one static page (services/api/pages/, embedded at build time) whose script talks
// to the public API. Strict CSP: no inline script or style, nothing from other origins.
#include <regex>

#include "api.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/store.hpp"
#include "loket/store/tickets.hpp"
#include "loket/store/widget.hpp"

namespace loket::api {
namespace pages {
extern const std::string_view k_public_html, k_public_js, k_public_css, k_widget_js, k_chat_html, k_chat_js, k_chat_css,
    k_chat_js_hash, k_chat_css_hash;
}

namespace {
// The workspace a public page shows: its name in the bar and the title, its brand colour.
struct Brand {
  std::string name;   ///< "" keeps "Support"/"Bantuan"
  std::string color;  ///< "#rrggbb", or "" for the default
};

// The brand of workspace `id` (nullopt: no such workspace).
std::optional<Brand> brand_of(pqxx::transaction_base& tx, const std::string& id) {
  static const std::regex color_re("#[0-9a-f]{6}");
  auto ws = store::load_workspace(tx, id);
  if (!ws) return std::nullopt;
  std::string color = store::brand_color(tx, id);
  return Brand{ws->name, std::regex_match(color, color_re) ? color : ""};
}

http::Response page(int status, const std::string& view, const std::string& account, const std::string& token,
                    const Brand& brand = {}) {
  // The account and token are checked against strict patterns before they reach the page, so
  // they need no escaping beyond that; the brand is a workspace's free text and is escaped.
  std::string html = core::replace_all(std::string(pages::k_public_html), "{{view}}", view);
  html = core::replace_all(std::move(html), "{{account}}", account);
  html = core::replace_all(std::move(html), "{{token}}", token);
  html = core::replace_all(std::move(html), "{{brand}}", core::html_escape(brand.name));
  html = core::replace_all(std::move(html), "{{color}}", brand.color);
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

// `immutable`: the name carries the content's hash, so it may be cached for a year.
http::Response asset(std::string_view body, const char* type, bool immutable = false) {
  http::Response res;
  res.content_type = type;
  res.body = std::string(body);
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Cache-Control", immutable ? "public, max-age=31536000, immutable" : "public, max-age=300");
  return res;
}

// The chat panel the widget's iframe loads, for the sites workspace `account` allows
// (frame-ancestors); a page that says so when the widget is off or the account unknown.
http::Response chat_frame(Context& ctx, const std::string& account) {
  static const std::regex account_re("acc_[0-9a-f]{24}");
  std::optional<store::Workspace> ws;
  store::Widget w;
  if (std::regex_match(account, account_re)) {
    auto conn = ctx.pool.acquire();
    pqxx::read_transaction tx(*conn);
    ws = store::load_workspace(tx, account);
    if (ws) w = store::load_widget(tx, account, ctx.keys);
  }
  http::Response res;
  res.content_type = "text/html; charset=utf-8";
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  res.headers.emplace_back("Referrer-Policy", "no-referrer");
  res.headers.emplace_back("Cache-Control", "no-cache");
  if (!ws || !w.enabled || w.allowed_origins.empty()) {
    res.status = 404;
    res.body = "<!doctype html><title>Chat</title><p>This chat is not available.</p>";
    res.headers.emplace_back("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    return res;
  }
  std::string ancestors;
  for (const auto& o : w.allowed_origins) ancestors += " " + o;  // normalized origins: no spaces or quotes
  auto modes = std::string(store::to_string(w.prechat_name)) + "," + store::to_string(w.prechat_email) + "," +
               store::to_string(w.prechat_phone);
  std::string html(pages::k_chat_html);
  for (const auto& [key, value] :
       std::vector<std::pair<std::string, std::string>>{{"{{account}}", account},
                                                        {"{{brand}}", core::html_escape(ws->name)},
                                                        {"{{color}}", w.color},
                                                        {"{{heading}}", core::html_escape(w.welcome_heading)},
                                                        {"{{tagline}}", core::html_escape(w.welcome_tagline)},
                                                        {"{{prechat}}", modes},
                                                        {"{{js}}", std::string(pages::k_chat_js_hash)},
                                                        {"{{css}}", std::string(pages::k_chat_css_hash)}})
    html = core::replace_all(std::move(html), key, value);
  res.body = std::move(html);
  res.headers.emplace_back("Content-Security-Policy",
                           "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                           "img-src 'self' data:; form-action 'none'; base-uri 'none'; frame-ancestors" +
                               ancestors);
  return res;
}
}  // namespace

void add_page_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const store::Principal&;
  add(r, ctx, "GET", "/support/:accountId", Access::kPublic, [&ctx](Q q, P) {
    static const std::regex account_re("acc_[0-9a-f]{24}");
    const std::string& account = q.params.at("accountId");
    std::optional<Brand> brand;
    if (std::regex_match(account, account_re)) {
      auto conn = ctx.pool.acquire();
      pqxx::read_transaction tx(*conn);
      brand = brand_of(tx, account);
    }
    return brand ? page(200, "form", account, "", *brand) : page(404, "missing", "", "");
  });
  add(r, ctx, "GET", "/t/:token", Access::kPublic, [&ctx](Q q, P) {
    static const std::regex token_re("[A-Za-z0-9_-]{20,100}");
    const std::string& token = q.params.at("token");
    std::optional<Brand> brand;
    if (std::regex_match(token, token_re)) {
      auto conn = ctx.pool.acquire();
      pqxx::read_transaction tx(*conn);
      if (auto t = store::find_by_access_token(tx, token)) brand = brand_of(tx, t->workspace_id);
    }
    return brand ? page(200, "status", "", token, *brand) : page(404, "missing", "", "");
  });
  add(r, ctx, "GET", "/widget.js", Access::kPublic,
      [](Q, P) { return asset(pages::k_widget_js, "text/javascript; charset=utf-8"); });
  add(r, ctx, "GET", "/widget/frame", Access::kPublic,
      [&ctx](Q q, P) { return chat_frame(ctx, q.query_param("accountId")); });
  add(r, ctx, "GET", "/assets/chat/:file", Access::kPublic, [](Q q, P) {
    const std::string& file = q.params.at("file");  // <content hash>.js or .css: only the current ones
    if (file == std::string(pages::k_chat_js_hash) + ".js")
      return asset(pages::k_chat_js, "text/javascript; charset=utf-8", true);
    if (file == std::string(pages::k_chat_css_hash) + ".css")
      return asset(pages::k_chat_css, "text/css; charset=utf-8", true);
    return http::json_error(404, "NOT_FOUND", "no such asset (the widget was updated: reload)");
  });
  add(r, ctx, "GET", "/assets/public.js", Access::kPublic,
      [](Q, P) { return asset(pages::k_public_js, "text/javascript; charset=utf-8"); });
  add(r, ctx, "GET", "/assets/public.css", Access::kPublic,
      [](Q, P) { return asset(pages::k_public_css, "text/css; charset=utf-8"); });
}

}  // namespace loket::api
