// /api/v1/macros and POST /api/v1/tickets/bulk (issue 20): named lists of ticket actions, and
// applying a macro or plain actions to up to 500 tickets, each ticket in its own transaction so
// it is changed wholly or not at all.
#include <algorithm>

#include "api.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/inboxes.hpp"
#include "loket/store/macros.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxActions = 20, kMaxBulk = 500, kMaxMacros = 500, kMaxNameChars = 100, kMaxBodyChars = 20000;

http::Response bad(const std::string& msg) { return http::json_error(400, "VALIDATION_ERROR", msg); }
http::Response not_found() { return http::json_error(404, "NOT_FOUND", "no such macro"); }

/// One action of a macro (docs/agents.md "Macros").
struct Action {
  std::string type;                     ///< status, priority, addTags, removeTags, assign, assignTeam, reply, note
  std::string value;                    ///< status or priority
  std::vector<std::string> tags;        ///< addTags, removeTags
  std::optional<std::string> agent_id;  ///< assign: the agent, nullopt = unassign
  std::optional<std::string> team_id;   ///< assignTeam: the team, nullopt = none
  std::string body, canned;             ///< reply, note: text or a canned response id
};

// Reads `v` (an array of action objects) into `out`; a 400 naming the first bad action.
std::optional<http::Response> read_actions(pqxx::transaction_base& tx, const std::string& ws, const rapidjson::Value& v,
                                           std::vector<Action>& out) {
  if (!v.IsArray() || v.Empty() || v.Size() > kMaxActions) return bad("actions must be an array of 1-20 actions");
  int replies = 0, notes = 0;
  for (const auto& item : v.GetArray()) {
    const std::string at = "actions[" + std::to_string(out.size()) + "]";
    if (!item.IsObject()) return bad(at + " must be an object");
    Action a;
    a.type = core::json_string(item, "type").value_or("");
    if (a.type == "status" || a.type == "priority") {
      a.value = core::json_string(item, "value").value_or("");
      if (a.type == "status" ? !store::is_valid_status(a.value) : !valid_priority(a.value))
        return bad(at + ".value is not a " + a.type);
    } else if (a.type == "addTags" || a.type == "removeTags") {
      const auto* tags = core::json_member(item, "tags");
      if (!tags) return bad(at + ".tags is required");
      if (auto err = read_tags(*tags, a.tags)) return err;
      if (a.tags.empty()) return bad(at + ".tags is empty");
    } else if (a.type == "assign") {
      const auto* agent = core::json_member(item, "agentId");
      if (!agent) return bad(at + ".agentId is required (null to unassign)");
      if (auto err = read_assignee(tx, ws, *agent, a.agent_id)) return err;
    } else if (a.type == "assignTeam") {
      const auto* team = core::json_member(item, "teamId");
      if (!team || (!team->IsNull() && !team->IsString())) return bad(at + ".teamId is required (null for none)");
      if (team->IsString()) {
        a.team_id.emplace(team->GetString(), team->GetStringLength());
        if (!store::load_team(tx, ws, *a.team_id)) return bad(at + ".teamId is not a team of this workspace");
      }
    } else if (a.type == "reply" || a.type == "note") {
      a.body = core::json_string(item, "body").value_or("");
      a.canned = core::json_string(item, "cannedResponseId").value_or("");
      if (a.body.empty() == a.canned.empty()) return bad(at + " needs body or cannedResponseId (one of them)");
      if (!a.body.empty() && (core::trim(a.body).empty() || core::utf8_length(a.body) > kMaxBodyChars))
        return bad(at + ".body must be 1-20000 characters");
      if (++(a.type == "reply" ? replies : notes) > 1) return bad("a macro sends at most one reply and one note");
    } else {
      return bad(at + ".type must be status, priority, addTags, removeTags, assign, assignTeam, reply or note");
    }
    out.push_back(std::move(a));
  }
  return std::nullopt;
}

std::string actions_json(const std::vector<Action>& actions) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartArray();
  for (const auto& a : actions) {
    w.StartObject();
    core::json_kv(w, "type", a.type);
    if (!a.value.empty()) core::json_kv(w, "value", a.value);
    if (!a.tags.empty()) {
      core::json_put(w, "tags");
      w.StartArray();
      for (const auto& t : a.tags) core::json_put(w, t);
      w.EndArray();
    }
    if (a.type == "assign") core::json_kv_opt(w, "agentId", a.agent_id);
    if (a.type == "assignTeam") core::json_kv_opt(w, "teamId", a.team_id);
    if (!a.body.empty()) core::json_kv(w, "body", a.body);
    if (!a.canned.empty()) core::json_kv(w, "cannedResponseId", a.canned);
    w.EndObject();
  }
  w.EndArray();
  return sb.GetString();
}

std::string macro_json(const store::Macro& m) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", m.id);
  core::json_kv(w, "name", m.name);
  w.Key("actions");
  w.RawValue(m.actions.data(), m.actions.size(), rapidjson::kArrayType);  // jsonb text, as stored
  core::json_kv(w, "createdAt", m.created_at);
  core::json_kv(w, "updatedAt", m.updated_at);
  w.EndObject();
  return sb.GetString();
}

// Applies `actions` to ticket `id` in `tx`: the reply and note first (as POST …/messages
// writes them), then every field change in one `ticket.updated`. The refusal, when any action
// cannot be applied (the caller rolls the whole ticket back).
std::optional<http::Response> apply(pqxx::work& tx, const Principal& p, const std::string& id,
                                    const std::vector<Action>& actions) {
  auto t = find_ticket(tx, p, id, true);
  if (!t) return http::json_error(404, "NOT_FOUND", "no such ticket");
  const std::string author = p.agent_name.empty() ? "Support" : p.agent_name;
  for (const auto& a : actions) {
    if (a.type != "reply" && a.type != "note") continue;
    ReplyDraft draft;
    draft.body = a.body;
    draft.canned = a.canned;
    draft.author = author;
    draft.internal = a.type == "note";
    auto written = write_reply(tx, p, *t, draft);
    if (auto* refused = std::get_if<http::Response>(&written)) return std::move(*refused);
  }
  store::TicketChanges c;
  std::vector<std::string> tags = t->tags;
  for (const auto& a : actions) {
    if (a.type == "status") c.status = a.value;
    if (a.type == "priority") c.priority = a.value;
    if (a.type == "assign") c.assignee_id = a.agent_id;  // checked by read_actions for this request
    if (a.type == "assignTeam") c.team_id = a.team_id;
    for (const auto& tag : a.tags) {
      auto at = std::find(tags.begin(), tags.end(), tag);
      if (a.type == "addTags" && at == tags.end()) tags.push_back(tag);
      if (a.type == "removeTags" && at != tags.end()) tags.erase(at);
    }
  }
  if (tags.size() > 20) return bad("the ticket would have more than 20 tags");
  if (tags != t->tags) c.tags = tags;
  store::update_ticket(tx, *t, c);
  return std::nullopt;
}

// Reads a macro's name and actions from `d` into `m` (each required when `creating`).
std::optional<http::Response> read_macro(pqxx::transaction_base& tx, const rapidjson::Value& d, store::Macro& m,
                                         bool creating) {
  if (auto name = core::json_string(d, "name"); name || creating) {
    m.name = core::trim(name.value_or(""));
    if (m.name.empty() || core::utf8_length(m.name) > kMaxNameChars) return bad("name must be 1-100 characters");
  }
  if (const auto* v = core::json_member(d, "actions"); v || creating) {
    std::vector<Action> actions;
    if (!v) return bad("actions is required");
    if (auto err = read_actions(tx, m.workspace_id, *v, actions)) return err;
    m.actions = actions_json(actions);
  }
  return std::nullopt;
}

http::Response name_taken(const std::string& name) {
  return http::json_error(409, "CONFLICT", "a macro named " + name + " exists");
}

http::Response list(Context& ctx, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(200, json_array(store::list_macros(tx, p.workspace_id), macro_json));
}

http::Response get(Context& ctx, const Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto m = store::load_macro(tx, p.workspace_id, id);
  return m ? http::json_ok(200, macro_json(*m)) : not_found();
}

http::Response create(Context& ctx, const http::Request& req, const Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  store::Macro m;
  m.id = core::new_id("mac");
  m.workspace_id = p.workspace_id;
  try {
    return write(ctx, [&](pqxx::work& tx) -> http::Response {
      if (auto err = read_macro(tx, d, m, true)) return *err;
      if (static_cast<std::size_t>(store::count_macros(tx, p.workspace_id)) >= kMaxMacros)
        return http::json_error(409, "CONFLICT", "a workspace keeps at most 500 macros");
      store::save_macro(tx, m, true);
      return http::json_ok(201, macro_json(m));
    });
  } catch (const pqxx::unique_violation&) {
    return name_taken(m.name);
  }
}

http::Response patch(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string name;
  try {
    return write(ctx, [&](pqxx::work& tx) -> http::Response {
      auto m = store::load_macro(tx, p.workspace_id, id);
      if (!m) return not_found();
      if (auto err = read_macro(tx, d, *m, false)) return *err;
      name = m->name;
      store::save_macro(tx, *m, false);
      return http::json_ok(200, macro_json(*m));
    });
  } catch (const pqxx::unique_violation&) {
    return name_taken(name);
  }
}

http::Response remove(Context& ctx, const Principal& p, const std::string& id) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto m = store::load_macro(tx, p.workspace_id, id);
    if (!m || !store::delete_macro(tx, p.workspace_id, id)) return not_found();
    return http::json_ok(200, macro_json(*m));
  });
}

// POST /api/v1/tickets/bulk: {"ticketIds":[…], "macroId"} or {"ticketIds":[…], "actions":[…]}.
http::Response bulk(Context& ctx, const http::Request& req, const Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::vector<std::string> ids;
  const auto* list = core::json_member(d, "ticketIds");
  if (!list || !list->IsArray() || list->Empty() || list->Size() > kMaxBulk)
    return bad("ticketIds must be an array of 1-500 ticket ids");
  for (const auto& v : list->GetArray()) {
    if (!v.IsString() || v.GetStringLength() == 0 || v.GetStringLength() > 64)
      return bad("ticketIds must be an array of 1-500 ticket ids");
    std::string id(v.GetString(), v.GetStringLength());
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  const std::string macro_id = core::json_string(d, "macroId").value_or("");
  const auto* given = core::json_member(d, "actions");
  if (macro_id.empty() == !given) return bad("give macroId or actions (one of them)");
  std::vector<Action> actions;
  {
    auto conn = ctx.pool.acquire();
    pqxx::read_transaction tx(*conn);
    rapidjson::Document stored;
    if (!macro_id.empty()) {
      auto m = store::load_macro(tx, p.workspace_id, macro_id);
      if (!m) return not_found();
      core::parse_json(stored, m->actions);
      given = &stored;
    }
    if (auto err = read_actions(tx, p.workspace_id, *given, actions)) return *err;
  }
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  int applied = 0;
  w.StartObject();
  core::json_put(w, "results");
  w.StartArray();
  for (const auto& id : ids) {
    auto answer = write(ctx, [&](pqxx::work& tx) -> http::Response {
      if (auto refused = apply(tx, p, id, actions)) throw Rejected{std::move(*refused)};
      return http::json_ok(200, "{}");
    });
    w.StartObject();
    core::json_kv(w, "ticketId", id);
    core::json_kv(w, "status", answer.status == 200 ? "applied" : "failed");
    if (answer.status == 200) {
      ++applied;
    } else {  // the refusal's envelope: {"error":{"code","message"}}
      rapidjson::Document e;
      core::parse_json(e, answer.body);
      const auto* error = core::json_member(e, "error");
      w.Key("error");
      w.StartObject();
      core::json_kv(w, "code", error ? core::json_string(*error, "code").value_or("ERROR") : "ERROR");
      core::json_kv(w, "message", error ? core::json_string(*error, "message").value_or("") : "");
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  core::json_put(w, "applied");
  w.Int(applied);
  core::json_put(w, "failed");
  w.Int(static_cast<int>(ids.size()) - applied);
  w.EndObject();
  return http::json_ok(200, sb.GetString());
}
}  // namespace

void add_macro_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  const std::string base = "/api/v1/macros";
  add(r, ctx, "GET", base, Access::kAgent, [&ctx](Q, P p) { return list(ctx, p); });
  add(r, ctx, "POST", base, Access::kAdmin, [&ctx](Q q, P p) { return create(ctx, q, p); });
  add(r, ctx, "GET", base + "/:id", Access::kAgent, [&ctx](Q q, P p) { return get(ctx, p, q.params.at("id")); });
  add(r, ctx, "PATCH", base + "/:id", Access::kAdmin, [&ctx](Q q, P p) { return patch(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "DELETE", base + "/:id", Access::kAdmin, [&ctx](Q q, P p) { return remove(ctx, p, q.params.at("id")); });
  add(r, ctx, "POST", "/api/v1/tickets/bulk", Access::kAgent, [&ctx](Q q, P p) { return bulk(ctx, q, p); });
}

}  // namespace loket::api
