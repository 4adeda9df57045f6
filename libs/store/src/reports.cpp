// Reports (issue 21, docs/reports.md).
#include "loket/store/reports.hpp"

#include <rapidjson/document.h>

#include <chrono>
#include <cstdio>

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

// The measures of the report facts (migration 0031_report_rollup.sql).
enum Measure : int {
  kCreated = 1,
  kResolved,
  kReopened,
  kBacklog,
  kFirstResponse,
  kFirstResponseBusiness,
  kFirstResponseTargeted,
  kFirstResponseAttained,
  kResolution,
  kResolutionBusiness,
  kResolutionTargeted,
  kResolutionAttained,
  kCsat,
  kNextResponseTargeted,
  kNextResponseAttained
};

// The dimension a grouping reads (0: all).
int dim_of(ReportGroup g) {
  switch (g) {
    case ReportGroup::kChannel:
      return 1;
    case ReportGroup::kInbox:
      return 2;
    case ReportGroup::kTeam:
      return 3;
    case ReportGroup::kAgent:
      return 4;
    default:
      return 0;
  }
}

// One histogram bucket or counter of a group: how many, and the sum of their seconds.
struct Cell {
  long n = 0;
  double s = 0;
};
// A group's facts: (measure, bucket) → cell, in order.
using Facts = std::map<std::pair<int, int>, Cell>;

// The interpolated percentile `p` (0…1) of a histogram measure, each bucket's durations taken as
// their mean: PostgreSQL's percentile_cont over those values.
std::optional<double> percentile(const Facts& f, int measure, double p) {
  std::vector<std::pair<long, double>> buckets;  // (count, mean)
  long total = 0;
  for (auto it = f.lower_bound({measure, INT32_MIN}); it != f.end() && it->first.first == measure; ++it)
    if (it->second.n > 0) {
      buckets.emplace_back(it->second.n, it->second.s / static_cast<double>(it->second.n));
      total += it->second.n;
    }
  if (total == 0) return std::nullopt;
  auto at = [&](long i) {  // the i-th smallest (0-based)
    for (const auto& [n, mean] : buckets) {
      if (i < n) return mean;
      i -= n;
    }
    return buckets.back().second;
  };
  const double rank = p * static_cast<double>(total - 1);
  const long lo = static_cast<long>(rank);
  const double lo_v = at(lo), hi_v = at(std::min(lo + 1, total - 1));
  return lo_v + (hi_v - lo_v) * (rank - static_cast<double>(lo));
}

long count(const Facts& f, int measure) {
  long n = 0;
  for (auto it = f.lower_bound({measure, INT32_MIN}); it != f.end() && it->first.first == measure; ++it)
    n += it->second.n;
  return n;
}

DurationStats duration_stats(const Facts& f, int calendar, int business, int targeted, int attained) {
  DurationStats d;
  d.count = count(f, calendar);
  d.median_s = percentile(f, calendar, 0.5);
  d.p90_s = percentile(f, calendar, 0.9);
  d.business_median_s = percentile(f, business, 0.5);
  d.business_p90_s = percentile(f, business, 0.9);
  d.sla_targeted = count(f, targeted);
  d.sla_attained = count(f, attained);
  return d;
}

ReportFigures figures_of(const Facts& f) {
  ReportFigures r;
  r.created = count(f, kCreated);
  r.resolved = count(f, kResolved);
  r.reopened = count(f, kReopened);
  r.first_response =
      duration_stats(f, kFirstResponse, kFirstResponseBusiness, kFirstResponseTargeted, kFirstResponseAttained);
  r.resolution = duration_stats(f, kResolution, kResolutionBusiness, kResolutionTargeted, kResolutionAttained);
  r.next_response_waits = count(f, kNextResponseTargeted);
  r.next_response_met = count(f, kNextResponseAttained);
  long score_sum = 0;
  for (int score = 1; score <= 5; ++score) {
    auto it = f.find({kCsat, score});
    const long n = it == f.end() ? 0 : it->second.n;
    r.csat_distribution[static_cast<std::size_t>(score - 1)] = n;
    r.csat_responses += n;
    score_sum += n * score;
  }
  if (r.csat_responses > 0) r.csat_average = static_cast<double>(score_sum) / static_cast<double>(r.csat_responses);
  return r;
}

// Adds rows of (group key, measure, bucket, n, s) to their group and to the totals.
void tally(const pqxx::result& rows, std::map<std::string, Facts>& out) {
  for (const auto& r : rows) {
    const std::pair<int, int> at{r[1].as<int>(), r[2].as<int>()};
    for (const std::string& key : {r[0].as<std::string>(), std::string()}) {
      auto& c = out[key][at];
      c.n += r[3].as<long>();
      c.s += r[4].as<double>();
      if (key.empty()) break;
    }
  }
}

// Whether the report reads the rollup: days in the workspace's time zone, whole ones.
struct RollupPeriod {
  bool usable = false;
  std::string from_day, to_day;  // YYYY-MM-DD, [from_day, to_day)
};

RollupPeriod rollup_period(pqxx::transaction_base& tx, const std::string& workspace_id, const ReportQuery& q) {
  auto r = tx.exec_params(
      "SELECT w.time_zone = $2 AND z.time_zone IS NOT DISTINCT FROM $2 AND ($3::timestamptz AT TIME ZONE "
      "$2)::time = '00:00' AND ($4::timestamptz AT TIME ZONE $2)::time = '00:00', ($3::timestamptz AT TIME ZONE "
      "$2)::date::text, ($4::timestamptz AT TIME ZONE $2)::date::text FROM workspaces w LEFT JOIN "
      "report_rollup_zones z ON z.workspace_id = w.id WHERE w.id = $1",
      workspace_id, q.time_zone, q.from, q.to);
  if (r.empty() || !r[0][0].as<bool>()) return {};
  return {true, r[0][1].as<std::string>(), r[0][2].as<std::string>()};
}

using std::chrono::sys_days;

sys_days parse_day(const std::string& s) {
  int y = 0;
  unsigned m = 0, d = 0;
  std::sscanf(s.c_str(), "%d-%u-%u", &y, &m, &d);
  return sys_days(std::chrono::year{y} / std::chrono::month{m} / std::chrono::day{d});
}

std::string format_day(sys_days day) {
  const std::chrono::year_month_day ymd(day);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()));
  return buf;
}

// [from, to) as whole calendar months, whole weeks (Monday to Sunday) and the days left, each as a
// PostgreSQL array of first days: the fewest rollup rows (a 90-day range is about 2 months, 4 weeks
// and 10 days). Grouped by day, only days; by week, no months (they cross weeks).
struct Pieces {
  std::string months = "{", weeks = "{", days = "{";
};

Pieces pieces(const std::string& from, const std::string& to, ReportGroup g) {
  using namespace std::chrono;
  Pieces p;
  const sys_days end = parse_day(to);
  auto add = [](std::string& list, sys_days d) { list += (list.size() > 1 ? "," : "") + format_day(d); };
  for (sys_days d = parse_day(from); d < end;) {
    const year_month_day ymd(d);
    const sys_days month_end = sys_days(year_month_day(ymd.year() / ymd.month() / 1) + months(1));
    if (g != ReportGroup::kDay && g != ReportGroup::kWeek && ymd.day() == day(1) && month_end <= end) {
      add(p.months, d);
      d = month_end;
    } else if (g != ReportGroup::kDay && weekday(d) == Monday && d + days(7) <= end) {
      add(p.weeks, d);
      d += days(7);
    } else {
      add(p.days, d);
      d += days(1);
    }
  }
  p.months += "}";
  p.weeks += "}";
  p.days += "}";
  return p;
}

// The group key of rollup rows (over a span's first `day` and `key`).
std::string rollup_key(ReportGroup g) {
  switch (g) {
    case ReportGroup::kDay:
      return "to_char(day, 'YYYY-MM-DD')";
    case ReportGroup::kWeek:
      return "to_char(date_trunc('week', day), 'YYYY-MM-DD')";
    case ReportGroup::kNone:
      return "''::text";
    default:
      return "key";
  }
}

// Rows of `measures` of dimension `dim`, summed per group (`group_key`), measure and (`with_bucket`)
// bucket: of the rollup's rows matching each of `parts` (conditions on span and day over the
// parameters from $6 on: `part_args`) and of the deltas not folded yet of days in [$4, $5).
pqxx::result rollup_rows(pqxx::transaction_base& tx, const std::string& workspace_id, int dim,
                         const std::string& measures, const std::string& deltas_from, const std::string& to_day,
                         const std::vector<std::string>& parts, const std::vector<std::string>& part_args,
                         const std::string& group_key, bool with_bucket) {
  const std::string common = " WHERE workspace_id = $1 AND dim = $2 AND measure = ANY($3::smallint[]) AND ";
  const std::string cols = "SELECT day, key, measure, bucket, n, s FROM ";
  std::string from = cols + "report_deltas" + common + "day >= $4::date AND day < $5::date";
  for (const auto& part : parts) from += " UNION ALL " + cols + "report_rollup" + common + part;
  std::vector<std::string> args{workspace_id, std::to_string(dim), measures, deltas_from, to_day};
  args.insert(args.end(), part_args.begin(), part_args.end());
  return tx.exec_params("SELECT " + group_key + ", measure, " + (with_bucket ? "bucket" : "0") +
                            ", sum(n)::bigint, sum(s)::float8 FROM (" + from + ") f GROUP BY 1, 2, 3",
                        pqxx::prepare::make_dynamic_params(args));
}

// Every fact but the backlog's, in the period, per group: from the rollup when it can, else from
// the facts of the tickets that had an event in the period (the same definitions, computed now).
void facts_in_period(pqxx::transaction_base& tx, const std::string& workspace_id, const ReportQuery& q,
                     const RollupPeriod& period, std::map<std::string, Facts>& out) {
  if (period.usable) {
    const auto p = pieces(period.from_day, period.to_day, q.group);
    tally(rollup_rows(tx, workspace_id, dim_of(q.group), "{1,2,3,5,6,7,8,9,10,11,12,13,14,15}", period.from_day,
                      period.to_day,
                      {"span = 31 AND day = ANY($6::date[])", "span = 7 AND day = ANY($7::date[])",
                       "span = 1 AND day = ANY($8::date[])"},
                      {p.months, p.weeks, p.days}, rollup_key(q.group), true),
          out);
    return;
  }
  std::vector<std::string> args{workspace_id, q.from, q.to, std::to_string(dim_of(q.group))};
  if (by_time(q.group)) args.push_back(q.time_zone);
  const std::string key = by_time(q.group)                ? key_of(q.group, "f.at", "$5")
                          : q.group == ReportGroup::kNone ? "''::text"
                                                          : "f.key";
  tally(tx.exec_params(
            "WITH ids AS (SELECT id FROM tickets WHERE workspace_id = $1 AND created_at >= $2::timestamptz AND "
            "created_at < $3::timestamptz UNION SELECT id FROM tickets WHERE workspace_id = $1 AND first_response_at "
            ">= $2::timestamptz AND first_response_at < $3::timestamptz UNION SELECT id FROM tickets WHERE "
            "workspace_id = $1 AND resolved_at >= $2::timestamptz AND resolved_at < $3::timestamptz UNION SELECT id "
            "FROM tickets WHERE workspace_id = $1 AND csat_at >= $2::timestamptz AND csat_at < $3::timestamptz UNION "
            "SELECT ticket_id FROM ticket_status_log WHERE workspace_id = $1 AND at >= $2::timestamptz AND at < "
            "$3::timestamptz UNION SELECT ticket_id FROM ticket_sla_waits WHERE workspace_id = $1 AND ended_at >= "
            "$2::timestamptz AND ended_at < $3::timestamptz) SELECT " +
                key +
                ", f.measure, f.bucket, sum(f.n)::bigint, sum(f.s)::float8 FROM tickets t JOIN ids ON ids.id = t.id, "
                "ticket_report_facts(t, 1) f WHERE f.dim = $4::smallint AND f.measure <> 4 AND f.at >= "
                "$2::timestamptz AND f.at < $3::timestamptz GROUP BY 1, 2, 3",
            pqxx::prepare::make_dynamic_params(args)),
        out);
}

// The backlog at each group's end from the rollup: the sum of every move into and out of it up to
// then (per dimension key; per day or week, summed up to each).
void rollup_backlog(pqxx::transaction_base& tx, const std::string& workspace_id, const ReportQuery& q,
                    const RollupPeriod& period, std::map<std::string, ReportFigures>& out) {
  // Whole months before the month the period starts in (grouped by time: its days count one by
  // one) or ends in, then its days.
  const auto first = std::chrono::year_month_day(parse_day(by_time(q.group) ? period.from_day : period.to_day));
  const std::string month = format_day(std::chrono::sys_days(first.year() / first.month() / 1));
  std::map<std::string, long> moves;
  long total = 0;
  for (const auto& r : rollup_rows(tx, workspace_id, dim_of(q.group), "{4}", "-infinity", period.to_day,
                                   {"span = 31 AND day < $6::date", "span = 1 AND day >= $6::date AND day < $5::date"},
                                   {month}, rollup_key(q.group), false)) {
    moves[r[0].as<std::string>()] += r[3].as<long>();
    total += r[3].as<long>();
  }
  long upto = 0;
  auto next = moves.begin();
  for (auto& [key, f] : out) {  // in key order: dates ascending
    if (key.empty() || q.group == ReportGroup::kNone) {
      f.backlog = total;
    } else if (by_time(q.group)) {
      for (; next != moves.end() && next->first <= key; ++next) upto += next->second;
      f.backlog = upto;
    } else {
      f.backlog = moves[key];
    }
  }
}

// The backlog (open, pending, snoozed) at each group's end: today's, less the changes into it and
// plus those out of it since then (the status log from the period's start on).
void backlog(pqxx::transaction_base& tx, const std::string& workspace_id, const ReportQuery& q,
             std::map<std::string, ReportFigures>& out) {
  const bool time = by_time(q.group);
  const std::string dim = time ? "''::text" : key_of(q.group, "");
  std::map<std::string, long> now;  // per dimension key ("" when not grouped by one)
  for (const auto& r : tx.exec_params("SELECT " + dim +
                                          ", count(*) FROM tickets t WHERE t.workspace_id = $1 AND t.merged_into_id "
                                          "IS NULL AND t.status IN ('open', 'pending', 'snoozed') GROUP BY 1",
                                      workspace_id))
    now[r[0].as<std::string>()] = r[1].as<long>();
  // Changes since the period's end per dimension, and for time groups per day or week since its start.
  std::map<std::string, long> after_end, per_bucket;
  std::vector<std::string> args{workspace_id, q.from, q.to};
  if (time) args.push_back(q.time_zone);
  const std::string bucket = time ? key_of(q.group, "l.at") : "''::text";
  for (const auto& r : tx.exec_params(
           "SELECT " + dim + ", " + bucket +
               ", coalesce(sum(x.n) FILTER (WHERE l.at >= $3::timestamptz), 0), sum(x.n) FROM ticket_status_log l "
               "JOIN tickets t ON t.id = l.ticket_id, status_report_facts(l.from_status, l.to_status) x WHERE "
               "l.workspace_id = $1 AND t.merged_into_id IS NULL AND l.at >= $2::timestamptz AND x.measure = 4 GROUP "
               "BY 1, 2",
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
  // A few thousand rows: starting parallel workers would cost more than the whole query.
  tx.exec("SET LOCAL max_parallel_workers_per_gather = 0");
  const auto period = rollup_period(tx, workspace_id, q);
  std::map<std::string, Facts> facts;
  facts[""];  // the totals, also of an empty period
  facts_in_period(tx, workspace_id, q, period, facts);
  std::map<std::string, ReportFigures> out;
  for (const auto& [key, f] : facts) out[key] = figures_of(f);
  if (period.usable)
    rollup_backlog(tx, workspace_id, q, period, out);
  else
    backlog(tx, workspace_id, q, out);
  return out;
}

int fold_report_deltas(pqxx::work& tx, int limit) {
  // One fold at a time: the rollup's rows are only ever written here, in key order, so folds never
  // wait on the writers and never deadlock.
  if (!tx.exec("SELECT pg_try_advisory_xact_lock(hashtext('loket:report-fold'))")[0][0].as<bool>()) return 0;
  return tx
      .exec_params1(
          "WITH d AS (DELETE FROM report_deltas WHERE id IN (SELECT id FROM report_deltas ORDER BY id LIMIT $1) "
          "RETURNING *), folded AS (INSERT INTO report_rollup AS r (workspace_id, dim, measure, span, day, key, "
          "bucket, n, s) SELECT workspace_id, dim, measure, sp.span, report_span_start(sp.span, day), key, bucket, "
          "sum(n), sum(s) FROM d, (VALUES (1::smallint), (7::smallint), (31::smallint)) sp (span) GROUP BY 1, 2, 3, "
          "4, 5, 6, 7 ORDER BY 1, 2, 3, 4, 5, 6, 7 ON CONFLICT (workspace_id, dim, measure, span, day, key, bucket) "
          "DO UPDATE SET n = r.n + EXCLUDED.n, s = r.s + EXCLUDED.s) "
          "SELECT count(*) FROM d",
          limit)[0]
      .as<int>();
}

bool rebuild_stale_report_rollup(pqxx::work& tx) {
  tx.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");  // one snapshot: see the migration
  tx.exec("SET LOCAL statement_timeout = 0");                  // minutes for millions of tickets
  if (!tx.exec("SELECT pg_try_advisory_xact_lock(hashtext('loket:report-fold'))")[0][0].as<bool>()) return false;
  auto stale = tx.exec(
      "SELECT w.id FROM workspaces w LEFT JOIN report_rollup_zones z ON z.workspace_id = w.id WHERE z.time_zone IS "
      "DISTINCT FROM w.time_zone ORDER BY w.created_at LIMIT 1");
  if (stale.empty()) return false;
  tx.exec_params("SELECT rebuild_report_facts($1)", stale[0][0].as<std::string>());
  return true;
}

void note_first_response_time(pqxx::work& tx, const Ticket& t) {
  note_business_time(tx, t.id, "first_response_at", "first_response_business_s", true);
}

void note_resolution_time(pqxx::work& tx, const Ticket& t) {
  note_business_time(tx, t.id, "resolved_at", "resolution_business_s", false);
}

}  // namespace loket::store
