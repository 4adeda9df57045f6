// GET /api/v1/tickets without sockets or a database: what the query string asks for, what is
// refused with which message, and the opaque cursor.
#include <catch2/catch.hpp>

#include "loket/core/ids.hpp"
#include "loket/http/url.hpp"
#include "ticket_query.hpp"

using namespace loket;
using store::TicketSort;

namespace {
http::Request get(const std::string& query) {
  http::Request r;
  r.method = "GET";
  r.target = "/api/v1/tickets?" + query;
  r.path = "/api/v1/tickets";
  r.query = http::parse_query(query);
  return r;
}

store::Principal agent() {
  store::Principal p;
  p.workspace_id = "acc_1";
  p.agent_id = "agt_me";
  p.session_id = "ses_1";
  return p;
}

store::Principal api_key() {
  store::Principal p;
  p.workspace_id = "acc_1";
  p.api_key_id = "key_1";
  return p;
}

store::TicketQuery parsed(const std::string& query, const store::Principal& p = agent()) {
  auto r = api::ticket_query(get(query), p);
  if (auto* refusal = std::get_if<http::Response>(&r)) FAIL("refused: " << refusal->body);
  return std::get<store::TicketQuery>(r);
}

// The 400's message, or "" when the query was accepted.
std::string refusal(const std::string& query, const store::Principal& p = agent()) {
  auto r = api::ticket_query(get(query), p);
  const auto* res = std::get_if<http::Response>(&r);
  if (!res) return "";
  CHECK(res->status == 400);
  CHECK(res->body.find("VALIDATION_ERROR") != std::string::npos);
  return res->body;
}
}  // namespace

TEST_CASE("the ticket list reads its filters, sort and page size") {
  auto q = parsed(
      "status=open,%20pending&channel=whatsapp&assigneeId=me&tag=vip&q=%20lost%20parcel%20&limit=100&"
      "createdAfter=2026-11-01T00:00:00Z&updatedBefore=2026-11-30T10:00:00.123%2B07:00&sort=updatedAt");
  CHECK(q.statuses == std::vector<std::string>{"open", "pending"});
  CHECK(q.channel == "whatsapp");
  CHECK(q.assignee_id == "agt_me");
  CHECK(q.tag == "vip");
  CHECK(q.text == "lost parcel");
  CHECK(q.limit == 100);
  CHECK(q.created_after == "2026-11-01T00:00:00Z");
  CHECK(q.updated_before == "2026-11-30T10:00:00.123+07:00");
  CHECK(q.sort == TicketSort::kUpdatedAsc);
  CHECK_FALSE(q.after_number);

  auto d = parsed("");
  CHECK(d.statuses.empty());
  CHECK(d.sort == TicketSort::kCreatedDesc);
  CHECK(d.limit == 25);
  CHECK_FALSE(d.assignee_id);
  CHECK(parsed("assigneeId=none").assignee_id == "none");
}

TEST_CASE("the ticket list refuses what it cannot honour, naming the parameter") {
  CHECK(refusal("status=open,archived").find("status must be") != std::string::npos);
  CHECK(refusal("sort=priority").find("sort must be") != std::string::npos);
  CHECK(refusal("limit=0").find("limit must be 1..100") != std::string::npos);
  CHECK(refusal("limit=101").find("limit must be 1..100") != std::string::npos);
  CHECK(refusal("limit=ten").find("limit must be a whole number") != std::string::npos);
  CHECK(refusal("createdAfter=yesterday").find("createdAfter must be an RFC 3339 time") != std::string::npos);
  CHECK(refusal("updatedAfter=2026-11-30").find("updatedAfter") != std::string::npos);
  // Well-formed but impossible times reached PostgreSQL and answered 500 (issue 15 finding 10).
  for (const char* t : {"2026-13-45T25:61:61Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "0000-01-01T00:00:00Z",
                        "2026-01-01T24:00:00Z", "2026-01-01T00:00:00+25:00"})
    CHECK(refusal(std::string("createdBefore=") + t).find("createdBefore must be an RFC 3339 time") !=
          std::string::npos);
  CHECK(refusal("createdBefore=2028-02-29T23:59:59.999999-03:30").empty());  // a leap day
  CHECK(refusal("assigneeId=me", api_key()).find("needs a signed-in agent") != std::string::npos);
  CHECK(refusal("cursor=zz").find("cursor is not valid") != std::string::npos);
  CHECK(refusal("limit=25").empty());
  std::string words;  // 4,000 words took 10-18 s each in the database; 32,000 overflowed the stack
  for (int i = 0; i < 4000; ++i) words += "w" + std::to_string(i) + "%20";
  CHECK(refusal("q=" + words).find("q must be at most 256 characters") != std::string::npos);
  std::string many;
  for (int i = 0; i < 33; ++i) many += "a%20";
  CHECK(refusal("q=" + many).find("q must have at most 32 words") != std::string::npos);
  CHECK(refusal("q=" + many.substr(4)).empty());
}

TEST_CASE("a cursor resumes after its ticket, only for the sort it was made for") {
  auto c = api::encode_cursor(TicketSort::kUpdatedAsc, 42, 1767225600123456, 1767225700000000);
  auto q = parsed("sort=updatedAt&cursor=" + c);
  CHECK(q.after_number == 42);
  CHECK(q.after_updated_us == 1767225600123456);
  CHECK(q.snapshot_us == 1767225700000000);
  CHECK(refusal("sort=-updatedAt&cursor=" + c).find("cursor is not valid for this sort") != std::string::npos);

  store::TicketQuery untouched;
  CHECK_FALSE(api::decode_cursor(c.substr(0, 12), TicketSort::kUpdatedAsc, untouched));  // cut short
  CHECK_FALSE(api::decode_cursor(core::to_hex("v2|3|1|2|3"), TicketSort::kUpdatedAsc, untouched));
  CHECK_FALSE(api::decode_cursor(core::to_hex("v1|3|1|x|3"), TicketSort::kUpdatedAsc, untouched));
  CHECK_FALSE(untouched.after_number);  // a refused cursor changes nothing
}
