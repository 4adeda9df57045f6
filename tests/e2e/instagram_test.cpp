// Instagram end to end (issue 19): connect an account, customers write DMs in Meta's real
// payload shape with real signatures, a person answers from the Instagram app, agents reply.
#include <catch2/catch.hpp>

#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/url.hpp"

using namespace e2e;
using namespace std::chrono_literals;
using loket::http::ClientResponse;

namespace {
struct Account {
  std::string id, account, token, app_secret, verify_token, webhook_url;
};

Account connect(const std::string& key, const std::string& token_suffix = "") {
  Account a{"", "178414" + random_digits(11), "", "ig-app-secret-" + random_digits(8), "", ""};
  a.token = "ig-" + a.account + "-" + token_suffix + "tok";
  auto r = api("POST", "/api/v1/channels", key,
               R"({"provider":"instagram","accessToken":")" + a.token + R"(","instagramAccountId":")" + a.account +
                   R"(","appSecret":")" + a.app_secret + "\"}");
  INFO(r.raw);
  REQUIRE(r.status == 201);
  a.id = str(r.data(), "id");
  a.verify_token = str(r.data(), "verifyToken");
  a.webhook_url = str(r.data(), "webhookUrl");
  return a;
}

ClientResponse post(const std::string& body, const std::string& app_secret) {
  return post_hub_signed("/api/v1/webhooks/instagram", body, app_secret);
}

// One `messaging` event for `a` from (or, for an echo, to) `customer`, in Meta's shape.
std::string event(const Account& a, const std::string& customer, const std::string& message, bool echo = false) {
  const std::string& from = echo ? a.account : customer;
  const std::string& to = echo ? customer : a.account;
  return R"({"object":"instagram","entry":[{"id":")" + a.account +
         R"(","time":1767225601000,"messaging":[{"sender":{"id":")" + from + R"("},"recipient":{"id":")" + to +
         R"("},"timestamp":)" + std::to_string(loket::core::now_ms()) + R"(,"message":)" + message + "}]}]}";
}

std::string text_message(const std::string& mid, const std::string& text, bool echo = false) {
  return R"({"mid":")" + mid + R"(","text":")" + loket::core::json_escape(text) + "\"" +
         (echo ? R"(,"is_echo":true)" : "") + "}";
}

}  // namespace

TEST_CASE("Instagram: connect validates the token against the account and shows the webhook setup", "[instagram]") {
  auto [account, key] = new_workspace("IG connect");
  auto missing_secret = api("POST", "/api/v1/channels", key,
                            R"({"provider":"instagram","accessToken":"ig-1-tok","instagramAccountId":"1"})");
  CHECK(missing_secret.status == 400);
  auto bad = api("POST", "/api/v1/channels", key,
                 R"({"provider":"instagram","accessToken":"ig-bad","instagramAccountId":"17841","appSecret":"s"})");
  CHECK(bad.status == 400);
  CHECK(bad.raw.find("190") != std::string::npos);
  // A token for another account than the one named.
  auto other =
      api("POST", "/api/v1/channels", key,
          R"({"provider":"instagram","accessToken":"ig-555-tok","instagramAccountId":"17841","appSecret":"s"})");
  CHECK(other.status == 400);
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE provider = 'instagram' AND workspace_id = '" + account +
                   "'") == 0);

  auto a = connect(key);
  CHECK(a.webhook_url == stack().ingress_url() + "/api/v1/webhooks/instagram");
  CHECK(a.verify_token.rfind("igv_", 0) == 0);
  auto list = api("GET", "/api/v1/channels", key);
  CHECK(list.raw.find(a.token) == std::string::npos);
  CHECK(list.raw.find(a.app_secret) == std::string::npos);
  CHECK(list.raw.find("\"instagramAccountId\":\"" + a.account + "\"") != std::string::npos);

  // Meta's verification handshake with the token shown; another token is refused.
  auto ok =
      http_get(stack().ingress_url() +
               "/api/v1/webhooks/instagram?hub.mode=subscribe&hub.challenge=987654&hub.verify_token=" + a.verify_token);
  CHECK(ok.status == 200);
  CHECK(ok.body == "987654");
  CHECK(http_get(stack().ingress_url() +
                 "/api/v1/webhooks/instagram?hub.mode=subscribe&hub.challenge=987654&hub.verify_token=igv_guess")
            .status == 403);
}

TEST_CASE("Instagram: signed DMs become one ticket per customer, named from the profile, with media", "[instagram]") {
  auto [account, key] = new_workspace("IG flow");
  auto a = connect(key);
  const std::string customer = "9" + random_digits(15), mid = "aWdf" + random_digits(20);
  auto body = event(a, customer, text_message(mid, "Is the blue dress still in stock?"));

  CHECK(post(body, "").status == 403);                    // unsigned
  CHECK(post(body, "not-the-app-secret").status == 403);  // forged
  auto accepted = post(body, a.app_secret);
  REQUIRE(accepted.status == 200);
  REQUIRE(post(body, a.app_secret).status == 200);  // Meta redelivers: still one message
  REQUIRE(wait_until([&] { return ticket_ids(key).size() == 1; }, 15s));
  auto ticket = ticket_ids(key)[0];
  auto t = api("GET", "/api/v1/tickets/" + ticket, key);
  CHECK(str(t.data(), "channel") == "instagram");
  CHECK(str(t.data(), "requesterName") == "Sari Dewi (@sari.dewi)");
  CHECK(str(t.data(), "subject") == "Is the blue dress still in stock?");
  CHECK(instagram().calls("/" + customer).size() == 1);  // the profile is asked once per ticket

  // A photo, and one whose URL is not on Meta's CDN (never fetched, stored as unavailable).
  auto photo = event(a, customer,
                     R"({"mid":"aWdf)" + random_digits(20) + R"(","attachments":[{"type":"image","payload":{"url":")" +
                         instagram().base() + R"(/cdn/ig_messaging_cdn/?asset_id=1&signature=x"}}]})");
  auto elsewhere =
      event(a, customer,
            R"({"mid":"aWdf)" + random_digits(20) + R"(","attachments":[{"type":"image","payload":{"url":")" +
                instagram().base() + R"(/steal?x=1"}}]})");
  REQUIRE(post(photo, a.app_secret).status == 200);
  REQUIRE(post(elsewhere, a.app_secret).status == 200);
  REQUIRE(wait_until([&] { return ticket_messages(key, ticket).data().Size() == 3; }, 15s));
  auto ms = ticket_messages(key, ticket);
  CHECK(str(ms.data()[0], "body") == "Is the blue dress still in stock?");
  CHECK(str(ms.data()[1], "body") == "[attachment: photo-1.jpg]");
  REQUIRE(ms.data()[1]["attachments"].Size() == 1);
  CHECK(str(ms.data()[1]["attachments"][0], "status") == "stored");
  auto file = http_get(stack().api_url() + "/api/v1/attachments/" + str(ms.data()[1]["attachments"][0], "id"), key);
  CHECK(file.body == instagram().media_bytes);
  CHECK(str(ms.data()[2]["attachments"][0], "status") == "unavailable");
  CHECK(instagram().calls("/steal").empty());
  CHECK(api("GET", "/api/v1/tickets/" + ticket, key).data()["requesterName"].GetString() ==
        std::string("Sari Dewi (@sari.dewi)"));
}

TEST_CASE("Instagram: replies go out by the Send API; echoes of them are not stored twice; the app's are kept",
          "[instagram]") {
  auto [account, key] = new_workspace("IG replies");
  auto a = connect(key);
  const std::string customer = "8" + random_digits(15);
  REQUIRE(post(event(a, customer, text_message("aWdf" + random_digits(20), "Do you ship to Bandung?")), a.app_secret)
              .status == 200);
  REQUIRE(wait_until([&] { return ticket_ids(key).size() == 1; }, 15s));
  auto ticket = ticket_ids(key)[0];

  auto sent_before = instagram().calls("/" + a.account + "/messages").size();
  auto id = agent_reply(key, ticket, "Yes, in 2 days.");
  CHECK(settled_delivery(key, ticket, id).first == "sent");
  auto sends = instagram().calls("/" + a.account + "/messages");
  REQUIRE(sends.size() == sent_before + 1);
  CHECK(sends.back().auth == a.token);
  CHECK(sends.back().body.find(R"("recipient":{"id":")" + customer + "\"}") != std::string::npos);
  CHECK(sends.back().body.find(R"("text":"Yes, in 2 days.")") != std::string::npos);

  // Meta echoes our own send back (same mid): recognised, not a second message.
  REQUIRE(
      post(event(a, customer, text_message(sends.back().result, "Yes, in 2 days.", true), true), a.app_secret).status ==
      200);
  // A long reply goes out in parts of 1,000 characters; Meta echoes each part with its own mid:
  // none of them is a new message (only the last part's mid is recorded on the reply).
  const std::string long_reply = std::string(1500, 'a');
  CHECK(settled_delivery(key, ticket, agent_reply(key, ticket, long_reply)).first == "sent");
  auto parts = instagram().calls("/" + a.account + "/messages");
  REQUIRE(parts.size() == sent_before + 3);
  REQUIRE(post(event(a, customer, text_message(parts[parts.size() - 2].result, std::string(1000, 'a'), true), true),
               a.app_secret)
              .status == 200);
  REQUIRE(post(event(a, customer, text_message(parts.back().result, std::string(500, 'a'), true), true), a.app_secret)
              .status == 200);
  // A colleague answers from the Instagram app: kept as an agent message, nothing sent, status untouched.
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"pending"})").status == 200);
  REQUIRE(
      post(event(a, customer, text_message("aWdf" + random_digits(20), "Free shipping too!", true), true), a.app_secret)
          .status == 200);
  REQUIRE(wait_until([&] { return ticket_messages(key, ticket).data().Size() == 4; }, 15s));
  auto ms = ticket_messages(key, ticket);
  CHECK(str(ms.data()[3], "body") == "Free shipping too!");
  CHECK(str(ms.data()[3], "authorType") == "agent");
  CHECK(str(ms.data()[3], "authorName") == "Instagram app");
  CHECK(str(ms.data()[3]["delivery"], "status") == "sent");
  CHECK(instagram().calls("/" + a.account + "/messages").size() == sent_before + 3);  // nothing sent for it
  CHECK(str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "status") == "pending");
  // The same words from the app a second time are the colleague's again, not an echo of ours.
  REQUIRE(
      post(event(a, customer, text_message("aWdf" + random_digits(20), "Free shipping too!", true), true), a.app_secret)
          .status == 200);
  REQUIRE(wait_until([&] { return ticket_messages(key, ticket).data().Size() == 5; }, 15s));
  CHECK(sql_number("SELECT count(*) FROM messages WHERE ticket_id = '" + ticket + "' AND body LIKE 'aaa%'") == 1);
}

TEST_CASE("Instagram: a revoked token marks the integration for reconnecting", "[instagram]") {
  auto [account, key] = new_workspace("IG revoked");
  auto a = connect(key, "revocable-");
  const std::string customer = "7" + random_digits(15);
  REQUIRE(post(event(a, customer, text_message("aWdf" + random_digits(20), "Hello?")), a.app_secret).status == 200);
  REQUIRE(wait_until([&] { return ticket_ids(key).size() == 1; }, 15s));
  auto ticket = ticket_ids(key)[0];
  instagram().revoke(a.token);
  auto id = agent_reply(key, ticket, "Hi!");
  auto [status, error] = settled_delivery(key, ticket, id);
  CHECK(status == "failed");
  CHECK(error.find("190") != std::string::npos);
  auto integ = api("GET", "/api/v1/channels", key);
  REQUIRE(integ.data()["integrations"].Size() == 1);
  CHECK(str(integ.data()["integrations"][0], "status") == "error");
  CHECK(str(integ.data()["integrations"][0], "lastError").find("reconnect") != std::string::npos);
}

namespace {
// Moves the ticket's clock: its customer last wrote `hours` ago.
void customer_wrote_hours_ago(const std::string& ticket, double hours) {
  sql_exec("UPDATE tickets SET customer_message_at = now() - make_interval(secs => " + std::to_string(hours * 3600) +
           "), window_warned_at = NULL WHERE id = '" + ticket + "'");
}
}  // namespace

TEST_CASE("Instagram: the reply window is shown, enforced up front, and HUMAN_AGENT extends it", "[instagram]") {
  auto [account, key] = new_workspace("IG windows");
  auto a = connect(key);
  const std::string customer = "6" + random_digits(15);
  REQUIRE(post(event(a, customer, text_message("aWdf" + random_digits(20), "Still there?")), a.app_secret).status ==
          200);
  REQUIRE(wait_until([&] { return ticket_ids(key).size() == 1; }, 15s));
  auto ticket = ticket_ids(key)[0];
  // The window: 24 h after the customer's message, 7 days for a person with HUMAN_AGENT.
  auto t = api("GET", "/api/v1/tickets/" + ticket, key);
  REQUIRE(t.data().HasMember("replyWindow"));
  auto closes = loket::core::parse_rfc3339_ms(str(t.data()["replyWindow"], "closesAt")).value_or(0);
  CHECK(std::llabs(closes - (loket::core::now_ms() + 24 * 3600 * 1000LL)) < 60 * 1000);
  CHECK(str(t.data()["replyWindow"]["tag"], "name") == "HUMAN_AGENT");
  auto tag_closes = loket::core::parse_rfc3339_ms(str(t.data()["replyWindow"]["tag"], "closesAt")).value_or(0);
  CHECK(tag_closes - closes == 6 * 24 * 3600 * 1000LL);

  // 25 hours later: a plain reply is refused before anything is sent; the tag lets it go.
  customer_wrote_hours_ago(ticket, 25);
  instagram().close_window(customer);  // Meta would refuse it too
  auto sends = instagram().calls("/" + a.account + "/messages").size();
  auto refused = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Sorry for the wait"})");
  CHECK(refused.status == 409);
  CHECK(refused.raw.find("REPLY_WINDOW_CLOSED") != std::string::npos);
  CHECK(refused.raw.find(R"(\"tag\":\"HUMAN_AGENT\")") != std::string::npos);
  CHECK(refused.raw.find("message template") == std::string::npos);  // WhatsApp's, not Instagram's
  CHECK(ticket_messages(key, ticket).data().Size() == 1);            // nothing stored
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"x","tag":"ACCOUNT_UPDATE"})").status ==
        400);
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"x","via":"email"})").status ==
        400);  // the requester has no address
  auto tagged = api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
                    R"({"body":"Sorry for the wait","tag":"HUMAN_AGENT"})");
  REQUIRE(tagged.status == 201);
  CHECK(settled_delivery(key, ticket, str(tagged.data(), "id")).first == "sent");
  auto all = instagram().calls("/" + a.account + "/messages");
  REQUIRE(all.size() == sends + 1);
  CHECK(all.back().body.find(R"("messaging_type":"MESSAGE_TAG","tag":"HUMAN_AGENT")") != std::string::npos);
  // An internal note is never refused.
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"late","internal":true})").status ==
        201);
  // 8 days later even the tag is too late.
  customer_wrote_hours_ago(ticket, 8 * 24);
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"x","tag":"HUMAN_AGENT"})").status ==
        409);
  // The customer writes again: the window opens again.
  REQUIRE(post(event(a, customer, text_message("aWdf" + random_digits(20), "Hello again")), a.app_secret).status ==
          200);
  REQUIRE(wait_until([&] { return ticket_messages(key, ticket).data().Size() >= 4; }, 15s));
  auto again = api("GET", "/api/v1/tickets/" + ticket, key);
  CHECK(loket::core::parse_rfc3339_ms(str(again.data()["replyWindow"], "closesAt")).value_or(0) >
        loket::core::now_ms() + 23 * 3600 * 1000LL);
}

TEST_CASE("Instagram: agents are told once when a waiting customer's window is about to close", "[instagram]") {
  auto [account, key] = new_workspace("IG window warning");
  auto a = connect(key);
  const std::string path = "/hooks/window-" + random_digits(6);
  REQUIRE(api("POST", "/api/v1/webhook-endpoints", key,
              R"({"url":")" + receiver().base() + path + R"(","events":["ticket.reply_window_closing"]})")
              .status == 201);
  const std::string customer = "5" + random_digits(15);
  REQUIRE(post(event(a, customer, text_message("aWdf" + random_digits(20), "Anyone?")), a.app_secret).status == 200);
  REQUIRE(wait_until([&] { return ticket_ids(key).size() == 1; }, 15s));
  auto ticket = ticket_ids(key)[0];
  std::this_thread::sleep_for(1500ms);  // a fresh window: nothing announced
  CHECK(receiver().received(path).empty());
  customer_wrote_hours_ago(ticket, 23.5);  // closes in 30 minutes
  REQUIRE(wait_until([&] { return !receiver().received(path).empty(); }, 15s));
  std::this_thread::sleep_for(1500ms);  // later sweeps announce nothing more
  auto got = receiver().received(path);
  REQUIRE(got.size() == 1);
  rapidjson::Document d;
  d.Parse(got[0].body.c_str());
  CHECK(str(d, "type") == "ticket.reply_window_closing");
  CHECK(str(d["data"]["ticket"], "id") == ticket);
  auto closes = loket::core::parse_rfc3339_ms(str(d["data"], "closesAt")).value_or(0);
  CHECK(std::llabs(closes - (loket::core::now_ms() + 30 * 60 * 1000LL)) < 2 * 60 * 1000);
}
