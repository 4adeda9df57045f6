// Business hours: fixed cases across daylight-saving changes, and every minute of several
// weeks against a brute-force reading of the wall clock.
#include <catch2/catch.hpp>

#include <cctz/civil_time.h>
#include <cctz/time_zone.h>

#include "loket/hours/hours.hpp"

using namespace loket::hours;

namespace {
Schedule from_json(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  std::string error;
  auto s = parse(d, error);
  INFO(error);
  REQUIRE(s);
  return *s;
}

std::string refused(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  std::string error;
  CHECK_FALSE(parse(d, error));
  return error;
}

// The instant a wall clock in `zone` shows y-m-d hh:mm (unique times only).
TimePoint at(const char* zone, int y, int m, int d, int hh, int mm) {
  cctz::time_zone tz;
  REQUIRE(cctz::load_time_zone(zone, &tz));
  auto l = tz.lookup(cctz::civil_second(y, m, d, hh, mm, 0));
  REQUIRE(l.kind == cctz::time_zone::civil_lookup::UNIQUE);
  return l.pre;
}

// Brute force: open when the local wall clock is inside an interval of its day, or inside the
// past-midnight part of the previous day's, that day not a holiday.
bool open_by_wall_clock(const Schedule& s, const cctz::time_zone& tz, TimePoint t) {
  auto cs = cctz::convert(t, tz);
  int minute = cs.hour() * 60 + cs.minute();
  auto holiday = [&](cctz::civil_day d) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", static_cast<int>(d.year()), d.month(), d.day());
    return std::find(s.holidays.begin(), s.holidays.end(), buf) != s.holidays.end();
  };
  auto index = [](cctz::civil_day d) { return (static_cast<int>(cctz::get_weekday(d)) + 7) % 7; };  // monday = 0
  cctz::civil_day today(cs);
  if (!holiday(today))
    for (const auto& iv : s.week[index(today)])
      if (iv.end > iv.start ? minute >= iv.start && minute < iv.end : minute >= iv.start) return true;
  if (!holiday(today - 1))
    for (const auto& iv : s.week[index(today - 1)])
      if (iv.end <= iv.start && minute < iv.end) return true;
  return false;
}

// Whether `t`'s wall-clock hour is one a daylight-saving change repeats or skips nearby.
bool near_change(const cctz::time_zone& tz, TimePoint t) {
  cctz::time_zone::civil_transition tr;
  return tz.next_transition(t - std::chrono::hours(2), &tr) &&
         std::chrono::abs(tz.lookup(tr.from).pre - t) < std::chrono::hours(2);
}
}  // namespace

TEST_CASE("cctz's weekday order is what the brute force assumes") {
  CHECK(static_cast<int>(cctz::weekday::monday) == 0);
  CHECK(static_cast<int>(cctz::weekday::sunday) == 6);
}

TEST_CASE("schedules are parsed, written back and refused with a reason") {
  auto s = from_json(R"({"timeZone":"Asia/Jakarta","week":{"mon":[["09:00","12:00"],["13:00","17:00"]],
    "fri":[["22:00","02:00"]],"sat":[["00:00","24:00"]]},"holidays":["2026-12-25","2026-12-25"]})");
  CHECK(s.week[0] == std::vector<Interval>{{540, 720}, {780, 1020}});
  CHECK(s.week[4] == std::vector<Interval>{{1320, 120}});
  CHECK(s.week[5] == std::vector<Interval>{{0, 1440}});
  CHECK(s.holidays == std::vector<std::string>{"2026-12-25"});
  rapidjson::StringBuffer sb;
  loket::core::JsonWriter w(sb);
  write_json(w, s);
  rapidjson::Document again;
  again.Parse(sb.GetString());
  std::string error;
  CHECK(parse(again, error) == s);

  CHECK(refused(R"({"timeZone":"Mars/Olympus","week":{}})").find("timeZone") != std::string::npos);
  CHECK(refused(R"({"timeZone":"UTC","week":{"mon":[["09:00","25:00"]]}})").find("mon") != std::string::npos);
  CHECK(refused(R"({"timeZone":"UTC","week":{"mon":[["09:00","09:00"]]}})").find("mon") != std::string::npos);
  CHECK(refused(R"({"timeZone":"UTC","week":{"mon":[["24:00","10:00"]]}})").find("mon") != std::string::npos);
  CHECK(refused(R"({"timeZone":"UTC","week":{"mon":[["09:00","12:00"],["11:00","13:00"]]}})").find("overlap") !=
        std::string::npos);
  CHECK(refused(R"({"timeZone":"UTC","week":{"mon":[["22:00","03:00"],["01:00","02:00"]]}})").find("overlap") !=
        std::string::npos);
  CHECK(refused(R"({"timeZone":"UTC","week":{"someday":[]}})").find("someday") != std::string::npos);
  CHECK(refused(R"({"timeZone":"UTC","week":{},"holidays":["2026-02-30"]})").find("holidays") != std::string::npos);
  CHECK(refused(R"({"timeZone":"UTC","week":{"mon":[["9:00","17:00"]]}})").find("mon") != std::string::npos);
  CHECK(refused(R"([])").find("object") != std::string::npos);
}

TEST_CASE("open and back-at in Jakarta (no daylight saving), with a holiday and a night shift") {
  auto s = from_json(R"({"timeZone":"Asia/Jakarta","week":{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],
    "fri":[["22:00","02:00"]]},"holidays":["2026-12-01"]})");
  // Monday 30 Nov 2026, 10:00 WIB: open.
  CHECK(is_open(s, at("Asia/Jakarta", 2026, 11, 30, 10, 0)));
  // 17:00 is closing time: closed; back on... Tuesday 1 Dec is a holiday, so Friday 22:00.
  auto t = at("Asia/Jakarta", 2026, 11, 30, 17, 0);
  CHECK_FALSE(is_open(s, t));
  auto back = next_open(s, t);
  REQUIRE(back);
  CHECK(*back == at("Asia/Jakarta", 2026, 12, 4, 22, 0));
  auto local = local_time(s, *back, t);
  CHECK(local.hh_mm == "22:00");
  CHECK(local.zone == "WIB");
  CHECK(local.weekday == 5);
  CHECK(local.days_from == 4);
  // The night shift runs past midnight into Saturday.
  CHECK(is_open(s, at("Asia/Jakarta", 2026, 12, 5, 1, 59)));
  CHECK_FALSE(is_open(s, at("Asia/Jakarta", 2026, 12, 5, 2, 0)));
  // A schedule that never opens has no next opening.
  CHECK_FALSE(next_open(from_json(R"({"timeZone":"UTC","week":{}})"), t));
}

TEST_CASE("daylight-saving changes in Amsterdam: a skipped opening opens at the change") {
  auto s = from_json(R"({"timeZone":"Europe/Amsterdam","week":{"sun":[["02:30","05:00"]]}})");
  // Sunday 29 March 2026 the clocks go from 02:00 to 03:00 CET→CEST: 02:30 never happens.
  auto before = at("Europe/Amsterdam", 2026, 3, 29, 1, 0);
  auto back = next_open(s, before);
  REQUIRE(back);
  CHECK(*back == at("Europe/Amsterdam", 2026, 3, 29, 3, 0));
  CHECK(local_time(s, *back, before).zone == "CEST");
  // Sunday 25 October 2026 02:00–03:00 happens twice: opening at the first 02:30 (CEST).
  auto autumn = next_open(s, at("Europe/Amsterdam", 2026, 10, 25, 1, 0));
  REQUIRE(autumn);
  CHECK(local_time(s, *autumn, *autumn).zone == "CEST");
  CHECK(local_time(s, *autumn, *autumn).hh_mm == "02:30");
}

TEST_CASE("every minute of weeks around daylight-saving changes matches the wall clock") {
  struct Case {
    const char* zone;
    int y, m, d;  // a day some days before a change
  };
  const auto schedule = R"({"week":{"mon":[["08:00","12:00"],["13:00","17:30"]],"tue":[["00:00","24:00"]],
    "wed":[["09:15","18:45"]],"thu":[["20:00","04:00"]],"fri":[["07:00","23:59"]],"sat":[["10:00","14:00"]],
    "sun":[["23:00","01:30"]]},"holidays":["2026-03-31","2026-10-28","2018-11-07"],"timeZone":")";
  for (const Case c : {Case{"Europe/Amsterdam", 2026, 3, 25}, Case{"Europe/Amsterdam", 2026, 10, 21},
                       Case{"America/Sao_Paulo", 2018, 10, 31}, Case{"America/Sao_Paulo", 2019, 2, 13},
                       Case{"Asia/Jakarta", 2026, 11, 25}, Case{"America/New_York", 2026, 3, 4}}) {
    auto s = from_json(std::string(schedule) + c.zone + "\"}");
    cctz::time_zone tz;
    REQUIRE(cctz::load_time_zone(c.zone, &tz));
    const TimePoint start = tz.lookup(cctz::civil_second(c.y, c.m, c.d, 0, 0, 0)).pre;
    int checked = 0;
    std::optional<TimePoint> opens_next;  // from brute force, scanning backwards
    const auto minutes = 14 * 24 * 60;
    std::vector<bool> open(minutes);
    for (int i = 0; i < minutes; ++i) open[i] = open_by_wall_clock(s, tz, start + std::chrono::minutes(i));
    for (int i = minutes - 1; i >= 0; --i) {
      const TimePoint t = start + std::chrono::minutes(i);
      if (open[i]) opens_next = t;
      if (near_change(tz, t)) continue;  // wall-clock hours that happen twice or never: the fixed cases
      INFO(c.zone << " minute " << i << " local " << cctz::format("%Y-%m-%d %H:%M %Z", t, tz));
      REQUIRE(is_open(s, t) == open[i]);
      if (opens_next && !near_change(tz, *opens_next)) REQUIRE(next_open(s, t) == opens_next);
      ++checked;
    }
    CHECK(checked > minutes - 5 * 60);
  }
}

namespace {
using std::chrono::hours;
using std::chrono::minutes;
using std::chrono::seconds;

// Brute force over [start, start + n minutes): minute i is open when is_open says so (checked
// against the wall clock above); prefix[i] = open minutes before minute i.
struct MinuteTable {
  TimePoint start;
  std::vector<int> prefix;
  MinuteTable(const Schedule& s, TimePoint from, int n) : start(from), prefix(n + 1, 0) {
    for (int i = 0; i < n; ++i) prefix[i + 1] = prefix[i] + (is_open(s, from + minutes(i)) ? 1 : 0);
  }
  int size() const { return static_cast<int>(prefix.size()) - 1; }
  // Open minutes in [a, b), minute indices.
  int open(int a, int b) const { return prefix[b] - prefix[a]; }
  // The minute index at whose start `target` open minutes have passed counted from minute a,
  // or -1 beyond the table.
  int due(int a, int target) const {
    if (target == 0) return a;
    auto it = std::lower_bound(prefix.begin() + a, prefix.end(), prefix[a] + target);
    return it == prefix.end() ? -1 : static_cast<int>(it - prefix.begin());
  }
};
}  // namespace

TEST_CASE("business time: hand-computed days across daylight-saving changes, holidays, a night shift") {
  auto all_day = from_json(R"({"timeZone":"Europe/Amsterdam","week":{"sun":[["00:00","24:00"]]}})");
  // The spring Sunday has 23 hours, the autumn one 25.
  CHECK(open_between(all_day, at("Europe/Amsterdam", 2026, 3, 28, 12, 0), at("Europe/Amsterdam", 2026, 3, 30, 12, 0)) ==
        hours(23));
  CHECK(open_between(all_day, at("Europe/Amsterdam", 2026, 10, 24, 12, 0),
                     at("Europe/Amsterdam", 2026, 10, 26, 12, 0)) == hours(25));
  // Saturday's night shift 22:00–06:00 spans the change: 7 hours in spring, 9 in autumn.
  auto night = from_json(R"({"timeZone":"Europe/Amsterdam","week":{"sat":[["22:00","06:00"]]}})");
  CHECK(open_between(night, at("Europe/Amsterdam", 2026, 3, 28, 12, 0), at("Europe/Amsterdam", 2026, 3, 29, 12, 0)) ==
        hours(7));
  CHECK(open_between(night, at("Europe/Amsterdam", 2026, 10, 24, 12, 0), at("Europe/Amsterdam", 2026, 10, 25, 12, 0)) ==
        hours(9));
  // A 4-hour target from Saturday 23:00 in spring: 23:00–02:00 CET is 3 h (the clock then
  // jumps to 03:00 CEST), the fourth hour ends at 04:00 CEST.
  CHECK(add_open(night, at("Europe/Amsterdam", 2026, 3, 28, 23, 0), hours(4)) ==
        at("Europe/Amsterdam", 2026, 3, 29, 4, 0));

  // Office hours in Jakarta, Friday 24 Dec 2027 a holiday: a 10-hour target from Thursday 16:00
  // is 1 h Thursday, 8 h Monday 27th, 1 h Tuesday → due Tuesday 10:00 WIB.
  auto office = from_json(R"({"timeZone":"Asia/Jakarta","week":{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],
    "wed":[["09:00","17:00"]],"thu":[["09:00","17:00"]],"fri":[["09:00","17:00"]]},"holidays":["2027-12-24"]})");
  const auto thursday = at("Asia/Jakarta", 2027, 12, 23, 16, 0);
  CHECK(add_open(office, thursday, hours(10)) == at("Asia/Jakarta", 2027, 12, 28, 10, 0));
  CHECK(open_between(office, thursday, at("Asia/Jakarta", 2027, 12, 28, 10, 0)) == hours(10));
  // Exactly a day's hours ends at closing time, not at the next opening.
  CHECK(add_open(office, at("Asia/Jakarta", 2027, 12, 20, 9, 0), hours(8)) == at("Asia/Jakarta", 2027, 12, 20, 17, 0));
  // Seconds count too; zero is now; a closed instant starts counting at the next opening.
  CHECK(add_open(office, thursday, seconds(90)) == thursday + seconds(90));
  CHECK(add_open(office, thursday, seconds(0)) == thursday);
  CHECK(add_open(office, at("Asia/Jakarta", 2027, 12, 25, 3, 0), seconds(1)) ==
        at("Asia/Jakarta", 2027, 12, 27, 9, 0) + seconds(1));
  CHECK(open_between(office, thursday, thursday) == seconds(0));
  CHECK(open_between(office, thursday, thursday - hours(5)) == seconds(0));
  // A target longer than a week: 100 business hours from Monday 9:00 is 12.5 working days.
  CHECK(add_open(office, at("Asia/Jakarta", 2027, 11, 1, 9, 0), hours(100)) == at("Asia/Jakarta", 2027, 11, 17, 13, 0));
  // A schedule that never opens never comes due; one open only on holidays neither.
  CHECK_FALSE(add_open(from_json(R"({"timeZone":"UTC","week":{}})"), thursday, seconds(1)));
  CHECK_FALSE(
      add_open(from_json(R"({"timeZone":"UTC","week":{"mon":[["09:00","10:00"]]}})"), thursday, hours(24 * 200)));
}

TEST_CASE("business time matches a minute-by-minute count over weeks around daylight-saving changes") {
  struct Case {
    const char* zone;
    int y, m, d;  // a day some days before a change (Sao Paulo's 2018 change skips midnight)
  };
  const auto schedule = R"({"week":{"mon":[["08:00","12:00"],["13:00","17:30"]],"tue":[["00:00","24:00"]],
    "wed":[["09:15","18:45"]],"thu":[["20:00","04:00"]],"fri":[["07:00","23:59"]],"sat":[["22:00","06:00"]],
    "sun":[["04:00","07:00"],["23:00","01:30"]]},"holidays":["2026-03-31","2026-10-28","2018-11-07"],"timeZone":")";
  for (const Case c : {Case{"Europe/Amsterdam", 2026, 3, 22}, Case{"Europe/Amsterdam", 2026, 10, 18},
                       Case{"America/Sao_Paulo", 2018, 10, 28}, Case{"America/Sao_Paulo", 2019, 2, 10},
                       Case{"Asia/Jakarta", 2026, 11, 22}, Case{"America/New_York", 2026, 3, 1}}) {
    auto s = from_json(std::string(schedule) + c.zone + "\"}");
    cctz::time_zone tz;
    REQUIRE(cctz::load_time_zone(c.zone, &tz));
    const TimePoint start = tz.lookup(cctz::civil_second(c.y, c.m, c.d, 0, 0, 0)).pre;
    const MinuteTable table(s, start, 21 * 24 * 60);  // three weeks
    // Every start minute of the first week against durations up to beyond a week, and pairs of
    // minutes spread over the three weeks (deterministic strides, so a failure reproduces).
    int checked = 0;
    for (int a = 0; a < 7 * 24 * 60; a += 7) {
      for (int target : {1, 59, 60, 61, 240, 481, 1440, 2 * 1440 + 17, 8 * 1440 / 3}) {
        const int due = table.due(a, target);
        if (due < 0) continue;
        INFO(c.zone << " from " << cctz::format("%Y-%m-%d %H:%M %Z", start + minutes(a), tz) << " +" << target
                    << " min");
        REQUIRE(add_open(s, start + minutes(a), minutes(target)) == start + minutes(due));
        ++checked;
      }
      const int b = (a * 13 + 4099) % table.size();
      INFO(c.zone << " between minutes " << a << " and " << b);
      REQUIRE(open_between(s, start + minutes(a), start + minutes(b)) == minutes(b > a ? table.open(a, b) : 0));
    }
    CHECK(checked > 10000);
  }
}
