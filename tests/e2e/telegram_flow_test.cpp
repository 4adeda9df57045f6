// The walking-skeleton story on Telegram, through the real binaries.
#include <catch2/catch.hpp>
#include <future>
#include <pqxx/pqxx>

#include "harness.hpp"
#include "loket/core/json.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
// Ticket JSON objects of workspace `key` (newest first).

long messages_on(const std::string& key, const std::string& ticket) {
  auto r = api("GET", "/api/v1/tickets/" + ticket + "/messages", key);
  return r.status == 200 ? static_cast<long>(r.data().Size()) : -1;
}
}  // namespace

TEST_CASE("a Telegram conversation travels through every service", "[telegram]") {
  auto [account, key] = new_workspace("Flow");
  const std::string token = bot_token("flowtokenflowtokenflowtoken");
  auto [integration, secret] = connect_bot(key, token);

  {
    auto list = api("GET", "/api/v1/channels", key);
    REQUIRE(list.status == 200);
    REQUIRE(list.raw.find(token) == std::string::npos);
    REQUIRE(list.raw.find(secret) == std::string::npos);
    const auto& items = list.data()["integrations"];
    REQUIRE(items.Size() == 1);
    CHECK(std::string(items[0]["displayName"].GetString()) == "@bot" + token.substr(0, token.find(':')) + "_bot");
    CHECK(std::string(items[0]["status"].GetString()) == "active");
    // Stored encrypted: the token's bytes are nowhere in the row.
    CHECK(sql_number("SELECT count(*) FROM integrations WHERE id = '" + integration +
                     "' AND position(convert_to('AAflowtoken', 'UTF8') in credentials) = 0") == 1);
  }

  // Customer writes in.
  auto res =
      post_update(integration, secret, text_update(1001, 4242, 1, "Hi, my order #1001 has not arrived\nplease help"));
  REQUIRE(res.status == 200);
  REQUIRE(wait_until([&] { return ticket_ids(key).size() == 1; }, 15s));
  std::string ticket = ticket_ids(key)[0];
  auto t = api("GET", "/api/v1/tickets/" + ticket, key);
  REQUIRE(t.status == 200);
  CHECK(std::string(t.data()["channel"].GetString()) == "telegram");
  CHECK(std::string(t.data()["subject"].GetString()) == "Hi, my order #1001 has not arrived");
  CHECK(std::string(t.data()["requesterName"].GetString()) == "Ann Lee");
  CHECK(std::string(t.data()["status"].GetString()) == "open");
  CHECK(t.data()["requesterEmail"].IsNull());
  REQUIRE(t.data()["messages"].Size() == 1);
  CHECK(std::string(t.data()["messages"][0]["authorType"].GetString()) == "requester");

  // Agent replies publicly: pending, delivered with sendMessage to the chat.
  auto sends_before = telegram().calls("sendMessage").size();
  auto reply = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Hi Ann, we are on it."})");
  REQUIRE(reply.status == 201);
  std::string reply_id = reply.data()["id"].GetString();
  CHECK(std::string(api("GET", "/api/v1/tickets/" + ticket, key).data()["status"].GetString()) == "pending");
  REQUIRE(wait_until([&] { return telegram().calls("sendMessage").size() == sends_before + 1; }, 15s));
  auto sent = telegram().calls("sendMessage").back();
  CHECK(sent.token == token);
  CHECK(sent.body.find("\"chat_id\":4242") != std::string::npos);
  CHECK(sent.body.find("Hi Ann, we are on it.") != std::string::npos);
  REQUIRE(wait_until(
      [&] {
        auto m = api("GET", "/api/v1/tickets/" + ticket + "/messages", key);
        for (const auto& x : m.data().GetArray())
          if (std::string(x["id"].GetString()) == reply_id && x["delivery"].IsObject())
            return std::string(x["delivery"]["status"].GetString()) == "sent";
        return false;
      },
      10s));

  // An internal note is never sent.
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"VIP customer","internal":true})")
              .status == 201);

  // The customer follows up: same ticket, back to open.
  REQUIRE(post_update(integration, secret, text_update(1002, 4242, 2, "Thanks!")).status == 200);
  REQUIRE(wait_until([&] { return messages_on(key, ticket) == 4; }, 15s));
  CHECK(ticket_ids(key).size() == 1);
  CHECK(std::string(api("GET", "/api/v1/tickets/" + ticket, key).data()["status"].GetString()) == "open");

  // A photo without caption becomes [attachment: photo-1.jpg] with its bytes stored.
  std::string photo =
      R"({"update_id":1003,"message":{"message_id":3,"from":{"id":4242,"is_bot":false,"first_name":"Ann"},"chat":{"id":4242,"first_name":"Ann","type":"private"},"date":1767225660,"photo":[{"file_id":"small","file_unique_id":"s","file_size":10,"width":9,"height":6},{"file_id":"large","file_unique_id":"l","file_size":17,"width":90,"height":60}]}})";
  REQUIRE(post_update(integration, secret, photo).status == 200);
  REQUIRE(wait_until([&] { return messages_on(key, ticket) == 5; }, 15s));
  auto msgs = api("GET", "/api/v1/tickets/" + ticket + "/messages", key);
  const auto& last = msgs.data()[4];
  CHECK(std::string(last["body"].GetString()) == "[attachment: photo-1.jpg]");
  REQUIRE(last["attachments"].Size() == 1);
  std::string att = last["attachments"][0]["id"].GetString();
  CHECK(last["attachments"][0]["size"].GetInt64() == 17);
  auto files = telegram().calls("getFile");
  REQUIRE_FALSE(files.empty());
  CHECK(files.back().body.find("\"large\"") != std::string::npos);
  loket::http::ClientRequest dl;
  dl.url = stack().api_url() + "/api/v1/attachments/" + att;
  dl.headers = {{"Authorization", "Bearer " + key}};
  auto bytes = loket::http::fetch(dl);
  CHECK(bytes.status == 200);
  CHECK(bytes.body == telegram().file_bytes);
  CHECK(bytes.headers["content-type"] == "image/jpeg");

  // An edit and a group message are dropped deliberately; nothing new appears.
  REQUIRE(
      post_update(
          integration, secret,
          R"({"update_id":1004,"edited_message":{"message_id":1,"from":{"id":4242,"is_bot":false,"first_name":"Ann"},"chat":{"id":4242,"type":"private"},"date":1767225600,"edit_date":1767225900,"text":"edited"}})")
          .status == 200);
  REQUIRE(
      post_update(
          integration, secret,
          R"({"update_id":1005,"message":{"message_id":9,"from":{"id":4242,"is_bot":false,"first_name":"Ann"},"chat":{"id":-100777,"title":"G","type":"supergroup"},"date":1767225600,"text":"group hello"}})")
          .status == 200);

  // Resolved ticket: the next message reopens it. Closed: the next message opens a new one.
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"resolved"})").status == 200);
  REQUIRE(post_update(integration, secret, text_update(1006, 4242, 4, "One more thing")).status == 200);
  REQUIRE(wait_until([&] { return messages_on(key, ticket) == 6; }, 15s));
  CHECK(std::string(api("GET", "/api/v1/tickets/" + ticket, key).data()["status"].GetString()) == "open");
  CHECK(ticket_ids(key).size() == 1);
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"closed"})").status == 200);
  REQUIRE(post_update(integration, secret, text_update(1007, 4242, 5, "")).status == 200);
  REQUIRE(
      post_update(
          integration, secret,
          R"({"update_id":1008,"message":{"message_id":6,"from":{"id":4242,"is_bot":false,"first_name":"Ann"},"chat":{"id":4242,"type":"private"},"date":1767225600,"sticker":{"file_id":"st","file_unique_id":"st","width":1,"height":1,"is_animated":false,"is_video":false,"type":"regular","emoji":"👍"}}})")
          .status == 200);
  REQUIRE(wait_until([&] { return ticket_ids(key).size() == 2; }, 15s));
  auto fresh = api("GET", "/api/v1/tickets/" + ticket_ids(key)[0], key);
  CHECK(std::string(fresh.data()["subject"].GetString()) == "[sticker 👍]");
  CHECK(messages_on(key, ticket) == 6);  // edit, group message and empty text added nothing

  // Internal note never reached Telegram.
  for (const auto& c : telegram().calls("sendMessage")) CHECK(c.body.find("VIP customer") == std::string::npos);

  // Disconnect: webhook removed, later deliveries → 404.
  auto del = api("DELETE", "/api/v1/channels/" + integration, key);
  CHECK(del.status == 200);
  CHECK(telegram().calls("deleteWebhook").size() >= 1);
  CHECK(wait_until([&] { return post_update(integration, secret, text_update(1009, 4242, 7, "hi")).status == 404; },
                   15s));
}

TEST_CASE("connecting a bot validates the token live and stores nothing on rejection", "[telegram]") {
  auto [account, key] = new_workspace("Connect");
  const std::string integrations = "SELECT count(*) FROM integrations WHERE workspace_id = '" + account + "'";
  const long long before = sql_number(integrations);  // the platform's own (the email alias)
  auto bad = api("POST", "/api/v1/channels", key,
                 "{\"provider\":\"telegram_bot\",\"botToken\":\"" + bot_token("badbadbad") + "\"}");
  CHECK(bad.status == 400);
  CHECK(std::string(bad.doc["error"]["code"].GetString()) == "PROVIDER_REJECTED");
  CHECK(sql_number(integrations) == before);

  auto shape = api("POST", "/api/v1/channels", key, R"({"provider":"telegram_bot","botToken":"not-a-token"})");
  CHECK(shape.status == 400);
  CHECK(std::string(shape.doc["error"]["code"].GetString()) == "VALIDATION_ERROR");
  CHECK(api("POST", "/api/v1/channels", key, "{oops").status == 400);
  CHECK(api("POST", "/api/v1/channels", "", R"({"provider":"telegram_bot","botToken":"1:x"})").status == 401);
  CHECK(api("GET", "/api/v1/channels", "sk_live_wrong").status == 401);

  auto hook = api("POST", "/api/v1/channels", key,
                  "{\"provider\":\"telegram_bot\",\"botToken\":\"" + bot_token("nohook") + "\"}");
  CHECK(hook.status == 400);
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE workspace_id = '" + account + "' AND status = 'error'") ==
        1);

  // Reconnecting the same bot refreshes in place: same id, new secret.
  const std::string first = bot_token("first");
  const std::string second = first.substr(0, first.find(':')) + ":AAsecond";
  auto [id1, secret1] = connect_bot(key, first);
  auto [id2, secret2] = connect_bot(key, second);
  CHECK(id1 == id2);
  CHECK(secret1 != secret2);
  CHECK(post_update(id1, secret1, text_update(1, 5, 1, "old secret")).status == 401);
  CHECK(post_update(id1, secret2, text_update(2, 5, 2, "new secret")).status == 200);
}

TEST_CASE("ingress authenticates every delivery", "[telegram]") {
  auto [account, key] = new_workspace("Auth");
  auto [id, secret] = connect_bot(key, bot_token("auth"));
  CHECK(post_update(id, "", text_update(1, 9, 1, "x")).status == 401);
  CHECK(post_update(id, secret + "x", text_update(1, 9, 1, "x")).status == 401);
  CHECK(post_update("int_000000000000000000000000", secret, text_update(1, 9, 1, "x")).status == 404);
  CHECK(post_update(id, secret, "this is not json").status == 400);
  loket::http::ClientRequest big;
  big.method = "POST";
  big.url = stack().ingress_url() + "/api/v1/webhooks/telegram/" + id;
  big.headers = {{"X-Telegram-Bot-Api-Secret-Token", secret}};
  big.body = std::string(2 << 20, 'a');
  CHECK(loket::http::fetch(big).status == 413);
}

TEST_CASE("the same update delivered 5 times, in sequence and at once, is one message", "[telegram]") {
  auto [account, key] = new_workspace("Dedup");
  auto [id, secret] = connect_bot(key, bot_token("dedup"));
  auto update = text_update(77, 606, 1, "duplicate me");
  for (int i = 0; i < 5; ++i) REQUIRE(post_update(id, secret, update).status == 200);
  auto other = text_update(78, 607, 1, "concurrent");
  std::vector<std::future<int>> fs;
  for (int i = 0; i < 5; ++i)
    fs.push_back(std::async(std::launch::async, [&] { return post_update(id, secret, other).status; }));
  for (auto& f : fs) REQUIRE(f.get() == 200);
  REQUIRE(wait_until(
      [&] { return sql_number("SELECT count(*) FROM messages WHERE workspace_id = '" + account + "'") == 2; }, 15s));
  std::this_thread::sleep_for(1500ms);
  CHECK(sql_number("SELECT count(*) FROM messages WHERE workspace_id = '" + account + "'") == 2);
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + account + "'") == 2);
}

TEST_CASE("two workspaces with two bots never see each other's data", "[telegram]") {
  auto [a, key_a] = new_workspace("A");
  auto [b, key_b] = new_workspace("B");
  const std::string token_a = bot_token("a");
  auto [ia, sa] = connect_bot(key_a, token_a);
  auto [ib, sb] = connect_bot(key_b, bot_token("b"));
  REQUIRE(post_update(ia, sa, text_update(1, 31, 1, "to A")).status == 200);
  REQUIRE(post_update(ib, sb, text_update(1, 31, 1, "to B")).status == 200);
  // A's secret does not open B's webhook.
  CHECK(post_update(ib, sa, text_update(2, 31, 2, "cross")).status == 401);
  REQUIRE(wait_until([&] { return ticket_ids(key_a).size() == 1 && ticket_ids(key_b).size() == 1; }, 15s));
  auto ta = ticket_ids(key_a)[0], tb = ticket_ids(key_b)[0];
  CHECK(std::string(api("GET", "/api/v1/tickets/" + ta, key_a).data()["subject"].GetString()) == "to A");
  CHECK(api("GET", "/api/v1/tickets/" + tb, key_a).status == 404);
  CHECK(api("PATCH", "/api/v1/tickets/" + tb, key_a, R"({"status":"closed"})").status == 404);
  CHECK(api("POST", "/api/v1/tickets/" + tb + "/messages", key_a, R"({"body":"x"})").status == 404);
  CHECK(api("DELETE", "/api/v1/channels/" + ib, key_a).status == 404);
  // One bot belongs to one workspace.
  auto steal =
      api("POST", "/api/v1/channels", key_b, "{\"provider\":\"telegram_bot\",\"botToken\":\"" + token_a + "\"}");
  CHECK(steal.status == 409);
}

TEST_CASE("manual tickets, status changes and validation", "[telegram]") {
  auto [account, key] = new_workspace("Manual");
  auto created = api(
      "POST", "/api/v1/tickets", key,
      R"({"body":"Customer phoned about a refund","requesterName":"Budi","requesterEmail":"budi@example.com","channel":"phone"})");
  REQUIRE(created.status == 201);
  CHECK(created.data()["number"].GetInt64() == 1);
  CHECK(std::string(created.data()["subject"].GetString()) == "Customer phoned about a refund");
  std::string id = created.data()["id"].GetString();
  CHECK(api("POST", "/api/v1/tickets", key, R"({"body":""})").status == 400);
  CHECK(api("POST", "/api/v1/tickets", key, R"({"body":"x","channel":"pigeon"})").status == 400);
  CHECK(api("PATCH", "/api/v1/tickets/" + id, key, R"({"status":"done"})").status == 400);
  auto p = api("PATCH", "/api/v1/tickets/" + id, key, R"({"status":"resolved","priority":"high"})");
  REQUIRE(p.status == 200);
  CHECK(std::string(p.data()["status"].GetString()) == "resolved");
  CHECK(std::string(p.data()["priority"].GetString()) == "high");
  CHECK(p.data()["resolvedAt"].IsString());
  auto second = api("POST", "/api/v1/tickets", key, R"({"subject":"Walk-in","body":"at the counter"})");
  CHECK(second.data()["number"].GetInt64() == 2);
  auto page = api("GET", "/api/v1/tickets?limit=1", key);
  REQUIRE(page.data()["items"].Size() == 1);
  CHECK(page.data()["items"][0]["number"].GetInt64() == 2);
  REQUIRE(page.data()["nextCursor"].IsString());
  auto page2 = api("GET", std::string("/api/v1/tickets?limit=1&cursor=") + page.data()["nextCursor"].GetString(), key);
  REQUIRE(page2.status == 200);
  CHECK(page2.data()["items"][0]["number"].GetInt64() == 1);
  CHECK(page2.data()["nextCursor"].IsNull());
  // A reply on a ticket that has only an email address goes out by email (issue 5).
  auto r = api("POST", "/api/v1/tickets/" + id + "/messages", key, R"({"body":"Refund sent"})");
  REQUIRE(r.status == 201);
  REQUIRE(r.data()["delivery"].IsObject());
  CHECK(std::string(r.data()["delivery"]["status"].GetString()) == "pending");
}
