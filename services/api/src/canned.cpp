// /api/v1/canned-responses (issue 20): saved replies with a short code for the agent app's "/"
// menu, workspace-wide (owners and admins manage them) or an agent's own; a reply names one with
// `cannedResponseId` and the api renders its variables for the ticket.
#include "canned.hpp"

#include <regex>

#include "api.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/canned.hpp"

namespace loket::api {

const std::map<std::string, std::string>& canned_variables() {
  static const std::map<std::string, std::string> all = {
      {"requester.name", "the requester's name"},
      {"requester.firstName", "the first word of the requester's name"},
      {"requester.email", "the requester's email address"},
      {"ticket.number", "the ticket number"},
      {"ticket.subject", "the ticket's subject"},
      {"agent.name", "the replying agent's name"},
      {"workspace.name", "the workspace's name"},
  };
  return all;
}

namespace {
// Calls `f(begin, end, name)` for each `{{ name }}` of `body` (name trimmed).
template <typename F>
void each_variable(std::string_view body, F&& f) {
  for (std::size_t at = body.find("{{"); at != std::string_view::npos;) {
    auto close = body.find("}}", at + 2);
    if (close == std::string_view::npos) return;
    f(at, close + 2, core::trim(body.substr(at + 2, close - at - 2)));
    at = body.find("{{", close + 2);
  }
}

std::string known_list() {
  std::string out;
  for (const auto& [name, _] : canned_variables()) out += (out.empty() ? "" : ", ") + ("{{" + name + "}}");
  return out;
}
}  // namespace

std::string canned_body_error(std::string_view body) {
  std::string error;
  each_variable(body, [&](std::size_t, std::size_t, const std::string& name) {
    if (error.empty() && !canned_variables().count(name))
      error = "unknown variable {{" + core::utf8_truncate(name, 64) + "}}; the variables are " + known_list();
  });
  return error;
}

std::string render_canned(std::string_view body, const std::map<std::string, std::string>& values) {
  if (auto error = canned_body_error(body); !error.empty()) throw std::invalid_argument(error);
  std::string out;
  std::size_t copied = 0;
  each_variable(body, [&](std::size_t begin, std::size_t end, const std::string& name) {
    auto it = values.find(name);
    out.append(body.substr(copied, begin - copied)).append(it == values.end() ? "" : it->second);
    copied = end;
  });
  return out.append(body.substr(copied));
}

namespace {
constexpr std::size_t kMaxPerWorkspace = 1000, kMaxTitleChars = 200, kMaxBodyChars = 20000;
constexpr int kListLimit = 50, kMaxListLimit = 200;

http::Response bad(const std::string& msg) { return http::json_error(400, "VALIDATION_ERROR", msg); }
http::Response not_found() { return http::json_error(404, "NOT_FOUND", "no such canned response"); }
http::Response code_taken(const std::string& code) {
  return http::json_error(409, "CONFLICT", "the short code " + code + " is taken in this scope");
}

std::string canned_json(const store::CannedResponse& c) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", c.id);
  core::json_kv(w, "shortCode", c.short_code);
  core::json_kv(w, "title", c.title);
  core::json_kv(w, "body", c.body);
  core::json_kv(w, "scope", c.owner_id.empty() ? "workspace" : "personal");
  core::json_kv_opt(w, "ownerId", c.owner_id.empty() ? std::nullopt : std::optional(c.owner_id));
  core::json_kv(w, "createdAt", c.created_at);
  core::json_kv(w, "updatedAt", c.updated_at);
  w.EndObject();
  return sb.GetString();
}

// Whether `p` may change `c`: their own, or (owners, admins, API keys) the workspace's.
bool may_change(const store::Principal& p, const store::CannedResponse& c) {
  return c.owner_id.empty() ? p.role >= store::Role::kAdmin : c.owner_id == p.agent_id;
}

// Reads shortCode, title and body of `d` into `c` (each required when `creating`).
std::optional<http::Response> read_fields(const rapidjson::Value& d, store::CannedResponse& c, bool creating) {
  static const std::regex kCode("[a-z0-9][a-z0-9_-]{0,31}");
  if (auto code = core::json_string(d, "shortCode"); code || creating) {
    c.short_code = core::to_lower(core::trim(code.value_or("")));
    if (!std::regex_match(c.short_code, kCode))
      return bad("shortCode must be 1-32 letters, digits, '_' or '-', starting with a letter or digit");
  }
  if (auto title = core::json_string(d, "title"); title || creating) {
    c.title = core::trim(title.value_or(""));
    if (c.title.empty() || core::utf8_length(c.title) > kMaxTitleChars) return bad("title must be 1-200 characters");
  }
  if (auto body = core::json_string(d, "body"); body || creating) {
    c.body = body.value_or("");
    if (core::trim(c.body).empty() || core::utf8_length(c.body) > kMaxBodyChars)
      return bad("body must be 1-20000 characters");
    if (auto error = canned_body_error(c.body); !error.empty()) return bad(error);
  }
  return std::nullopt;
}

http::Response list(Context& ctx, const http::Request& req, const store::Principal& p) {
  int limit = kListLimit;
  if (auto l = req.query_param("limit"); !l.empty()) {
    if (l.size() > 3 || l.find_first_not_of("0123456789") != std::string::npos || std::stoi(l) < 1 ||
        std::stoi(l) > kMaxListLimit)
      return bad("limit must be 1-200");
    limit = std::stoi(l);
  }
  const std::string q = core::trim(req.query_param("q"));
  if (core::utf8_length(q) > 100) return bad("q must be at most 100 characters");
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(200, json_array(store::list_canned(tx, p.workspace_id, p.agent_id, q, limit), canned_json));
}

http::Response create(Context& ctx, const http::Request& req, const store::Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  store::CannedResponse c;
  if (auto err = read_fields(d, c, true)) return *err;
  const std::string scope = core::json_string(d, "scope").value_or(p.agent_id.empty() ? "workspace" : "personal");
  if (scope != "workspace" && scope != "personal") return bad("scope must be workspace or personal");
  if (scope == "personal" && p.agent_id.empty()) return bad("an API key creates workspace responses only");
  if (scope == "workspace" && p.role < store::Role::kAdmin)
    return http::json_error(403, "FORBIDDEN", "only owners and admins create workspace responses");
  c.id = core::new_id("cr");
  c.workspace_id = p.workspace_id;
  c.owner_id = scope == "personal" ? p.agent_id : "";
  try {
    return write(ctx, [&](pqxx::work& tx) -> http::Response {
      if (static_cast<std::size_t>(store::count_canned(tx, p.workspace_id)) >= kMaxPerWorkspace)
        return http::json_error(409, "CONFLICT", "a workspace keeps at most 1000 canned responses");
      store::save_canned(tx, c, true);
      return http::json_ok(201, canned_json(c));
    });
  } catch (const pqxx::unique_violation&) {
    return code_taken(c.short_code);
  }
}

http::Response get(Context& ctx, const store::Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto c = store::load_canned(tx, p.workspace_id, id, p.agent_id);
  return c ? http::json_ok(200, canned_json(*c)) : not_found();
}

http::Response patch(Context& ctx, const http::Request& req, const store::Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string code;
  try {
    return write(ctx, [&](pqxx::work& tx) -> http::Response {
      auto c = store::load_canned(tx, p.workspace_id, id, p.agent_id);
      if (!c) return not_found();
      if (!may_change(p, *c))
        return http::json_error(403, "FORBIDDEN", "only owners and admins change workspace responses");
      if (auto err = read_fields(d, *c, false)) return *err;
      code = c->short_code;
      store::save_canned(tx, *c, false);
      return http::json_ok(200, canned_json(*c));
    });
  } catch (const pqxx::unique_violation&) {
    return code_taken(code);
  }
}

http::Response remove(Context& ctx, const store::Principal& p, const std::string& id) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto c = store::load_canned(tx, p.workspace_id, id, p.agent_id);
    if (!c) return not_found();
    if (!may_change(p, *c))
      return http::json_error(403, "FORBIDDEN", "only owners and admins delete workspace responses");
    store::delete_canned(tx, p.workspace_id, id);
    return http::json_ok(200, canned_json(*c));
  });
}
}  // namespace

std::optional<http::Response> canned_reply(pqxx::transaction_base& tx, const store::Principal& p,
                                           const store::Ticket& t, const std::string& id, const std::string& author,
                                           std::string& body) {
  auto c = store::load_canned(tx, p.workspace_id, id, p.agent_id);
  if (!c) return bad("no canned response " + id + " for you in this workspace");
  const std::string name = t.requester_name.value_or("");
  auto workspace = store::load_workspace(tx, p.workspace_id);
  try {
    body = render_canned(c->body, {{"requester.name", name},
                                   {"requester.firstName", name.substr(0, name.find(' '))},
                                   {"requester.email", t.requester_email.value_or("")},
                                   {"ticket.number", std::to_string(t.number)},
                                   {"ticket.subject", t.subject},
                                   {"agent.name", author},
                                   {"workspace.name", workspace ? workspace->name : ""}});
  } catch (const std::invalid_argument& e) {
    return bad(std::string("canned response ") + c->short_code + ": " + e.what());
  }
  return std::nullopt;
}

void add_canned_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const store::Principal&;
  const std::string base = "/api/v1/canned-responses";
  const auto A = Access::kAgent;
  add(r, ctx, "GET", base, A, [&ctx](Q q, P p) { return list(ctx, q, p); });
  add(r, ctx, "POST", base, A, [&ctx](Q q, P p) { return create(ctx, q, p); });
  add(r, ctx, "GET", base + "/:id", A, [&ctx](Q q, P p) { return get(ctx, p, q.params.at("id")); });
  add(r, ctx, "PATCH", base + "/:id", A, [&ctx](Q q, P p) { return patch(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "DELETE", base + "/:id", A, [&ctx](Q q, P p) { return remove(ctx, p, q.params.at("id")); });
}

}  // namespace loket::api
