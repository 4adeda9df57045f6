// Issue 17, live chat: the visitor's session, conversation and realtime feed against the real
// api (and writer-free: the api writes chat messages itself, like the hosted form).
#include <catch2/catch.hpp>

#include <set>
#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
Json visitor(const std::string& method, const std::string& path, const std::string& token,
             const std::string& body = "") {
  return call(stack().api_url(), method, path, token, body);
}

std::string send_body(const std::string& client_id, const std::string& text, const std::string& extra = "") {
  return R"({"clientMessageId":")" + client_id + R"(","body":")" + text + "\"" + extra + "}";
}

// The seq of every message the visitor sees, in the order given.
std::vector<std::int64_t> seqs(const rapidjson::Value& messages) {
  std::vector<std::int64_t> out;
  for (const auto& m : messages.GetArray()) out.push_back(m["seq"].GetInt64());
  return out;
}
}  // namespace

TEST_CASE("a chat visitor opens a ticket, retries without duplicates and resumes by sequence", "[chat]") {
  auto [acc, key] = new_workspace("Toko Chat");
  const std::string session_body = R"({"accountId":")" + acc + R"("})";
  // Off until an admin turns it on.
  CHECK(visitor("POST", "/api/v1/widget/sessions", "", session_body).status == 404);
  REQUIRE(api("PATCH", "/api/v1/widget", key,
              R"({"enabled":true,"preChatForm":{"email":"required"},"allowedOrigins":["https://shop.example"]})")
              .status == 200);

  auto session = visitor("POST", "/api/v1/widget/sessions", "", session_body);
  INFO(session.raw);
  REQUIRE(session.status == 201);
  const std::string token = str(session.data(), "visitorToken");
  const std::string visitor_id = str(session.data(), "visitorId");
  REQUIRE(token.size() == 68);
  CHECK(token.rfind("wvs_", 0) == 0);
  CHECK(sql_number("SELECT count(*) FROM widget_visitors WHERE position(convert_to('" + token +
                   "', 'UTF8') IN token_hash) > 0") == 0);  // only its hash is kept

  // A visitor token is no agent credential, and a wrong one gets nothing.
  CHECK(visitor("GET", "/api/v1/tickets", token).status == 401);
  CHECK(visitor("GET", "/api/v1/widget/conversation", "wvs_" + std::string(64, '0')).status == 401);
  CHECK(visitor("GET", "/api/v1/widget/conversation", "").status == 401);
  CHECK(visitor("GET", "/api/v1/widget/conversation?after=-1", token).status == 400);
  CHECK(visitor("GET", "/api/v1/widget/conversation?after=1x", token).status == 400);

  auto empty = visitor("GET", "/api/v1/widget/conversation", token);
  REQUIRE(empty.status == 200);
  CHECK(empty.data()["ticketId"].IsNull());
  CHECK(empty.data()["messages"].Size() == 0);

  // The pre-chat form's required email is asked for, and nothing is stored without it.
  auto refused = visitor("POST", "/api/v1/widget/conversation/messages", token, send_body("c-1", "Halo"));
  CHECK(refused.status == 400);
  CHECK(str(refused.doc["error"], "field") == "email");
  CHECK(visitor("POST", "/api/v1/widget/conversation/messages", token, send_body("", "Halo", R"(,"email":"a@b.id")"))
            .status == 400);
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + acc + "'") == 0);

  WsClient live(stack().api_url(), "/api/v1/widget/realtime?visitor_token=" + token);
  REQUIRE(live.status() == 0);
  CHECK(WsClient(stack().api_url(), "/api/v1/widget/realtime?visitor_token=wvs_nope").status() == 401);

  const std::string first =
      send_body("c-1", "Where is my <b>order</b>?", R"(,"email":"Sari@Example.ID","name":"Sari")");
  auto sent = visitor("POST", "/api/v1/widget/conversation/messages", token, first);
  INFO(sent.raw);
  REQUIRE(sent.status == 201);
  CHECK(sent.data()["seq"].GetInt64() == 1);
  CHECK(str(sent.data(), "body") == "Where is my <b>order</b>?");  // as typed
  // The same client message id again (a retry after a lost answer): the same message, once.
  auto again = visitor("POST", "/api/v1/widget/conversation/messages", token, first);
  CHECK(again.status == 200);
  CHECK(str(again.data(), "id") == str(sent.data(), "id"));
  CHECK(sql_number("SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.workspace_id = '" +
                   acc + "' AND m.author_type = 'requester'") == 1);

  // Agents see a chat ticket with the visitor as requester.
  auto list = api("GET", "/api/v1/tickets?channel=chat", key);
  REQUIRE(list.status == 200);
  REQUIRE(list.data()["items"].Size() == 1);
  const auto& listed = list.data()["items"][0];
  const std::string ticket = str(listed, "id");
  CHECK(str(listed, "channel") == "chat");
  CHECK(str(listed, "requesterEmail") == "sari@example.id");
  CHECK(str(listed, "requesterName") == "Sari");

  // Agent replies and a note, some at once: the visitor gets the replies, each once, in order.
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"internal: VIP","internal":true})")
              .status == 201);
  std::vector<std::thread> agents;
  for (int i = 0; i < 4; ++i)
    agents.emplace_back([&, i] {
      api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"reply )" + std::to_string(i) + "\"}");
    });
  for (auto& a : agents) a.join();
  auto all = visitor("GET", "/api/v1/widget/conversation", token);
  REQUIRE(all.status == 200);
  CHECK(str(all.data(), "ticketId") == ticket);
  CHECK(str(all.data()["visitor"], "email") == "sari@example.id");
  auto all_seqs = seqs(all.data()["messages"]);
  for (const auto& m : all.data()["messages"].GetArray()) CHECK(str(m, "body").find("internal") == std::string::npos);
  std::int64_t replies = 0;
  for (const auto& m : all.data()["messages"].GetArray()) replies += str(m, "authorType") == "agent";
  CHECK(replies == 4);
  CHECK(std::is_sorted(all_seqs.begin(), all_seqs.end()));
  // Seqs count every message of the ticket (the note too), without gaps or repeats.
  const auto total = sql_number("SELECT count(*) FROM messages WHERE ticket_id = '" + ticket + "'");
  CHECK(sql_number("SELECT max(seq) FROM messages WHERE ticket_id = '" + ticket + "'") == total);
  CHECK(sql_number("SELECT count(DISTINCT seq) FROM messages WHERE ticket_id = '" + ticket + "'") == total);

  // Resuming after the visitor's own message returns exactly what came after it.
  auto resumed = visitor("GET", "/api/v1/widget/conversation?after=1", token);
  auto resumed_seqs = seqs(resumed.data()["messages"]);
  CHECK(resumed_seqs == std::vector<std::int64_t>(all_seqs.begin() + 1, all_seqs.end()));

  // The live feed carried every reply once and never the note.
  REQUIRE(wait_until(
      [&] {
        int n = 0;
        for (const auto& m : live.messages()) n += m.find("\"authorType\":\"agent\"") != std::string::npos;
        return n >= 4;
      },
      10s));
  std::set<std::string> seen;
  int agent_events = 0;
  for (const auto& m : live.messages()) {
    CHECK(m.find("internal: VIP") == std::string::npos);
    if (m.find("\"authorType\":\"agent\"") == std::string::npos) continue;
    ++agent_events;
    seen.insert(m);
  }
  CHECK(agent_events == 4);
  CHECK(seen.size() == 4);

  // Another visitor of the same site sees none of it.
  auto other = visitor("POST", "/api/v1/widget/sessions", "", session_body);
  REQUIRE(other.status == 201);
  auto other_view = visitor("GET", "/api/v1/widget/conversation", str(other.data(), "visitorToken"));
  CHECK(other_view.data()["ticketId"].IsNull());

  // A resolved conversation reopens when the visitor writes again; a closed one is never reopened.
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"resolved"})").status == 200);
  REQUIRE(visitor("POST", "/api/v1/widget/conversation/messages", token, send_body("c-2", "Still there?")).status ==
          201);
  CHECK(str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "status") == "open");
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"closed"})").status == 200);
  auto fresh = visitor("POST", "/api/v1/widget/conversation/messages", token, send_body("c-3", "New question"));
  REQUIRE(fresh.status == 201);
  CHECK(fresh.data()["seq"].GetInt64() == 1);
  auto now = visitor("GET", "/api/v1/widget/conversation", token);
  CHECK(str(now.data(), "ticketId") != ticket);
  CHECK(now.data()["messages"][0]["seq"].GetInt64() == 1);

  // Turning the widget off ends every session.
  REQUIRE(api("PATCH", "/api/v1/widget", key, R"({"enabled":false})").status == 200);
  CHECK(visitor("GET", "/api/v1/widget/conversation", token).status == 401);
  CHECK(visitor_id.rfind("vis_", 0) == 0);
}

TEST_CASE("a verified identity shares one conversation across devices; an unverified one opens nothing", "[chat]") {
  auto [acc, key] = new_workspace("Toko Identity");
  auto saved = api("PATCH", "/api/v1/widget", key, R"({"enabled":true,"allowedOrigins":["https://shop.example"]})");
  REQUIRE(saved.status == 200);
  const std::string secret = str(saved.data(), "identitySecret");
  auto session = [&] {
    auto s = visitor("POST", "/api/v1/widget/sessions", "", R"({"accountId":")" + acc + R"("})");
    REQUIRE(s.status == 201);
    return str(s.data(), "visitorToken");
  };
  auto hash = [&](const std::string& id) { return loket::core::to_hex(loket::crypto::hmac_sha256(secret, id)); };
  auto identify = [&](const std::string& token, const std::string& id, const std::string& h) {
    return visitor("POST", "/api/v1/widget/identify", token,
                   R"({"identifier":")" + id + R"(","name":"Sari","email":"sari@example.test")" +
                       (h.empty() ? "" : R"(,"hash":")" + h + "\"") + "}");
  };

  // The laptop: verified, writes.
  const std::string laptop = session();
  auto ok = identify(laptop, "user-42", hash("user-42"));
  INFO(ok.raw);
  REQUIRE(ok.status == 200);
  CHECK(ok.data()["verified"].GetBool());
  REQUIRE(visitor("POST", "/api/v1/widget/conversation/messages", laptop, send_body("l-1", "from my laptop")).status ==
          201);

  // The phone, verified as the same user, sees it and continues it; the reply reaches both.
  const std::string phone = session();
  REQUIRE(identify(phone, "user-42", hash("user-42")).status == 200);
  WsClient laptop_live(stack().api_url(), "/api/v1/widget/realtime?visitor_token=" + laptop);
  WsClient phone_live(stack().api_url(), "/api/v1/widget/realtime?visitor_token=" + phone);
  auto on_phone = visitor("GET", "/api/v1/widget/conversation", phone);
  REQUIRE(on_phone.data()["messages"].Size() == 1);
  CHECK(str(on_phone.data()["messages"][0], "body") == "from my laptop");
  const std::string ticket = str(on_phone.data(), "ticketId");
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"to every device"})").status == 201);
  for (auto* live : {&laptop_live, &phone_live})
    CHECK(wait_until(
        [&] {
          for (const auto& m : live->messages())
            if (m.find("to every device") != std::string::npos) return true;
          return false;
        },
        10s));

  // A wrong hash, or another user's, is refused; an identifier without a hash opens nothing.
  const std::string attacker = session();
  CHECK(identify(attacker, "user-42", hash("user-43")).status == 403);
  CHECK(identify(attacker, "user-42", std::string(64, '0')).status == 403);
  auto unverified = identify(attacker, "user-42", "");
  REQUIRE(unverified.status == 200);
  CHECK_FALSE(unverified.data()["verified"].GetBool());
  CHECK(visitor("GET", "/api/v1/widget/conversation", attacker).data()["ticketId"].IsNull());

  // With verified identities required, no hash is refused too, not ignored.
  REQUIRE(api("PATCH", "/api/v1/widget", key, R"({"requireIdentity":true})").status == 200);
  CHECK(identify(attacker, "user-42", "").status == 403);
  CHECK(identify(session(), "user-7", hash("user-7")).status == 200);
}

TEST_CASE("business hours: the widget says when the team is back, and a bad schedule is refused", "[chat]") {
  auto [acc, key] = new_workspace("Toko Hours");
  REQUIRE(api("PATCH", "/api/v1/widget", key,
              R"({"enabled":true,"allowedOrigins":["https://shop.example"],"awayMessage":"Kami sedang libur."})")
              .status == 200);
  auto availability = [&] {
    auto r = call(stack().api_url(), "GET", "/api/v1/widget/availability?accountId=" + acc, "");
    REQUIRE(r.status == 200);
    return r;
  };
  auto always = availability();  // no schedule: always in
  CHECK(always.data()["open"].GetBool());
  CHECK(always.data()["backAt"].IsNull());

  // Open only 09:00–10:00 UTC two days from today: away now, back then.
  static const char* days[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};
  const auto today = std::chrono::weekday(std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now()));
  const std::string in_two = days[(today.c_encoding() + 2) % 7];
  auto saved = api("PATCH", "/api/v1/widget", key,
                   R"({"businessHours":{"timeZone":"UTC","week":{")" + in_two + R"(":[["09:00","10:00"]]}}})");
  INFO(saved.raw);
  REQUIRE(saved.status == 200);
  CHECK(str(saved.data()["businessHours"], "timeZone") == "UTC");
  CHECK(saved.data()["businessHours"]["week"]["mon"].IsArray());  // every day written back
  auto away = availability();
  INFO(away.raw);
  CHECK_FALSE(away.data()["open"].GetBool());
  CHECK(str(away.data(), "awayMessage") == "Kami sedang libur.");
  const auto& back = away.data()["backAt"];
  CHECK(str(back, "localTime") == "09:00");
  CHECK(str(back, "zone") == "UTC");
  CHECK(back["inDays"].GetInt() == 2);
  CHECK(back["weekday"].GetInt() == static_cast<int>((today.iso_encoding() + 1) % 7 + 1));

  // Out of hours, every channel's new ticket gets the out-of-office reply: the hosted form's,
  // and a chat's (the widget shows the same).
  auto form =
      call(stack().api_url(), "POST", "/api/v1/public/tickets", "",
           R"({"accountId":")" + acc + R"(","subject":"Hi","body":"Anyone there?","email":"ooo@example.test"})");
  REQUIRE(form.status == 201);
  auto web = api("GET", "/api/v1/tickets?channel=web", key);
  auto form_messages = api("GET", "/api/v1/tickets/" + str(web.data()["items"][0], "id") + "/messages", key);
  REQUIRE(form_messages.data().Size() == 2);
  const std::string ooo = str(form_messages.data()[1], "body");
  CHECK(str(form_messages.data()[1], "authorType") == "system");
  CHECK(ooo.rfind("Kami sedang libur.\n\nWe are back on ", 0) == 0);
  CHECK(ooo.find(" at 09:00 UTC.") != std::string::npos);

  // Refused schedules change nothing and name the field.
  for (const std::string bad :
       {R"({"businessHours":{"timeZone":"Nowhere/City","week":{}}})",
        R"({"businessHours":{"timeZone":"UTC","week":{"mon":[["18:00","09:00"],["08:00","10:00"]]}}})",
        R"({"businessHours":{"timeZone":"UTC","week":{"mon":"9-5"}}})", R"({"businessHours":"always"})"}) {
    auto r = api("PATCH", "/api/v1/widget", key, bad);
    INFO(bad << " → " << r.raw);
    CHECK(r.status == 400);
    CHECK(str(r.doc["error"], "field") == "businessHours");
  }
  CHECK(std::string(
            api("GET", "/api/v1/widget", key).data()["businessHours"]["week"][in_two.c_str()][0][0].GetString()) ==
        "09:00");
  // Back to always open.
  REQUIRE(api("PATCH", "/api/v1/widget", key, R"({"businessHours":null})").status == 200);
  CHECK(availability().data()["open"].GetBool());
  CHECK(
      call(stack().api_url(), "GET", "/api/v1/widget/availability?accountId=acc_000000000000000000000000", "").status ==
      404);
}

TEST_CASE("typing and read receipts reach the other side through any api replica, and are never stored", "[chat]") {
  auto [acc, key] = new_workspace("Toko Live");
  REQUIRE(api("PATCH", "/api/v1/widget", key, R"({"enabled":true,"allowedOrigins":["https://shop.example"]})").status ==
          200);
  auto s = visitor("POST", "/api/v1/widget/sessions", "", R"({"accountId":")" + acc + R"("})");
  const std::string token = str(s.data(), "visitorToken");
  // Before a first message there is no one to tell.
  CHECK(visitor("POST", "/api/v1/widget/typing", token, R"({"typing":true})").status == 200);
  auto sent = visitor("POST", "/api/v1/widget/conversation/messages", token, send_body("t-1", "halo"));
  REQUIRE(sent.status == 201);
  const std::string ticket = str(visitor("GET", "/api/v1/widget/conversation", token).data(), "ticketId");

  // The visitor on a second replica, the agent on the first.
  static const std::string second = stack().start_api("api-live");
  WsClient visitor_live(second, "/api/v1/widget/realtime?visitor_token=" + token);
  WsClient agent_live(stack().api_url(), "/api/v1/realtime?access_token=" + key);
  REQUIRE(visitor_live.status() == 0);
  REQUIRE(agent_live.status() == 0);
  auto saw = [](const WsClient& c, const std::string& needle) {
    return wait_until(
        [&] {
          for (const auto& m : c.messages())
            if (m.find(needle) != std::string::npos) return true;
          return false;
        },
        std::chrono::seconds(10));
  };
  // Agents may have connected after a first signal; repeat as a UI does while typing.
  bool typed = false;
  for (int i = 0; i < 20 && !typed; ++i) {
    REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/typing", key, R"({"typing":true})").status == 200);
    typed = wait_until(
        [&] {
          for (const auto& m : visitor_live.messages())
            if (m.find(R"("type":"typing")") != std::string::npos) return true;
          return false;
        },
        500ms);
  }
  CHECK(typed);
  CHECK(saw(visitor_live, R"("name":"Support")"));
  REQUIRE(call(second, "POST", "/api/v1/widget/typing", token, R"({"typing":true})").status == 200);
  CHECK(saw(agent_live, R"("type":"chat.typing")"));
  CHECK(saw(agent_live, R"("author":"requester")"));
  CHECK(visitor("POST", "/api/v1/widget/typing", token, R"({"typing":"yes"})").status == 400);

  // Read receipts: the highest seq read, never past the last message; the visitor hears of it.
  auto read = api("POST", "/api/v1/tickets/" + ticket + "/read", key, R"({"seq":99})");
  REQUIRE(read.status == 200);
  CHECK(read.data()["agentReadSeq"].GetInt64() == 1);
  CHECK(saw(visitor_live, R"("type":"read")"));
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/read", key, R"({"seq":0})").status == 400);
  CHECK(visitor("GET", "/api/v1/widget/conversation", token).data()["agentReadSeq"].GetInt64() == 1);
  // Another workspace cannot signal this ticket.
  auto [other, other_key] = new_workspace("Other live");
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/typing", other_key).status == 404);
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/read", other_key, R"({"seq":1})").status == 404);
  // Signals are not events: nothing about typing was stored.
  CHECK(sql_number("SELECT count(*) FROM messages WHERE ticket_id = '" + ticket + "'") == 1);
}

TEST_CASE("chat limits count visitors, not the network they share, and say why", "[chat]") {
  auto [acc, key] = new_workspace("Toko Limits");
  REQUIRE(api("PATCH", "/api/v1/widget", key,
              R"({"enabled":true,"allowedOrigins":["https://shop.example"],"conversationsPerVisitorPerHour":1})")
              .status == 200);
  // A replica behind a trusted proxy with small limits, so one office's address can be named.
  static const std::string base = stack().start_api(
      "api-chat-limits", {"LOKET_TRUSTED_PROXIES=127.0.0.1", "LOKET_RATE_LIMIT_IP_PER_MINUTE=5",
                          "LOKET_RATE_LIMIT_VISITOR_PER_MINUTE=12", "LOKET_RATE_LIMIT_CHAT_IP_PER_MINUTE=60"});
  const std::string office = "198.51.100." + std::to_string(1 + loket::core::random_bytes(1)[0] % 250);
  auto from_office = [&](const std::string& method, const std::string& path, const std::string& token,
                         const std::string& body = "") {
    return call(base, method, path, token, body, {{"X-Forwarded-For", office}});
  };
  // Eight visitors in one office start chats: far past the per-IP limit of other public routes.
  std::vector<std::string> tokens;
  for (int i = 0; i < 8; ++i) {
    auto s = from_office("POST", "/api/v1/widget/sessions", "", R"({"accountId":")" + acc + R"("})");
    INFO(s.raw);
    REQUIRE(s.status == 201);
    tokens.push_back(str(s.data(), "visitorToken"));
    REQUIRE(from_office("POST", "/api/v1/widget/conversation/messages", tokens.back(),
                        send_body("m", "halo " + std::to_string(i)))
                .status == 201);
  }
  // One visitor past their own limit is held back; the others are not.
  int limited = 0;
  for (int i = 0; i < 12; ++i) limited += from_office("GET", "/api/v1/widget/conversation", tokens[0]).status == 429;
  CHECK(limited >= 1);
  auto other = from_office("GET", "/api/v1/widget/conversation", tokens[1]);
  CHECK(other.status == 200);
  CHECK(other.header("x-ratelimit-limit") == "12");
  // The office as a whole has a ceiling, high but there.
  int ceiling = 0;
  for (int i = 0; i < 40 && ceiling == 0; ++i) {
    auto r = from_office("GET", "/api/v1/widget/availability?accountId=" + acc, "");
    if (r.status == 429) {
      ++ceiling;
      CHECK(!r.header("retry-after").empty());
    }
  }
  CHECK(ceiling == 1);

  // A visitor who already started their one conversation this hour is told to wait, and the
  // message is not stored.
  auto t = str(visitor("GET", "/api/v1/widget/conversation", tokens[2]).data(), "ticketId");
  REQUIRE(api("PATCH", "/api/v1/tickets/" + t, key, R"({"status":"closed"})").status == 200);
  auto again = visitor("POST", "/api/v1/widget/conversation/messages", tokens[2], send_body("m2", "lagi"));
  CHECK(again.status == 429);
  CHECK(str(again.doc["error"], "message").find("wait") != std::string::npos);
  CHECK(!again.header("retry-after").empty());
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + acc + "'") == 8);
  CHECK(api("PATCH", "/api/v1/widget", key, R"({"conversationsPerVisitorPerHour":0})").status == 400);
}

TEST_CASE("a reply reaches a visitor in the widget there, and by email once they have left", "[chat]") {
  auto [acc, key] = new_workspace("Toko Away");
  REQUIRE(api("PATCH", "/api/v1/widget", key, R"({"enabled":true,"allowedOrigins":["https://shop.example"]})").status ==
          200);
  auto s = visitor("POST", "/api/v1/widget/sessions", "", R"({"accountId":")" + acc + R"("})");
  const std::string token = str(s.data(), "visitorToken"), id = str(s.data(), "visitorId");
  REQUIRE(visitor("POST", "/api/v1/widget/conversation/messages", token,
                  send_body("a-1", "halo", R"(,"email":"away@example.test")"))
              .status == 201);
  const std::string ticket = str(visitor("GET", "/api/v1/widget/conversation", token).data(), "ticketId");
  const std::string online = "SELECT count(*) FROM widget_visitors WHERE id = '" + id + "' AND online_until > now()";
  {
    WsClient live(stack().api_url(), "/api/v1/widget/realtime?visitor_token=" + token);
    REQUIRE(live.status() == 0);
    REQUIRE(wait_until([&] { return sql_number(online) == 1; }, 10s));
    auto here = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"read it here"})");
    REQUIRE(here.status == 201);
    CHECK(here.data()["delivery"].IsNull());  // shown in the widget, not emailed
  }
  REQUIRE(wait_until([&] { return sql_number(online) == 0; }, 10s));  // the socket closed
  auto gone = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"sent by email"})");
  REQUIRE(gone.status == 201);
  CHECK(str(gone.data()["delivery"], "status") == "pending");
}

TEST_CASE("a visitor sends a file and downloads only their own conversation's files", "[chat]") {
  auto [acc, key] = new_workspace("Toko Files");
  REQUIRE(api("PATCH", "/api/v1/widget", key, R"({"enabled":true,"allowedOrigins":["https://shop.example"]})").status ==
          200);
  auto session = [&] {
    return str(visitor("POST", "/api/v1/widget/sessions", "", R"({"accountId":")" + acc + R"("})").data(),
               "visitorToken");
  };
  const std::string token = session(), stranger = session();
  auto upload_as = [&](const std::string& t, const std::string& name, const std::string& bytes) {
    return call(stack().api_url(), "POST", "/api/v1/widget/attachments", t, multipart(name, "text/plain", bytes),
                {{"Content-Type", "multipart/form-data; boundary=LoketBoundary"}});
  };
  CHECK(upload_as("", "a.txt", "x").status == 401);
  auto up = upload_as(token, "struk.txt", "receipt 42");
  INFO(up.raw);
  REQUIRE(up.status == 201);
  const std::string file = str(up.data(), "id");
  // Another visitor cannot send it as theirs.
  CHECK(visitor("POST", "/api/v1/widget/conversation/messages", stranger,
                R"({"clientMessageId":"s","body":"mine","attachmentIds":[")" + file + R"("]})")
            .status == 400);
  auto sent = visitor("POST", "/api/v1/widget/conversation/messages", token,
                      R"({"clientMessageId":"f","body":"my receipt","attachmentIds":[")" + file + R"("]})");
  REQUIRE(sent.status == 201);
  REQUIRE(sent.data()["attachments"].Size() == 1);
  CHECK(str(sent.data()["attachments"][0], "filename") == "struk.txt");
  const std::string ticket = str(visitor("GET", "/api/v1/widget/conversation", token).data(), "ticketId");

  // An agent's file reaches the visitor; a note's never does.
  auto agent_file = str(upload(stack().api_url(), key, multipart("label.txt", "text/plain", "label")).data(), "id");
  auto note_file = str(upload(stack().api_url(), key, multipart("note.txt", "text/plain", "secret")).data(), "id");
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
              R"({"body":"here","attachmentIds":[")" + agent_file + R"("]})")
              .status == 201);
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
              R"({"body":"note","internal":true,"attachmentIds":[")" + note_file + R"("]})")
              .status == 201);
  auto get = [&](const std::string& t, const std::string& id) {
    return call(stack().api_url(), "GET", "/api/v1/widget/attachments/" + id, t);
  };
  CHECK(get(token, file).raw == "receipt 42");
  CHECK(get(token, agent_file).raw == "label");
  CHECK(get(token, note_file).status == 404);
  CHECK(get(stranger, file).status == 404);
  CHECK(get("", file).status == 401);
  // The agent sees the visitor's file on the ticket.
  auto messages = api("GET", "/api/v1/tickets/" + ticket + "/messages", key);
  CHECK(str(messages.data()[0]["attachments"][0], "id") == file);
}

TEST_CASE("a resolved conversation is emailed as a transcript on request, once per request, without notes", "[chat]") {
  auto [acc, key] = new_workspace("Toko Transcript");
  REQUIRE(api("PATCH", "/api/v1/widget", key, R"({"enabled":true,"allowedOrigins":["https://shop.example"]})").status ==
          200);
  auto start = [&] {
    return str(visitor("POST", "/api/v1/widget/sessions", "", R"({"accountId":")" + acc + R"("})").data(),
               "visitorToken");
  };
  const std::string token = start(), email = unique_email("transcript");
  // Hostile and early requests first: nothing to send, no session, no address, a bad address.
  CHECK(visitor("POST", "/api/v1/widget/conversation/transcript", token, "{}").status == 404);
  CHECK(visitor("POST", "/api/v1/widget/conversation/transcript", "wvs_" + std::string(64, '0'), "{}").status == 401);
  REQUIRE(
      visitor("POST", "/api/v1/widget/conversation/messages", token, send_body("t-1", "Where is my order?")).status ==
      201);
  auto no_address = visitor("POST", "/api/v1/widget/conversation/transcript", token, "");
  CHECK(no_address.status == 400);
  CHECK(str(no_address.doc["error"], "field") == "email");
  CHECK(visitor("POST", "/api/v1/widget/conversation/transcript", token, R"({"email":"not an address"})").status ==
        400);
  CHECK(visitor("POST", "/api/v1/widget/conversation/transcript", token, R"({"email":["a@b.c"]})").status == 400);

  const std::string ticket = str(visitor("GET", "/api/v1/widget/conversation", token).data(), "ticketId");
  REQUIRE(
      api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Checked the courier","internal":true})")
          .status == 201);
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"It ships <b>today</b>."})").status ==
          201);
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"resolved"})").status == 200);

  // The address given becomes the visitor's (and the ticket's, which had none).
  std::string shouted = email;
  for (char& c : shouted) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto asked = visitor("POST", "/api/v1/widget/conversation/transcript", token, R"({"email":")" + shouted + R"("})");
  REQUIRE(asked.status == 202);
  CHECK(str(asked.data(), "email") == email);
  CHECK(asked.data()["throughSeq"].GetInt64() == 3);
  CHECK(str(visitor("GET", "/api/v1/widget/conversation", token).data()["visitor"], "email") == email);
  CHECK(str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "requesterEmail") == email);

  auto transcripts = [&] {
    std::vector<rapidjson::Document> out;
    for (const auto& raw : resend().emails_to(email)) {
      rapidjson::Document d;
      d.Parse(raw.c_str());
      if (str(d, "subject").rfind("Transcript: ", 0) == 0) out.push_back(std::move(d));
    }
    return out;
  };
  REQUIRE(wait_until([&] { return transcripts().size() == 1; }, 30s));
  const std::string text = str(transcripts()[0], "text");
  INFO(text);
  CHECK(text.find("You — ") != std::string::npos);
  CHECK(text.find("Where is my order?") != std::string::npos);
  CHECK(text.find("It ships <b>today</b>.") != std::string::npos);  // as typed
  CHECK(text.find("courier") == std::string::npos);                 // the note never
  CHECK(str(transcripts()[0]["headers"], "Auto-Submitted") == "auto-generated");
  CHECK(sql_number("SELECT count(*) FROM notifications WHERE ticket_id = '" + ticket +
                   "' AND kind = 'transcript' AND status = 'sent'") == 1);

  // A later request (no body: the visitor's address) is another email; the fourth in an hour is refused.
  CHECK(visitor("POST", "/api/v1/widget/conversation/transcript", token, "").status == 202);
  CHECK(visitor("POST", "/api/v1/widget/conversation/transcript", token, "{}").status == 202);
  auto fourth = visitor("POST", "/api/v1/widget/conversation/transcript", token, "{}");
  CHECK(fourth.status == 429);
  CHECK_FALSE(fourth.header("Retry-After").empty());
  REQUIRE(wait_until([&] { return transcripts().size() == 3; }, 30s));
  std::this_thread::sleep_for(1s);
  CHECK(transcripts().size() == 3);
}
