// Issue 18, the API channel (seed 004; docs/channels/api-channel.md): an inbox the integrator's
// backend pushes its users' messages into through the public client API, with identities
// checked by HMAC, idempotent sends, and agents' public replies POSTed to the inbox's webhook,
// signed (checked with the official `standardwebhooks` library) — notes never.
#include <catch2/catch.hpp>

#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/crypto/crypto.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
// The client API of inbox `inbox`, for contact calls carrying identifierHash `hash` ("" = none).
Json client(const std::string& method, const std::string& path, const std::string& body = "",
            const std::string& hash = "") {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!hash.empty()) headers.emplace_back("X-Loket-Identifier-Hash", hash);
  return call(stack().api_url(), method, "/api/v1/public/inboxes/" + path, "", body, headers);
}

std::string identifier_hash(const std::string& token, const std::string& source_id) {
  return loket::core::to_hex(loket::crypto::hmac_sha256(token, source_id));
}
}  // namespace

TEST_CASE("an API inbox takes an integrator's messages and sends agents' replies to its webhook", "[apichannel]") {
  auto [account, key] = new_workspace("Toko Aplikasi");
  const std::string path = "/inbox-hooks/" + loket::core::new_id("r");

  // Hostile and malformed inboxes are refused with what to change; nothing is stored.
  for (const char* bad : {R"({"provider":"api"})", R"({"provider":"api","name":"   "})",
                          R"({"provider":"api","name":"App","webhookUrl":"ftp://127.0.0.1/x"})",
                          R"({"provider":"api","name":"App","webhookUrl":"http://user:pw@127.0.0.1/x"})",
                          R"({"provider":"api","name":"App","hmacMandatory":"yes"})"}) {
    INFO(bad);
    CHECK(api("POST", "/api/v1/channels", key, bad).status == 400);
  }
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE provider = 'api' AND workspace_id = '" + account + "'") ==
        0);
  // An integrator follows the workspace's channels: connected, then disconnected below.
  const std::string status_path = "/status-hooks/" + loket::core::new_id("s");
  REQUIRE(api("POST", "/api/v1/webhook-endpoints", key,
              R"({"url":")" + receiver().base() + status_path + R"(","events":["integration.status_changed"]})")
              .status == 201);

  auto created = api("POST", "/api/v1/channels", key,
                     R"({"provider":"api","name":"Mobile app","hmacMandatory":true,"webhookUrl":")" +
                         receiver().base() + path + "\"}");
  REQUIRE(created.status == 201);
  const std::string inbox = str(created.data(), "inboxIdentifier"), token = str(created.data(), "hmacToken"),
                    secret = str(created.data(), "webhookSecret"), endpoint = str(created.data(), "webhookEndpointId");
  CHECK(inbox.rfind("inb_", 0) == 0);
  CHECK(token.size() == 48);
  CHECK(secret.rfind("whsec_", 0) == 0);
  CHECK(str(created.data(), "displayName") == "Mobile app");
  auto listed = api("GET", "/api/v1/channels", key);
  CHECK(listed.raw.find(inbox) != std::string::npos);  // the identifier is not a secret
  CHECK(listed.raw.find(token) == std::string::npos);  // the token and the webhook secret are shown once
  CHECK(listed.raw.find(secret) == std::string::npos);

  // Contacts: the identifier hash is mandatory in this inbox, and must match.
  const std::string user = "user-" + loket::core::new_id("u"), hash = identifier_hash(token, user);
  const std::string contact_body = R"({"sourceId":")" + user + R"(","name":"Budi","email":"Budi@Example.test")";
  CHECK(client("POST", inbox + "/contacts", contact_body + "}").status == 401);
  CHECK(
      client("POST", inbox + "/contacts", contact_body + R"(,"identifierHash":")" + identifier_hash("x", user) + "\"}")
          .status == 401);
  CHECK(client("POST", "inb_nope/contacts", contact_body + R"(,"identifierHash":")" + hash + "\"}").status == 404);
  CHECK(client("POST", inbox + "/contacts", R"({"sourceId":"a/b"})").status == 400);
  CHECK(
      client("POST", inbox + "/contacts", R"({"sourceId":")" + user + R"(","email":"not-an-address"})", hash).status ==
      400);
  auto contact = client("POST", inbox + "/contacts", contact_body + R"(,"identifierHash":")" + hash + "\"}");
  REQUIRE(contact.status == 201);
  CHECK(str(contact.data(), "email") == "budi@example.test");
  auto again = client("POST", inbox + "/contacts", R"({"sourceId":")" + user + R"("})", hash);
  REQUIRE(again.status == 200);  // fetched, details kept
  CHECK(str(again.data(), "id") == str(contact.data(), "id"));
  CHECK(str(again.data(), "name") == "Budi");
  const std::string base = inbox + "/contacts/" + user;
  CHECK(client("GET", base).status == 401);
  CHECK(client("GET", inbox + "/contacts/nobody", "", identifier_hash(token, "nobody")).status == 404);

  // A conversation, a message, the same message again (a retry), and one with a file.
  auto conv = client("POST", base + "/conversations", "{}", hash);
  REQUIRE(conv.status == 201);
  const std::string ticket = str(conv.data(), "id");
  CHECK(str(conv.data(), "status") == "open");
  const std::string messages = base + "/conversations/" + ticket + "/messages";
  for (const char* bad :
       {R"({"body":"no id"})", R"({"clientMessageId":"m1"})", R"({"clientMessageId":"m1","body":"  "})",
        R"({"clientMessageId":"m1","body":"x","attachmentIds":["att_nope"]})"}) {
    INFO(bad);
    CHECK(client("POST", messages, bad, hash).status == 400);
  }
  auto sent = client("POST", messages, R"({"clientMessageId":"m1","body":"Pesanan saya belum sampai"})", hash);
  REQUIRE(sent.status == 201);
  CHECK(str(sent.data(), "conversationId") == ticket);
  auto resent = client("POST", messages, R"({"clientMessageId":"m1","body":"Pesanan saya belum sampai"})", hash);
  REQUIRE(resent.status == 200);
  CHECK(str(resent.data()["message"], "id") == str(sent.data()["message"], "id"));
  auto file =
      call(stack().api_url(), "POST", "/api/v1/public/inboxes/" + base + "/attachments", "",
           multipart("resi.png", "image/png", "\x89PNG\r\n\x1a\nresi"),
           {{"Content-Type", "multipart/form-data; boundary=LoketBoundary"}, {"X-Loket-Identifier-Hash", hash}});
  REQUIRE(file.status == 201);
  REQUIRE(client("POST", messages,
                 R"({"clientMessageId":"m2","body":"Resi","attachmentIds":[")" + str(file.data(), "id") + "\"]}", hash)
              .status == 201);

  auto t = api("GET", "/api/v1/tickets/" + ticket, key);
  REQUIRE(t.status == 200);
  CHECK(str(t.data(), "channel") == "api");
  CHECK(str(t.data(), "requesterName") == "Budi");
  CHECK(sql_number("SELECT count(*) FROM messages WHERE ticket_id = '" + ticket + "' AND author_type = 'requester'") ==
        2);

  // An agent's reply goes to the inbox's webhook, signed; an internal note does not.
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"catatan rahasia","internal":true})")
              .status == 201);
  REQUIRE(
      api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Sudah kami cek, besok tiba"})").status ==
      201);
  REQUIRE(wait_until([&] { return !receiver().received(path).empty(); }, 30s));
  std::this_thread::sleep_for(1500ms);
  auto got = receiver().received(path);
  REQUIRE(got.size() == 1);
  CHECK(got[0].body.find("Sudah kami cek, besok tiba") != std::string::npos);
  CHECK(got[0].body.find("catatan rahasia") == std::string::npos);
  CHECK(got[0].body.find(ticket) != std::string::npos);
  CHECK(verify_with_library(got, {secret}) == 0);
  auto log = api("GET", "/api/v1/webhook-endpoints/" + endpoint + "/deliveries", key);
  REQUIRE(log.status == 200);
  REQUIRE(log.data().Size() == 1);
  CHECK(str(log.data()[0], "status") == "delivered");
  // The channel owns its endpoint.
  CHECK(api("DELETE", "/api/v1/webhook-endpoints/" + endpoint, key).status == 409);
  CHECK(api("PATCH", "/api/v1/webhook-endpoints/" + endpoint, key, R"({"events":["ticket.created"]})").status == 409);

  // The contact reads the public conversation: their messages and the reply, never the note.
  auto read = client("GET", messages, "", hash);
  REQUIRE(read.status == 200);
  CHECK(read.data()["messages"].Size() == 3);
  CHECK(read.raw.find("Sudah kami cek") != std::string::npos);
  CHECK(read.raw.find("catatan rahasia") == std::string::npos);
  CHECK(client("GET", messages + "?after=x", "", hash).status == 400);

  // A closed conversation takes no more messages: they open a new one, which the answer names.
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"closed"})").status == 200);
  auto later = client("POST", messages, R"({"clientMessageId":"m3","body":"Satu lagi"})", hash);
  REQUIRE(later.status == 201);
  const std::string next = str(later.data(), "conversationId");
  CHECK(next != ticket);
  CHECK(client("GET", base + "/conversations", "", hash).data().Size() == 2);

  // Another inbox, or another workspace, reaches none of it.
  auto [other_account, other_key] = new_workspace("Toko Lain API");
  auto other = api("POST", "/api/v1/channels", other_key, R"({"provider":"api","name":"Other"})");
  REQUIRE(other.status == 201);
  const std::string other_inbox = str(other.data(), "inboxIdentifier");
  CHECK(client("GET", other_inbox + "/contacts/" + user + "/conversations/" + ticket + "/messages").status == 404);
  CHECK(api("GET", "/api/v1/tickets/" + ticket, other_key).status == 404);
  // Without a webhookUrl, replies are not sent anywhere; the integrator reads them.
  REQUIRE(client("POST", other_inbox + "/contacts", R"({"sourceId":"solo"})").status == 201);  // HMAC optional here
  auto solo = client("POST", other_inbox + "/contacts/solo/conversations", "{}");
  REQUIRE(solo.status == 201);
  REQUIRE(
      api("POST", "/api/v1/tickets/" + str(solo.data(), "id") + "/messages", other_key, R"({"body":"Halo"})").status ==
      201);
  CHECK(client("GET", other_inbox + "/contacts/solo/conversations/" + str(solo.data(), "id") + "/messages")
            .data()["messages"]
            .Size() == 1);

  // Disconnected, the inbox is gone for the client API.
  REQUIRE(api("DELETE", "/api/v1/channels/" + str(created.data(), "id"), key).status == 200);
  CHECK(client("GET", base, "", hash).status == 404);
  REQUIRE(wait_until([&] { return receiver().received(status_path).size() >= 2; }, 30s));
  std::vector<std::string> seen;
  for (const auto& c : receiver().received(status_path)) {
    rapidjson::Document d;
    d.Parse(c.body.c_str());
    REQUIRE(str(d, "type") == "integration.status_changed");
    CHECK(str(d, "ticketId") == str(created.data(), "id"));
    CHECK(str(d["data"]["integration"], "provider") == "api");
    seen.push_back(str(d["data"], "previousStatus") + ">" + str(d["data"]["integration"], "status"));
  }
  CHECK(seen == std::vector<std::string>{">active", "active>disconnected"});
}
