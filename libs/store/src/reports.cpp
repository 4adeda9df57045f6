// Reports (issue 21, docs/reports.md).
#include "loket/store/reports.hpp"

#include <rapidjson/document.h>

#include "loket/hours/hours.hpp"

namespace loket::store {
namespace {
// The group key of a row whose time is `ts`, as SQL over tickets `t` ($4 is the time zone).
std::string key_of(ReportGroup g, const std::string& ts) {
  switch (g) {
    case ReportGroup::kDay:
      return "to_char(date_trunc('day', (" + ts + ") AT TIME ZONE $4), 'YYYY-MM-DD')";
    case ReportGroup::kWeek:
      return "to_char(date_trunc('week', (" + ts + ") AT TIME ZONE $4), 'YYYY-MM-DD')";
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

void durations(pqxx::transaction_base& tx, const std::string& workspace_id, const ReportQuery& q,
               std::map<std::string, ReportFigures>& out, const char* end, const char* business,
               DurationStats ReportFigures::*field) {
  const std::string ts = std::string("t.") + end;
  for (const auto& r : grouped(
           tx, workspace_id, q, ts,
           std::string("tickets t WHERE t.workspace_id = $1 AND t.merged_into_id IS NULL AND ") + ts + " IS NOT NULL",
           "extract(epoch FROM " + ts + " - t.created_at)::float8 AS d, t." + business + "::float8 AS b",
           "count(*), percentile_cont(0.5) WITHIN GROUP (ORDER BY d), percentile_cont(0.9) WITHIN GROUP "
           "(ORDER BY d), percentile_cont(0.5) WITHIN GROUP (ORDER BY b), percentile_cont(0.9) WITHIN "
           "GROUP (ORDER BY b)")) {
    auto& s = out[r[0].is_null() ? "" : r[0].as<std::string>()].*field;
    s.count = r[1].as<long>();
    s.median_s = opt_double(r[2]);
    s.p90_s = opt_double(r[3]);
    s.business_median_s = opt_double(r[4]);
    s.business_p90_s = opt_double(r[5]);
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
  durations(tx, workspace_id, q, out, "first_response_at", "first_response_business_s", &ReportFigures::first_response);
  durations(tx, workspace_id, q, out, "resolved_at", "resolution_business_s", &ReportFigures::resolution);
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
  return out;
}

void note_first_response_time(pqxx::work& tx, const Ticket& t) {
  note_business_time(tx, t.id, "first_response_at", "first_response_business_s", true);
}

void note_resolution_time(pqxx::work& tx, const Ticket& t) {
  note_business_time(tx, t.id, "resolved_at", "resolution_business_s", false);
}

}  // namespace loket::store
