#pragma once
// End-to-end harness: the real service binaries, a fake Telegram Bot API, HTTP helpers.
#include <rapidjson/document.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "loket/http/client.hpp"
#include "loket/http/server.hpp"

namespace e2e {

/// Settings from tests/run.sh; exits the test binary with 77 (skipped) when absent.
struct Env {
  std::string database_url, brokers, broker_control, bin_dir, state_dir;
};
const Env& env();

/// One recorded Bot API call.
struct Call {
  std::string token, method, body;
};

/// A fake Telegram Bot API on 127.0.0.1 that records calls. Tokens containing "bad" are
/// rejected by getMe (401); tokens containing "nohook" fail setWebhook (400). sendMessage to a
/// chat listed in blocked_chats fails with 403; to a chat in flaky_chats fails with 502 the
/// first flaky_failures times. getFile/downloads serve `file_bytes`.
class FakeTelegram {
 public:
  FakeTelegram();
  std::string base() const;
  std::vector<Call> calls(const std::string& method) const;
  std::set<std::string> blocked_chats;
  std::map<std::string, int> flaky_chats;  ///< chat → failures left
  const std::string file_bytes = std::string("\x89PNG\r\n\x1a\nfakeimage", 17);

 private:
  loket::http::Response handle(const loket::http::Request& r);
  mutable std::mutex mu_;
  std::vector<Call> calls_;
  std::unique_ptr<loket::http::Server> server_;
};

/// One recorded provider API call: the credential it carried (Basic user:password or Bearer
/// token), the path and the body.
struct ApiCall {
  std::string auth, path, body;
  std::map<std::string, std::string> headers;  ///< lower-case names
  std::string result;                          ///< the message id a successful send answered with
};

/// A fake provider API on 127.0.0.1 that records every call. Subclasses answer in handle().
class FakeApi {
 public:
  FakeApi();
  virtual ~FakeApi();
  std::string base() const;
  /// Calls whose path contains `part`.
  std::vector<ApiCall> calls(const std::string& part) const;
  /// From now on, sends to `recipient` fail as outside WhatsApp's 24-hour window.
  void close_window(const std::string& recipient);

 protected:
  bool window_closed(const std::string& recipient) const;
  virtual loket::http::Response handle(const loket::http::Request& r) = 0;
  /// Records `r` (with `auth`) and returns its index, for set_result().
  std::size_t record(const loket::http::Request& r, const std::string& auth);
  void set_result(std::size_t call, const std::string& id);

 private:
  mutable std::mutex mu_;
  std::vector<ApiCall> calls_;
  std::set<std::string> closed_windows_;
  std::unique_ptr<loket::http::Server> server_;
};

/// A fake Twilio REST API. Accounts whose auth token contains "bad" get 401/20003;
/// sending to a number whose window is closed fails with 400/63016 (E.164 numbers);
/// media URLs `/2010-04-01/Accounts/{sid}/Messages/{sid}/Media/{sid}` redirect (302) to a
/// media store that serves `media_bytes` as image/jpeg, to the right credentials only.
class FakeTwilio : public FakeApi {
 public:
  /// The approved Content templates of `GET /v1/ContentAndApprovals` (two pages): order_update
  /// ("Hi {{1}}, your order {{2}} has shipped.") and menu (es, one variable). Sending another
  /// ContentSid fails with 21655; a template goes out whatever the window.
  static constexpr const char* kContentOrderUpdate = "HXb5b62575e6e4ff6129ad7c8efe1f983e";
  static constexpr const char* kContentMenu = "HX2c8f0c3e7d1a4b5f9e6d7c8b9a0f1e2d";
  const std::string media_bytes = std::string("\xff\xd8\xff\xe0twilio-jpeg", 14);

 protected:
  loket::http::Response handle(const loket::http::Request& r) override;
};

/// A fake Graph API (any version prefix). Tokens containing "bad" get 401/190; sending to a
/// number whose window is closed fails with 400/131047 (numbers without '+', as Graph's `to`); GET /{media-id} answers
/// a URL on this server serving `media_bytes`, except media id "offsite", whose URL points at another host (which must
/// never be fetched). GET /{waba-id}/message_templates lists, in two pages, order_shipped
/// (en_US, 2 variables, header and footer), a pending template, follow_up (id, named variables
/// customer_name and topic) and one with an image header; a template send must name
/// order_shipped or follow_up with two parameters (else 132001) and goes out whatever the window.
class FakeGraph : public FakeApi {
 public:
  const std::string media_bytes = std::string("\x89PNG\r\n\x1a\ngraph-image", 19);

 protected:
  loket::http::Response handle(const loket::http::Request& r) override;
};

/// A fake Instagram Graph API (Instagram API with Instagram Login; any version prefix). A token
/// "ig-<account>…" belongs to professional account <account> (GET /me); tokens containing "bad",
/// or revoke()d ones, get 401/190. GET /{igsid} answers the profile "Sari Dewi" / "sari.dewi";
/// POST /{account}/messages answers a new `message_id` (400 code 10, outside the allowed window,
/// for recipients whose window is closed, unless tagged HUMAN_AGENT). `/cdn/…` serves
/// `media_bytes` (the attachment CDN; `/cdn/expired…` answers 403).
class FakeInstagram : public FakeApi {
 public:
  const std::string media_bytes = std::string("\xff\xd8\xff\xe0instagram-jpeg", 17);
  /// From now on, every call with `token` fails as revoked (401, code 190).
  void revoke(const std::string& token);

 protected:
  loket::http::Response handle(const loket::http::Request& r) override;

 private:
  std::mutex revoked_mu_;
  std::set<std::string> revoked_;
};

/// A fake VK API (`POST /method/<name>`, form bodies, Bearer tokens). Tokens containing "bad"
/// get error 5; tokens containing "nomanage" get error 15 on groups.addCallbackServer. A server
/// added for a community is sent VK's `confirmation` request at once, and its answer recorded
/// (confirmations()). users.get names everyone "Ivan Petrov". messages.send to a peer whose
/// window is closed (close_window) fails with 901; a repeated (peer_id, random_id) is not
/// delivered again; while `lose_responses` > 0 a delivered send answers 500 (the answer lost).
/// `/cdn/…` serves `media_bytes`.
class FakeVk : public FakeApi {
 public:
  const std::string media_bytes = std::string("\xff\xd8\xff\xe0vk-photo", 12);
  std::atomic<int> lose_responses{0};
  /// The texts delivered to `peer`, oldest first (one per distinct random_id).
  std::vector<std::string> delivered(const std::string& peer) const;
  /// What the ingress answered to each confirmation request sent so far.
  std::vector<std::string> confirmations() const;
  /// The URLs of community `group`'s Callback API servers now.
  std::vector<std::string> servers(const std::string& group) const;

 protected:
  loket::http::Response handle(const loket::http::Request& r) override;

 private:
  mutable std::mutex vk_mu_;
  std::map<std::pair<std::string, std::string>, std::string> sent_;  ///< (peer, random_id) → text
  std::vector<std::pair<std::string, std::string>> order_;           ///< (peer, text) in delivery order
  std::vector<std::string> confirmations_;
  std::vector<std::thread> confirming_;
  int next_server_ = 1;
  std::map<std::string, std::vector<std::pair<int, std::string>>> servers_;  ///< group → (id, url)

 public:
  ~FakeVk() override;
};

/// A fake Resend API. Keys containing "bad" are invalid (403 invalid_api_key), "restricted"
/// ones valid for sending only (401 restricted_api_key on /domains). Emails to an address
/// starting with "bounce" fail with 422 validation_error; to one starting with "flaky" with 500
/// the first `flaky_failures` times.
/// Receiving: `GET /emails/receiving/{id}` answers each message given to receive() with a
/// `raw.download_url` on this server (`/raw/{id}`, no credentials, as a signed storage URL);
/// other ids are 404 not_found.
class FakeResend : public FakeApi {
 public:
  /// The recorded emails (JSON bodies) sent to `address`, oldest first.
  std::vector<std::string> emails_to(const std::string& address) const;
  std::atomic<int> flaky_failures{0};
  /// Makes `raw` (RFC 5322 bytes) the received email `email_id`.
  void receive(const std::string& email_id, const std::string& raw);
  /// The next this many `GET /emails/receiving/{id}` answer 503 (an outage).
  std::atomic<int> receiving_failures{0};

 protected:
  loket::http::Response handle(const loket::http::Request& r) override;

 private:
  mutable std::mutex received_mu_;
  std::map<std::string, std::string> received_;
};

/// Fake Slack incoming webhooks (`/services/…`) and Discord webhooks (`/api/webhooks/…`) on one
/// server, answering as they do (providers.md §8–9): Slack 200 `ok`, Discord 200 with the
/// message (`?wait=true`). A path containing "gone" answers Slack's 404 `no_service` / Discord's
/// 404 code 10015; the next `limited` posts answer 429 with `Retry-After: 1` (Discord also
/// `retry_after` in the body); a body that is not JSON answers 400.
class FakeTeamChat : public FakeApi {
 public:
  std::atomic<int> limited{0};
  /// The JSON bodies posted to `path` (a webhook's path) that were answered 2xx, oldest first.
  std::vector<std::string> posts(const std::string& path) const;
  /// From now on the webhook at `path` is deleted (answers as "gone" ones do).
  void remove(const std::string& path);

 protected:
  loket::http::Response handle(const loket::http::Request& r) override;

 private:
  mutable std::mutex removed_mu_;
  std::set<std::string> removed_;
};

/// An integrator's webhook receiver: records every POST with its headers. Answers 503 while
/// `down`; a path containing "gone" answers 410, one containing "slow" answers after 3 s, one
/// containing "flaky" 500 to every third call (the first included); otherwise 200 (a
/// successful call has `result` "ok").
class FakeReceiver : public FakeApi {
 public:
  std::atomic<bool> down{false};
  std::atomic<long> flaky_calls{0};
  /// The calls to `path` answered 2xx, oldest first.
  std::vector<ApiCall> received(const std::string& path) const;

 protected:
  loket::http::Response handle(const loket::http::Request& r) override;
};

/// The signing secret of the Resend Receiving endpoint the stack verifies (the Standard Webhooks
/// test vector's, shared/reference/providers.md S1).
inline constexpr const char* kResendWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The five services as child processes.
class Stack {
 public:
  Stack(const std::string& telegram_base, const std::string& twilio_base, const std::string& graph_base,
        const std::string& resend_base, const std::string& team_chat_base);
  ~Stack();
  void start(const std::string& svc);
  /// Starts one more loket-api replica named `name` with `extra_env` (NAME=value) on a free
  /// port and waits for it; returns its base URL.
  std::string start_api(const std::string& name, const std::vector<std::string>& extra_env = {});
  void stop(const std::string& svc, int sig);
  std::string api_url() const { return "http://127.0.0.1:" + std::to_string(api_port_); }
  std::string ingress_url() const { return "http://127.0.0.1:" + std::to_string(ingress_port_); }
  /// The admin endpoints (/healthz, /readyz, /metrics) of process `name` ("api", "writer", …).
  std::string admin_url(const std::string& name) const {
    return "http://127.0.0.1:" + std::to_string(admin_ports_.at(name));
  }
  /// Sends `sig` to process `name` and waits for it; returns how long it took to exit and its
  /// exit status (as from waitpid).
  std::pair<std::chrono::milliseconds, int> stop_timed(const std::string& name, int sig);

 private:
  void start(const std::string& name, const std::string& svc);
  std::map<std::string, pid_t> pids_;
  std::map<std::string, int> admin_ports_;
  std::vector<std::string> env_;
  int api_port_, ingress_port_;
};

/// The shared fakes and stack of this test process, started on first use.
FakeTelegram& telegram();
FakeTwilio& twilio();
FakeGraph& graph();
FakeInstagram& instagram();
FakeVk& vk();
FakeResend& resend();
FakeTeamChat& team_chat();
FakeReceiver& receiver();
Stack& stack();

/// A workspace created directly in the database: {accountId, apiKey}.
std::pair<std::string, std::string> new_workspace(const std::string& name);

/// A workspace with an owner who signs in with `email` / `password`: {accountId, apiKey}.
std::pair<std::string, std::string> new_workspace_with_owner(const std::string& name, const std::string& email,
                                                             const std::string& password);

/// A workspace whose owner is signed in.
struct OwnedWorkspace {
  std::string account, key;  ///< account id and API key (role admin)
  std::string session;       ///< the owner's session token (owner-only routes)
};

/// Creates a workspace with an owner and signs the owner in. @throws std::runtime_error when the
/// login fails.
OwnedWorkspace new_signed_in_workspace(const std::string& name);

/// `n` random decimal digits 1–9 (ids unique to this run: Instagram-scoped ids, VK groups).
std::string random_digits(int n);

/// A unique email address for this test run, e.g. "owner-3f2a1b@example.test".
std::string unique_email(const std::string& who);

/// An HTTP response with its JSON body parsed.
struct Json {
  int status = 0;
  std::string raw;
  rapidjson::Document doc;
  std::vector<std::pair<std::string, std::string>> headers;
  const rapidjson::Value& data() const { return doc["data"]; }
  /// The response header `name` (case-insensitive), "" when absent.
  std::string header(const std::string& name) const;
};

/// The string member `k` of object `v`, or "" when absent or not a string.
std::string str(const rapidjson::Value& v, const char* k);

/// Calls `base` (an api replica URL) with optional extra headers.
Json call(const std::string& base, const std::string& method, const std::string& path, const std::string& token,
          const std::string& body = "", std::vector<std::pair<std::string, std::string>> headers = {});

/// A WebSocket client that collects every text message on a background thread.
class WsClient {
 public:
  /// Connects to `base` (http://127.0.0.1:port) + `target`; `status` is the HTTP status of a
  /// refused handshake (0 when it was accepted).
  WsClient(const std::string& base, const std::string& target);
  ~WsClient();
  int status() const { return status_; }
  std::vector<std::string> messages() const;
  bool closed() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  int status_ = 0;
};

/// GET `url` (with a Bearer token when given).
loket::http::ClientResponse http_get(const std::string& url, const std::string& bearer = "");

/// Every route of the api service as {method, pattern} (`loket-api --routes`), e.g. {"GET",
/// "/api/v1/tickets/:id"}: the walks over every route use it.
std::vector<std::pair<std::string, std::string>> api_routes();

/// Calls the api service.
Json api(const std::string& method, const std::string& path, const std::string& key, const std::string& body = "");

/// POSTs JSON `body` to ingress at `path`, signed as Meta signs webhooks (X-Hub-Signature-256
/// under `app_secret`; "" = unsigned): WhatsApp Cloud API and Instagram.
loket::http::ClientResponse post_hub_signed(const std::string& path, const std::string& body,
                                            const std::string& app_secret);

/// The ids of workspace `key`'s tickets (GET /api/v1/tickets + `query`, e.g. "?requester=…"),
/// newest first.
std::vector<std::string> ticket_ids(const std::string& key, const std::string& query = "");

/// GET /api/v1/tickets/`ticket`/messages.
Json ticket_messages(const std::string& key, const std::string& ticket);

/// Waits up to 15 s for message `message_id`'s delivery to settle (sent or failed); returns its
/// {status, error} as last seen.
std::pair<std::string, std::string> settled_delivery(const std::string& key, const std::string& ticket,
                                                     const std::string& message_id);

/// Posts an agent's public reply `body` (JSON-escaped here) on `ticket`; returns the message id.
std::string agent_reply(const std::string& key, const std::string& ticket, const std::string& body);

/// A multipart/form-data body (boundary "LoketBoundary") holding one file field `file`.
std::string multipart(const std::string& filename, const std::string& type, const std::string& bytes);

/// POST /api/v1/attachments on `base` (an api replica URL) with the multipart `body`.
Json upload(const std::string& base, const std::string& key, const std::string& body);

/// Verifies Standard Webhooks deliveries `calls` with the official `standardwebhooks` library
/// (node, tests/webhooks/verify.cjs) under each of `secrets`; 0 when every one verifies under
/// every secret.
int verify_with_library(const std::vector<ApiCall>& calls, const std::vector<std::string>& secrets);

/// Posts a Telegram update to the ingress for integration `id` with `secret`.
loket::http::ClientResponse post_update(const std::string& integration_id, const std::string& secret,
                                        const std::string& update_json);

/// A private-chat text Update.
std::string text_update(long update_id, long chat_id, long message_id, const std::string& text,
                        const std::string& first_name = "Ann", const std::string& last_name = "Lee");

/// Polls `pred` every 50 ms until true or `timeout`; returns its last value.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout);

/// A free port on 127.0.0.1 this process has not handed out before (for a private server).
int free_port();

/// Where the services look for the CA bundle of workspace mailboxes (LOKET_MAILBOX_CA_FILE):
/// a test that starts a mail server puts its certificate there.
std::string mail_ca_file();

/// Runs one SQL query returning a single number against the test database.
long long sql_number(const std::string& query);

/// Runs one SQL query returning a single text value against the test database.
std::string sql_text(const std::string& query);

/// Runs one SQL statement that changes data (test setup, e.g. ageing a row).
void sql_exec(const std::string& statement);

/// A bot token with a bot id unique to this test run: "<digits>:AA<tail>".
std::string bot_token(const std::string& tail);

/// Connects a Telegram bot for workspace `key`; returns {integrationId, webhook secret}.
std::pair<std::string, std::string> connect_bot(const std::string& key, const std::string& token);

}  // namespace e2e
