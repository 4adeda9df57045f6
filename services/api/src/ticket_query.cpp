#include "ticket_query.hpp"

#include <algorithm>
#include <regex>

#include "api.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"

namespace loket::api {
namespace {
constexpr std::size_t kMaxSearchChars = 256, kMaxSearchWords = 32;

http::Response bad(const std::string& msg) { return http::json_error(400, "VALIDATION_ERROR", msg); }

// An RFC 3339 time PostgreSQL accepts: the syntax, and every field in its range (a month
// of 13 or February 30 reached the database and answered 500).
bool valid_time(const std::string& s) {
  static const std::regex re(R"((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,6})?(Z|[+-](\d{2}):(\d{2})))");
  std::smatch m;
  if (!std::regex_match(s, m, re)) return false;
  auto n = [&m](int i) { return std::stoi(m[i].str()); };
  const int year = n(1), month = n(2), day = n(3);
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > kDays[month - 1] + (month == 2 && leap)) return false;
  if (n(4) > 23 || n(5) > 59 || n(6) > 59) return false;
  return !m[9].matched || (n(9) <= 14 && n(10) <= 59);
}

}  // namespace

std::string encode_cursor(store::TicketSort sort, std::int64_t number, std::int64_t updated_us,
                          std::int64_t snapshot_us) {
  return core::to_hex("v1|" + std::to_string(static_cast<int>(sort)) + "|" + std::to_string(number) + "|" +
                      std::to_string(updated_us) + "|" + std::to_string(snapshot_us));
}

bool decode_cursor(const std::string& c, store::TicketSort sort, store::TicketQuery& q) {
  try {
    const auto f = core::split(crypto::from_hex(c), '|');
    if (f.size() != 5 || f[0] != "v1" || std::stoi(f[1]) != static_cast<int>(sort)) return false;
    std::int64_t number = std::stoll(f[2]), updated = std::stoll(f[3]), snapshot = std::stoll(f[4]);
    q.after_number = number;
    q.after_updated_us = updated;
    q.snapshot_us = snapshot;
    return true;
  } catch (const std::exception&) {
    return false;
  }
}

std::variant<store::TicketQuery, http::Response> ticket_query(const http::Request& req, const store::Principal& p) {
  store::TicketQuery q;
  for (const auto& s : core::split(req.query_param("status"), ','))
    if (auto st = core::trim(s); !st.empty()) q.statuses.push_back(st);
  for (const auto& s : q.statuses)
    if (!store::is_valid_status(s))
      return bad("status must be open, pending, snoozed, resolved or closed (comma-separated)");
  q.channel = req.query_param("channel");
  if (auto a = req.query_param("assigneeId"); !a.empty()) q.assignee_id = a == "me" ? p.agent_id : a;
  if (q.assignee_id && q.assignee_id->empty()) return bad("assigneeId=me needs a signed-in agent");
  q.requester = req.query_param("requester");
  q.tag = req.query_param("tag");
  q.inbox_id = req.query_param("inboxId");
  q.contact_id = req.query_param("contactId");
  q.sla_state = req.query_param("sla");
  if (!q.sla_state.empty() && q.sla_state != "at_risk" && q.sla_state != "breached")
    return bad("sla must be at_risk or breached");
  if (auto team = req.query_param("teamId"); !team.empty()) q.team_id = team;
  if (!sees_all(p)) q.visible_to = p.agent_id;
  q.text = core::trim(req.query_param("q"));
  // Bounded before the database sees it: 8 searches of 4,000 words took 10–18 s each and made
  // other workspaces wait (issue 15 finding 3).
  if (core::utf8_length(q.text) > kMaxSearchChars)
    return bad("q must be at most " + std::to_string(kMaxSearchChars) + " characters");
  auto split = core::split(q.text, ' ');
  if (std::count_if(split.begin(), split.end(), [](const std::string& w) { return !w.empty(); }) >
      static_cast<std::ptrdiff_t>(kMaxSearchWords))
    return bad("q must have at most " + std::to_string(kMaxSearchWords) + " words");
  for (auto [name, field] : {std::pair{"createdAfter", &q.created_after},
                             {"createdBefore", &q.created_before},
                             {"updatedAfter", &q.updated_after},
                             {"updatedBefore", &q.updated_before}}) {
    auto v = req.query_param(name);
    if (v.empty()) continue;
    if (!valid_time(v)) return bad(std::string(name) + " must be an RFC 3339 time, e.g. 2026-06-11T03:21:09Z");
    *field = v;
  }
  std::string sort = req.query_param("sort");
  if (sort.empty() || sort == "-createdAt")
    q.sort = store::TicketSort::kCreatedDesc;
  else if (sort == "createdAt")
    q.sort = store::TicketSort::kCreatedAsc;
  else if (sort == "-updatedAt")
    q.sort = store::TicketSort::kUpdatedDesc;
  else if (sort == "updatedAt")
    q.sort = store::TicketSort::kUpdatedAsc;
  else if (sort == "slaDueAt")
    q.sort = store::TicketSort::kSlaDue;
  else
    return bad("sort must be createdAt, -createdAt, updatedAt, -updatedAt or slaDueAt");
  try {
    if (auto l = req.query_param("limit"); !l.empty()) q.limit = std::stol(l);
  } catch (const std::exception&) {
    return bad("limit must be a whole number");
  }
  if (q.limit < 1 || q.limit > 100) return bad("limit must be 1..100");
  auto cursor = req.query_param("cursor");
  if (!cursor.empty() && !decode_cursor(cursor, q.sort, q))
    return bad("cursor is not valid for this sort; start again without it");
  return q;
}

}  // namespace loket::api
