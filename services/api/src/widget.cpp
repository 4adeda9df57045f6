// The live-chat widget's settings (issue 17; docs/channels/widget.md): GET, PATCH and
// POST …/secret on /api/v1/widget, for workspace admins. The identity secret is shown here only
// (a site's backend signs its users' identifiers with it) and stored encrypted.
#include <algorithm>
#include <regex>

#include "api.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/hours/hours.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/url.hpp"
#include "loket/store/widget.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxHeading = 80, kMaxTagline = 200, kMaxAway = 500, kMaxOrigins = 20;

http::Response bad(const std::string& field, const std::string& msg) { return invalid_field(field, msg); }

std::string widget_json(const store::Widget& w) {
  rapidjson::StringBuffer sb;
  core::JsonWriter jw(sb);
  jw.StartObject();
  core::json_put(jw, "enabled");
  jw.Bool(w.enabled);
  core::json_kv(jw, "color", w.color);
  core::json_kv(jw, "welcomeHeading", w.welcome_heading);
  core::json_kv(jw, "welcomeTagline", w.welcome_tagline);
  core::json_put(jw, "preChatForm");
  jw.StartObject();
  core::json_kv(jw, "name", store::to_string(w.prechat_name));
  core::json_kv(jw, "email", store::to_string(w.prechat_email));
  core::json_kv(jw, "phone", store::to_string(w.prechat_phone));
  jw.EndObject();
  core::json_put(jw, "allowedOrigins");
  jw.StartArray();
  for (const auto& o : w.allowed_origins) core::json_put(jw, o);
  jw.EndArray();
  core::json_kv(jw, "awayMessage", w.away_message);
  core::json_put(jw, "conversationsPerVisitorPerHour");
  jw.Int(w.conversations_per_visitor_per_hour);
  core::json_put(jw, "businessHours");
  if (w.business_hours)
    jw.RawValue(w.business_hours->data(), w.business_hours->size(), rapidjson::kObjectType);
  else
    jw.Null();
  core::json_put(jw, "requireIdentity");
  jw.Bool(w.require_identity);
  core::json_kv_opt(jw, "identitySecret",
                    w.identity_secret.empty() ? std::nullopt : std::optional<std::string>(w.identity_secret));
  core::json_kv_opt(jw, "updatedAt", w.updated_at.empty() ? std::nullopt : std::optional<std::string>(w.updated_at));
  jw.EndObject();
  return sb.GetString();
}

// Reads an optional text member `key` of at most `max` characters into `into` (trimmed).
std::optional<http::Response> read_text(const rapidjson::Value& d, const char* key, std::size_t max, bool required,
                                        std::string& into) {
  const auto* v = core::json_member(d, key);
  if (!v) return std::nullopt;
  if (!v->IsString()) return bad(key, std::string(key) + " must be text");
  std::string s = core::trim(v->GetString());
  if ((required && s.empty()) || core::utf8_length(s) > max)
    return bad(key,
               std::string(key) + " must be " + (required ? "1" : "0") + "–" + std::to_string(max) + " characters");
  into = std::move(s);
  return std::nullopt;
}

// Applies the members of PATCH body `d` to `w`; a 400 naming the first bad field.
std::optional<http::Response> apply(const rapidjson::Value& d, store::Widget& w) {
  if (const auto* v = core::json_member(d, "enabled")) {
    if (!v->IsBool()) return bad("enabled", "enabled must be true or false");
    w.enabled = v->GetBool();
  }
  if (const auto* v = core::json_member(d, "color")) {
    static const std::regex hex("#[0-9a-fA-F]{6}");
    if (!v->IsString() || !std::regex_match(v->GetString(), hex))
      return bad("color", "color must be a hex colour like #1f6feb");
    w.color = core::to_lower(v->GetString());
  }
  if (auto err = read_text(d, "welcomeHeading", kMaxHeading, true, w.welcome_heading)) return err;
  if (auto err = read_text(d, "welcomeTagline", kMaxTagline, false, w.welcome_tagline)) return err;
  if (auto err = read_text(d, "awayMessage", kMaxAway, false, w.away_message)) return err;
  if (const auto* v = core::json_member(d, "preChatForm")) {
    if (!v->IsObject()) return bad("preChatForm", "preChatForm must be an object {name, email, phone}");
    for (auto& [key, field] : {std::pair{"name", &w.prechat_name}, std::pair{"email", &w.prechat_email},
                               std::pair{"phone", &w.prechat_phone}}) {
      const auto* m = core::json_member(*v, key);
      if (!m) continue;
      auto mode = m->IsString() ? store::field_mode_from_string(m->GetString()) : std::nullopt;
      if (!mode)
        return bad(std::string("preChatForm.") + key,
                   std::string("preChatForm.") + key + " must be \"off\", \"optional\" or \"required\"");
      *field = *mode;
    }
  }
  if (const auto* v = core::json_member(d, "allowedOrigins")) {
    if (!v->IsArray() || v->Size() > kMaxOrigins)
      return bad("allowedOrigins", "allowedOrigins must be a list of at most 20 origins");
    std::vector<std::string> origins;
    for (const auto& o : v->GetArray()) {
      auto origin = o.IsString() ? http::web_origin(o.GetString()) : std::nullopt;
      if (!origin)
        return bad("allowedOrigins",
                   "each allowed origin is a scheme and host, like https://shop.example "
                   "(a port if not the default; no path)");
      if (std::find(origins.begin(), origins.end(), *origin) == origins.end()) origins.push_back(*origin);
    }
    w.allowed_origins = std::move(origins);
  }
  if (const auto* v = core::json_member(d, "conversationsPerVisitorPerHour")) {
    if (!v->IsInt() || v->GetInt() < 1 || v->GetInt() > 100)
      return bad("conversationsPerVisitorPerHour",
                 "conversationsPerVisitorPerHour must be a whole number from 1 to 100");
    w.conversations_per_visitor_per_hour = v->GetInt();
  }
  if (auto err = read_business_hours(d, w.business_hours)) return err;
  if (const auto* v = core::json_member(d, "requireIdentity")) {
    if (!v->IsBool()) return bad("requireIdentity", "requireIdentity must be true or false");
    w.require_identity = v->GetBool();
  }
  return std::nullopt;
}

// The widget for a change: concurrent changes of one workspace's widget take turns, so none is lost.
store::Widget load_locked(pqxx::work& tx, Context& ctx, const std::string& workspace_id) {
  tx.exec_params("SELECT pg_advisory_xact_lock(hashtextextended('widget:' || $1, 0))", workspace_id);
  return store::load_widget(tx, workspace_id, ctx.keys);
}

http::Response get_widget(Context& ctx, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(200, widget_json(store::load_widget(tx, p.workspace_id, ctx.keys)));
}

http::Response patch_widget(Context& ctx, const http::Request& req, const Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  if (d.ObjectEmpty()) return http::json_error(400, "VALIDATION_ERROR", "send at least one setting to change");
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto w = load_locked(tx, ctx, p.workspace_id);
    if (auto err = apply(d, w)) return *err;
    return http::json_ok(200, widget_json(store::save_widget(tx, p.workspace_id, std::move(w), ctx.keys)));
  });
}

http::Response rotate_secret(Context& ctx, const Principal& p) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto w = load_locked(tx, ctx, p.workspace_id);
    w.identity_secret = store::new_widget_secret();
    return http::json_ok(200, widget_json(store::save_widget(tx, p.workspace_id, std::move(w), ctx.keys)));
  });
}
}  // namespace

void add_widget_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  add(r, ctx, "GET", "/api/v1/widget", Access::kAdmin, [&ctx](Q, P p) { return get_widget(ctx, p); });
  add(r, ctx, "PATCH", "/api/v1/widget", Access::kAdmin, [&ctx](Q q, P p) { return patch_widget(ctx, q, p); });
  add(r, ctx, "POST", "/api/v1/widget/secret", Access::kAdmin, [&ctx](Q, P p) { return rotate_secret(ctx, p); });
}

}  // namespace loket::api
