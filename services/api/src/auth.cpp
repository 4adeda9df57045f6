// Sign-in sessions, the agent's own profile, people, API keys and the workspace (issue 3
// "Workspaces, people and keys").
#include <algorithm>

#include "api.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"

namespace loket::api {
namespace {
using store::Principal;
using store::Role;
constexpr int kLoginWindowSeconds = 15 * 60;
constexpr std::size_t kMinPassword = 10, kMaxPassword = 200;

bool valid_email(const std::string& e) {
  auto at = e.find('@');
  return e.size() <= 254 && at != std::string::npos && at > 0 && at + 1 < e.size() &&
         e.find_first_of(" \t\r\n") == std::string::npos && e.find('@', at + 1) == std::string::npos;
}

std::optional<http::Response> check_password_rules(const std::string& pw) {
  auto n = core::utf8_length(pw);
  if (n < kMinPassword || n > kMaxPassword)
    return http::json_error(400, "VALIDATION_ERROR", "password must be 10–200 characters");
  return std::nullopt;
}

std::string session_json(const store::NewSession& s, const store::Agent& a) {
  return "{\"token\":\"" + s.token + "\",\"expiresAt\":\"" + s.expires_at + "\",\"agent\":" + agent_json(a) + "}";
}

// The workspace as its agents see it, with the address its email alias receives at.
std::string workspace_view(const Context& ctx, const store::Workspace& ws) {
  std::optional<std::string> inbound_email;
  for (const auto& a : ctx.providers.adapters())
    if (!inbound_email) inbound_email = a->platform_address(ws.id);
  return workspace_json(ws, inbound_email);
}

http::Response too_many_attempts(int reset_s) {
  auto res = http::json_error(429, "RATE_LIMITED",
                              "too many failed sign-in attempts; try again in " + std::to_string(reset_s) + " seconds");
  res.headers.emplace_back("Retry-After", std::to_string(reset_s));
  return res;
}

http::Response login(Context& ctx, const http::Request& req) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string email = core::to_lower(core::trim(core::json_string(d, "email").value_or("")));
  std::string password = core::json_string(d, "password").value_or("");
  if (email.empty() || password.empty())
    return http::json_error(400, "VALIDATION_ERROR", "email and password are required");
  // The attempt is counted before the password is checked, in one atomic statement: 40 parallel
  // guesses get exactly the limit checked (counting after the check let 14 of 40 through). A
  // right password takes its count back.
  const std::string bucket = "login:" + email;
  auto conn = ctx.pool.acquire();
  {
    pqxx::nontransaction tx(*conn);
    auto w = store::rate_limit_hit(tx, bucket, kLoginWindowSeconds);
    if (w.hits > ctx.options.login_failures_per_15_minutes) return too_many_attempts(w.reset_s);
  }
  pqxx::work tx(*conn);
  auto agent = store::check_password(tx, email, password);
  if (!agent) {
    core::log(core::Level::kInfo, "sign-in failed", {{"remote", req.remote_address}});
    return http::json_error(401, "UNAUTHORIZED", "wrong email or password");
  }
  store::rate_limit_refund(tx, bucket, kLoginWindowSeconds);
  auto s = store::create_session(tx, *agent, ctx.options.session_ttl);
  tx.commit();
  return http::json_ok(201, session_json(s, *agent));
}

http::Response logout(Context& ctx, const Principal& p) {
  store::with_tx(ctx.pool, [&](pqxx::work& tx) { store::revoke_session(tx, p.session_id); });
  return http::json_ok(200, "{\"signedOut\":true}");
}

http::Response me(Context& ctx, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto a = store::load_agent(tx, p.workspace_id, p.agent_id);
  return http::json_ok(200, "{\"agent\":" + agent_json(*a) + ",\"workspace\":" +
                                workspace_view(ctx, *store::load_workspace(tx, p.workspace_id)) + "}");
}

// PATCH /api/v1/me {"availability":"online"|"away"}: an away agent gets no auto-assigned tickets.
http::Response update_me(Context& ctx, const http::Request& req, const Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  auto availability = core::json_string(d, "availability");
  if (!availability || (*availability != "online" && *availability != "away"))
    return invalid_field("availability", "availability must be online or away");
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    store::set_away(tx, p.agent_id, *availability == "away");
    return http::json_ok(200, agent_json(*store::load_agent(tx, p.workspace_id, p.agent_id)));
  });
}

http::Response change_password(Context& ctx, const http::Request& req, const Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string current = core::json_string(d, "currentPassword").value_or("");
  std::string next = core::json_string(d, "newPassword").value_or("");
  if (auto err = check_password_rules(next)) return *err;
  // Wrong current passwords count like failed sign-ins (a stolen session must not guess it).
  const std::string bucket = "password:" + p.agent_id;
  {
    auto conn = ctx.pool.acquire();
    pqxx::nontransaction tx(*conn);
    auto w = store::rate_limit_hit(tx, bucket, kLoginWindowSeconds);
    if (w.hits > ctx.options.login_failures_per_15_minutes) return too_many_attempts(w.reset_s);
  }
  return store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    auto a = store::load_agent(tx, p.workspace_id, p.agent_id);
    if (!store::check_password(tx, a->email, current))
      return http::json_error(400, "VALIDATION_ERROR", "currentPassword is wrong");
    store::rate_limit_refund(tx, bucket, kLoginWindowSeconds);
    store::set_password(tx, a->id, next);  // revokes every session, this one included
    auto s = store::create_session(tx, *a, ctx.options.session_ttl);
    return http::json_ok(200, session_json(s, *a));
  });
}

http::Response get_workspace(Context& ctx, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(200, workspace_view(ctx, *store::load_workspace(tx, p.workspace_id)));
}

http::Response patch_workspace(Context& ctx, const http::Request& req, const Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  auto name = core::json_string(d, "name");
  if (name) name = core::trim(*name);
  if (name && (name->empty() || core::utf8_length(*name) > 200))
    return http::json_error(400, "VALIDATION_ERROR", "name must be 1–200 characters");
  // autoReply: text (with {{ticket.number}}, {{ticket.subject}}, {{requester.name}},
  // {{status_link}}) sent on every new ticket; null or "" turns it off.
  const auto* auto_reply = core::json_member(d, "autoReply");
  if (auto_reply && !auto_reply->IsNull() && !auto_reply->IsString())
    return http::json_error(400, "VALIDATION_ERROR", "autoReply must be text or null");
  std::string reply_text = auto_reply && auto_reply->IsString() ? core::trim(auto_reply->GetString()) : "";
  if (core::utf8_length(reply_text) > 5000)
    return http::json_error(400, "VALIDATION_ERROR", "autoReply must be at most 5000 characters");
  // requireSignedWebhooks: refuse integrations whose webhooks are not all authenticated.
  const auto* require_signed = core::json_member(d, "requireSignedWebhooks");
  if (require_signed && !require_signed->IsBool())
    return http::json_error(400, "VALIDATION_ERROR", "requireSignedWebhooks must be true or false");
  // timeZone: the IANA zone reports count days in (docs/reports.md); a change recounts the rollup.
  const auto* time_zone = core::json_member(d, "timeZone");
  if (time_zone && !time_zone->IsString()) return invalid_field("timeZone", "must be an IANA time zone");
  if (!name && !auto_reply && !require_signed && !time_zone)
    return http::json_error(400, "VALIDATION_ERROR", "send name, autoReply, requireSignedWebhooks and/or timeZone");
  store::WorkspaceChange change{name, auto_reply ? std::optional<std::string>(reply_text) : std::nullopt,
                                require_signed ? std::optional<bool>(require_signed->GetBool()) : std::nullopt,
                                time_zone ? std::optional<std::string>(time_zone->GetString()) : std::nullopt};
  return store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    if (change.time_zone && !store::is_time_zone(tx, *change.time_zone))
      return invalid_field("timeZone", "must be an IANA time zone like Europe/Amsterdam");
    if (change.require_signed_webhooks.value_or(false)) {
      store::lock_webhook_policy(tx, p.workspace_id);
      if (auto open = unverified_integrations(tx, ctx, p.workspace_id); !open.empty())
        return http::json_error(409, "CONFLICT",
                                "these integrations accept unsigned webhooks; reconnect them with the credentials "
                                "that sign them or disconnect them first: " +
                                    open);
    }
    store::update_workspace(tx, p.workspace_id, change);
    return http::json_ok(200, workspace_view(ctx, *store::load_workspace(tx, p.workspace_id)));
  });
}

http::Response list_agents(Context& ctx, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(200, json_array(store::list_agents(tx, p.workspace_id), agent_json));
}

http::Response get_agent(Context& ctx, const Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto a = store::load_agent(tx, p.workspace_id, id);
  if (!a) return http::json_error(404, "NOT_FOUND", "no such agent");
  return http::json_ok(200, agent_json(*a));
}

// Admins manage agents; only owners create or change owners and admins.
bool may_grant(const Principal& p, Role role) { return role == Role::kAgent || p.role == Role::kOwner; }

http::Response create_agent(Context& ctx, const http::Request& req, const Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string email = core::trim(core::json_string(d, "email").value_or(""));
  std::string name = core::trim(core::json_string(d, "name").value_or(""));
  std::string password = core::json_string(d, "password").value_or("");
  auto role = store::role_from_string(core::json_string(d, "role").value_or("agent"));
  if (!valid_email(email)) return http::json_error(400, "VALIDATION_ERROR", "email must be an email address");
  if (name.empty() || core::utf8_length(name) > 200)
    return http::json_error(400, "VALIDATION_ERROR", "name must be 1–200 characters");
  if (!role) return http::json_error(400, "VALIDATION_ERROR", "role must be owner, admin or agent");
  if (auto err = check_password_rules(password)) return *err;
  if (!may_grant(p, *role)) return http::json_error(403, "FORBIDDEN", "only an owner may add owners or admins");
  try {
    auto a = store::with_tx(ctx.pool, [&](pqxx::work& tx) {
      return store::create_agent(tx, p.workspace_id, email, name, *role, password);
    });
    return http::json_ok(201, agent_json(a));
  } catch (const store::Conflict& e) {
    return http::json_error(409, "CONFLICT", e.what());
  }
}

http::Response patch_agent(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  auto name = core::json_string(d, "name");
  std::optional<Role> role;
  if (auto r = core::json_string(d, "role")) {
    role = store::role_from_string(*r);
    if (!role) return http::json_error(400, "VALIDATION_ERROR", "role must be owner, admin or agent");
  }
  std::optional<bool> active;
  if (const auto* v = core::json_member(d, "active")) {
    if (!v->IsBool()) return http::json_error(400, "VALIDATION_ERROR", "active must be true or false");
    active = v->GetBool();
  }
  if (name && (core::trim(*name).empty() || core::utf8_length(*name) > 200))
    return http::json_error(400, "VALIDATION_ERROR", "name must be 1–200 characters");
  return store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    store::lock_agents(tx, p.workspace_id);
    auto a = store::load_agent(tx, p.workspace_id, id);
    if (!a) return http::json_error(404, "NOT_FOUND", "no such agent");
    if ((role && !may_grant(p, *role)) || !may_grant(p, a->role))
      return http::json_error(403, "FORBIDDEN", "only an owner may change owners or admins");
    bool loses_owner = a->role == Role::kOwner && ((role && *role != Role::kOwner) || (active && !*active));
    if (loses_owner) {
      if (store::active_owners(tx, p.workspace_id) <= 1)
        return http::json_error(409, "CONFLICT", "a workspace keeps at least one active owner");
    }
    return http::json_ok(200, agent_json(store::update_agent(tx, *a, name, role, active)));
  });
}

http::Response list_keys(Context& ctx, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(200, json_array(store::list_api_keys(tx, p.workspace_id), api_key_json));
}

http::Response create_key(Context& ctx, const http::Request& req, const Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string name = core::trim(core::json_string(d, "name").value_or(""));
  if (name.empty() || core::utf8_length(name) > 100)
    return http::json_error(400, "VALIDATION_ERROR", "name must be 1–100 characters");
  return store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    std::optional<std::string> by;
    if (!p.agent_id.empty()) by = p.agent_id;
    auto created = store::create_api_key(tx, p.workspace_id, name, by);
    std::string json = api_key_json(created.meta);
    json.pop_back();
    return http::json_ok(201, json + ",\"key\":\"" + created.key + "\"}");
  });
}

http::Response revoke_key(Context& ctx, const Principal& p, const std::string& id) {
  bool found = store::with_tx(ctx.pool, [&](pqxx::work& tx) { return store::revoke_api_key(tx, p.workspace_id, id); });
  if (!found) return http::json_error(404, "NOT_FOUND", "no such API key");
  return http::json_ok(200, "{\"id\":\"" + core::json_escape(id) + "\",\"revoked\":true}");
}
}  // namespace

void add_auth_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  add(r, ctx, "POST", "/api/v1/auth/login", Access::kPublic, [&ctx](Q q, P) { return login(ctx, q); });
  add(r, ctx, "POST", "/api/v1/auth/logout", Access::kSession, [&ctx](Q, P p) { return logout(ctx, p); });
  add(r, ctx, "GET", "/api/v1/me", Access::kSession, [&ctx](Q, P p) { return me(ctx, p); });
  add(r, ctx, "PATCH", "/api/v1/me", Access::kSession, [&ctx](Q q, P p) { return update_me(ctx, q, p); });
  add(r, ctx, "POST", "/api/v1/me/password", Access::kSession, [&ctx](Q q, P p) { return change_password(ctx, q, p); });
  add(r, ctx, "GET", "/api/v1/workspace", Access::kAgent, [&ctx](Q, P p) { return get_workspace(ctx, p); });
  add(r, ctx, "PATCH", "/api/v1/workspace", Access::kOwner, [&ctx](Q q, P p) { return patch_workspace(ctx, q, p); });
  add(r, ctx, "GET", "/api/v1/agents", Access::kAgent, [&ctx](Q, P p) { return list_agents(ctx, p); });
  add(r, ctx, "POST", "/api/v1/agents", Access::kAdmin, [&ctx](Q q, P p) { return create_agent(ctx, q, p); });
  add(r, ctx, "GET", "/api/v1/agents/:id", Access::kAgent,
      [&ctx](Q q, P p) { return get_agent(ctx, p, q.params.at("id")); });
  add(r, ctx, "PATCH", "/api/v1/agents/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return patch_agent(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "GET", "/api/v1/api-keys", Access::kAdmin, [&ctx](Q, P p) { return list_keys(ctx, p); });
  add(r, ctx, "POST", "/api/v1/api-keys", Access::kAdmin, [&ctx](Q q, P p) { return create_key(ctx, q, p); });
  add(r, ctx, "DELETE", "/api/v1/api-keys/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return revoke_key(ctx, p, q.params.at("id")); });
}

}  // namespace loket::api
