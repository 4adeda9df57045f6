// Reports (issue 21, docs/reports.md).
#include "loket/store/reports.hpp"

#include <rapidjson/document.h>

#include "loket/hours/hours.hpp"

namespace loket::store {
namespace {
// The group key of a row whose time is `ts`, as SQL over tickets `t` (`tz`: the time zone's
// parameter).
std::string key_of(ReportGroup g, const std::string& ts, const std::string& tz = "$4") {
  switch (g) {
    case ReportGroup::kDay:
      return "to_char(date_trunc('day', (" + ts + ") AT TIME ZONE " + tz + "), 'YYYY-MM-DD')";
    case ReportGroup::kWeek:
      return "to_char(date_trunc('week', (" + ts + ") AT TIME ZONE " + tz + "), 'YYYY-MM-DD')";
    case ReportGroup::kChannel:
      return "t.channel";
    case ReportGroup::kInbox:
      return "coalesce(t.inbox_id, 'none')";
    case ReportGroup::kTeam:
      return "coalesce(t.team_id, 'none')";
    case ReportGroup::kAgent:
      return "coalesce(t.assignee_id, 'none')";
    case ReportGroup::kNone:
      break;
  }
  return "''";
}

bool by_time(ReportGroup g) { return g == ReportGroup::kDay || g == ReportGroup::kWeek; }

// Runs `select` (columns after the key) over `from` (rows of tickets `t`, timed by `ts`) per group
// and in total: rows of (key or NULL for the total, columns…).
pqxx::result grouped(pqxx::transaction_base& tx, const std::string& workspace_id, const ReportQuery& q,
                     const std::string& ts, const std::string& from, const std::string& inner_columns,
                     const std::string& select) {
  const bool total_only = q.group == ReportGroup::kNone;
  const std::string sql = std::string("SELECT ") +
                          (total_only ? "NULL::text" : "CASE WHEN GROUPING(k) = 1 THEN NULL ELSE k END") + ", " +
                          select + " FROM (SELECT " + key_of(q.group, ts) + " AS k, " + inner_columns + " FROM " +
                          from + " AND " + ts + " >= $2::timestamptz AND " + ts + " < $3::timestamptz) s" +
                          (total_only ? "" : " GROUP BY GROUPING SETS ((k), ())");
  std::vector<std::string> args{workspace_id, q.from, q.to};
  if (by_time(q.group)) args.push_back(q.time_zone);
  return tx.exec_params(sql, pqxx::prepare::make_dynamic_params(args));
}

std::optional<double> opt_double(const pqxx::field& f) {
  return f.is_null() ? std::nullopt : std::optional<double>(f.as<double>());
}

// Durations from creation to `end` (a ticket column) of the tickets whose `end` is in the period,
// with their SLA attainment for `target` (`minutes`: the policy's key; targeted: the ticket's policy
// set it for its priority; attained: it is not among the ticket's breaches).
void durations(pqxx::transaction_base& tx, const std::string& workspace_id, const ReportQuery& q,
               std::map<std::string, ReportFigures>& out, const char* end, const char* business, const char* target,
               const char* minutes, DurationStats ReportFigures::*field) {
  const std::string ts = std::string("t.") + end;
  for (const auto& r :
       grouped(tx, workspace_id, q, ts,
               "tickets t LEFT JOIN ticket_sla s ON s.ticket_id = t.id LEFT JOIN sla_policies p ON p.id = s.policy_id "
               "WHERE t.workspace_id = $1 AND t.merged_into_id IS NULL AND " +
                   ts + " IS NOT NULL",
               "extract(epoch FROM " + ts + " - t.created_at)::float8 AS d, t." + business +
                   "::float8 AS b, coalesce(p.targets -> t.priority ->> '" + minutes +
                   "' IS NOT NULL, false) AS targeted, coalesce(s.breaches @> '[{\"target\":\"" + target +
                   "\"}]', false) AS breached",
               "count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.9) WITHIN GROUP "
               "(ORDER BY d), percentile_cont(0.5) WITHIN GROUP (ORDER BY b), percentile_cont(0.9) WITHIN "
               "GROUP (ORDER BY b), count(*) FILTER (WHERE targeted), count(*) FILTER (WHERE targeted AND NOT "
               "breached)")) {
    auto& s = out[r[0].is_null() ? "" : r[0].as<std::string>()].*field;
    s.count = r[1].as<long>();
    s.median_s = opt_double(r[2]);
    s.p90_s = opt_double(r[3]);
    s.business_median_s = opt_double(r[4]);
    s.business_p90_s = opt_double(r[5]);
    s.sla_targeted = r[6].as<long>();
    s.sla_attained = r[7].as<long>();
  }
}

// The backlog (open, pending, snoozed) at each group's end: today's, less the changes into it and
// plus those out of it since then (the status log from the period's start on).
void backlog(pqxx::transaction_base& tx, const std::string& workspace_id, const ReportQuery& q,
             std::map<std::string, ReportFigures>& out) {
  const std::string open = "('open', 'pending', 'snoozed')";
  const std::string delta = "CASE WHEN l.to_status IN " + open + " AND coalesce(l.from_status, '') NOT IN " + open +
                            " THEN 1 WHEN l.from_status IN " + open + " AND l.to_status NOT IN " + open +
                            " THEN -1 ELSE 0 END";
  const bool time = by_time(q.group);
  const std::string dim = time ? "''::text" : key_of(q.group, "");
  std::map<std::string, long> now;  // per dimension key ("" when not grouped by one)
  for (const auto& r : tx.exec_params("SELECT " + dim +
                                          ", count(*) FROM tickets t WHERE t.workspace_id = $1 AND t.merged_into_id "
                                          "IS NULL AND t.status IN " +
                                          open + " GROUP BY 1",
                                      workspace_id))
    now[r[0].as<std::string>()] = r[1].as<long>();
  // Changes since the period's end per dimension, and for time groups per day or week since its start.
  std::map<std::string, long> after_end, per_bucket;
  std::vector<std::string> args{workspace_id, q.from, q.to};
  if (time) args.push_back(q.time_zone);
  const std::string bucket = time ? key_of(q.group, "l.at") : "''::text";
  for (const auto& r : tx.exec_params(
           "SELECT " + dim + ", " + bucket + ", coalesce(sum(" + delta + ") FILTER (WHERE l.at >= $3::timestamptz), " +
               "0), sum(" + delta +
               ") FROM ticket_status_log l JOIN tickets t ON t.id = l.ticket_id WHERE l.workspace_id = $1 AND "
               "t.merged_into_id IS NULL AND l.at >= $2::timestamptz GROUP BY 1, 2",
           pqxx::prepare::make_dynamic_params(args))) {
    after_end[r[0].as<std::string>()] += r[2].as<long>();
    per_bucket[r[1].as<std::string>()] += r[3].as<long>();
  }
  // The day or week the period ends in: its backlog is the period's end's, not its own end's.
  const std::string last =
      time ? tx.exec_params1("SELECT " + key_of(q.group, "$1::timestamptz - interval '1 microsecond'", "$2"), q.to,
                             q.time_zone)[0]
                 .as<std::string>()
           : "";
  auto total = [](const std::map<std::string, long>& m) {
    long n = 0;
    for (const auto& [k, v] : m) n += v;
    return n;
  };
  for (auto& [key, f] : out) {
    if (key.empty()) {
      f.backlog = total(now) - total(after_end);
    } else if (time) {  // at the end of the day or week: less every change in later ones
      long later = 0;
      for (auto it = per_bucket.upper_bound(key); it != per_bucket.end(); ++it) later += it->second;
      f.backlog = total(now) - (key == last ? total(after_end) : later);
    } else {
      f.backlog = now[key] - after_end[key];
    }
  }
}

// Seconds between `from_s` and `to_s` (epoch seconds) in the business hours `schedule` (JSON as
// stored on the inbox), or calendar seconds without one.
std::int64_t business_seconds(const std::optional<std::string>& schedule, std::int64_t from_s, std::int64_t to_s) {
  if (to_s <= from_s) return 0;
  if (schedule) {
    rapidjson::Document d;
    d.Parse(schedule->c_str());
    std::string error;
    if (auto s = hours::parse(d, error))
      return hours::open_between(*s, hours::TimePoint(std::chrono::seconds(from_s)),
                                 hours::TimePoint(std::chrono::seconds(to_s)))
          .count();
  }
  return to_s - from_s;
}

// Stores `column` = business seconds from creation to `end` for ticket `id`, when `end` is set (and,
// with `once`, `column` is not yet).
void note_business_time(pqxx::work& tx, const std::string& id, const char* end, const char* column, bool once) {
  auto r =
      tx.exec_params(std::string("SELECT (extract(epoch FROM t.created_at))::bigint, (extract(epoch FROM t.") + end +
                         "))::bigint, i.business_hours FROM tickets t LEFT JOIN inboxes i ON i.id = "
                         "t.inbox_id WHERE t.id = $1 AND t." +
                         end + " IS NOT NULL" + (once ? std::string(" AND t.") + column + " IS NULL" : ""),
                     id);
  if (r.empty()) return;
  const auto seconds = business_seconds(r[0][2].is_null() ? std::nullopt : std::optional(r[0][2].as<std::string>()),
                                        r[0][0].as<std::int64_t>(), r[0][1].as<std::int64_t>());
  tx.exec_params0(std::string("UPDATE tickets SET ") + column + " = $2 WHERE id = $1", id, seconds);
}
}  // namespace

std::map<std::string, ReportFigures> report(pqxx::transaction_base& tx, const std::string& workspace_id,
                                            const ReportQuery& q) {
  std::map<std::string, ReportFigures> out;
  out[""];  // the totals, also of an empty period
  auto key = [](const pqxx::field& f) { return f.is_null() ? std::string() : f.as<std::string>(); };
  for (const auto& r : grouped(tx, workspace_id, q, "t.created_at",
                               "tickets t WHERE t.workspace_id = $1 AND t.merged_into_id IS NULL", "t.id", "count(*)"))
    out[key(r[0])].created = r[1].as<long>();
  // Resolutions and reopenings: status changes into resolved/closed from another status, and out
  // of them; a ticket counts once per group however often it changed.
  for (const auto& r : grouped(
           tx, workspace_id, q, "l.at",
           "ticket_status_log l JOIN tickets t ON t.id = l.ticket_id WHERE l.workspace_id = $1 AND "
           "t.merged_into_id IS NULL",
           "l.ticket_id, l.to_status IN ('resolved', 'closed') AND coalesce(l.from_status, 'open') NOT IN "
           "('resolved', 'closed') AS resolved, l.from_status IN ('resolved', 'closed') AND l.to_status NOT IN "
           "('resolved', 'closed') AS reopened",
           "count(DISTINCT ticket_id) FILTER (WHERE resolved), count(DISTINCT ticket_id) FILTER (WHERE reopened)")) {
    auto& f = out[key(r[0])];
    f.resolved = r[1].as<long>();
    f.reopened = r[2].as<long>();
  }
  durations(tx, workspace_id, q, out, "first_response_at", "first_response_business_s", "first_response",
            "firstResponseMinutes", &ReportFigures::first_response);
  durations(tx, workspace_id, q, out, "resolved_at", "resolution_business_s", "resolution", "resolutionMinutes",
            &ReportFigures::resolution);
  for (const auto& r : grouped(tx, workspace_id, q, "t.csat_at",
                               "tickets t WHERE t.workspace_id = $1 AND t.merged_into_id IS NULL AND t.csat_score IS "
                               "NOT NULL",
                               "t.csat_score AS score",
                               "count(*), avg(score)::float8, count(*) FILTER (WHERE score = 1), count(*) FILTER "
                               "(WHERE score = 2), count(*) FILTER (WHERE score = 3), count(*) FILTER (WHERE score = "
                               "4), count(*) FILTER (WHERE score = 5)")) {
    auto& f = out[key(r[0])];
    f.csat_responses = r[1].as<long>();
    f.csat_average = opt_double(r[2]);
    for (std::size_t i = 0; i < 5; ++i) f.csat_distribution[i] = r[static_cast<int>(i) + 3].as<long>();
  }
  backlog(tx, workspace_id, q, out);
  return out;
}

void note_first_response_time(pqxx::work& tx, const Ticket& t) {
  note_business_time(tx, t.id, "first_response_at", "first_response_business_s", true);
}

void note_resolution_time(pqxx::work& tx, const Ticket& t) {
  note_business_time(tx, t.id, "resolved_at", "resolution_business_s", false);
}

}  // namespace loket::store
