#pragma once
#include <rapidjson/document.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "loket/core/json.hpp"

/// Business hours (issue 17 "Business hours", issue 21): a weekly schedule in an IANA time
/// zone with holidays, and the questions asked of it — open now? back when? Local times are
/// converted with CCTZ and the system's tzdata, so daylight-saving changes in either direction
/// are right. Pure functions; thread-safe.
namespace loket::hours {

using Clock = std::chrono::system_clock;
using TimePoint = std::chrono::time_point<Clock, std::chrono::seconds>;

/// Open from `start` to `end`, minutes after local midnight (0–1439 and 1–1440). `end <= start`
/// runs past midnight into the next day (22:00–02:00); the interval belongs to the day it starts.
struct Interval {
  int start = 0, end = 0;
  bool operator==(const Interval&) const = default;
};

/// A weekly schedule. `week[0]` is Monday … `week[6]` Sunday.
struct Schedule {
  std::string time_zone = "UTC";              ///< IANA name, e.g. "Asia/Jakarta"
  std::array<std::vector<Interval>, 7> week;  ///< per weekday, any order, may be empty (closed)
  std::vector<std::string> holidays;          ///< local dates "YYYY-MM-DD": no interval starting then opens
  bool operator==(const Schedule&) const = default;
};

/// Reads a schedule from its JSON shape:
/// `{"timeZone":"Asia/Jakarta","week":{"mon":[["09:00","17:00"]],…,"sun":[]},"holidays":["2026-12-25"]}`
/// (missing days closed; at most 6 intervals a day and 100 holidays). Returns the schedule, or
/// the reason it is refused in `error` (an unknown zone, "25:00", overlapping intervals, …).
std::optional<Schedule> parse(const rapidjson::Value& v, std::string& error);

/// Writes `s` in parse()'s shape.
void write_json(core::JsonWriter& w, const Schedule& s);

/// The first instant at or after `t` when the schedule is open: `t` itself while open, or
/// std::nullopt when it opens not once in the next 400 days (no intervals, or only holidays).
std::optional<TimePoint> next_open(const Schedule& s, TimePoint t);

/// Whether the schedule is open at `t`.
bool is_open(const Schedule& s, TimePoint t);

/// How long the schedule is open between `from` and `to` ([from, to); zero when `to <= from`), in
/// seconds: the "business time" an SLA target or a report's first response time counts (issue 21).
/// A day with a daylight-saving change is as long as the wall clock makes it (an all-day schedule
/// is open 23 h on the spring Sunday in Amsterdam and 25 h in autumn); holidays and overlapping
/// intervals of consecutive days are counted once. Cost: linear in the days between.
std::chrono::seconds open_between(const Schedule& s, TimePoint from, TimePoint to);

/// The instant by which the schedule has been open for `duration` counted from `from`: the due
/// time of an SLA target in business hours. `from` itself for a zero or negative duration;
/// otherwise the end of the last open second counted (a closing time when the target uses up a
/// day's hours exactly, never a later opening). std::nullopt when the schedule does not open that long within
/// `kMaxSpanDays` days of `from`. open_between(s, from, *add_open(s, from, d)) == d.
std::optional<TimePoint> add_open(const Schedule& s, TimePoint from, std::chrono::seconds duration);

/// How far ahead add_open() looks (local days).
inline constexpr int kMaxSpanDays = 3 * 366;

/// `t` as the schedule's local wall clock: {"HH:MM", zone abbreviation ("WIB", "CET"),
/// ISO weekday 1 = Monday … 7, days between the local dates of `from` and `t`}.
struct LocalTime {
  std::string hh_mm, zone;
  int weekday = 1;
  int days_from = 0;
};
LocalTime local_time(const Schedule& s, TimePoint t, TimePoint from);

}  // namespace loket::hours
