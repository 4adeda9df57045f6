#include "realtime.hpp"

#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/events/ticket_events.hpp"
#include "loket/http/envelope.hpp"
#include "loket/store/inboxes.hpp"
#include "loket/store/widget.hpp"

namespace loket::api {

void Hub::start(kafka::Properties props) {
  std::shared_ptr<kafka::Consumer> consumer =
      kafka::Consumer::tail(std::move(props), kafka::kTicketEventsTopic, std::chrono::seconds(10));
  consumer_ = std::thread([this, consumer] {
    while (!stop_) {
      publish_batch(consumer->poll(200, std::chrono::milliseconds(200)));
    }
    consumer->close();
  });
  listener_ = std::thread([this] { listen(); });
  checker_ = std::thread([this] {
    while (!stop_) {
      for (int i = 0; i < 10 && !stop_; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(kRevalidateEvery) / 10);
      try {
        revalidate();
        flush_presence();
      } catch (const std::exception& e) {
        core::log(core::Level::kWarn, "realtime revalidation failed", {{"error", e.what()}});
      }
    }
  });
}

std::optional<Audience> Hub::audience_of(const events::TicketEvent& ev) {
  if (const auto* e = std::get_if<events::TicketCreated>(&ev.data)) return Audience{true, e->ticket.inbox_id};
  if (const auto* e = std::get_if<events::TicketUpdated>(&ev.data)) return Audience{true, e->ticket.inbox_id};
  if (const auto* e = std::get_if<events::ReplyWindowClosing>(&ev.data)) return Audience{true, e->ticket.inbox_id};
  if (const auto* e = std::get_if<events::SlaAlert>(&ev.data)) return Audience{true, e->ticket.inbox_id};
  if (std::holds_alternative<events::IntegrationStatusChanged>(ev.data)) return Audience{};  // not a ticket's
  return std::nullopt;  // about a ticket by id only
}

void Hub::publish_batch(const std::vector<kafka::Record>& records) {
  std::vector<std::pair<events::TicketEvent, const std::string*>> batch;
  for (const auto& rec : records) {
    try {
      batch.emplace_back(events::ticket_event_from_json(rec.value), &rec.value);
    } catch (const std::invalid_argument& e) {  // a newer writer's type, or not an event
      core::log(core::Level::kDebug, "realtime skipped a ticket event", {{"error", e.what()}});
    }
  }
  bool limited = false;
  {
    std::lock_guard lock(mu_);
    limited = limited_ > 0;
  }
  std::vector<std::string> unknown;
  for (const auto& [ev, json] : batch)
    if (limited && !audience_of(ev)) unknown.push_back(ev.ticket_id);
  std::map<std::string, std::string> inboxes;
  if (!unknown.empty()) {
    try {
      auto conn = ctx_.pool.acquire();
      pqxx::read_transaction tx(*conn);
      inboxes = store::ticket_inboxes(tx, unknown);
    } catch (const std::exception& e) {  // fail closed: agents limited to inboxes miss these
      core::log(core::Level::kWarn, "realtime could not read tickets' inboxes", {{"error", e.what()}});
    }
  }
  for (const auto& [ev, json] : batch) {
    // Forwarded as written: the app reads the same event shape as any consumer.
    auto audience = audience_of(ev);
    if (!audience) {
      audience = Audience{true, std::nullopt};
      // Not looked up (no limited socket a moment ago, or the database failed): fail closed.
      if (auto it = inboxes.find(ev.ticket_id); it != inboxes.end()) audience->inbox = it->second;
    }
    publish(ev.workspace_id, *json, *audience);
    if (const auto* m = std::get_if<events::MessageCreated>(&ev.data);
        m && m->route.channel == store::kChatChannel && m->route.external_thread_id) {
      if (auto visitor = visitor_event(ev); !visitor.empty()) publish_to_visitor(*m->route.external_thread_id, visitor);
    }
  }
}

void Hub::stop() {
  if (stop_.exchange(true)) return;
  if (consumer_.joinable()) consumer_.join();
  if (checker_.joinable()) checker_.join();
  if (listener_.joinable()) listener_.join();
  std::lock_guard lock(mu_);
  for (auto& [id, s] : subs_) s.socket->close("server shutting down");
  for (auto& [visitor, sockets] : visitors_)
    for (auto& [id, socket] : sockets) socket->close("server shutting down");
}

// Presence of chat visitors in the database, from this replica's sockets: arrivals and
// departures within a revalidation tick, every open one again every kPresenceSeconds / 3.
void Hub::flush_presence() {
  std::vector<std::string> arrived, left, all;
  const bool refresh =
      std::chrono::steady_clock::now() - presence_flushed_ > std::chrono::seconds(kPresenceSeconds / 3);
  {
    std::lock_guard lock(mu_);
    std::set<std::string> open;
    for (const auto& [id, visitor] : visitor_of_) open.insert(visitor);
    for (const auto& v : left_)
      if (!open.count(v)) left.push_back(v);  // no other tab of theirs still open here
    arrived.assign(arrived_.begin(), arrived_.end());
    if (refresh) all.assign(open.begin(), open.end());
    arrived_.clear();
    left_.clear();
  }
  if (arrived.empty() && left.empty() && all.empty()) return;
  auto conn = ctx_.pool.acquire();
  pqxx::work tx(*conn);
  store::mark_visitors_online(tx, refresh ? all : arrived, kPresenceSeconds);
  store::mark_visitors_online(tx, left, 0);
  tx.commit();
  if (refresh) presence_flushed_ = std::chrono::steady_clock::now();
}

void Hub::signal(pqxx::transaction_base& tx, const std::string& workspace_id, const std::string& thread,
                 const std::string& event_json, const Audience& audience) {
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "w", workspace_id);
  core::json_kv(w, "t", thread);
  core::json_kv(w, "e", event_json);
  if (audience.ticket) {
    core::json_put(w, "i");
    if (audience.inbox)
      w.String(audience.inbox->data(), static_cast<rapidjson::SizeType>(audience.inbox->size()));
    else
      w.Null();
  }
  w.EndObject();
  tx.exec_params("SELECT pg_notify($1, $2)", kLiveChannel, std::string(sb.GetString()));
}

namespace {
// Hands each NOTIFY on Hub::kLiveChannel to `deliver`.
class LiveReceiver : public pqxx::notification_receiver {
 public:
  LiveReceiver(pqxx::connection& c, std::function<void(const std::string&)> deliver)
      : pqxx::notification_receiver(c, Hub::kLiveChannel), deliver_(std::move(deliver)) {}
  void operator()(const std::string& payload, int) override { deliver_(payload); }

 private:
  std::function<void(const std::string&)> deliver_;
};
}  // namespace

void Hub::listen() {
  auto deliver = [this](const std::string& payload) {
    rapidjson::Document d;
    if (!core::parse_json(d, payload, core::JsonLimits{payload.size(), 4, true}).empty() || !d.IsObject()) return;
    auto ws = core::json_string(d, "w"), thread = core::json_string(d, "t"), event = core::json_string(d, "e");
    if (!ws || !thread || !event) return;
    Audience audience;
    if (core::json_member(d, "i")) audience = {true, core::json_string(d, "i")};
    if (thread->empty())
      publish(*ws, *event, audience);
    else
      publish_to_visitor(*thread, *event);
  };
  auto backoff = std::chrono::milliseconds(200);
  while (!stop_) {
    try {
      pqxx::connection conn(ctx_.pool.url());
      LiveReceiver receiver(conn, deliver);
      backoff = std::chrono::milliseconds(200);
      while (!stop_) conn.await_notification(0, 200000);
    } catch (const std::exception& e) {  // the database went away: listen again once it is back
      core::log(core::Level::kWarn, "live signals interrupted", {{"error", e.what()}});
      for (auto waited = std::chrono::milliseconds(0); waited < backoff && !stop_;
           waited += std::chrono::milliseconds(50))
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      backoff = std::min(backoff * 2, std::chrono::milliseconds(5000));
    }
  }
}

std::string Hub::visitor_event(const events::TicketEvent& ev) {
  const auto& m = std::get<events::MessageCreated>(ev.data).message;
  if (m.internal) return "";
  std::string link;
  if (m.body.find(store::kStatusLinkPlaceholder) != std::string::npos) {  // an auto-reply
    try {
      auto conn = ctx_.pool.acquire();
      pqxx::read_transaction tx(*conn);
      link = ctx_.options.public_app_url + "/t/" + store::access_token_of(tx, ev.ticket_id, ctx_.keys);
    } catch (const std::exception& e) {  // the widget shows it on its next catch-up
      core::log(core::Level::kWarn, "realtime could not read a status link", {{"error", e.what()}});
      return "";
    }
  }
  rapidjson::StringBuffer sb;
  core::JsonWriter w(sb);
  w.StartObject();
  core::json_kv(w, "type", "message");
  core::json_kv(w, "ticketId", ev.ticket_id);
  core::json_put(w, "message");
  write_public_message(w, m, link);
  w.EndObject();
  return sb.GetString();
}

void Hub::publish_to_visitor(const std::string& thread, const std::string& json) {
  std::lock_guard lock(mu_);
  auto it = visitors_.find(thread);
  if (it == visitors_.end()) return;
  for (auto& [id, socket] : it->second) socket->send(json);
}

http::Upgrade Hub::upgrade_visitor(const http::Request& req) {
  http::Upgrade up;
  Admission a = admit(ctx_, req);  // no agent credential: counted against the client IP
  if (a.refusal) {
    up.refuse = std::move(a.refusal);
    return up;
  }
  std::optional<store::Visitor> v;
  {
    auto conn = ctx_.pool.acquire();
    pqxx::read_transaction tx(*conn);
    v = store::find_visitor(tx, visitor_token(req), false);
  }
  if (!v) {
    up.refuse = http::json_error(401, "UNAUTHORIZED", "connect with ?visitor_token=<the chat session's token>");
    return up;
  }
  auto id = std::make_shared<std::uint64_t>(0);
  up.on_open = [this, id, visitor = v->id, thread = v->thread()](const std::shared_ptr<http::WebSocket>& socket) {
    {
      std::lock_guard lock(mu_);
      *id = next_id_++;
      visitors_[thread][*id] = socket;
      visitor_of_[*id] = visitor;
      arrived_.insert(visitor);
    }
    socket->send("{\"type\":\"ready\",\"visitorId\":\"" + visitor + "\"}");
  };
  up.on_close = [this, id, visitor = v->thread()] {
    std::lock_guard lock(mu_);
    auto it = visitors_.find(visitor);
    if (it != visitors_.end() && it->second.erase(*id) && it->second.empty()) visitors_.erase(it);
    if (auto v = visitor_of_.find(*id); v != visitor_of_.end()) {
      left_.insert(v->second);
      visitor_of_.erase(v);
    }
  };
  return up;
}

http::Upgrade Hub::upgrade(const http::Request& req) {
  if (req.path == "/api/v1/widget/realtime") return upgrade_visitor(req);
  http::Upgrade up;
  if (req.path != "/api/v1/realtime") {
    up.refuse = http::json_error(404, "NOT_FOUND", "WebSockets are served at /api/v1/realtime");
    return up;
  }
  Admission a = admit(ctx_, req);
  if (!a.refusal && a.principal.workspace_id.empty())
    a.refusal = http::json_error(401, "UNAUTHORIZED",
                                 "connect with ?access_token=<session token or API key> or an Authorization header");
  if (a.refusal) {
    up.refuse = std::move(a.refusal);
    return up;
  }
  auto id = std::make_shared<std::uint64_t>(0);
  store::Principal p = a.principal;
  std::optional<std::set<std::string>> inboxes;
  if (!sees_all(p)) {
    auto conn = ctx_.pool.acquire();
    pqxx::read_transaction tx(*conn);
    inboxes = store::inboxes_of(tx, {p.agent_id})[p.agent_id];
  }
  up.on_open = [this, id, p, inboxes](const std::shared_ptr<http::WebSocket>& socket) {
    {
      std::lock_guard lock(mu_);
      *id = next_id_++;
      subs_[*id] = {p.workspace_id, p, socket, inboxes};
      by_workspace_[p.workspace_id].insert(*id);
      if (inboxes) ++limited_;
    }
    socket->send("{\"type\":\"ready\",\"workspaceId\":\"" + p.workspace_id + "\"}");
  };
  up.on_close = [this, id] {
    std::lock_guard lock(mu_);
    auto it = subs_.find(*id);
    if (it == subs_.end()) return;
    auto ws = by_workspace_.find(it->second.workspace_id);
    if (ws != by_workspace_.end() && ws->second.erase(*id) && ws->second.empty()) by_workspace_.erase(ws);
    if (it->second.inboxes) --limited_;
    subs_.erase(it);
  };
  return up;
}

void Hub::publish(const std::string& workspace_id, const std::string& event_json, const Audience& audience) {
  std::lock_guard lock(mu_);
  auto ws = by_workspace_.find(workspace_id);
  if (ws == by_workspace_.end()) return;
  for (auto id : ws->second) {
    const auto& sub = subs_.at(id);
    if (audience.ticket && sub.inboxes && (!audience.inbox || !sub.inboxes->count(*audience.inbox))) continue;
    sub.socket->send(event_json);
  }
}

std::size_t Hub::connections() const {
  std::lock_guard lock(mu_);
  std::size_t n = subs_.size();
  for (const auto& [visitor, sockets] : visitors_) n += sockets.size();
  return n;
}

void Hub::revalidate() {
  std::vector<std::pair<std::uint64_t, store::Principal>> open;
  {
    std::lock_guard lock(mu_);
    for (const auto& [id, s] : subs_) open.emplace_back(id, s.principal);
  }
  if (open.empty()) return;
  std::vector<std::string> sessions, keys;
  for (const auto& [id, p] : open)
    (p.api_key_id.empty() ? sessions : keys).push_back(p.api_key_id.empty() ? p.session_id : p.api_key_id);
  std::vector<std::string> limited;
  for (const auto& [id, p] : open)
    if (!sees_all(p)) limited.push_back(p.agent_id);
  std::set<std::string> valid;
  std::map<std::string, std::set<std::string>> inboxes;
  {
    auto conn = ctx_.pool.acquire();
    pqxx::read_transaction tx(*conn);
    valid = store::valid_credentials(tx, sessions, keys);
    inboxes = store::inboxes_of(tx, limited);  // membership changes reach open sockets too
  }
  // A live connection keeps its agent online for auto-assignment (issue 20).
  if (std::chrono::steady_clock::now() - seen_marked_ > std::chrono::seconds(20)) {
    std::vector<std::string> agents;
    for (const auto& [id, p] : open)
      if (!p.agent_id.empty()) agents.push_back(p.agent_id);
    if (!agents.empty()) {
      auto conn = ctx_.pool.acquire();
      pqxx::work tx(*conn);
      store::mark_agents_seen(tx, agents);
      tx.commit();
    }
    seen_marked_ = std::chrono::steady_clock::now();
  }
  std::lock_guard lock(mu_);
  for (const auto& [id, p] : open) {
    auto it = subs_.find(id);
    if (it == subs_.end()) continue;
    if (it->second.inboxes) it->second.inboxes = inboxes[p.agent_id];
    if (!valid.count(p.api_key_id.empty() ? p.session_id : p.api_key_id))
      it->second.socket->close("credential revoked");
  }
}

}  // namespace loket::api
