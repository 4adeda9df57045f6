// /api/v1/inboxes and /api/v1/teams (issue 20, seed 004 "What is an inbox?"): where each channel
// connection delivers, who works in it, and the groups of agents tickets are routed to.
#include "loket/store/inboxes.hpp"
#include "api.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxNameChars = 100, kMaxDescriptionChars = 500, kMaxMembers = 500, kMaxPerWorkspace = 1000;

void put_ids(core::JsonWriter& w, const char* key, const std::vector<std::string>& ids) {
  core::json_put(w, key);
  w.StartArray();
  for (const auto& id : ids) w.String(id.data(), static_cast<rapidjson::SizeType>(id.size()));
  w.EndArray();
}

std::string inbox_json(const store::Inbox& i) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", i.id);
  core::json_kv(w, "name", i.name);
  core::json_put(w, "isDefault");
  w.Bool(i.is_default);
  put_ids(w, "agentIds", i.agent_ids);
  put_ids(w, "teamIds", i.team_ids);
  put_ids(w, "integrationIds", i.integration_ids);
  core::json_put(w, "autoAssignment");
  w.StartObject();
  core::json_kv(w, "mode", i.auto_assignment);
  auto put_opt_int = [&w](const char* key, std::optional<int> v) {
    core::json_put(w, key);
    if (v)
      w.Int(*v);
    else
      w.Null();
  };
  put_opt_int("capacity", i.capacity);
  put_opt_int("onlineWindowMinutes", i.online_window_s / 60);
  put_opt_int("reassignAfterMinutes", i.reassign_after_s ? std::optional<int>(*i.reassign_after_s / 60) : std::nullopt);
  w.EndObject();
  core::json_put(w, "businessHours");
  if (i.business_hours)
    w.RawValue(i.business_hours->data(), i.business_hours->size(), rapidjson::kObjectType);
  else
    w.Null();
  core::json_kv(w, "createdAt", i.created_at);
  core::json_kv(w, "updatedAt", i.updated_at);
  w.EndObject();
  return sb.GetString();
}

std::string team_json(const store::Team& t) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", t.id);
  core::json_kv(w, "name", t.name);
  core::json_kv(w, "description", t.description);
  put_ids(w, "agentIds", t.agent_ids);
  core::json_kv(w, "createdAt", t.created_at);
  core::json_kv(w, "updatedAt", t.updated_at);
  w.EndObject();
  return sb.GetString();
}

// `key` of `d` as a list of distinct ids into `out` when present; a 400 naming it.
std::optional<http::Response> read_ids(const rapidjson::Value& d, const char* key, std::vector<std::string>& out,
                                       bool& present) {
  const auto* v = core::json_member(d, key);
  present = v != nullptr;
  if (!v) return std::nullopt;
  const std::string msg = std::string(key) + " must be an array of at most 500 ids";
  if (!v->IsArray() || v->Size() > kMaxMembers) return invalid_field(key, msg);
  out.clear();
  for (const auto& x : v->GetArray()) {
    if (!x.IsString() || x.GetStringLength() == 0 || x.GetStringLength() > 64) return invalid_field(key, msg);
    std::string id(x.GetString(), x.GetStringLength());
    if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(std::move(id));
  }
  std::sort(out.begin(), out.end());
  return std::nullopt;
}

// name (required when `is_new`), 1–100 characters.
std::optional<http::Response> read_name(const rapidjson::Value& d, bool is_new, std::string& name) {
  auto v = core::json_member(d, "name");
  if (!v && !is_new) return std::nullopt;
  if (!v || !v->IsString()) return invalid_field("name", "name is required (1–100 characters)");
  name = core::trim(std::string_view(v->GetString(), v->GetStringLength()));
  if (name.empty() || core::utf8_length(name) > kMaxNameChars)
    return invalid_field("name", "name must be 1–100 characters");
  return std::nullopt;
}

// autoAssignment {mode, capacity, onlineWindowMinutes, reassignAfterMinutes} of `d` into `i`:
// members given replace the old values; a 400 naming the member.
std::optional<http::Response> read_auto_assignment(const rapidjson::Value& d, store::Inbox& i) {
  const auto* a = core::json_member(d, "autoAssignment");
  if (!a) return std::nullopt;
  if (!a->IsObject()) return invalid_field("autoAssignment", "autoAssignment must be an object");
  if (const auto* m = core::json_member(*a, "mode")) {
    if (!m->IsString() ||
        (std::string_view(m->GetString()) != "off" && std::string_view(m->GetString()) != "round_robin"))
      return invalid_field("autoAssignment.mode", "autoAssignment.mode must be off or round_robin");
    i.auto_assignment = m->GetString();
  }
  // A whole number in [lo, hi] (× `scale` into `out`), or null when `nullable`.
  auto number = [&a](const char* key, int lo, int hi, int scale, bool nullable,
                     std::optional<int>& out) -> std::optional<http::Response> {
    const auto* v = core::json_member(*a, key);
    if (!v) return std::nullopt;
    const std::string field = std::string("autoAssignment.") + key;
    if (v->IsNull() && nullable) {
      out.reset();
      return std::nullopt;
    }
    if (!v->IsInt() || v->GetInt() < lo || v->GetInt() > hi)
      return invalid_field(field, field + " must be a whole number from " + std::to_string(lo) + " to " +
                                      std::to_string(hi) + (nullable ? ", or null" : ""));
    out = v->GetInt() * scale;
    return std::nullopt;
  };
  std::optional<int> online = i.online_window_s;
  if (auto err = number("capacity", 1, 10000, 1, true, i.capacity)) return err;
  if (auto err = number("onlineWindowMinutes", 1, 1440, 60, false, online)) return err;
  if (auto err = number("reassignAfterMinutes", 1, 10080, 60, true, i.reassign_after_s)) return err;
  i.online_window_s = *online;
  return std::nullopt;
}

http::Response name_taken(const char* what, const std::string& name) {
  return http::json_error(409, "CONFLICT", std::string("an ") + what + " named " + name + " exists");
}

// Runs `fn` in a write transaction, answering 409 for a taken name and 400 for an unknown member.
template <typename F>
http::Response save(Context& ctx, const char* what, const std::string& name, F&& fn) {
  try {
    return write(ctx, std::forward<F>(fn));
  } catch (const pqxx::unique_violation&) {
    return name_taken(what, name);
  } catch (const store::UnknownMember& e) {
    return http::json_error(400, "VALIDATION_ERROR", e.what());
  }
}

// --- inboxes ---

http::Response inbox_not_found() { return http::json_error(404, "NOT_FOUND", "no such inbox"); }

// The inbox as `p` may see it: agents only their own.
std::optional<store::Inbox> visible_inbox(pqxx::transaction_base& tx, const Principal& p, const std::string& id) {
  auto i = store::load_inbox(tx, p.workspace_id, id);
  if (i && !sees_all(p) && !store::in_inbox(tx, p.agent_id, i->id)) return std::nullopt;
  return i;
}

http::Response list_inboxes(Context& ctx, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto member = sees_all(p) ? std::nullopt : std::optional<std::string>(p.agent_id);
  return http::json_ok(200, json_array(store::list_inboxes(tx, p.workspace_id, member), inbox_json));
}

http::Response get_inbox(Context& ctx, const Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto i = visible_inbox(tx, p, id);
  return i ? http::json_ok(200, inbox_json(*i)) : inbox_not_found();
}

// Create (`id` empty) or update an inbox from body `req`.
http::Response put_inbox(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  const bool is_new = id.empty();
  std::string name;
  std::vector<std::string> agents, teams, integrations;
  bool has_agents = false, has_teams = false, has_integrations = false;
  if (auto err = read_name(d, is_new, name)) return *err;
  if (auto err = read_ids(d, "agentIds", agents, has_agents)) return *err;
  if (auto err = read_ids(d, "teamIds", teams, has_teams)) return *err;
  if (auto err = read_ids(d, "integrationIds", integrations, has_integrations)) return *err;
  return save(ctx, "inbox", name, [&](pqxx::work& tx) -> http::Response {
    store::Inbox i;
    if (is_new) {
      if (static_cast<std::size_t>(store::count_inboxes(tx, p.workspace_id)) >= kMaxPerWorkspace)
        return http::json_error(409, "CONFLICT", "a workspace keeps at most 1000 inboxes");
      i.id = core::new_id("ibx");
      i.workspace_id = p.workspace_id;
    } else if (auto found = store::load_inbox(tx, p.workspace_id, id)) {
      i = std::move(*found);
    } else {
      return inbox_not_found();
    }
    if (!name.empty()) i.name = name;
    if (has_agents) i.agent_ids = agents;
    if (has_teams) i.team_ids = teams;
    if (has_integrations) i.integration_ids = integrations;
    if (auto err = read_auto_assignment(d, i)) return *err;
    if (auto err = read_business_hours(d, i.business_hours)) return *err;
    store::save_inbox(tx, i, is_new);
    store::set_inbox_members(tx, i, has_integrations);
    auto saved = store::load_inbox(tx, p.workspace_id, i.id);
    return http::json_ok(is_new ? 201 : 200, inbox_json(*saved));
  });
}

http::Response remove_inbox(Context& ctx, const Principal& p, const std::string& id) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto i = store::load_inbox(tx, p.workspace_id, id);
    if (!i) return inbox_not_found();
    if (i->is_default)
      return http::json_error(409, "CONFLICT",
                              "the default inbox cannot be deleted: the hosted form, the email alias and tickets "
                              "logged by hand arrive there");
    store::delete_inbox(tx, p.workspace_id, id);
    return http::json_ok(200, inbox_json(*i));
  });
}

// --- teams ---

http::Response team_not_found() { return http::json_error(404, "NOT_FOUND", "no such team"); }

http::Response list_teams(Context& ctx, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(200, json_array(store::list_teams(tx, p.workspace_id), team_json));
}

http::Response get_team(Context& ctx, const Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto t = store::load_team(tx, p.workspace_id, id);
  return t ? http::json_ok(200, team_json(*t)) : team_not_found();
}

http::Response put_team(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  const bool is_new = id.empty();
  std::string name;
  std::vector<std::string> agents;
  bool has_agents = false;
  std::optional<std::string> description;
  if (auto err = read_name(d, is_new, name)) return *err;
  if (auto err = read_ids(d, "agentIds", agents, has_agents)) return *err;
  if (const auto* v = core::json_member(d, "description")) {
    if (!v->IsString() ||
        core::utf8_length(std::string_view(v->GetString(), v->GetStringLength())) > kMaxDescriptionChars)
      return invalid_field("description", "description must be text of at most 500 characters");
    description = core::trim(std::string_view(v->GetString(), v->GetStringLength()));
  }
  return save(ctx, "team", name, [&](pqxx::work& tx) -> http::Response {
    store::Team t;
    if (is_new) {
      if (static_cast<std::size_t>(store::count_teams(tx, p.workspace_id)) >= kMaxPerWorkspace)
        return http::json_error(409, "CONFLICT", "a workspace keeps at most 1000 teams");
      t.id = core::new_id("team");
      t.workspace_id = p.workspace_id;
    } else if (auto found = store::load_team(tx, p.workspace_id, id)) {
      t = std::move(*found);
    } else {
      return team_not_found();
    }
    if (!name.empty()) t.name = name;
    if (description) t.description = *description;
    if (has_agents) t.agent_ids = agents;
    store::save_team(tx, t, is_new);
    return http::json_ok(is_new ? 201 : 200, team_json(t));
  });
}

http::Response remove_team(Context& ctx, const Principal& p, const std::string& id) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto t = store::load_team(tx, p.workspace_id, id);
    if (!t || !store::delete_team(tx, p.workspace_id, id)) return team_not_found();
    return http::json_ok(200, team_json(*t));
  });
}
}  // namespace

void add_inbox_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  const std::string inboxes = "/api/v1/inboxes", teams = "/api/v1/teams";
  add(r, ctx, "GET", inboxes, Access::kAgent, [&ctx](Q, P p) { return list_inboxes(ctx, p); });
  add(r, ctx, "POST", inboxes, Access::kAdmin, [&ctx](Q q, P p) { return put_inbox(ctx, q, p, ""); });
  add(r, ctx, "GET", inboxes + "/:id", Access::kAgent,
      [&ctx](Q q, P p) { return get_inbox(ctx, p, q.params.at("id")); });
  add(r, ctx, "PATCH", inboxes + "/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return put_inbox(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "DELETE", inboxes + "/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return remove_inbox(ctx, p, q.params.at("id")); });
  add(r, ctx, "GET", teams, Access::kAgent, [&ctx](Q, P p) { return list_teams(ctx, p); });
  add(r, ctx, "POST", teams, Access::kAdmin, [&ctx](Q q, P p) { return put_team(ctx, q, p, ""); });
  add(r, ctx, "GET", teams + "/:id", Access::kAgent, [&ctx](Q q, P p) { return get_team(ctx, p, q.params.at("id")); });
  add(r, ctx, "PATCH", teams + "/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return put_team(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "DELETE", teams + "/:id", Access::kAdmin,
      [&ctx](Q q, P p) { return remove_team(ctx, p, q.params.at("id")); });
}

}  // namespace loket::api
