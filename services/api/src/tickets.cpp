// /api/v1/tickets: list (filters, search, sort, cursor), log, read, update and reply (issue 3
// "Tickets"; seed 002 shapes; DESIGN.md "Threading").
#include <regex>
#include <set>

#include "api.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/text.hpp"
#include "loket/core/time.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/contacts.hpp"
#include "loket/store/inboxes.hpp"
#include "loket/store/tickets.hpp"
#include "ticket_query.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxBodyChars = 20000;
constexpr std::size_t kMaxSubjectChars = 300;
constexpr std::size_t kMaxTags = 20, kMaxTagChars = 50;

http::Response bad(const std::string& msg) { return http::json_error(400, "VALIDATION_ERROR", msg); }
http::Response not_found() { return http::json_error(404, "NOT_FOUND", "no such ticket"); }

}  // namespace

bool valid_priority(const std::string& p) { return p == "low" || p == "normal" || p == "high" || p == "urgent"; }

std::optional<http::Response> read_tags(const rapidjson::Value& v, std::vector<std::string>& tags) {
  if (!v.IsArray()) return bad("tags must be an array of strings");
  for (const auto& x : v.GetArray()) {
    if (!x.IsString()) return bad("tags must be an array of strings");
    std::string tag = core::trim(std::string_view(x.GetString(), x.GetStringLength()));
    if (tag.empty() || core::utf8_length(tag) > kMaxTagChars || tag.find('\x1f') != std::string::npos)
      return bad("each tag must be 1–50 characters");
    if (std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  }
  if (tags.size() > kMaxTags) return bad("at most 20 tags");
  return std::nullopt;
}

std::optional<http::Response> read_assignee(pqxx::transaction_base& tx, const std::string& ws,
                                            const rapidjson::Value& v, std::optional<std::string>& out) {
  if (v.IsNull()) return std::nullopt;
  if (!v.IsString()) return bad("assigneeId must be an agent id or null");
  std::string id(v.GetString(), v.GetStringLength());
  auto a = store::load_agent(tx, ws, id);
  if (!a || !a->active) return bad("assigneeId is not an active agent of this workspace");
  out = id;
  return std::nullopt;
}

std::optional<http::Response> read_routing(pqxx::transaction_base& tx, const Principal& p, const rapidjson::Value& d,
                                           store::TicketChanges& c) {
  if (const auto* v = core::json_member(d, "inboxId")) {
    if (!v->IsString()) return invalid_field("inboxId", "inboxId must be an inbox id");
    std::string id(v->GetString(), v->GetStringLength());
    // An agent moves tickets only between inboxes they work in: they never lose sight of one
    // into an inbox they cannot open, or drop one into an inbox whose members did not agree.
    if (!store::load_inbox(tx, p.workspace_id, id) || (!sees_all(p) && !store::in_inbox(tx, p.agent_id, id)))
      return invalid_field("inboxId", "inboxId is not an inbox of this workspace you are a member of");
    c.inbox_id = id;
  }
  if (const auto* v = core::json_member(d, "teamId")) {
    if (!v->IsNull() && !v->IsString()) return invalid_field("teamId", "teamId must be a team id or null");
    std::optional<std::string> id;
    if (v->IsString()) id.emplace(v->GetString(), v->GetStringLength());
    if (id && !store::load_team(tx, p.workspace_id, *id))
      return invalid_field("teamId", "teamId is not a team of this workspace");
    c.team_id = id;
  }
  return std::nullopt;
}

std::optional<store::Ticket> find_ticket(pqxx::transaction_base& tx, const Principal& p, const std::string& id,
                                         bool for_update) {
  auto t = store::load_ticket(tx, p.workspace_id, id, for_update);
  if (t && !sees_all(p) && !store::in_inbox(tx, p.agent_id, t->inbox_id)) return std::nullopt;
  return t;
}

namespace {
http::Response list(Context& ctx, const http::Request& req, const Principal& p) {
  auto parsed = ticket_query(req, p);
  if (auto* refusal = std::get_if<http::Response>(&parsed)) return *refusal;
  auto& q = std::get<store::TicketQuery>(parsed);
  long limit = q.limit;
  q.limit = limit + 1;
  auto conn = ctx.pool.acquire();
  pqxx::nontransaction tx(*conn);  // one query (two for the first updatedAt page)
  std::int64_t snapshot = q.snapshot_us.value_or(0);
  if (!snapshot && q.sort == store::TicketSort::kUpdatedAsc) snapshot = q.snapshot_us.emplace(store::now_us(tx));
  auto rows = store::list_tickets(tx, p.workspace_id, q);
  std::string items;
  for (std::size_t i = 0; i < rows.size() && static_cast<long>(i) < limit; ++i)
    items += (items.empty() ? "" : ",") + ticket_json(rows[i].ticket);
  std::string next = "null";
  if (static_cast<long>(rows.size()) > limit) {
    const auto& last = rows[static_cast<std::size_t>(limit) - 1];
    next = "\"" + encode_cursor(q.sort, last.ticket.number, last.updated_us, snapshot) + "\"";
  }
  return http::json_ok(200, "{\"items\":[" + items + "],\"nextCursor\":" + next + "}");
}

std::string ticket_with_messages(pqxx::transaction_base& tx, const store::Ticket& t) {
  std::string out = ticket_json(t);
  out.pop_back();
  return out + ",\"messages\":" + json_array(store::load_messages(tx, t.id, true), message_json) + "}";
}

http::Response get(Context& ctx, const Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::nontransaction tx(*conn);  // two reads; no BEGIN/COMMIT round trips on the hottest route
  auto t = find_ticket(tx, p, id);
  if (!t) return not_found();
  return http::json_ok(200, ticket_with_messages(tx, *t));
}

std::optional<std::string> opt_field(const rapidjson::Value& d, const char* k) {
  auto v = core::json_string(d, k);
  if (v && core::trim(*v).empty()) return std::nullopt;
  if (v) return core::trim(*v);
  return v;
}

http::Response create(Context& ctx, const http::Request& req, const Principal& p) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string body = core::json_string(d, "body").value_or("");
  std::string channel = core::json_string(d, "channel").value_or("web");
  std::string subject = core::trim(core::json_string(d, "subject").value_or(""));
  if (core::trim(body).empty() || core::utf8_length(body) > kMaxBodyChars)
    return bad("body is required (1–20000 characters)");
  if (core::utf8_length(subject) > kMaxSubjectChars) return bad("subject must be at most 300 characters");
  const auto* descriptor = providers::find_channel(channel);
  if (!descriptor) return bad("channel '" + channel + "' is not known");
  store::NewTicket n;
  n.workspace_id = p.workspace_id;
  n.channel = channel;
  n.subject = subject.empty() ? store::subject_from_text(body, channel) : subject;
  n.requester_name = opt_field(d, "requesterName");
  n.requester_email = opt_field(d, "requesterEmail");
  n.requester_phone = opt_field(d, "requesterPhone");
  if (n.requester_email && n.requester_email->find('@') == std::string::npos)
    return bad("requesterEmail is not an email address");
  if (n.requester_phone && !core::is_e164(*n.requester_phone))
    return bad("requesterPhone must be in E.164 form, e.g. +6281234567890");
  const bool by_phone = descriptor->reply_to == providers::ReplyTo::kPhone;
  if (by_phone && !n.requester_phone) return bad("a " + channel + " ticket needs requesterPhone (E.164)");
  // A WhatsApp conversation is threaded by the customer's number (seed 001).
  if (by_phone) n.external_thread_id = n.requester_phone;
  if (auto pr = core::json_string(d, "priority")) n.priority = *pr;
  if (!valid_priority(n.priority)) return bad("priority must be low, normal, high or urgent");
  std::vector<std::string> tags, attachment_ids;
  if (const auto* t = core::json_member(d, "tags"))
    if (auto err = read_tags(*t, tags)) return *err;
  if (auto err = read_attachment_ids(d, attachment_ids)) return *err;
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    store::TicketChanges extra;
    if (const auto* a = core::json_member(d, "assigneeId")) {
      std::optional<std::string> assignee;
      if (auto err = read_assignee(tx, p.workspace_id, *a, assignee)) return *err;
      if (assignee) extra.assignee_id = assignee;
    }
    n.auto_assign = !extra.assignee_id;  // the caller's choice stands
    if (!tags.empty()) extra.tags = tags;
    if (auto err = read_routing(tx, p, d, extra)) return *err;
    if (extra.inbox_id) n.inbox_id = *extra.inbox_id;
    extra.inbox_id.reset();
    std::string access_token;
    auto t = store::create_ticket(tx, n, ctx.keys, &access_token);
    if (extra.assignee_id || extra.tags || extra.team_id) store::update_ticket(tx, t, extra);
    store::NewMessage m;
    m.author_type = "requester";
    m.author_name = n.requester_name.value_or("");
    m.body = body;
    auto msg = store::add_message(tx, t, m, {}, false);
    attach_or_reject(tx, p.workspace_id, msg, attachment_ids, uploader_of(p));
    store::emit_message_created(tx, t, msg);
    store::add_auto_replies(tx, {t});
    return http::json_ok(201, ticket_with_messages(tx, t));
  });
}

// A PATCH's `snoozedUntil` (issue 21): an RFC 3339 UTC time in the future, at most a year ahead,
// or null for "until the customer writes"; with `status` other than snoozed it is refused.
std::optional<http::Response> read_snooze(const rapidjson::Value& d, store::TicketChanges& c) {
  const auto* v = core::json_member(d, "snoozedUntil");
  if (!v) return std::nullopt;
  if (c.status && *c.status != "snoozed")
    return invalid_field("snoozedUntil", "applies only with \"status\":\"snoozed\"");
  if (v->IsNull()) {
    c.snoozed_until = std::optional<std::string>();
    return std::nullopt;
  }
  const auto now = core::now_ms();
  constexpr std::int64_t kMaxSnoozeMs = 366LL * 24 * 3600 * 1000;
  const std::int64_t at =
      v->IsString() ? core::parse_rfc3339_ms(std::string_view(v->GetString(), v->GetStringLength())).value_or(0) : 0;
  if (at <= now || at > now + kMaxSnoozeMs)
    return invalid_field("snoozedUntil",
                         "must be a UTC time like 2026-12-24T09:00:00Z, in the future and at most a year ahead, or "
                         "null for until the customer writes");
  c.snoozed_until = core::rfc3339_ms(at);
  return std::nullopt;
}

http::Response patch(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  store::TicketChanges c;
  c.status = core::json_string(d, "status");
  c.priority = core::json_string(d, "priority");
  c.subject = core::json_string(d, "subject");
  if (c.status && !store::is_valid_status(*c.status))
    return bad("status must be open, pending, snoozed, resolved or closed");
  if (auto err = read_snooze(d, c)) return *err;
  if (c.priority && !valid_priority(*c.priority)) return bad("priority must be low, normal, high or urgent");
  if (c.subject) {
    c.subject = core::trim(*c.subject);
    if (c.subject->empty() || core::utf8_length(*c.subject) > kMaxSubjectChars)
      return bad("subject must be 1–300 characters");
  }
  if (const auto* t = core::json_member(d, "tags")) {
    std::vector<std::string> tags;
    if (auto err = read_tags(*t, tags)) return *err;
    c.tags = tags;
  }
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    if (const auto* a = core::json_member(d, "assigneeId")) {
      std::optional<std::string> assignee;
      if (auto err = read_assignee(tx, p.workspace_id, *a, assignee)) return *err;
      c.assignee_id = assignee;
    }
    if (auto err = read_routing(tx, p, d, c)) return *err;
    auto t = find_ticket(tx, p, id, true);
    if (!t) return not_found();
    if (c.snoozed_until && !c.status && t->status != "snoozed")
      return invalid_field("snoozedUntil", "applies to a snoozed ticket: send it with \"status\":\"snoozed\"");
    store::update_ticket(tx, *t, c);
    return http::json_ok(200, ticket_json(*t));
  });
}

// POST /api/v1/tickets/:id/merge {"sourceTicketIds":[…]} (issue 20 "Merge tickets").
http::Response merge(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto t = find_ticket(tx, p, id, false);
    if (!t) return not_found();
    std::vector<std::string> sources;
    if (auto err = read_source_ids(d, "sourceTicketIds", id, sources)) return *err;
    for (const auto& s : sources)  // the caller must see every ticket involved (role agent: their inboxes')
      if (!find_ticket(tx, p, s, false)) return invalid_field("sourceTicketIds", s + " is not a ticket you can see");
    try {
      store::merge_tickets(tx, *t, sources);
    } catch (const store::MergeRefused& e) {
      return invalid_field("sourceTicketIds", e.what());
    }
    return http::json_ok(200, ticket_json(*t));
  });
}

http::Response messages(Context& ctx, const Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto t = find_ticket(tx, p, id);
  if (!t) return not_found();
  return http::json_ok(200, json_array(store::load_messages(tx, id, true), message_json));
}

// The original bytes of an inbound message (an email as received), issue 16.
http::Response raw_message(Context& ctx, const Principal& p, const std::string& id, const std::string& message_id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto raw = find_ticket(tx, p, id) ? store::load_message_raw(tx, p.workspace_id, id, message_id, true) : std::nullopt;
  if (!raw) return http::json_error(404, "NOT_FOUND", "no such message, or Loket kept no original of it");
  return send_file(std::move(*raw), "message/rfc822", message_id + ".eml");
}

// The 409 REPLY_WINDOW_CLOSED for a public reply on `t` (with message tag `tag`, "" = none)
// after its channel's reply window, saying what is still possible; std::nullopt when the reply
// may go (no window, still open, or a tag that keeps it open). A tag the channel does not know
// is a 400.
// Whether a reply's `via` names a route: the ticket's channel, email, or a channel that reaches a
// person by phone number or thread (where the contact may have an identity).
bool reply_channel(const std::string& via) {
  if (via == "channel" || via == "email") return true;
  const auto* c = providers::find_channel(via);
  return c && c->reply_to != providers::ReplyTo::kEmail;
}

// The channels reply_channel() takes besides channel and email, comma-separated.
std::string reply_channels() {
  std::string out;
  for (const auto& c : providers::channels())
    if (reply_channel(c.name) && c.name != "email") out += (out.empty() ? "" : ", ") + c.name;
  return out;
}

std::optional<http::Response> check_reply_window(const store::Ticket& t, const std::string& tag) {
  const auto& w = t.reply_window;
  if (!tag.empty() && (!w || w->tag != tag))
    return bad("tag " + tag + " does not apply to " + providers::channel_label(t.channel) + " tickets");
  if (!w) return std::nullopt;
  const auto now = core::now_ms();
  const providers::ReplyWindow window{core::parse_rfc3339_ms(w->closes_at).value_or(0), w->tag.value_or(""),
                                      core::parse_rfc3339_ms(w->tag_closes_at.value_or("")).value_or(0)};
  if (window.open(now, tag)) return std::nullopt;
  std::string label = providers::channel_label(t.channel);
  std::string msg = label +
                    " takes a free-form reply only within its reply window after the customer's last message; "
                    "it closed at " +
                    w->closes_at + ".";
  if (!window.tag.empty() && window.open(now, window.tag))
    msg += " A person may still answer until " + *w->tag_closes_at + ": send it with \"tag\":\"" + *w->tag + "\".";
  if (const auto* channel = providers::find_channel(t.channel); channel && channel->message_templates)
    msg +=
        " An approved message template may still be sent: \"template\" instead of \"body\" (GET "
        "/api/v1/channels/{id}/templates lists them).";
  if (t.requester_email) msg += " Or reply by email to " + *t.requester_email + " with \"via\":\"email\".";
  return http::json_error(409, "REPLY_WINDOW_CLOSED", msg);
}

// What a reply's `template` member asks for: {"id"} or {"name","language"}, and the values of
// its variables in order.
struct TemplateChoice {
  std::string id, name, language;
  std::vector<std::string> values;
};

// Reads the optional `template` member into `choice`; a 400 when it is malformed.
std::optional<http::Response> read_template(const rapidjson::Value& d, std::optional<TemplateChoice>& choice) {
  const auto* t = core::json_member(d, "template");
  if (!t || t->IsNull()) return std::nullopt;
  if (!t->IsObject()) return bad("template must be an object: {\"id\"} or {\"name\",\"language\"}, with \"variables\"");
  TemplateChoice c{core::json_string(*t, "id").value_or(""),
                   core::json_string(*t, "name").value_or(""),
                   core::json_string(*t, "language").value_or(""),
                   {}};
  if (c.id.empty() && (c.name.empty() || c.language.empty()))
    return bad("template needs its id, or its name and language, as GET /api/v1/channels/{id}/templates lists them");
  if (const auto* vars = core::json_member(*t, "variables"); vars && !vars->IsNull()) {
    if (!vars->IsArray() || vars->Size() > 100)
      return bad("template.variables must be an array of at most 100 strings");
    for (const auto& v : vars->GetArray()) {
      if (!v.IsString()) return bad("template.variables must be an array of at most 100 strings");
      c.values.emplace_back(v.GetString(), v.GetStringLength());
    }
  }
  choice = std::move(c);
  return std::nullopt;
}

// The integration a reply on `t` goes out through, as outbound chooses it: the ticket's own for
// thread channels, the workspace's most recent on the channel for number channels.
std::optional<store::Integration> reply_integration(pqxx::transaction_base& tx, const Context& ctx,
                                                    const store::Ticket& t) {
  const auto* channel = providers::find_channel(t.channel);
  if (!channel || channel->reply_to == providers::ReplyTo::kEmail) return std::nullopt;
  if (channel->reply_to == providers::ReplyTo::kPhone)
    return store::latest_integration(tx, t.workspace_id, ctx.providers.names_on_channel(channel->name));
  return t.integration_id ? store::find_integration(tx, *t.integration_id) : std::nullopt;
}

// Fills the template `choice` names for a reply on ticket `id` through the integration the reply
// goes out on (a live look-up of its approved templates); sets `body` to the text the customer
// reads. The answer to give instead when the ticket, template or values do not fit.
std::optional<http::Response> fill_reply_template(Context& ctx, const Principal& p, const std::string& id,
                                                  const TemplateChoice& choice,
                                                  std::optional<events::TemplateRef>& filled, std::string& body) {
  std::optional<store::Ticket> t;
  std::optional<store::Integration> integ;
  {
    auto conn = ctx.pool.acquire();
    pqxx::read_transaction tx(*conn);
    t = find_ticket(tx, p, id);
    if (t) integ = reply_integration(tx, ctx, *t);
  }
  if (!t) return not_found();
  const auto* channel = providers::find_channel(t->channel);
  if (!channel || !channel->message_templates)
    return bad(providers::channel_label(t->channel) + " tickets have no message templates");
  if (!store::deliverable(*t)) return bad("the ticket has no recipient on " + channel->label);
  if (!integ || integ->status == "disconnected")
    return bad("message templates are sent through the ticket's channel, and " + providers::channel_label(t->channel) +
               " has no connected integration that has them");
  auto found = channel_templates(ctx, p.workspace_id, integ);
  if (auto* refused = std::get_if<http::Response>(&found)) return std::move(*refused);
  for (const auto& candidate : std::get<std::vector<providers::MessageTemplate>>(found)) {
    if (choice.id.empty() ? (candidate.name != choice.name || candidate.language != choice.language)
                          : candidate.id != choice.id)
      continue;
    try {
      filled = providers::fill_template(candidate, choice.values);
    } catch (const providers::Refusal& r) {
      return bad(r.what());
    }
    body = providers::render_template(candidate.text, filled->variables);
    return std::nullopt;
  }
  return bad("no approved template " + (choice.id.empty() ? choice.name + " (" + choice.language + ")" : choice.id) +
             " on " + integ->display_name + ": see GET /api/v1/channels/" + integ->id + "/templates");
}

http::Response reply(Context& ctx, const http::Request& req, const Principal& p, const std::string& id) {
  rapidjson::Document d;
  if (auto err = parse_object(req, d)) return *err;
  std::string body = core::json_string(d, "body").value_or("");
  std::optional<TemplateChoice> choice;
  if (auto err = read_template(d, choice)) return *err;
  const std::string canned = core::json_string(d, "cannedResponseId").value_or("");
  if ((choice ? 1 : 0) + (canned.empty() ? 0 : 1) + (body.empty() ? 0 : 1) > 1)
    return bad("give one of body, cannedResponseId or template: each is the message's text");
  if (!choice && canned.empty() && (core::trim(body).empty() || core::utf8_length(body) > kMaxBodyChars))
    return bad("body is required (1–20000 characters)");
  const auto* internal_v = core::json_member(d, "internal");
  if (internal_v && !internal_v->IsBool()) return bad("internal must be true or false");
  bool internal = internal_v && internal_v->GetBool();
  std::string author_type = core::json_string(d, "authorType").value_or("agent");
  if (author_type != "agent" && author_type != "requester") return bad("authorType must be agent or requester");
  if (author_type == "requester" && internal) return bad("a requester message cannot be an internal note");
  std::vector<std::string> attachment_ids;
  if (auto err = read_attachment_ids(d, attachment_ids)) return *err;
  std::string author = p.agent_name;
  if (author.empty() || author_type == "requester")
    author = core::json_string(d, "authorName").value_or(author_type == "agent" ? "Support" : "");
  // How a public reply travels (issues 19, 20): on the ticket's channel (with a message tag that
  // permits it after the reply window), or on another channel of the requester's contact.
  const std::string via = core::json_string(d, "via").value_or("channel"),
                    tag = core::json_string(d, "tag").value_or("");
  if (!reply_channel(via)) return bad("via must be channel, email or one of " + reply_channels());
  if ((via != "channel" || !tag.empty()) && (author_type != "agent" || internal))
    return bad("via and tag apply to an agent's public reply only");
  if (choice && (author_type != "agent" || internal || via != "channel" || !tag.empty()))
    return bad("a template is an agent's public reply on the ticket's channel, without via or tag");
  std::optional<events::TemplateRef> filled;  // looked up before the transaction: it asks the provider
  if (choice)
    if (auto err = fill_reply_template(ctx, p, id, *choice, filled, body)) return *err;
  ReplyDraft draft{body, canned, author, author_type, via, tag, internal, attachment_ids, filled};
  return write(ctx, [&](pqxx::work& tx) -> http::Response {
    auto t = find_ticket(tx, p, id, true);
    if (!t) return not_found();
    auto written = write_reply(tx, p, *t, draft);
    if (auto* refused = std::get_if<http::Response>(&written)) return std::move(*refused);
    return http::json_ok(201, message_json(std::get<store::Message>(written)));
  });
}
}  // namespace

std::variant<store::Message, http::Response> write_reply(pqxx::work& tx, const Principal& p, store::Ticket& t,
                                                         const ReplyDraft& r) {
  std::string body = r.body;
  if (!r.canned.empty()) {  // rendered for this ticket and author (issue 20)
    if (auto err = canned_reply(tx, p, t, r.canned, r.author, body)) return std::move(*err);
    if (core::trim(body).empty() || core::utf8_length(body) > kMaxBodyChars)
      return bad("the canned response renders to an empty or over-long message (at most 20000 characters)");
  }
  store::Ticket route = t;  // where the reply goes
  if (r.via != "channel" && r.via != t.channel) {
    auto to = store::contact_route(tx, t, r.via);
    if (!to && r.via == "email") return bad("the requester has no email address to reply to");
    if (!to)
      return bad("the requester's contact has no " + providers::channel_label(r.via) +
                 " identity to reply on (GET /api/v1/contacts/{contactId} lists them)");
    route = std::move(*to);
  }
  if (r.author_type == "agent" && !r.internal && !r.message_template)  // a template may go at any time
    if (auto refused = check_reply_window(route, r.tag)) return std::move(*refused);
  store::NewMessage m;
  m.author_type = r.author_type;
  m.author_name = r.author;
  m.body = body;
  m.internal = r.internal;
  bool agent_public = r.author_type == "agent" && !r.internal;
  // A public reply on a ticket with a connected channel thread is delivered by outbound.
  // Delivered on the customer's channel: a Telegram chat, or a WhatsApp number (seed 001:
  // through the workspace's WhatsApp integration, even for tickets logged via the API).
  // A chat visitor with the widget open reads the reply there; one who left gets it by email.
  if (agent_public && store::reply_goes_out(tx, route)) m.delivery_status = "pending";
  auto msg = store::add_message(tx, t, m, {}, false);
  attach_or_reject(tx, p.workspace_id, msg, r.attachment_ids, uploader_of(p));
  store::emit_message_created(tx, route, msg, r.tag, r.message_template);
  if (agent_public) {
    store::note_agent_reply(tx, t);
    if (t.status != "snoozed") store::set_status(tx, t, "pending");  // a snooze outlasts the agent's reply
  } else if (r.author_type == "requester") {
    store::set_status(tx, t, "open");
  }
  return msg;
}

void add_ticket_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  const auto A = Access::kAgent;
  add(r, ctx, "GET", "/api/v1/tickets", A, [&ctx](Q q, P p) { return list(ctx, q, p); });
  add(r, ctx, "POST", "/api/v1/tickets", A, [&ctx](Q q, P p) { return create(ctx, q, p); });
  add(r, ctx, "GET", "/api/v1/tickets/:id", A, [&ctx](Q q, P p) { return get(ctx, p, q.params.at("id")); });
  add(r, ctx, "PATCH", "/api/v1/tickets/:id", A, [&ctx](Q q, P p) { return patch(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "POST", "/api/v1/tickets/:id/merge", A, [&ctx](Q q, P p) { return merge(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "GET", "/api/v1/tickets/:id/messages", A,
      [&ctx](Q q, P p) { return messages(ctx, p, q.params.at("id")); });
  add(r, ctx, "POST", "/api/v1/tickets/:id/messages", A,
      [&ctx](Q q, P p) { return reply(ctx, q, p, q.params.at("id")); });
  add(r, ctx, "GET", "/api/v1/tickets/:id/messages/:messageId/raw", A,
      [&ctx](Q q, P p) { return raw_message(ctx, p, q.params.at("id"), q.params.at("messageId")); });
}

}  // namespace loket::api
