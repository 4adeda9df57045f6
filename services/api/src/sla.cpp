// /api/v1/sla-policies (issue 21, docs/sla.md): targets for first response, next response and
// resolution per priority, optionally for one inbox and/or team.
#include "loket/store/sla.hpp"

#include <array>

#include "api.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/inboxes.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxNameChars = 100, kMaxPerWorkspace = 100;
constexpr int kMaxTargetMinutes = 366 * 24 * 60;
constexpr std::array<const char*, 4> kPriorities{"low", "normal", "high", "urgent"};
constexpr std::array<const char*, 3> kTargetKeys{"firstResponseMinutes", "nextResponseMinutes", "resolutionMinutes"};

std::string policy_json(const store::SlaPolicy& p) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", p.id);
  core::json_kv(w, "name", p.name);
  core::json_kv_opt(w, "inboxId", p.inbox_id);
  core::json_kv_opt(w, "teamId", p.team_id);
  core::json_put(w, "businessHours");
  w.Bool(p.business_hours);
  core::json_put(w, "pauseOn");
  w.StartArray();
  for (const auto& s : p.pause_on) core::json_put(w, s);
  w.EndArray();
  core::json_put(w, "warningPercent");
  if (p.warning_percent)
    w.Int(*p.warning_percent);
  else
    w.Null();
  core::json_put(w, "targets");
  w.StartObject();
  for (const auto& [priority, t] : p.targets) {
    core::json_put(w, priority);
    w.StartObject();
    const std::array<std::optional<int>, 3> values{t.first_response, t.next_response, t.resolution};
    for (std::size_t i = 0; i < values.size(); ++i) {
      core::json_put(w, kTargetKeys[i]);
      if (values[i])
        w.Int(*values[i]);
      else
        w.Null();
    }
    w.EndObject();
  }
  w.EndObject();
  core::json_kv(w, "createdAt", p.created_at);
  core::json_kv(w, "updatedAt", p.updated_at);
  w.EndObject();
  return sb.GetString();
}

http::Response not_found() { return http::json_error(404, "NOT_FOUND", "no such SLA policy"); }

// `targets`: {"urgent": {"firstResponseMinutes": 15, "nextResponseMinutes": 30,
// "resolutionMinutes": 480}, …}: known priorities, known keys, 1 minute to a year, null = none.
std::optional<http::Response> read_targets(const rapidjson::Value& v, std::map<std::string, store::SlaTargets>& out) {
  const std::string shape =
      "must be an object of priorities (low, normal, high, urgent), each {firstResponseMinutes, "
      "nextResponseMinutes, resolutionMinutes}: whole minutes from 1 to 527040, or null";
  if (!v.IsObject() || v.MemberCount() == 0 || v.MemberCount() > kPriorities.size())
    return invalid_field("targets", shape);
  for (auto it = v.MemberBegin(); it != v.MemberEnd(); ++it) {
    const std::string priority(it->name.GetString(), it->name.GetStringLength());
    if (std::find(kPriorities.begin(), kPriorities.end(), priority) == kPriorities.end() || !it->value.IsObject())
      return invalid_field("targets", shape);
    store::SlaTargets t;
    std::array<std::optional<int>*, 3> fields{&t.first_response, &t.next_response, &t.resolution};
    for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m) {
      const std::string key(m->name.GetString(), m->name.GetStringLength());
      auto k = std::find(kTargetKeys.begin(), kTargetKeys.end(), key);
      if (k == kTargetKeys.end()) return invalid_field("targets." + priority, shape);
      if (m->value.IsNull()) continue;
      if (!m->value.IsInt() || m->value.GetInt() < 1 || m->value.GetInt() > kMaxTargetMinutes)
        return invalid_field("targets." + priority + "." + key, shape);
      *fields[static_cast<std::size_t>(k - kTargetKeys.begin())] = m->value.GetInt();
    }
    out[priority] = t;
  }
  return std::nullopt;
}

// Reads the fields present in `d` into `p` (all of them for a new policy).
std::optional<http::Response> read_policy(const rapidjson::Value& d, bool is_new, store::SlaPolicy& p) {
  if (const auto* v = core::json_member(d, "name"); v || is_new) {
    std::string name = v && v->IsString() ? core::trim(v->GetString()) : "";
    if (name.empty() || core::utf8_length(name) > kMaxNameChars)
      return invalid_field("name", "must be 1–100 characters");
    p.name = name;
  }
  for (const char* key : {"inboxId", "teamId"})
    if (const auto* v = core::json_member(d, key)) {
      if (!v->IsNull() && (!v->IsString() || v->GetStringLength() == 0 || v->GetStringLength() > 64))
        return invalid_field(key, "must be an id of the workspace, or null for any");
      (std::string(key) == "inboxId" ? p.inbox_id : p.team_id) =
          v->IsNull() ? std::nullopt : std::optional<std::string>(v->GetString());
    }
  if (const auto* v = core::json_member(d, "businessHours")) {
    if (!v->IsBool()) return invalid_field("businessHours", "must be true (the inbox's business hours) or false");
    p.business_hours = v->GetBool();
  }
  if (const auto* v = core::json_member(d, "pauseOn")) {
    if (!v->IsArray() || v->Size() > 2) return invalid_field("pauseOn", "must be a list of pending and/or snoozed");
    p.pause_on.clear();
    for (const auto& s : v->GetArray()) {
      const std::string status = s.IsString() ? s.GetString() : "";
      if (status != "pending" && status != "snoozed")
        return invalid_field("pauseOn", "must be a list of pending and/or snoozed");
      if (std::find(p.pause_on.begin(), p.pause_on.end(), status) == p.pause_on.end()) p.pause_on.push_back(status);
    }
  }
  if (const auto* v = core::json_member(d, "warningPercent")) {
    if (!v->IsNull() && (!v->IsInt() || v->GetInt() < 1 || v->GetInt() > 99))
      return invalid_field("warningPercent", "must be a whole percentage from 1 to 99, or null for no warning");
    p.warning_percent = v->IsNull() ? std::nullopt : std::optional<int>(v->GetInt());
  }
  if (const auto* v = core::json_member(d, "targets"); v || is_new) {
    if (!v) return invalid_field("targets", "is required");
    p.targets.clear();
    if (auto err = read_targets(*v, p.targets)) return err;
  }
  return std::nullopt;
}

http::Response list(Context& ctx, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  return http::json_ok(200, json_array(store::list_sla_policies(tx, p.workspace_id), policy_json));
}

http::Response get(Context& ctx, const Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto policy = store::load_sla_policy(tx, p.workspace_id, id);
  return policy ? http::json_ok(200, policy_json(*policy)) : not_found();
}

// Create (`id` empty) or update a policy from body `req`.
http::Response put(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  try {
    return write(ctx, [&](pqxx::work& tx) -> http::Response {
      store::SlaPolicy policy;
      if (id.empty()) {
        if (store::list_sla_policies(tx, p.workspace_id).size() >= kMaxPerWorkspace)
          return http::json_error(409, "CONFLICT", "a workspace keeps at most 100 SLA policies");
        policy.workspace_id = p.workspace_id;
      } else if (auto found = store::load_sla_policy(tx, p.workspace_id, id)) {
        policy = std::move(*found);
      } else {
        return not_found();
      }
      if (auto err = read_policy(d, id.empty(), policy)) return *err;
      if (policy.inbox_id && !store::load_inbox(tx, p.workspace_id, *policy.inbox_id))
        return invalid_field("inboxId", "is not an inbox of this workspace");
      if (policy.team_id && !store::load_team(tx, p.workspace_id, *policy.team_id))
        return invalid_field("teamId", "is not a team of this workspace");
      store::save_sla_policy(tx, policy);
      return http::json_ok(id.empty() ? 201 : 200, policy_json(policy));
    });
  } catch (const pqxx::unique_violation&) {
    return http::json_error(409, "CONFLICT", "an SLA policy with that name exists");
  }
}

http::Response remove(Context& ctx, const Principal& p, const std::string& id) {
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto policy = store::load_sla_policy(tx, p.workspace_id, id);
    if (!policy || !store::delete_sla_policy(tx, p.workspace_id, id)) return not_found();
    return http::json_ok(200, policy_json(*policy));
  });
}
}  // namespace

void add_sla_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  const std::string base = "/api/v1/sla-policies";
  add(r, ctx, "GET", base, Access::kAgent, [&ctx](Q, P p) { return list(ctx, p); });
  add(r, ctx, "POST", base, Access::kAdmin, [&ctx](Q q, P p) { return put(ctx, q, p, ""); });
  add(r, ctx, "GET", base + "/:id", Access::kAgent, [&ctx](Q q, P p) { return get(ctx, p, q.params.at("id")); });
  add(r, ctx, "PATCH", base + "/:id", Access::kAdmin, [&ctx](Q q, P p) { return put(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "DELETE", base + "/:id", Access::kAdmin, [&ctx](Q q, P p) { return remove(ctx, p, q.params.at("id")); });
}

}  // namespace loket::api
