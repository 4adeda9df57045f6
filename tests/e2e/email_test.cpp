// Requester email through Resend (issue 5; seed 000 "Email notifications"): the ticket-received
// email with the status link, one email per public reply, the CSAT survey, threading headers, a
// workspace's own sender, failures, and the auto-reply on every channel.
#include <catch2/catch.hpp>
#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/providers/email/reply_address.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {

rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  return d;
}

std::string address(const std::string& who) {
  return who + "-" + loket::core::to_hex(loket::core::random_bytes(4)) + "@example.test";
}

// Submits the hosted form as `email`; returns {ticket id (via the agent API), access token}.
std::pair<std::string, std::string> web_ticket(const std::string& account, const std::string& key,
                                               const std::string& email,
                                               const std::string& subject = "Resi belum muncul") {
  auto r = call(stack().api_url(), "POST", "/api/v1/public/tickets", "",
                R"({"accountId":")" + account + R"(","subject":")" + subject +
                    R"(","body":"Order #1042 belum ada resi.","email":")" + email + R"(","name":"Budi"})");
  REQUIRE(r.status == 201);
  auto list = api("GET", "/api/v1/tickets?requester=" + email, key);
  REQUIRE(list.data()["items"].Size() == 1);
  return {str(list.data()["items"][0], "id"), str(r.data(), "accessToken")};
}

std::vector<rapidjson::Document> wait_emails(const std::string& to, std::size_t n) {
  wait_until([&] { return resend().emails_to(to).size() >= n; }, 30s);
  std::vector<rapidjson::Document> out;
  for (const auto& e : resend().emails_to(to)) out.push_back(parse(e));
  return out;
}

std::string delivery(const std::string& key, const std::string& ticket, const std::string& message, const char* field) {
  auto m = api("GET", "/api/v1/tickets/" + ticket + "/messages", key);
  for (const auto& x : m.data().GetArray())
    if (str(x, "id") == message && x["delivery"].IsObject()) return str(x["delivery"], field);
  return "";
}
}  // namespace

TEST_CASE("a web ticket's requester gets the received email, each public reply and the survey, in one thread",
          "[email]") {
  auto [account, key] = new_workspace("Email flow");
  const std::string to = address("budi");
  auto [ticket, token] = web_ticket(account, key, to);
  auto received = wait_emails(to, 1);
  REQUIRE(received.size() == 1);
  const auto& r = received[0];
  CHECK(str(r, "from") == "Loket Support <support@mail.loket.test>");
  const std::string tag =
      "[#" + std::to_string(sql_number("SELECT number FROM tickets WHERE id = '" + ticket + "'")) + "]";
  CHECK(str(r, "subject") == "Resi belum muncul " + tag);
  CHECK(str(r["headers"], "Auto-Submitted") == "auto-replied");  // RFC 3834: no auto-responder answers it
  CHECK(str(r, "text").find(stack().api_url() + "/t/" + token) != std::string::npos);
  CHECK(str(r, "html").find(stack().api_url() + "/t/" + token) != std::string::npos);
  const std::string root = str(r["headers"], "Message-ID");
  CHECK(root == "<ticket-" + ticket + "@mail.loket.test>");
  // The Reply-To names this ticket, signed with the stack's master key.
  auto reply_token = loket::providers::email::token_in_address(str(r, "reply_to"), "in.loket.test");
  REQUIRE(reply_token);
  auto target = loket::providers::email::read_reply_token(loket::crypto::Keyring::parse("k1:" + std::string(64, '7')),
                                                          *reply_token);
  REQUIRE(target);
  CHECK(target->account_id == account);
  CHECK(target->number == sql_number("SELECT number FROM tickets WHERE id = '" + ticket + "'"));
  CHECK(sql_number("SELECT count(*) FROM notifications WHERE ticket_id = '" + ticket +
                   "' AND kind = 'ticket_received' AND status = 'sent'") == 1);

  // An internal note is never emailed; a public reply is, threaded under the root.
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
              R"({"body":"NOTE: refund limit is 50k","internal":true})")
              .status == 201);
  auto reply =
      api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Halo Budi! Resi: JNE 1234567890."})");
  REQUIRE(reply.status == 201);
  std::string reply_id = str(reply.data(), "id");
  auto two = wait_emails(to, 2);
  REQUIRE(two.size() == 2);
  const auto& e = two[1];
  CHECK(str(e, "subject") == "Re: Resi belum muncul " + tag);
  CHECK_FALSE(e["headers"].HasMember("Auto-Submitted"));  // an agent wrote it
  CHECK(str(e, "text").find("Halo Budi! Resi: JNE 1234567890.") != std::string::npos);
  CHECK(str(e, "text").find(stack().api_url() + "/t/" + token) != std::string::npos);
  CHECK(str(e["headers"], "In-Reply-To") == root);
  CHECK(str(e["headers"], "References") == root);
  CHECK(str(e["headers"], "Message-ID") == "<" + reply_id + "@mail.loket.test>");
  REQUIRE(wait_until([&] { return delivery(key, ticket, reply_id, "status") == "sent"; }, 10s));

  // Resolution sends the survey; the link's page asks for the rating.
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"resolved"})").status == 200);
  auto three = wait_emails(to, 3);
  REQUIRE(three.size() == 3);
  CHECK(str(three[2], "subject") == "How did we do? Resi belum muncul " + tag);
  CHECK(str(three[2]["headers"], "Auto-Submitted") == "auto-generated");
  CHECK(str(three[2], "text").find("/t/" + token) != std::string::npos);
  CHECK(str(three[2]["headers"], "In-Reply-To") == root);
  // Resolving again (after a reopen) does not send a second survey.
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"open"})").status == 200);
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"resolved"})").status == 200);
  std::this_thread::sleep_for(1s);
  auto all = resend().emails_to(to);
  CHECK(all.size() == 3);
  for (const auto& body : all) CHECK(body.find("refund limit") == std::string::npos);  // the note never leaked
}

TEST_CASE("no email without an address; WhatsApp tickets with one get the status link, replies on WhatsApp",
          "[email]") {
  auto [account, key] = new_workspace("Email channels");
  auto [integration, secret] = connect_bot(key, bot_token("emailless"));
  REQUIRE(post_update(integration, secret, text_update(1, 8181, 1, "no email here")).status == 200);
  REQUIRE(wait_until([&] { return api("GET", "/api/v1/tickets", key).data()["items"].Size() == 1; }, 15s));
  std::string telegram_ticket = str(api("GET", "/api/v1/tickets", key).data()["items"][0], "id");

  const std::string to = address("wa");
  auto created =
      api("POST", "/api/v1/tickets", key,
          R"({"subject":"Logged call","channel":"whatsapp","requesterPhone":"+6281299990000","requesterEmail":")" + to +
              R"(","body":"called in"})");
  REQUIRE(created.status == 201);
  REQUIRE(wait_emails(to, 1).size() == 1);  // the status link
  // By now outbound has handled the Telegram ticket's events too: nothing was sent or recorded.
  CHECK(sql_number("SELECT count(*) FROM notifications WHERE ticket_id = '" + telegram_ticket + "'") == 0);
  auto reply =
      api("POST", "/api/v1/tickets/" + str(created.data(), "id") + "/messages", key, R"({"body":"on WhatsApp"})");
  REQUIRE(reply.status == 201);
  std::this_thread::sleep_for(1s);
  CHECK(resend().emails_to(to).size() == 1);  // the reply went to WhatsApp, not email
}

TEST_CASE("a workspace's own Resend sender; bounces fail once, outages retry", "[email]") {
  auto [account, key] = new_workspace("Own sender");
  auto bad = api("POST", "/api/v1/channels", key,
                 R"({"provider":"email_resend","apiKey":"re_bad_key","fromEmail":"support@toko.test"})");
  CHECK(bad.status == 400);
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE workspace_id = '" + account +
                   "' AND provider = 'email_resend'") == 0);
  const std::string domain = "toko-" + loket::core::to_hex(loket::core::random_bytes(4)) + ".test";
  auto ok = api("POST", "/api/v1/channels", key,
                R"({"provider":"email_resend","apiKey":"re_restricted_sending_key","fromEmail":"Support@)" + domain +
                    R"(","fromName":"Toko Anda"})");
  INFO(ok.raw);
  REQUIRE(ok.status == 201);
  CHECK(ok.raw.find("re_restricted_sending_key") == std::string::npos);
  const std::string to = address("ani");
  auto [ticket, token] = web_ticket(account, key, to);
  auto mails = wait_emails(to, 1);
  REQUIRE(mails.size() == 1);
  CHECK(str(mails[0], "from") == "\"Toko Anda\" <support@" + domain + ">");
  CHECK(str(mails[0]["headers"], "Message-ID") == "<ticket-" + ticket + "@" + domain + ">");
  CHECK(resend().calls("/emails").back().auth == "re_restricted_sending_key");

  auto [bounce_ticket, t2] = web_ticket(account, key, address("bounce"), "bounce");
  auto reply = api("POST", "/api/v1/tickets/" + bounce_ticket + "/messages", key, R"({"body":"hello?"})");
  std::string reply_id = str(reply.data(), "id");
  REQUIRE(wait_until([&] { return delivery(key, bounce_ticket, reply_id, "status") == "failed"; }, 15s));
  CHECK(delivery(key, bounce_ticket, reply_id, "error").find("validation_error") != std::string::npos);
  CHECK(sql_number("SELECT delivery_attempts FROM messages WHERE id = '" + reply_id + "'") == 1);

  resend().flaky_failures = 2;
  const std::string flaky = "flaky-" + loket::core::to_hex(loket::core::random_bytes(4)) + "@example.test";
  auto [flaky_ticket, t3] = web_ticket(account, key, flaky, "flaky");
  REQUIRE(wait_until([&] { return resend().emails_to(flaky).size() == 1; }, 20s));  // after two 500s
  // Recorded just after Resend answered: wait for the row rather than race it.
  const std::string sent =
      "SELECT count(*) FROM notifications WHERE ticket_id = '" + flaky_ticket + "' AND status = 'sent'";
  REQUIRE(wait_until([&] { return sql_number(sent) == 1; }, 10s));
  CHECK(sql_number("SELECT attempts FROM notifications WHERE ticket_id = '" + flaky_ticket + "' AND status = 'sent'") ==
        3);
}

TEST_CASE("the workspace auto-reply goes out on the ticket's own channel", "[email]") {
  auto [account, key, session] = new_signed_in_workspace("Auto reply");
  CHECK(api("PATCH", "/api/v1/workspace", key, R"({"autoReply":"x"})").status == 403);  // owners only
  auto set =
      api("PATCH", "/api/v1/workspace", session,
          R"({"autoReply":"Thanks {{requester.name}}! Ticket #{{ticket.number}} is in. Follow it: {{status_link}}"})");
  REQUIRE(set.status == 200);
  CHECK(str(set.data(), "autoReply").find("{{status_link}}") != std::string::npos);
  const std::string to = address("auto");
  auto [ticket, token] = web_ticket(account, key, to);
  auto msgs = api("GET", "/api/v1/tickets/" + ticket + "/messages", key);
  REQUIRE(msgs.data().Size() == 2);
  const auto& auto_reply = msgs.data()[1];
  CHECK(str(auto_reply, "authorType") == "system");
  CHECK(str(auto_reply, "body").find("Thanks Budi! Ticket #") == 0);
  // The status link carries the requester's credential: agents see the placeholder; the
  // requester's email and status page carry the link (issue 15 finding 10).
  CHECK(str(auto_reply, "body").find(token) == std::string::npos);
  CHECK(str(auto_reply, "body").find("Follow it: {{status_link}}") != std::string::npos);
  CHECK(str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "status") == "open");  // not "pending"
  auto emails = wait_emails(to, 2);
  REQUIRE(emails.size() == 2);  // received + the auto-reply
  CHECK(std::any_of(emails.begin(), emails.end(), [&](const auto& m) {
    return str(m, "text").find("Follow it: " + stack().api_url() + "/t/" + token) != std::string::npos &&
           str(m["headers"], "Auto-Submitted") == "auto-replied";  // no person wrote it
  }));
  auto page = api("GET", "/api/v1/public/tickets/" + token, "");
  REQUIRE(page.status == 200);
  CHECK(page.raw.find("Follow it: " + stack().api_url() + "/t/" + token) != std::string::npos);

  auto [integration, secret] = connect_bot(key, bot_token("autoreply"));
  auto sends = telegram().calls("sendMessage").size();
  REQUIRE(post_update(integration, secret, text_update(1, 9191, 1, "hi bot", "Sari", "W")).status == 200);
  REQUIRE(wait_until([&] { return telegram().calls("sendMessage").size() > sends; }, 15s));
  CHECK(telegram().calls("sendMessage").back().body.find("Thanks Sari W! Ticket #") != std::string::npos);
}

TEST_CASE("an agent's files go with the email reply, or as a link to the request's page past the size cap", "[email]") {
  auto [account, key] = new_workspace("Email files");
  const std::string to = address("files");
  auto [ticket, token] = web_ticket(account, key, to, "Invoice please");
  REQUIRE(wait_emails(to, 1).size() == 1);  // received

  // Two files of 20 KB: together under the stack's 64 KiB cap, so both are attached.
  std::string invoice = "%PDF-1.4\n" + std::string(20 * 1024, 'i'), label = std::string(20 * 1024, '\xff');
  const std::string a =
      str(upload(stack().api_url(), key, multipart("faktur \xc3\xa9.pdf", "application/pdf", invoice)).data(), "id");
  const std::string b =
      str(upload(stack().api_url(), key, multipart("label.bin", "application/octet-stream", label)).data(), "id");
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
              R"({"body":"Invoice and label attached.","attachmentIds":[")" + a + R"(",")" + b + R"("]})")
              .status == 201);
  auto two = wait_emails(to, 2);
  REQUIRE(two.size() == 2);
  const auto& sent = two[1];
  REQUIRE(sent.HasMember("attachments"));
  REQUIRE(sent["attachments"].Size() == 2);
  CHECK(str(sent["attachments"][0], "filename") == "faktur \xc3\xa9.pdf");
  CHECK(str(sent["attachments"][0], "content_type") == "application/pdf");
  CHECK(loket::core::from_base64(str(sent["attachments"][0], "content")).value_or("") == invoice);
  CHECK(loket::core::from_base64(str(sent["attachments"][1], "content")).value_or("") == label);  // bytes, not text
  CHECK(str(sent, "text").find("Too large") == std::string::npos);

  // 70 KB is past the cap: nothing attached, the file listed under the link to the request's
  // page, where the requester downloads it.
  const std::string big = str(
      upload(stack().api_url(), key, multipart("photos.zip", "application/zip", std::string(70 * 1024, 'z'))).data(),
      "id");
  REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
              R"({"body":"The photos.","attachmentIds":[")" + big + R"("]})")
              .status == 201);
  auto three = wait_emails(to, 3);
  REQUIRE(three.size() == 3);
  const auto& linked = three[2];
  CHECK_FALSE(linked.HasMember("attachments"));
  const std::string text = str(linked, "text");
  CHECK(text.find(stack().api_url() + "/t/" + token) != std::string::npos);
  CHECK(text.find("Too large to attach") != std::string::npos);
  CHECK(text.find("- photos.zip (70 KB)") != std::string::npos);
  CHECK(str(linked, "html").find("<li>photos.zip (70 KB)</li>") != std::string::npos);
  auto page = http_get(stack().api_url() + "/api/v1/public/tickets/" + token + "/attachments/" + big);
  CHECK(page.status == 200);
  CHECK(page.body.size() == 70 * 1024);
}
