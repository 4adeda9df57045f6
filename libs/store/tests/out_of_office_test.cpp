// The out-of-office text of add_auto_replies (issue 17: the widget's business hours drive every
// channel's auto-reply).
#include <catch2/catch.hpp>

#include "loket/store/tickets.hpp"

using loket::store::out_of_office;

namespace {
// 2026-11-30 (a Monday) at hh:mm UTC.
std::chrono::system_clock::time_point monday(int hh, int mm) {
  return std::chrono::system_clock::time_point(std::chrono::seconds(1795996800 + hh * 3600 + mm * 60));
}
const std::string kJakarta =
    R"({"timeZone":"Asia/Jakarta","week":{"mon":[["09:00","17:00"]],"tue":[["09:00","17:00"]],"thu":[["09:00","12:00"]]},"holidays":["2026-12-01"]})";
}  // namespace

TEST_CASE("out of office: nothing while open, the away message and when the team is back otherwise") {
  // 03:00 UTC is 10:00 in Jakarta: open.
  CHECK(out_of_office(kJakarta, "Kami libur.", monday(3, 0)) == "");
  // 23:00 UTC Monday is 06:00 Tuesday in Jakarta, a holiday: back Thursday 09:00 WIB.
  CHECK(out_of_office(kJakarta, "Kami libur.", monday(23, 0)) ==
        "Kami libur.\n\nWe are back on Thursday at 09:00 WIB.");
  // 00:30 UTC Monday is 07:30 Monday in Jakarta: back today, with the generic text.
  CHECK(out_of_office(kJakarta, "", monday(0, 30)) ==
        "We are away right now and will answer as soon as we are back.\n\nWe are back at 09:00 WIB.");
  // 10:30 UTC Monday is 17:30 in Jakarta; Tuesday is a holiday... Wednesday closed: Thursday.
  CHECK(out_of_office(kJakarta, "x", monday(10, 30)) == "x\n\nWe are back on Thursday at 09:00 WIB.");
  // Without the holiday, 17:30 on Monday is back tomorrow.
  const std::string no_holiday = R"({"timeZone":"Asia/Jakarta","week":{"tue":[["09:00","17:00"]]}})";
  CHECK(out_of_office(no_holiday, "x", monday(10, 30)) == "x\n\nWe are back tomorrow at 09:00 WIB.");
  // A schedule that never opens says only the away message; one that does not parse says nothing.
  CHECK(out_of_office(R"({"timeZone":"UTC","week":{}})", "Closed for good.", monday(0, 0)) == "Closed for good.");
  CHECK(out_of_office("{not json", "x", monday(0, 0)) == "");
}
