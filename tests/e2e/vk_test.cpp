// VK end to end (issue 19): connect a community (Loket registers its Callback API server and
// answers VK's confirmation), events in VK's real shape with the secret key, agents reply with
// messages.send whose random_id keeps a retried send from arriving twice.
#include <catch2/catch.hpp>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/http/url.hpp"

using namespace e2e;
using namespace std::chrono_literals;
using loket::http::ClientResponse;

namespace {
struct Community {
  std::string id, group, token, secret, confirmation, webhook_url;
};

Community connect(const std::string& key, const std::string& token = "vk1.a.community-token") {
  Community c{"", random_digits(9), token, "", "", ""};
  auto r = api("POST", "/api/v1/channels", key,
               R"({"provider":"vk","groupId":)" + c.group + R"(,"accessToken":")" + token + "\"}");
  INFO(r.raw);
  REQUIRE(r.status == 201);
  c.id = str(r.data(), "id");
  c.secret = str(r.data(), "secretKey");
  c.confirmation = str(r.data(), "confirmationCode");
  c.webhook_url = str(r.data(), "webhookUrl");
  return c;
}

ClientResponse post(const std::string& body, bool retry = false) {
  loket::http::ClientRequest req;
  req.method = "POST";
  req.url = stack().ingress_url() + "/api/v1/webhooks/vk";
  req.headers = {{"Content-Type", "application/json"}};
  if (retry) req.headers.emplace_back("X-Retry-Counter", "1");
  req.body = body;
  return loket::http::fetch(req);
}

// A message_new event (API 5.199) from `user` in `c`.
std::string message_new(const Community& c, const std::string& secret, const std::string& user, int id,
                        const std::string& text, const std::string& attachments = "[]") {
  return R"({"group_id":)" + c.group + R"(,"type":"message_new","event_id":")" +
         loket::core::to_hex(loket::core::random_bytes(20)) + R"(","v":"5.199","secret":")" + secret +
         R"(","object":{"message":{"date":1767225600,"from_id":)" + user + R"(,"id":)" + std::to_string(id) +
         R"(,"out":0,"attachments":)" + attachments +
         R"(,"conversation_message_id":1,"fwd_messages":[],"important":false,"is_hidden":false,"peer_id":)" + user +
         R"(,"random_id":0,"text":")" + loket::core::json_escape(text) +
         R"("},"client_info":{"button_actions":["text"],"keyboard":true,"inline_keyboard":true,"carousel":true,"lang_id":0}}})";
}

}  // namespace

TEST_CASE("VK: connecting registers the Callback API server, which VK confirms through ingress", "[vk]") {
  auto [account, key] = new_workspace("VK connect");
  CHECK(api("POST", "/api/v1/channels", key, R"({"provider":"vk","groupId":"123","accessToken":"vk-bad"})").status ==
        400);
  CHECK(api("POST", "/api/v1/channels", key, R"({"provider":"vk","groupId":"club123","accessToken":"t"})").status ==
        400);
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE provider = 'vk' AND workspace_id = '" + account + "'") ==
        0);

  auto confirmed_before = vk().confirmations().size();
  auto c = connect(key);
  CHECK(c.webhook_url == stack().ingress_url() + "/api/v1/webhooks/vk");
  CHECK(c.confirmation == "c0nf" + c.group);
  CHECK(c.secret.size() == 32);
  CHECK(vk().servers(c.group) == std::vector<std::string>{c.webhook_url});
  auto added = vk().calls("groups.addCallbackServer");
  REQUIRE_FALSE(added.empty());
  auto form = loket::http::parse_query(added.back().body);
  CHECK(form.find("url")->second == c.webhook_url);
  CHECK(form.find("secret_key")->second == c.secret);
  CHECK(loket::http::parse_query(vk().calls("groups.setCallbackSettings").back().body).find("message_new")->second ==
        "1");
  // VK's confirmation request got the community's confirmation string back.
  REQUIRE(wait_until([&] { return vk().confirmations().size() > confirmed_before; }, 10s));
  CHECK(vk().confirmations().back() == c.confirmation);
  auto list = api("GET", "/api/v1/channels", key);
  CHECK(str(list.data()["integrations"][0], "status") == "active");
  CHECK(list.raw.find(c.secret) == std::string::npos);
  CHECK(list.raw.find(c.token) == std::string::npos);

  // Reconnecting keeps the secret key VK has; disconnecting removes the server.
  auto again = api("POST", "/api/v1/channels", key,
                   R"({"provider":"vk","groupId":")" + c.group + R"(","accessToken":"vk1.a.rotated"})");
  CHECK(again.status == 200);
  CHECK(str(again.data(), "secretKey") == c.secret);
  CHECK(vk().servers(c.group) == std::vector<std::string>{c.webhook_url});  // edited, not added twice
  CHECK(api("DELETE", "/api/v1/channels/" + c.id, key).status == 200);
  CHECK(vk().servers(c.group).empty());

  // A token without the manage right: connected all the same, with what to paste by hand.
  auto [account2, key2] = new_workspace("VK manual");
  auto manual = connect(key2, "vk1.a.nomanage");
  CHECK_FALSE(manual.confirmation.empty());
  CHECK_FALSE(manual.secret.empty());
  CHECK(str(api("GET", "/api/v1/channels", key2).data()["integrations"][0], "status") == "active");
}

TEST_CASE("VK: message_new with the secret becomes a ticket, answered `ok`, retries deduplicated", "[vk]") {
  auto [account, key] = new_workspace("VK flow");
  auto c = connect(key);
  const std::string user = "61" + random_digits(7);
  auto body = message_new(c, c.secret, user, 1287, "Здравствуйте! Where is my order?");
  CHECK(post(message_new(c, "guessed", user, 1287, "forged")).status == 403);
  auto no_secret = body;
  no_secret.replace(no_secret.find(R"("secret":")"), 10 + c.secret.size() + 2, "");
  CHECK(post(no_secret).status == 403);
  auto ok = post(body);
  REQUIRE(ok.status == 200);
  CHECK(ok.body == "ok");
  REQUIRE(post(body, true).status == 200);  // VK redelivers with X-Retry-Counter
  REQUIRE(wait_until([&] { return ticket_ids(key).size() == 1; }, 15s));
  auto ticket = ticket_ids(key)[0];
  auto t = api("GET", "/api/v1/tickets/" + ticket, key);
  CHECK(str(t.data(), "channel") == "vk");
  CHECK(str(t.data(), "requesterName") == "Ivan Petrov");
  // A photo: its largest size is downloaded from VK's CDN and stored.
  auto photo = R"([{"type":"photo","photo":{"id":1,"owner_id":)" + user +
               R"(,"sizes":[{"height":75,"width":56,"type":"s","url":")" + vk().base() +
               R"(/cdn/small.jpg"},{"height":1280,"width":960,"type":"w","url":")" + vk().base() +
               R"(/cdn/large.jpg"}]}}])";
  REQUIRE(post(message_new(c, c.secret, user, 1288, "", photo)).status == 200);
  REQUIRE(wait_until([&] { return ticket_messages(key, ticket).data().Size() == 2; }, 15s));
  auto ms = ticket_messages(key, ticket);
  CHECK(str(ms.data()[0], "body") == "Здравствуйте! Where is my order?");
  REQUIRE(ms.data()[1]["attachments"].Size() == 1);
  CHECK(str(ms.data()[1]["attachments"][0], "status") == "stored");
  CHECK(vk().calls("/cdn/large.jpg").size() == 1);
  CHECK(vk().calls("/cdn/small.jpg").empty());
}

TEST_CASE("VK: a reply whose answer was lost is retried with the same random_id and arrives once", "[vk]") {
  auto [account, key] = new_workspace("VK replies");
  auto c = connect(key);
  const std::string user = "62" + random_digits(7);
  REQUIRE(post(message_new(c, c.secret, user, 10, "Hi")).status == 200);
  REQUIRE(wait_until([&] { return ticket_ids(key).size() == 1; }, 15s));
  auto ticket = ticket_ids(key)[0];

  vk().lose_responses = 1;  // VK delivers, but its answer never reaches us: outbound retries
  auto r = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Your order left today."})");
  REQUIRE(r.status == 201);
  CHECK(settled_delivery(key, ticket, str(r.data(), "id")).first == "sent");
  std::vector<std::string> randoms;
  for (const auto& call : vk().calls("messages.send")) {
    auto form = loket::http::parse_query(call.body);
    if (form.find("peer_id")->second == user) randoms.push_back(form.find("random_id")->second);
  }
  REQUIRE(randoms.size() == 2);
  CHECK(randoms[0] == randoms[1]);
  CHECK(vk().delivered(user) == std::vector<std::string>{"Your order left today."});

  // A user who does not accept messages from the community (901): failed with VK's reason.
  vk().close_window(user);
  auto blocked = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Anything else?"})");
  REQUIRE(blocked.status == 201);
  auto [status, error] = settled_delivery(key, ticket, str(blocked.data(), "id"));
  CHECK(status == "failed");
  CHECK(error.find("901") != std::string::npos);
}
