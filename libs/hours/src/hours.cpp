#include "loket/hours/hours.hpp"

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include <algorithm>
#include <cstdio>
#include <regex>

namespace loket::hours {
namespace {
constexpr std::array<const char*, 7> kDays{"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
constexpr std::size_t kMaxIntervals = 6, kMaxHolidays = 100;
constexpr int kHorizonDays = 400;

cctz::time_zone zone(const Schedule& s) {
  cctz::time_zone tz;
  if (!cctz::load_time_zone(s.time_zone, &tz)) cctz::load_time_zone("UTC", &tz);
  return tz;
}

int day_index(const cctz::civil_day& d) {
  switch (cctz::get_weekday(d)) {
    case cctz::weekday::monday:
      return 0;
    case cctz::weekday::tuesday:
      return 1;
    case cctz::weekday::wednesday:
      return 2;
    case cctz::weekday::thursday:
      return 3;
    case cctz::weekday::friday:
      return 4;
    case cctz::weekday::saturday:
      return 5;
    case cctz::weekday::sunday:
      break;
  }
  return 6;
}

std::string date_of(const cctz::civil_day& d) {
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(d.year()), d.month(), d.day());
  return buf;
}

// The instant the local wall clock shows `cs`: a time skipped by a daylight-saving change maps
// to the change itself (a 02:30 opening on the night clocks jump from 02:00 to 03:00 opens at
// 03:00); a repeated one to its first occurrence for a start and its second for an end.
TimePoint instant(const cctz::time_zone& tz, const cctz::civil_second& cs, bool is_end) {
  auto lookup = tz.lookup(cs);
  switch (lookup.kind) {
    case cctz::time_zone::civil_lookup::SKIPPED:
      return lookup.trans;
    case cctz::time_zone::civil_lookup::REPEATED:
      return is_end ? lookup.post : lookup.pre;
    case cctz::time_zone::civil_lookup::UNIQUE:
      break;
  }
  return lookup.pre;
}

// "HH:MM" → minutes; "24:00" only when `end`.
std::optional<int> minutes(const std::string& s, bool end) {
  static const std::regex re("([01][0-9]|2[0-3]):([0-5][0-9])");
  std::smatch m;
  if (end && s == "24:00") return 1440;
  if (!std::regex_match(s, m, re)) return std::nullopt;
  return std::stoi(m[1].str()) * 60 + std::stoi(m[2].str());
}

std::string hh_mm(int minutes) {
  char buf[32];  // room for any int, so the compiler sees no truncation
  std::snprintf(buf, sizeof buf, "%02d:%02d", minutes / 60, minutes % 60);
  return buf;
}
}  // namespace

std::optional<Schedule> parse(const rapidjson::Value& v, std::string& error) {
  Schedule s;
  if (!v.IsObject()) return error = "businessHours must be an object {timeZone, week, holidays}", std::nullopt;
  const auto* tz_v = core::json_member(v, "timeZone");
  cctz::time_zone tz;
  if (!tz_v || !tz_v->IsString() || tz_v->GetStringLength() > 64 || !cctz::load_time_zone(tz_v->GetString(), &tz))
    return error = "businessHours.timeZone must be an IANA time zone like Asia/Jakarta", std::nullopt;
  s.time_zone = tz_v->GetString();
  const auto* week = core::json_member(v, "week");
  if (!week || !week->IsObject())
    return error = "businessHours.week must be an object {mon: [[\"09:00\",\"17:00\"]], …}", std::nullopt;
  for (auto it = week->MemberBegin(); it != week->MemberEnd(); ++it) {
    std::string day(it->name.GetString(), it->name.GetStringLength());
    auto pos = std::find(kDays.begin(), kDays.end(), day);
    if (pos == kDays.end())
      return error = "businessHours.week: unknown day " + day.substr(0, 10) + " (mon … sun)", std::nullopt;
    if (!it->value.IsArray() || it->value.Size() > kMaxIntervals)
      return error = "businessHours.week." + day + " must be a list of at most 6 [\"HH:MM\",\"HH:MM\"] pairs",
             std::nullopt;
    auto& list = s.week[static_cast<std::size_t>(pos - kDays.begin())];
    for (const auto& pair : it->value.GetArray()) {
      std::optional<int> from, to;
      if (pair.IsArray() && pair.Size() == 2 && pair[0].IsString() && pair[1].IsString()) {
        from = minutes(pair[0].GetString(), false);
        to = minutes(pair[1].GetString(), true);
      }
      if (!from || !to || *from == *to)
        return error =
                   "businessHours.week." + day + ": each interval is [\"HH:MM\",\"HH:MM\"] (00:00–24:00, not empty)",
               std::nullopt;
      list.push_back({*from, *to});
    }
    // Within a day no two intervals may overlap (one past midnight counts up to 24:00).
    auto sorted = list;
    std::sort(sorted.begin(), sorted.end(), [](auto a, auto b) { return a.start < b.start; });
    for (std::size_t i = 1; i < sorted.size(); ++i) {
      int prev_end = sorted[i - 1].end <= sorted[i - 1].start ? 1440 : sorted[i - 1].end;
      if (sorted[i].start < prev_end) return error = "businessHours.week." + day + ": intervals overlap", std::nullopt;
    }
    if (sorted.size() > 1 && sorted.back().end <= sorted.back().start && sorted.back().end > sorted.front().start)
      return error = "businessHours.week." + day + ": intervals overlap", std::nullopt;
  }
  if (const auto* hol = core::json_member(v, "holidays")) {
    static const std::regex date_re("[0-9]{4}-[0-9]{2}-[0-9]{2}");
    if (!hol->IsArray() || hol->Size() > kMaxHolidays)
      return error = "businessHours.holidays must be a list of at most 100 dates", std::nullopt;
    for (const auto& h : hol->GetArray()) {
      std::string date = h.IsString() ? h.GetString() : "";
      bool ok = std::regex_match(date, date_re) &&
                date_of(cctz::civil_day(std::stoi(date.substr(0, 4)), std::stoi(date.substr(5, 2)),
                                        std::stoi(date.substr(8, 2)))) == date;
      if (!ok) return error = "businessHours.holidays: each is a date YYYY-MM-DD", std::nullopt;
      if (std::find(s.holidays.begin(), s.holidays.end(), date) == s.holidays.end()) s.holidays.push_back(date);
    }
    std::sort(s.holidays.begin(), s.holidays.end());
  }
  return s;
}

void write_json(core::JsonWriter& w, const Schedule& s) {
  w.StartObject();
  core::json_kv(w, "timeZone", s.time_zone);
  core::json_put(w, "week");
  w.StartObject();
  for (std::size_t d = 0; d < 7; ++d) {
    core::json_put(w, kDays[d]);
    w.StartArray();
    for (const auto& iv : s.week[d]) {
      w.StartArray();
      core::json_put(w, hh_mm(iv.start));
      core::json_put(w, hh_mm(iv.end));
      w.EndArray();
    }
    w.EndArray();
  }
  w.EndObject();
  core::json_put(w, "holidays");
  w.StartArray();
  for (const auto& h : s.holidays) core::json_put(w, h);
  w.EndArray();
  w.EndObject();
}

std::optional<TimePoint> next_open(const Schedule& s, TimePoint t) {
  const auto tz = zone(s);
  const cctz::civil_day today(cctz::convert(t, tz));
  std::optional<TimePoint> best;
  for (int i = -1; i <= kHorizonDays; ++i) {
    if (best) break;  // a later day's intervals all start after this day's
    const cctz::civil_day d = today + i;
    if (std::binary_search(s.holidays.begin(), s.holidays.end(), date_of(d))) continue;
    for (const auto& iv : s.week[static_cast<std::size_t>(day_index(d))]) {
      auto start = instant(tz, cctz::civil_second(d) + iv.start * 60, false);
      auto end = instant(tz, cctz::civil_second(iv.end > iv.start ? d : d + 1) + iv.end * 60, true);
      if (end <= t) continue;
      if (start <= t) return t;
      if (!best || start < *best) best = start;
    }
  }
  return best;
}

bool is_open(const Schedule& s, TimePoint t) { return next_open(s, t) == t; }

namespace {
struct Span {
  TimePoint start, end;
};

// The open spans of the intervals starting on local days [first, first + days), ordered by
// start. A past-midnight interval may overlap the next day's first: callers count from a cursor.
std::vector<Span> spans(const Schedule& s, const cctz::time_zone& tz, cctz::civil_day first, int days) {
  std::vector<Span> out;
  for (int i = 0; i < days; ++i) {
    const cctz::civil_day d = first + i;
    if (std::binary_search(s.holidays.begin(), s.holidays.end(), date_of(d))) continue;
    for (const auto& iv : s.week[static_cast<std::size_t>(day_index(d))]) {
      Span sp{instant(tz, cctz::civil_second(d) + iv.start * 60, false),
              instant(tz, cctz::civil_second(iv.end > iv.start ? d : d + 1) + iv.end * 60, true)};
      if (sp.start < sp.end) out.push_back(sp);  // an interval inside a skipped hour is empty
    }
  }
  std::sort(out.begin(), out.end(), [](const Span& a, const Span& b) { return a.start < b.start; });
  return out;
}

// Walks the open time after `from` in order, a chunk of days at a time, calling `visit(start,
// end)` for each stretch not counted before (each at or after `from`) until it returns false or
// `max_days` local days were read.
template <typename Visit>
void walk_open(const Schedule& s, TimePoint from, int max_days, Visit visit) {
  constexpr int kChunkDays = 31;
  const auto tz = zone(s);
  cctz::civil_day day = cctz::civil_day(cctz::convert(from, tz)) - 1;  // yesterday's night shift
  TimePoint cursor = from;
  for (int read = 0; read < max_days + 1; read += kChunkDays, day += kChunkDays)
    for (const auto& sp : spans(s, tz, day, kChunkDays)) {
      if (sp.end <= cursor) continue;
      const TimePoint start = std::max(sp.start, cursor);
      cursor = sp.end;
      if (!visit(start, sp.end)) return;
    }
}
}  // namespace

std::chrono::seconds open_between(const Schedule& s, TimePoint from, TimePoint to) {
  std::chrono::seconds total{0};
  if (to <= from) return total;
  const auto days = std::chrono::duration_cast<std::chrono::hours>(to - from).count() / 24 + 2;
  walk_open(s, from, static_cast<int>(days), [&](TimePoint start, TimePoint end) {
    if (start >= to) return false;
    total += std::min(end, to) - start;
    return end < to;
  });
  return total;
}

std::optional<TimePoint> add_open(const Schedule& s, TimePoint from, std::chrono::seconds duration) {
  if (duration <= std::chrono::seconds(0)) return from;
  std::optional<TimePoint> due;
  auto left = duration;
  walk_open(s, from, kMaxSpanDays, [&](TimePoint start, TimePoint end) {
    if (end - start >= left) {
      due = start + left;
      return false;
    }
    left -= end - start;
    return true;
  });
  return due;
}

LocalTime local_time(const Schedule& s, TimePoint t, TimePoint from) {
  const auto tz = zone(s);
  const auto cs = cctz::convert(t, tz);
  LocalTime out;
  out.hh_mm = hh_mm(cs.hour() * 60 + cs.minute());
  out.zone = tz.lookup(t).abbr;
  out.weekday = day_index(cctz::civil_day(cs)) + 1;
  out.days_from = static_cast<int>(cctz::civil_day(cs) - cctz::civil_day(cctz::convert(from, tz)));
  return out;
}

}  // namespace loket::hours
