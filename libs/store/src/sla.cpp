// SLA policies and ticket clocks (issue 21, docs/sla.md).
#include "loket/store/sla.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>

#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/hours/hours.hpp"
#include "loket/store/store.hpp"
#include "rows.hpp"

namespace loket::store {
namespace {
using hours::TimePoint;
using std::chrono::seconds;

constexpr const char* kPolicyColumns =
    "id, workspace_id, name, inbox_id, team_id, business_hours, array_to_string(pause_on, ','), warning_percent, "
    "targets::text, rfc3339(created_at), rfc3339(updated_at)";
constexpr std::array<const char*, 3> kTargets{"first_response", "next_response", "resolution"};
constexpr std::array<const char*, 3> kTargetKeys{"firstResponseMinutes", "nextResponseMinutes", "resolutionMinutes"};

std::map<std::string, SlaTargets> targets_from(const std::string& json) {
  std::map<std::string, SlaTargets> out;
  rapidjson::Document d;
  d.Parse(json.c_str());
  if (!d.IsObject()) return out;
  for (auto it = d.MemberBegin(); it != d.MemberEnd(); ++it) {
    if (!it->value.IsObject()) continue;
    auto& t = out[it->name.GetString()];
    auto minutes = [&](const char* k) -> std::optional<int> {
      auto v = core::json_int(it->value, k);
      return v ? std::optional<int>(static_cast<int>(*v)) : std::nullopt;
    };
    t.first_response = minutes(kTargetKeys[0]);
    t.next_response = minutes(kTargetKeys[1]);
    t.resolution = minutes(kTargetKeys[2]);
  }
  return out;
}

std::string targets_json(const std::map<std::string, SlaTargets>& targets) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  for (const auto& [priority, t] : targets) {
    core::json_put(w, priority);
    w.StartObject();
    const std::array<std::optional<int>, 3> values{t.first_response, t.next_response, t.resolution};
    for (std::size_t i = 0; i < 3; ++i)
      if (values[i]) {
        core::json_put(w, kTargetKeys[i]);
        w.Int(*values[i]);
      }
    w.EndObject();
  }
  w.EndObject();
  return sb.GetString();
}

// A comma-separated list without empty items.
std::vector<std::string> list_of(const std::string& s) {
  auto out = core::split(s, ',');
  out.erase(std::remove(out.begin(), out.end(), ""), out.end());
  return out;
}

SlaPolicy policy_from_row(const pqxx::row& r) {
  SlaPolicy p;
  p.id = r[0].as<std::string>();
  p.workspace_id = r[1].as<std::string>();
  p.name = r[2].as<std::string>();
  p.inbox_id = opt(r[3]);
  p.team_id = opt(r[4]);
  p.business_hours = r[5].as<bool>();
  p.pause_on = list_of(r[6].as<std::string>());
  p.warning_percent = r[7].is_null() ? std::nullopt : std::optional<int>(r[7].as<int>());
  p.targets = targets_from(r[8].as<std::string>());
  p.created_at = r[9].as<std::string>();
  p.updated_at = r[10].as<std::string>();
  return p;
}

TimePoint at_ms(std::int64_t ms) { return TimePoint(seconds(ms / 1000)); }
std::string rfc3339(TimePoint t) { return core::rfc3339_ms(t.time_since_epoch().count() * 1000); }
std::optional<TimePoint> parse_time(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  auto ms = core::parse_rfc3339_ms(*s);
  return ms ? std::optional(at_ms(*ms)) : std::nullopt;
}

// The time the policy counts in: the inbox's business hours, or calendar time (no schedule).
struct Clock {
  std::optional<hours::Schedule> schedule;
  seconds between(TimePoint a, TimePoint b) const {
    if (b <= a) return seconds(0);
    return schedule ? hours::open_between(*schedule, a, b) : std::chrono::duration_cast<seconds>(b - a);
  }
  std::optional<TimePoint> add(TimePoint from, seconds d) const {
    return schedule ? hours::add_open(*schedule, from, d) : std::optional(from + d);
  }
};

// A ticket's clocks row.
struct State {
  std::optional<TimePoint> paused_since, next_since;
  std::int64_t paused_s = 0, next_paused_base = 0;
  int next_cycle = 0;
  std::vector<std::string> warned, breached;
  std::string breaches = "[]";
  bool has(const std::vector<std::string>& list, const std::string& key) const {
    return std::find(list.begin(), list.end(), key) != list.end();
  }
};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

void clear_sla(pqxx::work& tx, Ticket& t) {
  tx.exec_params0(
      "WITH d AS (DELETE FROM ticket_sla WHERE ticket_id = $1) "
      "UPDATE tickets SET sla = NULL, sla_due = NULL, sla_alert_at = NULL, sla_state = NULL WHERE id = $1",
      t.id);
  t.sla.reset();
}
}  // namespace

std::vector<SlaPolicy> list_sla_policies(pqxx::transaction_base& tx, const std::string& workspace_id) {
  std::vector<SlaPolicy> out;
  for (const auto& r : tx.exec_params(std::string("SELECT ") + kPolicyColumns +
                                          " FROM sla_policies WHERE workspace_id = $1 ORDER BY created_at, id",
                                      workspace_id))
    out.push_back(policy_from_row(r));
  return out;
}

std::optional<SlaPolicy> load_sla_policy(pqxx::transaction_base& tx, const std::string& workspace_id,
                                         const std::string& id) {
  auto r =
      tx.exec_params(std::string("SELECT ") + kPolicyColumns + " FROM sla_policies WHERE workspace_id = $1 AND id = $2",
                     workspace_id, id);
  if (r.empty()) return std::nullopt;
  return policy_from_row(r[0]);
}

void save_sla_policy(pqxx::work& tx, SlaPolicy& p) {
  if (p.id.empty()) p.id = core::new_id("sla");
  auto r = tx.exec_params(
      std::string("INSERT INTO sla_policies (id, workspace_id, name, inbox_id, team_id, business_hours, pause_on, "
                  "warning_percent, targets) VALUES ($1, $2, $3, $4, $5, $6, coalesce(string_to_array(nullif($7, ''), "
                  "','), '{}'), "
                  "$8, $9::jsonb) ON CONFLICT (id) DO UPDATE SET name = $3, inbox_id = $4, team_id = $5, "
                  "business_hours = $6, pause_on = coalesce(string_to_array(nullif($7, ''), ','), '{}'), "
                  "warning_percent = $8, targets = $9::jsonb, updated_at = now() WHERE sla_policies.workspace_id = "
                  "$2 RETURNING ") +
          kPolicyColumns,
      p.id, p.workspace_id, p.name, p.inbox_id, p.team_id, p.business_hours, join(p.pause_on), p.warning_percent,
      targets_json(p.targets));
  if (!r.empty()) p = policy_from_row(r[0]);
}

bool delete_sla_policy(pqxx::work& tx, const std::string& workspace_id, const std::string& id) {
  tx.exec_params0(
      "UPDATE tickets SET sla = NULL, sla_due = NULL, sla_alert_at = NULL, sla_state = NULL WHERE id IN (SELECT "
      "ticket_id FROM ticket_sla WHERE policy_id = $1) AND workspace_id = $2",
      id, workspace_id);
  tx.exec_params0("DELETE FROM ticket_sla WHERE policy_id = $1", id);
  return !tx.exec_params("DELETE FROM sla_policies WHERE workspace_id = $1 AND id = $2 RETURNING id", workspace_id, id)
              .empty();
}

void refresh_sla(pqxx::work& tx, Ticket& t, const std::optional<std::string>& status_from, bool agent_replied) {
  // The most specific policy with targets for the ticket's priority: inbox and team, inbox, team,
  // any; the oldest first. Its clock: the inbox's business hours when it counts in them.
  auto found = tx.exec_params(
      std::string("SELECT ") + kPolicyColumns +
          ", (SELECT i.business_hours FROM inboxes i WHERE i.id = $2), (extract(epoch FROM now()) * 1000)::bigint FROM "
          "sla_policies WHERE workspace_id "
          "= $1 AND (inbox_id IS NULL OR inbox_id = $2) AND (team_id IS NULL OR team_id = $3) AND targets ? $4 "
          "ORDER BY (inbox_id IS NOT NULL) DESC, (team_id IS NOT NULL) DESC, created_at, id LIMIT 1",
      t.workspace_id, t.inbox_id, t.team_id, t.priority);
  if (found.empty()) {
    if (t.sla) clear_sla(tx, t);
    return;
  }
  const auto policy = policy_from_row(found[0]);
  const auto targets = policy.targets.at(t.priority);
  Clock clock;
  if (policy.business_hours && !found[0][11].is_null()) {
    rapidjson::Document d;
    d.Parse(found[0][11].as<std::string>().c_str());
    std::string error;
    clock.schedule = hours::parse(d, error);
  }
  const TimePoint now = at_ms(found[0][12].as<std::int64_t>());

  State st;
  auto row = tx.exec_params(
      "SELECT policy_id, (extract(epoch FROM paused_since))::bigint, paused_s, (extract(epoch FROM "
      "next_since))::bigint, next_paused_base, next_cycle, array_to_string(warned, ','), "
      "array_to_string(breached, ','), breaches::text FROM ticket_sla WHERE ticket_id = $1",
      t.id);
  if (!row.empty() && row[0][0].as<std::string>() == policy.id) {
    const auto& r = row[0];
    if (!r[1].is_null()) st.paused_since = TimePoint(seconds(r[1].as<std::int64_t>()));
    st.paused_s = r[2].as<std::int64_t>();
    if (!r[3].is_null()) st.next_since = TimePoint(seconds(r[3].as<std::int64_t>()));
    st.next_paused_base = r[4].as<std::int64_t>();
    st.next_cycle = r[5].as<int>();
    st.warned = list_of(r[6].as<std::string>());
    st.breached = list_of(r[7].as<std::string>());
    st.breaches = r[8].as<std::string>();
  }  // another policy now: its clocks start over from the ticket's creation

  // Pauses: time spent in a pause status does not count.
  const bool paused = std::find(policy.pause_on.begin(), policy.pause_on.end(), t.status) != policy.pause_on.end();
  if (paused && !st.paused_since) st.paused_since = now;
  if (!paused && st.paused_since) {
    st.paused_s += clock.between(*st.paused_since, now).count();
    st.paused_since.reset();
  }
  const TimePoint created = parse_time(t.created_at).value_or(now);
  const bool done = t.status == "resolved" || t.status == "closed";
  // Each target: when it started, the minutes, when it stopped being awaited (met), its key.
  struct Run {
    const char* target;
    std::string key;
    std::optional<int> minutes;
    TimePoint start;
    std::int64_t paused_s;
    std::optional<TimePoint> met;
  };
  const auto first_met = parse_time(t.first_response_at);
  std::vector<Run> runs{
      {kTargets[0], kTargets[0], targets.first_response, created, st.paused_s, first_met},
      {kTargets[2], kTargets[2], targets.resolution, created, st.paused_s,
       done ? parse_time(t.resolved_at).value_or(now) : std::optional<TimePoint>()},
  };
  if (st.next_since)
    runs.push_back({kTargets[1], std::string(kTargets[1]) + ":" + std::to_string(st.next_cycle), targets.next_response,
                    *st.next_since, st.paused_s - st.next_paused_base,
                    agent_replied || done ? std::optional(now) : std::nullopt});

  rapidjson::Document breaches;
  breaches.Parse(st.breaches.c_str());
  if (!breaches.IsArray()) breaches.SetArray();
  std::optional<TimePoint> first_due, next_due, resolution_due, due_min, alert_at;
  bool at_risk = false;
  std::vector<events::SlaAlert> alerts;  // emitted once the ticket shows them
  for (const auto& run : runs) {
    if (!run.minutes) continue;
    const seconds target(static_cast<std::int64_t>(*run.minutes) * 60);
    auto due = clock.add(run.start, target + seconds(run.paused_s));
    if (!due) continue;  // the schedule never opens that long: no due time
    const TimePoint until = run.met.value_or(now);
    // While paused the clock stands still: nothing comes due; the due time shows when it resumes.
    const bool running = !run.met && !paused;
    if (!st.has(st.breached, run.key) && *due <= until && (run.met || !paused)) {
      st.breached.push_back(run.key);
      rapidjson::Value b(rapidjson::kObjectType);
      b.AddMember("target", rapidjson::Value(run.target, breaches.GetAllocator()), breaches.GetAllocator());
      b.AddMember("dueAt", rapidjson::Value(rfc3339(*due).c_str(), breaches.GetAllocator()), breaches.GetAllocator());
      breaches.PushBack(b, breaches.GetAllocator());
      alerts.push_back({true, {}, run.target, rfc3339(*due)});
    }
    if (!running) continue;
    if (run.target == kTargets[0]) first_due = due;
    if (run.target == kTargets[1]) next_due = due;
    if (run.target == kTargets[2]) resolution_due = due;
    if (!due_min || *due < *due_min) due_min = due;
    const bool breached = st.has(st.breached, run.key);
    if (!breached && (!alert_at || *due < *alert_at)) alert_at = due;
    if (policy.warning_percent && !breached) {
      auto warn = clock.add(run.start, target * *policy.warning_percent / 100 + seconds(run.paused_s));
      if (warn && *warn <= now) {
        at_risk = true;
        if (!st.has(st.warned, run.key)) {
          st.warned.push_back(run.key);
          alerts.push_back({false, {}, run.target, rfc3339(*due)});
        }
      } else if (warn && (!alert_at || *warn < *alert_at)) {
        alert_at = warn;
      }
    }
  }
  // The next-response wait: ends at an agent's reply (or resolving); a new one starts when the
  // ticket goes back to open after a first response (the customer wrote, or it was reopened).
  if (st.next_since && (agent_replied || done)) {
    // A wait under a next-response target ended: recorded for reports (met unless breached).
    if (targets.next_response)
      tx.exec_params0(
          "INSERT INTO ticket_sla_waits (ticket_id, workspace_id, ended_at, met) VALUES ($1, $2, now(), $3)", t.id,
          t.workspace_id, !st.has(st.breached, std::string(kTargets[1]) + ":" + std::to_string(st.next_cycle)));
    st.next_since.reset();
  }
  const bool reopened = status_from && *status_from != "open" && t.status == "open";
  if (!st.next_since && reopened && first_met && !agent_replied) {
    st.next_since = now;
    st.next_paused_base = st.paused_s;
    ++st.next_cycle;
    if (targets.next_response) {
      const seconds target(static_cast<std::int64_t>(*targets.next_response) * 60);
      if (auto due = clock.add(now, target)) {
        next_due = due;
        if (!due_min || *due < *due_min) due_min = due;
        auto alert = policy.warning_percent ? clock.add(now, target * *policy.warning_percent / 100) : due;
        if (alert && (!alert_at || *alert < *alert_at)) alert_at = alert;
      }
    }
  }

  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "policyId", policy.id);
  auto put_time = [&](const char* k, const std::optional<TimePoint>& v) {
    core::json_kv_opt(w, k, v ? std::optional(rfc3339(*v)) : std::nullopt);
  };
  put_time("firstResponseDueAt", first_due);
  put_time("nextResponseDueAt", next_due);
  put_time("resolutionDueAt", resolution_due);
  core::json_put(w, "paused");
  w.Bool(paused);
  core::json_put(w, "breaches");
  breaches.Accept(w);
  w.EndObject();
  t.sla = sb.GetString();
  for (auto& alert : alerts) {
    alert.ticket = t;
    emit_ticket_event(tx, t.workspace_id, t.id, std::move(alert));
  }
  const std::string state = !st.breached.empty() ? "breached" : at_risk ? "at_risk" : "ok";
  auto opt_time = [](const std::optional<TimePoint>& v) {
    return v ? std::optional(rfc3339(*v)) : std::optional<std::string>();
  };
  tx.exec_params0(
      "WITH s AS (INSERT INTO ticket_sla (ticket_id, policy_id, paused_since, paused_s, next_since, "
      "next_paused_base, next_cycle, warned, breached, breaches) VALUES ($1, $2, to_timestamp($3::bigint), $4, "
      "to_timestamp($5::bigint), $6, $7, coalesce(string_to_array(nullif($8, ''), ','), '{}'), "
      "coalesce(string_to_array(nullif($9, ''), ','), '{}'), $10::jsonb) ON CONFLICT (ticket_id) DO UPDATE SET "
      "policy_id = EXCLUDED.policy_id, paused_since = "
      "EXCLUDED.paused_since, paused_s = EXCLUDED.paused_s, next_since = EXCLUDED.next_since, next_paused_base = "
      "EXCLUDED.next_paused_base, next_cycle = EXCLUDED.next_cycle, warned = EXCLUDED.warned, "
      "breached = EXCLUDED.breached, breaches = EXCLUDED.breaches) "
      "UPDATE tickets SET sla = $11, sla_due = $12::timestamptz, sla_alert_at = $13::timestamptz, sla_state = $14 "
      "WHERE id = $1",
      t.id, policy.id,
      st.paused_since ? std::optional(st.paused_since->time_since_epoch().count()) : std::optional<std::int64_t>(),
      st.paused_s,
      st.next_since ? std::optional(st.next_since->time_since_epoch().count()) : std::optional<std::int64_t>(),
      st.next_paused_base, st.next_cycle, join(st.warned), join(st.breached),
      [&] {
        rapidjson::StringBuffer b;
        core::JsonWriter bw(b);
        breaches.Accept(bw);
        return std::string(b.GetString());
      }(),
      *t.sla, opt_time(due_min), opt_time(alert_at), state);
}

int sweep_sla(pqxx::work& tx, int limit) {
  return for_due_tickets(tx, "WHERE sla_alert_at <= now() ORDER BY sla_alert_at", limit,
                         [&](Ticket& t) { refresh_sla(tx, t); });
}

}  // namespace loket::store
