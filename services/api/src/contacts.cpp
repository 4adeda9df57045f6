// /api/v1/contacts (issue 20): the people behind the tickets, across channels — search, read with
// their tickets, annotate, merge.
#include "loket/store/contacts.hpp"
#include "api.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/http/envelope.hpp"
#include "views.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxNameChars = 200, kMaxNotesChars = 10000, kMaxAttributes = 50, kMaxKeyChars = 64,
                      kMaxValueChars = 1000, kMaxQueryChars = 100;
constexpr int kDefaultLimit = 25, kMaxLimit = 100, kTicketsShown = 25;

std::string contact_json(const store::Contact& c, const std::string& tickets = "") {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "id", c.id);
  core::json_kv_opt(w, "name", c.name);
  auto list = [&](const char* key, const char* kind) {
    core::json_put(w, key);
    w.StartArray();
    for (const auto& i : c.identities)
      if (i.kind == kind) w.String(i.value.data(), static_cast<rapidjson::SizeType>(i.value.size()));
    w.EndArray();
  };
  list("emails", "email");
  list("phoneNumbers", "phone");
  core::json_put(w, "channels");  // the channel identities: a Telegram chat, a chat visitor, an API contact, …
  w.StartArray();
  for (const auto& i : c.identities) {
    if (i.kind == "email" || i.kind == "phone") continue;
    w.StartObject();
    core::json_kv(w, "channel", i.kind);
    core::json_kv(w, "threadId", i.value);
    core::json_kv_opt(w, "integrationId", i.integration_id);
    w.EndObject();
  }
  w.EndArray();
  core::json_kv(w, "notes", c.notes);
  core::json_put(w, "customAttributes");
  w.RawValue(c.attributes.data(), c.attributes.size(), rapidjson::kObjectType);
  core::json_put(w, "ticketCount");
  w.Int(c.ticket_count);
  core::json_kv_opt(w, "mergedIntoId", c.merged_into_id);
  core::json_kv(w, "createdAt", c.created_at);
  core::json_kv(w, "updatedAt", c.updated_at);
  if (!tickets.empty()) {
    core::json_put(w, "tickets");
    w.RawValue(tickets.data(), tickets.size(), rapidjson::kArrayType);
  }
  w.EndObject();
  return sb.GetString();
}

http::Response not_found() { return http::json_error(404, "NOT_FOUND", "no such contact"); }

http::Response merged_away(const store::Contact& c) {
  return http::json_error(409, "CONFLICT", "contact " + c.id + " was merged into " + *c.merged_into_id);
}

// The contact's newest tickets `p` may see, as a JSON array.
std::string tickets_of(pqxx::transaction_base& tx, const Principal& p, const std::string& contact) {
  store::TicketQuery q;
  q.contact_id = contact;
  if (!sees_all(p)) q.visible_to = p.agent_id;
  q.limit = kTicketsShown;
  std::string out = "[";
  for (const auto& row : store::list_tickets(tx, p.workspace_id, q))
    out += (out.size() > 1 ? "," : "") + ticket_json(row.ticket);
  return out + "]";
}

http::Response list(Context& ctx, const http::Request& req, const Principal& p) {
  int limit = kDefaultLimit;
  if (auto l = req.query_param("limit"); !l.empty()) {
    if (l.size() > 3 || l.find_first_not_of("0123456789") != std::string::npos || std::stoi(l) < 1 ||
        std::stoi(l) > kMaxLimit)
      return invalid_field("limit", "limit must be 1-100");
    limit = std::stoi(l);
  }
  const std::string q = core::trim(req.query_param("q")), cursor = req.query_param("cursor");
  if (core::utf8_length(q) > kMaxQueryChars) return invalid_field("q", "q must be at most 100 characters");
  if (cursor.size() > 64) return invalid_field("cursor", "cursor is not valid; start again without it");
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto rows = store::list_contacts(tx, p.workspace_id, q, cursor, limit + 1);
  std::string next = "null";
  if (rows.size() > static_cast<std::size_t>(limit)) {
    rows.resize(static_cast<std::size_t>(limit));
    next = "\"" + rows.back().id + "\"";
  }
  return http::json_ok(200, "{\"items\":" + json_array(rows, [](const store::Contact& c) { return contact_json(c); }) +
                                ",\"nextCursor\":" + next + "}");
}

http::Response get(Context& ctx, const Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto c = store::load_contact(tx, p.workspace_id, id);
  if (!c) return not_found();
  // A merged contact answers with a pointer to the one it became.
  return http::json_ok(200, contact_json(*c, c->merged_into_id ? "[]" : tickets_of(tx, p, c->id)));
}

// customAttributes of a PATCH: a JSON merge into `attributes` (null removes a key).
std::optional<http::Response> read_attributes(const rapidjson::Value& d, std::string& attributes) {
  const auto* v = core::json_member(d, "customAttributes");
  if (!v) return std::nullopt;
  const char* field = "customAttributes";
  if (!v->IsObject()) return invalid_field(field, "customAttributes must be an object");
  rapidjson::Document merged;
  merged.Parse(attributes.c_str());
  for (const auto& m : v->GetObject()) {
    std::string key(m.name.GetString(), m.name.GetStringLength());
    if (key.empty() || core::utf8_length(key) > kMaxKeyChars)
      return invalid_field(field, "customAttributes keys must be 1-64 characters");
    const auto& x = m.value;
    if (x.IsString() && core::utf8_length(std::string_view(x.GetString(), x.GetStringLength())) > kMaxValueChars)
      return invalid_field(field + std::string(".") + key, "a custom attribute's text is at most 1000 characters");
    if (!x.IsNull() && !x.IsString() && !x.IsNumber() && !x.IsBool())
      return invalid_field(field + std::string(".") + key,
                           "a custom attribute is text, a number, true or false (null removes it)");
    merged.RemoveMember(rapidjson::StringRef(key.data(), key.size()));
    if (!x.IsNull())
      merged.AddMember(
          rapidjson::Value(key.data(), static_cast<rapidjson::SizeType>(key.size()), merged.GetAllocator()),
          rapidjson::Value(x, merged.GetAllocator()), merged.GetAllocator());
  }
  if (merged.MemberCount() > kMaxAttributes)
    return invalid_field(field, "a contact keeps at most 50 custom attributes");
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  merged.Accept(w);
  attributes = sb.GetString();
  return std::nullopt;
}

http::Response patch(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::optional<std::string> name, notes;
  if (auto err = read_optional_text(d, "name", kMaxNameChars, name)) return *err;
  if (const auto* v = core::json_member(d, "notes")) {
    if (!v->IsString() || core::utf8_length(std::string_view(v->GetString(), v->GetStringLength())) > kMaxNotesChars)
      return invalid_field("notes", "notes must be text of at most 10000 characters");
    notes.emplace(v->GetString(), v->GetStringLength());
  }
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto c = store::load_contact(tx, p.workspace_id, id);
    if (!c) return not_found();
    if (c->merged_into_id) return merged_away(*c);
    if (name) c->name = name;
    if (notes) c->notes = *notes;
    if (auto err = read_attributes(d, c->attributes)) return *err;
    store::save_contact(tx, *c);
    return http::json_ok(200, contact_json(*c, tickets_of(tx, p, c->id)));
  });
}

http::Response merge(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto target = store::load_contact(tx, p.workspace_id, id);
    if (!target) return not_found();
    if (target->merged_into_id) return merged_away(*target);
    std::vector<std::string> sources;
    if (auto err = read_source_ids(d, "sourceContactIds", id, sources)) return *err;
    for (const auto& s : sources) {
      auto c = store::load_contact(tx, p.workspace_id, s);
      if (!c) return invalid_field("sourceContactIds", s + " is not a contact of this workspace");
      if (c->merged_into_id)
        return invalid_field("sourceContactIds", s + " was already merged into " + *c->merged_into_id);
    }
    store::merge_contacts(tx, p.workspace_id, id, sources);
    auto merged = store::load_contact(tx, p.workspace_id, id);
    return http::json_ok(200, contact_json(*merged, tickets_of(tx, p, id)));
  });
}
}  // namespace

void add_contact_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  const auto A = Access::kAgent;
  const std::string base = "/api/v1/contacts";
  add(r, ctx, "GET", base, A, [&ctx](Q q, P p) { return list(ctx, q, p); });
  add(r, ctx, "GET", base + "/:id", A, [&ctx](Q q, P p) { return get(ctx, p, q.params.at("id")); });
  add(r, ctx, "PATCH", base + "/:id", A, [&ctx](Q q, P p) { return patch(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "POST", base + "/:id/merge", A, [&ctx](Q q, P p) { return merge(ctx, q, p, q.params.at("id")); });
}

}  // namespace loket::api
