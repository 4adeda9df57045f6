#pragma once
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>

#include "api.hpp"
#include "loket/events/ticket_events.hpp"
#include "loket/http/websocket.hpp"
#include "loket/kafka/kafka.hpp"

namespace loket::api {

/// Whom an agents' realtime event is for: every connection of the workspace, or — for an event
/// about a ticket — those that may see a ticket of inbox `inbox` (issue 20 "Access": owners,
/// admins and API keys see all; an agent the inboxes they are a member of; nullopt = a ticket
/// without an inbox, seen by admins only).
struct Audience {
  bool ticket = false;
  std::optional<std::string> inbox;
};

/// Realtime fan-out (issue 3 "Realtime"): every api replica reads every partition of
/// `ticket.events` from the end, outside any consumer group (so each replica sees every event
/// and no rebalance ever waits on it), and pushes each event, as the
/// JSON record itself, to the WebSocket clients of that event's workspace only. Connections
/// whose session or API key is revoked are closed within `kRevalidateEvery`.
/// Live-chat visitors connect to /api/v1/widget/realtime with their session token and get only
/// their own conversation's public messages: `{"type":"message","ticketId","message":{id, seq,
/// …}}` (issue 17); after a reconnect the widget catches up by sequence number over REST.
/// Thread-safe.
class Hub {
 public:
  /// How often open connections re-check their credential.
  static constexpr std::chrono::seconds kRevalidateEvery{2};

  explicit Hub(Context& ctx) : ctx_(ctx) {}
  ~Hub() { stop(); }

  /// Starts the reader (kafka::Consumer::tail) and the revalidation thread.
  /// @throws std::runtime_error on invalid Kafka settings or when the topic cannot be read.
  void start(kafka::Properties props);
  /// Stops both threads and closes every connection. Idempotent.
  void stop();

  /// Decides on a WebSocket upgrade to /api/v1/realtime: authenticates the bearer token
  /// (header or `access_token` query parameter), counts it against the rate limit, and
  /// registers the connection; or to /api/v1/widget/realtime for a chat visitor
  /// (`visitor_token` query parameter). Refuses with 401/404/429 in the API envelope.
  http::Upgrade upgrade(const http::Request& req);

  /// Sends `event_json` to the connections of `workspace_id` that `audience` includes.
  void publish(const std::string& workspace_id, const std::string& event_json, const Audience& audience = {});

  /// The PostgreSQL channel of live signals (typing, read receipts): NOTIFY'd by whichever
  /// replica served the request, heard by every replica, never stored.
  static constexpr const char* kLiveChannel = "loket_live";

  /// Sends a live signal to every replica's connections (one NOTIFY on `tx`): `event_json` to
  /// the agents of `workspace_id` when `thread` is empty, else to the chat visitors on `thread`.
  /// `audience` limits an agents' signal about a ticket to those who may see it.
  static void signal(pqxx::transaction_base& tx, const std::string& workspace_id, const std::string& thread,
                     const std::string& event_json, const Audience& audience = {});

  /// Sends `json` to the chat visitors' connections on `thread` (store::Visitor::thread(): a
  /// visitor id, or `user:<identifier>` for every device of a verified user).
  void publish_to_visitor(const std::string& thread, const std::string& json);

  /// Open connections, agents' and visitors' (for tests and metrics).
  std::size_t connections() const;

 private:
  struct Subscriber {
    std::string workspace_id;
    store::Principal principal;
    std::shared_ptr<http::WebSocket> socket;
    /// For role `agent`: the inboxes whose tickets it may see (refreshed with the credential
    /// every kRevalidateEvery); nullopt = every ticket of the workspace.
    std::optional<std::set<std::string>> inboxes;
  };
  /// The audience of ticket event `ev` when its inbox is known from the event itself, or
  /// nullopt when it must be looked up (store::ticket_inboxes).
  static std::optional<Audience> audience_of(const events::TicketEvent& ev);
  /// Publishes a polled batch, looking up in one query the inboxes of tickets the events do not
  /// carry (only while some connection is limited to inboxes).
  void publish_batch(const std::vector<kafka::Record>& records);
  http::Upgrade upgrade_visitor(const http::Request& req);
  /// The visitor's view of a chat message event, or "" when visitors do not see it.
  std::string visitor_event(const events::TicketEvent& ev);
  void revalidate();
  void listen();

  Context& ctx_;
  mutable std::mutex mu_;
  std::map<std::uint64_t, Subscriber> subs_;
  /// subs_ ids by workspace, so an event touches only its workspace's connections.
  std::unordered_map<std::string, std::set<std::uint64_t>> by_workspace_;
  /// How many of subs_ are limited to inboxes (no look-ups while none is).
  std::size_t limited_ = 0;
  /// How long a visitor counts as present after their socket was last seen open.
  static constexpr int kPresenceSeconds = 45;
  /// Chat visitors' connections by thread (several tabs, or devices of one verified user).
  std::unordered_map<std::string, std::map<std::uint64_t, std::shared_ptr<http::WebSocket>>> visitors_;
  /// Visitor id of each visitor socket; visitors whose presence changed since the last flush.
  std::map<std::uint64_t, std::string> visitor_of_;
  std::set<std::string> arrived_, left_;
  std::chrono::steady_clock::time_point presence_flushed_{};
  /// When the agents of open connections were last marked as seen (store::mark_agents_seen).
  std::chrono::steady_clock::time_point seen_marked_{};
  void flush_presence();
  std::uint64_t next_id_ = 1;
  std::atomic<bool> stop_{false};
  std::thread consumer_, checker_, listener_;
};

}  // namespace loket::api
