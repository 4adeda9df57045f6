// /api/v1/reports/overview and /api/v1/reports/agents (issue 21, docs/reports.md): JSON, or CSV
// with `Accept: text/csv`.
#include "loket/store/reports.hpp"

#include <regex>

#include "api.hpp"
#include "loket/core/json.hpp"
#include "loket/core/time.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/access.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::int64_t kMaxRangeMs = 366LL * 24 * 3600 * 1000;

struct Period {
  store::ReportQuery q;
  std::string group_name;
};

// Reads from, to (RFC 3339 UTC, or a date YYYY-MM-DD: midnight in `tz`), tz (IANA, default the
// workspace's time zone) and groupBy. Dates are turned into instants by PostgreSQL.
std::variant<Period, http::Response> read_period(pqxx::dbtransaction& tx, const http::Request& req,
                                                 const std::string& workspace_id, bool grouped) {
  Period p;
  p.q.time_zone =
      req.query_param("tz").empty() ? store::load_workspace(tx, workspace_id)->time_zone : req.query_param("tz");
  if (!store::is_time_zone(tx, p.q.time_zone))
    return invalid_field("tz", "must be an IANA time zone like Europe/Amsterdam");
  static const std::regex date_re("[0-9]{4}-[0-9]{2}-[0-9]{2}");
  for (auto [name, field] : {std::pair{"from", &p.q.from}, {"to", &p.q.to}}) {
    const std::string v = req.query_param(name);
    if (std::regex_match(v, date_re)) {
      try {
        *field = tx.exec_params1("SELECT rfc3339(($1::date)::timestamp AT TIME ZONE $2)", v, p.q.time_zone)[0]
                     .as<std::string>();
      } catch (const pqxx::data_exception&) {
        return invalid_field(name, "must be a date YYYY-MM-DD (a real one) or an RFC 3339 UTC time");
      }
    } else if (auto ms = core::parse_rfc3339_ms(v)) {
      *field = core::rfc3339_ms(*ms);
    } else {
      return invalid_field(name, "is required: a date YYYY-MM-DD (in tz) or an RFC 3339 UTC time");
    }
  }
  const auto from = core::parse_rfc3339_ms(p.q.from).value_or(0), to = core::parse_rfc3339_ms(p.q.to).value_or(0);
  if (to <= from || to - from > kMaxRangeMs) return invalid_field("to", "must be after from, at most 366 days later");
  if (!grouped) return p;
  p.group_name = req.query_param("groupBy");
  static const std::map<std::string, store::ReportGroup> groups{
      {"", store::ReportGroup::kNone},       {"day", store::ReportGroup::kDay},
      {"week", store::ReportGroup::kWeek},   {"channel", store::ReportGroup::kChannel},
      {"inbox", store::ReportGroup::kInbox}, {"team", store::ReportGroup::kTeam},
      {"agent", store::ReportGroup::kAgent}};
  auto g = groups.find(p.group_name);
  if (g == groups.end()) return invalid_field("groupBy", "must be day, week, channel, inbox, team or agent");
  p.q.group = g->second;
  return p;
}

std::optional<double> response_rate(const store::ReportFigures& f) {
  return f.resolved > 0 ? std::optional<double>(static_cast<double>(f.csat_responses) / f.resolved) : std::nullopt;
}

std::optional<double> attainment(const store::DurationStats& d) {
  return d.sla_targeted > 0 ? std::optional<double>(static_cast<double>(d.sla_attained) / d.sla_targeted)
                            : std::nullopt;
}

void put_number(core::JsonWriter& w, const char* k, const std::optional<double>& v) {
  core::json_put(w, k);
  if (v)
    w.Double(*v);
  else
    w.Null();
}

void put_durations(core::JsonWriter& w, const char* k, const store::DurationStats& s) {
  core::json_put(w, k);
  w.StartObject();
  core::json_put(w, "count");
  w.Int64(s.count);
  put_number(w, "medianSeconds", s.median_s);
  put_number(w, "p90Seconds", s.p90_s);
  put_number(w, "businessMedianSeconds", s.business_median_s);
  put_number(w, "businessP90Seconds", s.business_p90_s);
  w.EndObject();
}

// The figures' members (inside an object the caller opened).
void put_figures(core::JsonWriter& w, const store::ReportFigures& f) {
  for (auto [k, v] :
       {std::pair{"ticketsCreated", f.created}, {"ticketsResolved", f.resolved}, {"ticketsReopened", f.reopened}}) {
    core::json_put(w, k);
    w.Int64(v);
  }
  put_durations(w, "firstResponseTime", f.first_response);
  put_durations(w, "resolutionTime", f.resolution);
  core::json_put(w, "csat");
  w.StartObject();
  core::json_put(w, "responses");
  w.Int64(f.csat_responses);
  put_number(w, "average", f.csat_average);
  core::json_put(w, "distribution");
  w.StartObject();
  for (std::size_t i = 0; i < 5; ++i) {
    core::json_put(w, std::to_string(i + 1));
    w.Int64(f.csat_distribution[i]);
  }
  w.EndObject();
  put_number(w, "responseRate", response_rate(f));
  w.EndObject();
  core::json_put(w, "backlog");
  w.Int64(f.backlog);
  core::json_put(w, "sla");
  w.StartObject();
  for (auto [k, d] : {std::pair{"firstResponse", &f.first_response}, {"resolution", &f.resolution}}) {
    core::json_put(w, k);
    w.StartObject();
    core::json_put(w, "tickets");
    w.Int64(d->sla_targeted);
    core::json_put(w, "attained");
    w.Int64(d->sla_attained);
    put_number(w, "rate", attainment(*d));
    w.EndObject();
  }
  core::json_put(w, "nextResponse");  // counted per wait, not per ticket
  w.StartObject();
  core::json_put(w, "waits");
  w.Int64(f.next_response_waits);
  core::json_put(w, "attained");
  w.Int64(f.next_response_met);
  put_number(w, "rate",
             f.next_response_waits > 0
                 ? std::optional<double>(static_cast<double>(f.next_response_met) / f.next_response_waits)
                 : std::nullopt);
  w.EndObject();
  w.EndObject();
}

std::string csv_number(const std::optional<double>& v) {
  if (!v) return "";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f", *v);
  return buf;
}

// A CSV field: quoted when it holds a comma, quote or line break; a leading = + - @ is defused
// (spreadsheets would run it as a formula: agent names are user input).
std::string csv_field(std::string s) {
  if (!s.empty() && std::string("=+-@").find(s[0]) != std::string::npos) s = "'" + s;
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

const char* kCsvHeader =
    "tickets_created,tickets_resolved,tickets_reopened,first_response_count,first_response_median_s,"
    "first_response_p90_s,first_response_business_median_s,first_response_business_p90_s,resolution_count,"
    "resolution_median_s,resolution_p90_s,resolution_business_median_s,resolution_business_p90_s,csat_responses,"
    "csat_average,csat_1,csat_2,csat_3,csat_4,csat_5,csat_response_rate,backlog,sla_first_response_tickets,"
    "sla_first_response_attained,sla_resolution_tickets,sla_resolution_attained,sla_next_response_waits,"
    "sla_next_response_attained";

std::string csv_figures(const store::ReportFigures& f) {
  std::string row = std::to_string(f.created) + "," + std::to_string(f.resolved) + "," + std::to_string(f.reopened);
  for (const auto* s : {&f.first_response, &f.resolution})
    row += "," + std::to_string(s->count) + "," + csv_number(s->median_s) + "," + csv_number(s->p90_s) + "," +
           csv_number(s->business_median_s) + "," + csv_number(s->business_p90_s);
  row += "," + std::to_string(f.csat_responses) + "," + csv_number(f.csat_average);
  for (auto n : f.csat_distribution) row += "," + std::to_string(n);
  row += "," + csv_number(response_rate(f)) + "," + std::to_string(f.backlog);
  for (const auto* s : {&f.first_response, &f.resolution})
    row += "," + std::to_string(s->sla_targeted) + "," + std::to_string(s->sla_attained);
  row += "," + std::to_string(f.next_response_waits) + "," + std::to_string(f.next_response_met);
  return row + "\r\n";
}

bool wants_csv(const http::Request& req) { return req.header("accept").find("text/csv") != std::string::npos; }

http::Response csv(std::string body, const std::string& name) {
  http::Response r;
  r.content_type = "text/csv; charset=utf-8";
  r.headers.push_back({"Content-Disposition", "attachment; filename=\"" + name + ".csv\""});
  r.body = std::move(body);
  return r;
}

http::Response overview(Context& ctx, const http::Request& req, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto period = read_period(tx, req, p.workspace_id, true);
  if (auto* err = std::get_if<http::Response>(&period)) return std::move(*err);
  const auto& [q, group] = std::get<Period>(period);
  const auto figures = store::report(tx, p.workspace_id, q);
  if (wants_csv(req)) {
    std::string body = std::string("group,") + kCsvHeader + "\r\n";
    for (const auto& [key, f] : figures)
      if (!key.empty()) body += csv_field(key) + "," + csv_figures(f);
    body += "total," + csv_figures(figures.at(""));
    return csv(std::move(body), "loket-overview");
  }
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "from", q.from);
  core::json_kv(w, "to", q.to);
  core::json_kv(w, "timeZone", q.time_zone);
  core::json_kv_opt(w, "groupBy", group.empty() ? std::nullopt : std::optional(group));
  core::json_put(w, "totals");
  w.StartObject();
  put_figures(w, figures.at(""));
  w.EndObject();
  core::json_put(w, "groups");
  w.StartArray();
  for (const auto& [key, f] : figures) {
    if (key.empty()) continue;
    w.StartObject();
    core::json_kv(w, "key", key);
    put_figures(w, f);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return http::json_ok(200, sb.GetString());
}

// Every agent of the workspace (and "none": unassigned tickets) with the figures of the tickets
// assigned to them.
http::Response agents(Context& ctx, const http::Request& req, const Principal& p) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto period = read_period(tx, req, p.workspace_id, false);
  if (auto* err = std::get_if<http::Response>(&period)) return std::move(*err);
  auto q = std::get<Period>(period).q;
  q.group = store::ReportGroup::kAgent;
  const auto figures = store::report(tx, p.workspace_id, q);
  const auto people = store::list_agents(tx, p.workspace_id);
  auto of = [&](const std::string& id) {
    auto it = figures.find(id);
    return it == figures.end() ? store::ReportFigures{} : it->second;
  };
  if (wants_csv(req)) {
    std::string body = std::string("agent_id,name,email,") + kCsvHeader + "\r\n";
    for (const auto& a : people)
      body += csv_field(a.id) + "," + csv_field(a.name) + "," + csv_field(a.email) + "," + csv_figures(of(a.id));
    body += "none,,," + csv_figures(of("none"));
    return csv(std::move(body), "loket-agents");
  }
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "from", q.from);
  core::json_kv(w, "to", q.to);
  core::json_put(w, "agents");
  w.StartArray();
  for (const auto& a : people) {
    w.StartObject();
    core::json_kv(w, "agentId", a.id);
    core::json_kv(w, "name", a.name);
    core::json_kv(w, "email", a.email);
    put_figures(w, of(a.id));
    w.EndObject();
  }
  w.EndArray();
  core::json_put(w, "unassigned");
  w.StartObject();
  put_figures(w, of("none"));
  w.EndObject();
  w.EndObject();
  return http::json_ok(200, sb.GetString());
}
}  // namespace

void add_report_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  add(r, ctx, "GET", "/api/v1/reports/overview", Access::kAdmin, [&ctx](Q q, P p) { return overview(ctx, q, p); });
  add(r, ctx, "GET", "/api/v1/reports/agents", Access::kAdmin, [&ctx](Q q, P p) { return agents(ctx, q, p); });
}

}  // namespace loket::api
