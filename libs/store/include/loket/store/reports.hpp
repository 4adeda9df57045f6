#pragma once
#include <pqxx/pqxx>

#include <array>
#include <map>
#include <optional>
#include <string>

#include "loket/store/tickets.hpp"

/// Reports (issue 21, docs/reports.md): what a support lead reads over a period — tickets created,
/// resolved and reopened, first response and resolution times (median and p90, calendar and
/// business time), CSAT — in total and grouped by day, week, channel, inbox, team or agent. Every
/// figure is defined in docs/reports.md; merged tickets (sources of a merge) count nowhere.
namespace loket::store {

/// How report figures are grouped.
enum class ReportGroup { kNone, kDay, kWeek, kChannel, kInbox, kTeam, kAgent };

/// The period and grouping of a report.
struct ReportQuery {
  std::string from, to;   ///< RFC 3339 instants, [from, to)
  std::string time_zone;  ///< IANA zone days and weeks are read in (the caller checked it)
  ReportGroup group = ReportGroup::kNone;
};

/// Median and 90th percentile of a set of durations, in seconds (percentile_cont: interpolated),
/// and how many of the tickets measured were under an SLA target for it and met it in time.
struct DurationStats {
  long count = 0;
  std::optional<double> median_s, p90_s, business_median_s, business_p90_s;
  long sla_targeted = 0, sla_attained = 0;
};

/// One group's figures (or the totals).
struct ReportFigures {
  long created = 0, resolved = 0, reopened = 0;
  DurationStats first_response, resolution;
  long csat_responses = 0;
  std::optional<double> csat_average;
  std::array<long, 5> csat_distribution{};  ///< scores 1 … 5
  /// Tickets open, pending or snoozed at the group's end: the end of its day or week (at most the
  /// period's end), else the period's end.
  long backlog = 0;
  /// Next-response waits under an SLA target that ended (an agent's reply, or resolving) in the
  /// group, and those met in time.
  long next_response_waits = 0, next_response_met = 0;
};

/// The figures per group key ("2026-11-30" for a day or the Monday of a week, a channel name, an
/// inbox, team or agent id, "none" for tickets without one), keys in order, and the totals under "".
/// Over whole days in the workspace's time zone (workspaces.time_zone = q.time_zone, its rollup
/// counted in it, from and to at local midnights) it reads the rollup (migration 0031: two queries, rows per day × key
/// × bucket, never the tickets); otherwise it computes the same facts from the tickets with an event in the period.
/// Throws pqxx::data_exception for an unknown zone.
std::map<std::string, ReportFigures> report(pqxx::transaction_base& tx, const std::string& workspace_id,
                                            const ReportQuery& q);

/// Stores `t`'s first response in business seconds (its inbox's business hours; calendar time
/// without them) when its first_response_at was just set. Called by note_agent_reply.
void note_first_response_time(pqxx::work& tx, const Ticket& t);

/// Stores `t`'s resolution time in business seconds when its resolved_at was just set.
void note_resolution_time(pqxx::work& tx, const Ticket& t);

/// Folds up to `limit` of the oldest report deltas (written by the tickets' triggers) into the
/// rollup, and returns how many it folded; 0 when another fold is running (one at a time, by an
/// advisory lock: writers never wait on it). Reports read both tables, so a fold changes no figure.
int fold_report_deltas(pqxx::work& tx, int limit);

/// Recounts the rollup of one workspace whose rollup is not counted in its time zone (new, changed
/// zone, or from before the rollup) from its tickets, and returns whether there was one. Must be
/// the transaction's first statement (it sets REPEATABLE READ); no statement timeout; holds the
/// fold's lock. Reads every ticket of the workspace: minutes for a million, in the background —
/// meanwhile its reports are computed from the tickets.
bool rebuild_stale_report_rollup(pqxx::work& tx);

}  // namespace loket::store
