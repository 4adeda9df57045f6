#pragma once
#include <rapidjson/document.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "loket/crypto/crypto.hpp"
#include "loket/http/envelope.hpp"
#include "loket/http/router.hpp"
#include "loket/providers/registry.hpp"
#include "loket/store/access.hpp"
#include "loket/store/store.hpp"
#include "loket/store/tickets.hpp"
#include "views.hpp"

/// The api service: REST and realtime for agents and integrators (DESIGN.md "api", issue 3,
/// seeds 000 and 002). Every route is described in docs/openapi.yaml.
namespace loket::api {

/// Settings, from LOKET_* variables (docs/operations.md).
struct Options {
  std::string public_webhook_url;                        ///< public base URL of ingress, e.g. https://hooks.example.com
  std::string public_app_url = "http://127.0.0.1:8080";  ///< public base URL of this api (status links)
  int public_tickets_per_workspace_per_minute = 600;     ///< hosted-form submissions per workspace
  int chat_sessions_per_workspace_per_minute = 600;      ///< new live-chat visitors per workspace
  /// Peers whose X-Forwarded-For is believed (load balancers, ingress controllers); the client
  /// IP for rate limits is then the last address in it that is not one of them.
  std::vector<std::string> trusted_proxies;
  std::vector<std::string> cors_origins;  ///< SPA origins allowed by CORS (exact match)
  int rate_limit_per_minute = 1200;       ///< per API key or signed-in agent
  int rate_limit_ip_per_minute = 300;     ///< per client IP, for unauthenticated requests
  /// The live-chat surface (widget pages, /api/v1/widget/ visitor calls) is limited per visitor
  /// session, and per client IP only by this generous ceiling: many visitors share an office's
  /// or a mobile carrier's address (issue 17 "Limits that do not punish shared networks").
  int rate_limit_visitor_per_minute = 120;
  int rate_limit_chat_ip_per_minute = 5000;
  /// The API channel's client API (/api/v1/public/inboxes/<identifier>/…) is one integrator's
  /// backend speaking for many users: limited per inbox, under the chat surface's per-IP ceiling.
  int rate_limit_inbox_per_minute = 3000;
  int login_failures_per_15_minutes = 10;        ///< per email, then sign-in answers 429
  std::size_t max_json_bytes = 1 << 20;          ///< JSON request bodies (bytes)
  std::size_t max_attachment_bytes = 25u << 20;  ///< one uploaded file (bytes)
  std::chrono::seconds session_ttl{std::chrono::hours(24 * 14)};
  /// Requests one workspace may have in progress at once (LOKET_API_WORKSPACE_CONCURRENCY); more
  /// wait for a slot up to `workspace_wait`, then 429. 0 = the pool size less two, so other
  /// workspaces always find a database connection (issue 15 finding 3).
  int workspace_concurrency = 0;
  std::chrono::milliseconds workspace_wait{3000};
};

/// Counts each workspace's requests in progress and holds back those over a limit. Thread-safe.
class WorkspaceGate {
 public:
  /// A slot held until destroyed (movable).
  class Slot {
   public:
    Slot(WorkspaceGate* gate, std::string workspace_id) : gate_(gate), workspace_id_(std::move(workspace_id)) {}
    Slot(Slot&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)), workspace_id_(std::move(o.workspace_id_)) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot();

   private:
    WorkspaceGate* gate_;
    std::string workspace_id_;
  };

  /// A slot of `workspace_id` once fewer than `limit` are held (waiting up to `wait`), or
  /// nullopt when none came free in time.
  std::optional<Slot> enter(const std::string& workspace_id, int limit, std::chrono::milliseconds wait);

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, int> held_;  ///< only workspaces with a slot held: bounded by requests in progress
};

/// Everything handlers share. Thread-safe (the pool and keyring are; options are read-only).
struct Context {
  store::Pool& pool;
  const crypto::Keyring& keys;
  Options options;
  const providers::Registry& providers;  ///< connect, disconnect and public fields of integrations
  WorkspaceGate gate{};                  ///< per-workspace concurrency (Options::workspace_concurrency)
};

/// Who may call a route.
enum class Access {
  kPublic,   ///< anyone (rate-limited per IP)
  kAgent,    ///< any signed-in agent or API key
  kAdmin,    ///< owners, admins and API keys
  kOwner,    ///< owners only
  kSession,  ///< a signed-in agent (not an API key): the agent's own profile
};

/// A route handler: the request and the authenticated caller (empty for kPublic routes).
using Handler = std::function<http::Response(const http::Request&, const store::Principal&)>;

/// Authentication and rate limiting of one request: the caller (empty principal when no
/// credential was sent), the rate-limit window after counting this request, and the refusal to
/// send instead of serving it — 401 for an unknown, revoked or expired credential, 429 over
/// the limit — already carrying the X-RateLimit-* headers.
struct Admission {
  store::Principal principal;
  store::RateWindow window;
  int limit = 0;
  std::optional<http::Response> refusal;
};

/// Authenticates the bearer token of `req` (API key or session; see bearer_token) and counts
/// the request against its credential's limit, or the client IP's without one. One database
/// round trip with a credential.
Admission admit(Context& ctx, const http::Request& req);

/// Adds a route behind the API's guard: bearer authentication (API key or session token),
/// the per-credential or per-IP rate limit with X-RateLimit-* headers (429 + Retry-After over
/// it), the role check (403), the JSON body size cap (413, unless `upload`), and
/// Idempotency-Key replay on POST.
void add(http::Router& r, Context& ctx, const std::string& method, const std::string& pattern, Access access,
         Handler handler, bool upload = false);

/// Builds the router with every route of the API. The router keeps a reference to `ctx`.
http::Router make_router(Context& ctx);

/// Serves one request: CORS (preflight and response headers), then the router; responses
/// that did not pass the guard (unknown routes) are still counted against the IP limit.
http::Response handle(Context& ctx, const http::Router& router, const http::Request& req);

/// Route groups, one file each.
/// At most this many attachments per message (issue 3).
inline constexpr std::size_t kMaxAttachments = 5;

/// Reads the optional `attachmentIds` member: at most 5 distinct strings; a 400 otherwise.
std::optional<http::Response> read_attachment_ids(const rapidjson::Value& d, std::vector<std::string>& ids);

/// Reads a merge's required `field` (sourceTicketIds, sourceContactIds) into `ids`: 1–50 ids of 1–64
/// characters, repeats dropped, none equal to `target`; a 400 naming the field otherwise.
std::optional<http::Response> read_source_ids(const rapidjson::Value& d, const char* field, const std::string& target,
                                              std::vector<std::string>& ids);

/// Thrown inside a transaction to roll it back and answer `response` instead.
struct Rejected {
  http::Response response;
};

/// Runs `fn(pqxx::work&)` in a transaction; a Rejected thrown inside rolls it back and is the answer.
template <typename Fn>
http::Response write(Context& ctx, Fn&& fn) {
  try {
    return store::with_tx(ctx.pool, std::forward<Fn>(fn));
  } catch (const Rejected& r) {
    return r.response;
  }
}

/// Who uploaded a file, as stored on it: the agent's id, `key:<api key id>`, or for the
/// requester `ticket:<ticket id>` (uploader_of).
std::string uploader_of(const store::Principal& p);

/// Attaches the uploads `ids` of workspace `ws` made by `uploader` to `msg`, or throws Rejected
/// (400) when one is unknown, another uploader's (a requester cannot attach an agent's or
/// another ticket's file by guessing its id) or already attached.
void attach_or_reject(pqxx::work& tx, const std::string& ws, store::Message& msg, const std::vector<std::string>& ids,
                      const std::string& uploader);

/// Stores the multipart upload in `req` (field "file") for workspace `ws`; 201 with its metadata.
http::Response upload_attachment(Context& ctx, const http::Request& req, const std::string& ws,
                                 const std::optional<std::string>& uploaded_by);

/// The bytes of attachment `a` as a download (stored Content-Type, RFC 6266 name, nosniff).
http::Response send_attachment(pqxx::transaction_base& tx, const store::AttachmentRow& a);

/// `bytes` as a download named `filename` (RFC 6266, UTF-8) of `content_type`: nosniff and a
/// sandboxing Content-Security-Policy, so a customer's file never runs as a page of ours.
http::Response send_file(std::string bytes, const std::string& content_type, const std::string& filename);

/// Whether every webhook of integration `i` is authenticated (providers::Adapter::verifies_webhooks
/// over its decrypted credentials); std::nullopt when its provider receives no webhooks or its
/// credentials do not decrypt (ingress then refuses its webhooks anyway).
std::optional<bool> webhooks_verified(const Context& ctx, const store::Integration& i);

/// The live integrations of workspace `ws` whose webhooks are not all authenticated, as
/// "int_… (display name), …" for an error message; "" when none. Call under
/// store::lock_webhook_policy.
std::string unverified_integrations(pqxx::transaction_base& tx, const Context& ctx, const std::string& ws);

/// The approved message templates of integration `i` (providers::Adapter::templates, issue 19),
/// or the answer to give instead: 404 when `i` is not a live integration of workspace `ws` or its
/// provider has no templates, the adapter's Refusal (a Cloud API number without wabaId), 502
/// PROVIDER_UNAVAILABLE / 400 PROVIDER_REJECTED when the provider fails. Blocking network I/O;
/// call outside transactions.
std::variant<std::vector<providers::MessageTemplate>, http::Response> channel_templates(
    const Context& ctx, const std::string& ws, const std::optional<store::Integration>& i);

void add_auth_routes(http::Router& r, Context& ctx);        // auth.cpp: sessions, me, agents, keys, workspace
void add_channel_routes(http::Router& r, Context& ctx);     // channels.cpp
void add_ticket_routes(http::Router& r, Context& ctx);      // tickets.cpp
void add_attachment_routes(http::Router& r, Context& ctx);  // attachments.cpp
void add_public_routes(http::Router& r, Context& ctx);      // public.cpp: hosted form, status page API
void add_page_routes(http::Router& r, Context& ctx);        // pages.cpp: /support/:accountId, /t/:token
void add_widget_routes(http::Router& r, Context& ctx);      // widget.cpp: the live-chat widget's settings
void add_chat_routes(http::Router& r, Context& ctx);        // chat.cpp: the widget's visitors
void add_webhook_routes(http::Router& r, Context& ctx);     // webhooks.cpp: integrators' webhook endpoints
void add_client_api_routes(http::Router& r, Context& ctx);  // client_api.cpp: the API channel's client API
void add_canned_routes(http::Router& r, Context& ctx);      // canned.cpp: canned responses
void add_macro_routes(http::Router& r, Context& ctx);       // macros.cpp: macros and bulk actions
void add_inbox_routes(http::Router& r, Context& ctx);       // inboxes.cpp: inboxes and teams
void add_contact_routes(http::Router& r, Context& ctx);     // contacts.cpp: contacts and their merge
void add_sla_routes(http::Router& r, Context& ctx);         // sla.cpp: SLA policies
void add_report_routes(http::Router& r, Context& ctx);      // reports.cpp: reports

/// A reply or note as POST /api/v1/tickets/{id}/messages takes it, its request already checked.
struct ReplyDraft {
  std::string body;    ///< the text; "" when `canned` gives it (or a template rendered it here)
  std::string canned;  ///< a canned response to render for the ticket instead, "" = none
  std::string author, author_type = "agent", via = "channel", tag;
  bool internal = false;
  std::vector<std::string> attachment_ids;
  std::optional<events::TemplateRef> message_template;  ///< a filled WhatsApp template
};

/// Writes `r` on ticket `t` (loaded FOR UPDATE in `tx`) as `p`: the reply window, the route
/// (channel or email), delivery, attachments, `message.created`, first response and status. The
/// stored message, or the answer to give instead (400, 409 REPLY_WINDOW_CLOSED): the caller
/// rolls `tx` back then, as attach_or_reject may have thrown Rejected.
std::variant<store::Message, http::Response> write_reply(pqxx::work& tx, const store::Principal& p, store::Ticket& t,
                                                         const ReplyDraft& r);

/// Whether `p` sees every ticket of its workspace: owners, admins and API keys do; role `agent`
/// sees only tickets of inboxes they are a member of (issue 20 "Access").
inline bool sees_all(const store::Principal& p) { return p.role != store::Role::kAgent; }

/// Ticket `id` when `p` may see it: of `p`'s workspace and, unless sees_all(p), in an inbox `p`
/// is a member of (directly or through a team). nullopt otherwise, so every route answers 404
/// alike for an unknown ticket and one outside the caller's access. `for_update` locks the row.
std::optional<store::Ticket> find_ticket(pqxx::transaction_base& tx, const store::Principal& p, const std::string& id,
                                         bool for_update = false);

/// Ticket fields as PATCH /api/v1/tickets/{id} reads them: priority low|normal|high|urgent.
bool valid_priority(const std::string& p);
/// tags: at most 20 strings of 1–50 characters; duplicates removed, order kept.
std::optional<http::Response> read_tags(const rapidjson::Value& v, std::vector<std::string>& tags);
/// assigneeId: null (unassigned) or an active agent of workspace `ws`.
std::optional<http::Response> read_assignee(pqxx::transaction_base& tx, const std::string& ws,
                                            const rapidjson::Value& v, std::optional<std::string>& out);

/// inboxId (an inbox of `p`'s workspace; for role `agent` one they are a member of) and teamId
/// (null or a team of the workspace) of a ticket create or update into `c`; a 400 naming the field.
std::optional<http::Response> read_routing(pqxx::transaction_base& tx, const store::Principal& p,
                                           const rapidjson::Value& d, store::TicketChanges& c);

/// Renders canned response `id` (one `p` may use) for a reply on ticket `t` written as `author`
/// into `body`, or the answer to give instead: 400 for an unknown response or variable.
std::optional<http::Response> canned_reply(pqxx::transaction_base& tx, const store::Principal& p,
                                           const store::Ticket& t, const std::string& id, const std::string& author,
                                           std::string& body);

/// A chat visitor's session token (`wvs_…`) from `Authorization: Bearer`, or on the visitor
/// WebSocket's upgrade from `?visitor_token=` (browsers cannot set headers there); "" otherwise.
std::string visitor_token(const http::Request& req);

/// Reads the optional text member `key` of `d` (trimmed; absent, null or blank leaves `into`
/// as it was). Returns a 400 naming `key` when it is not text or longer than `max` characters.
std::optional<http::Response> read_optional_text(const rapidjson::Value& d, const char* key, std::size_t max,
                                                 std::optional<std::string>& into);

/// Reads `businessHours` of `d` when present: null (always open) or a loket::hours schedule, stored
/// in `into` as its normalized JSON (hours::write_json). A 400 naming businessHours with the
/// schedule's fault (an unknown zone, "25:00", overlapping intervals, …).
std::optional<http::Response> read_business_hours(const rapidjson::Value& d, std::optional<std::string>& into);

/// Reads the `after` query parameter (a message sequence number, 0 when absent) into `after`;
/// a 400 when it is not a whole number ≥ 0.
std::optional<http::Response> read_after(const http::Request& req, std::int64_t& after);

/// Whether `s` looks like a deliverable address (local@domain.tld, at most 254 characters).
bool valid_email(const std::string& s);

/// Parses the JSON object body of `req` into `d` (core::parse_json: nesting ≤ 64, strings
/// well-formed UTF-8) and refuses strings holding U+0000, which PostgreSQL cannot store and C
/// strings would cut short. Returns the refusal: 415 when Content-Type is not application/json,
/// 400 naming what is wrong otherwise.
std::optional<http::Response> parse_object(const http::Request& req, rapidjson::Document& d);

/// 400 VALIDATION_ERROR with `msg`, naming the request member `field` (e.g. "preChatForm.email").
inline http::Response invalid_field(const std::string& field, const std::string& msg) {
  return http::json_error(400, "VALIDATION_ERROR", msg, field);
}

/// A JSON array of `to_json(item)` for each item, e.g. json_array(agents, store::agent_json).
template <typename T, typename F>
std::string json_array(const std::vector<T>& items, F&& to_json) {
  std::string out = "[";
  for (const auto& item : items) out += (out.size() > 1 ? "," : "") + to_json(item);
  return out + "]";
}

/// The bearer token of `req`: `Authorization: Bearer …`, or the `access_token` query parameter
/// (browsers cannot set headers on WebSocket requests); "" when absent.
/// The client's IP address: the peer, or behind a trusted proxy the last X-Forwarded-For
/// address that is not a trusted proxy.
std::string client_ip(const Context& ctx, const http::Request& req);

/// The credential of `req`: its `Authorization: Bearer` token, or — only for the WebSocket
/// upgrade (`/api/v1/realtime`), which browsers cannot give headers — `?access_token=`. REST
/// routes ignore the query parameter, so a key never lands in proxy and access logs' URLs.
std::string bearer_token(const http::Request& req);

}  // namespace loket::api
