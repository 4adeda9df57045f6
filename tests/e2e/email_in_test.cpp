// Email in (issue 16): an MTA posts whole messages to the MIME ingress; replies thread into
// their tickets (reply address, In-Reply-To/References, [#n]); automated mail gets no answer;
// the original message, its quote and its parts are kept.
#include <catch2/catch.hpp>

#include "fixture.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/time.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/client.hpp"
#include "loket/http/url.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
std::string fixture(const std::string& name) { return loket::testing::email_fixture(name); }

loket::http::ClientResponse deliver(const std::string& recipient, const std::string& message,
                                    const std::string& password = "mta-secret") {
  loket::http::ClientRequest req;
  req.method = "POST";
  req.url = stack().ingress_url() + "/api/v1/webhooks/email/mime?recipient=" + loket::http::percent_encode(recipient);
  req.headers = {{"Content-Type", "message/rfc822"},
                 {"Authorization", "Basic " + loket::core::base64("postfix:" + password)}};
  req.body = message;
  return loket::http::fetch(req);
}
rapidjson::Document parse(const std::string& json) {
  rapidjson::Document d;
  d.Parse(json.c_str());
  return d;
}

// The emails the fake Resend got for `to`, once there are at least `n`.
std::vector<rapidjson::Document> emails_to(const std::string& to, std::size_t n) {
  wait_until([&] { return resend().emails_to(to).size() >= n; }, 30s);
  std::vector<rapidjson::Document> out;
  for (const auto& e : resend().emails_to(to)) out.push_back(parse(e));
  return out;
}

// A plain-text mail from `from` with the given threading headers and a fresh Message-ID.
std::string mail_from(const std::string& from, const std::string& to, const std::string& subject,
                      const std::string& body, const std::string& in_reply_to = "", const std::string& extra = "") {
  std::string m = "From: Budi <" + from + ">\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" +
                  loket::core::new_id("mid") + "@mail.example>\r\n";
  if (!in_reply_to.empty()) m += "In-Reply-To: " + in_reply_to + "\r\nReferences: " + in_reply_to + "\r\n";
  return m + extra + "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\n" + body;
}

// Resend Receiving's webhook for received email `email_id` delivered to `recipient`, signed as
// Svix signs it (`type` other than email.received: an event Loket does not take).
loket::http::ClientResponse resend_event(const std::string& email_id, const std::string& recipient,
                                         const std::string& type = "email.received",
                                         const std::string& secret = kResendWebhookSecret) {
  const std::string body = R"({"type":")" + type + R"(","created_at":"2026-11-30T10:00:00.000Z","data":{"email_id":")" +
                           email_id + R"(","created_at":"2026-11-30T10:00:00.000Z","from":"Anna <anna@example.com>",)" +
                           R"("to":[")" + recipient + R"("],"cc":[],"bcc":[],"received_for":[")" + recipient +
                           R"("],"message_id":"<x@mail.example>","subject":"Order","attachments":[]}})";
  const std::string id = loket::core::new_id("msg"), ts = std::to_string(loket::core::now_ms() / 1000);
  const std::string signing_key = loket::core::from_base64(secret.substr(6)).value_or("");
  loket::http::ClientRequest req;
  req.method = "POST";
  req.url = stack().ingress_url() + "/api/v1/webhooks/resend";
  req.headers = {{"Content-Type", "application/json"},
                 {"svix-id", id},
                 {"svix-timestamp", ts},
                 {"svix-signature",
                  "v1," + loket::core::base64(loket::crypto::hmac_sha256(signing_key, id + "." + ts + "." + body))}};
  req.body = body;
  return loket::http::fetch(req);
}

rapidjson::Document messages_of(const std::string& key, const std::string& ticket) {
  return parse(api("GET", "/api/v1/tickets/" + ticket + "/messages", key).raw);
}

long long ticket_count(const std::string& account) {
  return sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + account + "'");
}
}  // namespace

TEST_CASE("mail to a workspace's alias becomes an email ticket, once", "[email]") {
  auto [account, key] = new_workspace("Mail in");
  const std::string alias = account + "@in.loket.test";
  // The alias is the workspace's own: not among its connected channels, a live platform channel.
  auto channels = api("GET", "/api/v1/channels", key);
  CHECK(channels.data()["integrations"].Size() == 0);
  const auto& platform = channels.data()["platformChannels"][0];
  CHECK(str(platform, "channel") == "email");
  CHECK(str(platform, "status") == "live");
  CHECK(str(platform, "address") == alias);
  CHECK(str(api("GET", "/api/v1/workspace", key).data(), "inboundEmailAddress") == alias);
  std::string mail = fixture("outlook_html_only.eml");
  const std::string id = "<" + loket::core::new_id("mid") + "@outlook.example>";
  mail.replace(mail.find("<AM0PR06MB6226"),
               mail.find('>', mail.find("<AM0PR06MB6226")) - mail.find("<AM0PR06MB6226") + 1, id);
  CHECK(deliver(alias, mail, "wrong").status == 401);
  CHECK(deliver("acc_000000000000000000000000@in.loket.test", mail).status == 404);
  for (int i = 0; i < 2; ++i) REQUIRE(deliver(alias, mail).status == 200);  // the MTA retried
  REQUIRE(wait_until([&] { return api("GET", "/api/v1/tickets", key).data()["items"].Size() == 1; }, 15s));
  auto list = api("GET", "/api/v1/tickets", key);
  const auto& t = list.data()["items"][0];
  CHECK(str(t, "channel") == "email");
  CHECK(str(t, "subject") == "Damaged caf\xC3\xA9 order");
  CHECK(str(t, "requesterEmail") == "renee@outlook.example");
  auto ms = api("GET", "/api/v1/tickets/" + str(t, "id") + "/messages", key);
  REQUIRE(ms.data().Size() == 1);
  CHECK(str(ms.data()[0], "body").rfind("Hello,\n\nThe caf\xC3\xA9 order #88 arrived damaged.", 0) == 0);
  std::this_thread::sleep_for(1s);
  CHECK(api("GET", "/api/v1/tickets", key).data()["items"].Size() == 1);
}

TEST_CASE("mail received at Resend becomes an email ticket through the alias, once", "[email]") {
  auto [account, key] = new_workspace("Resend in");
  const std::string alias = account + "@in.loket.test";
  const std::string email_id = loket::core::new_id("rcv");
  resend().receive(email_id, mail_from("anna@example.com", alias, "Where is my order?", "It has not arrived yet."));
  CHECK(resend_event(email_id, alias, "email.received", "whsec_" + loket::core::base64("another secret")).status ==
        401);
  REQUIRE(resend_event(email_id, alias).status == 200);
  REQUIRE(wait_until([&] { return api("GET", "/api/v1/tickets", key).data()["items"].Size() == 1; }, 15s));
  auto list = api("GET", "/api/v1/tickets", key);
  const auto& t = list.data()["items"][0];
  CHECK(str(t, "channel") == "email");
  CHECK(str(t, "subject") == "Where is my order?");
  CHECK(str(t, "requesterEmail") == "anna@example.com");
  const std::string ticket = str(t, "id");
  CHECK(str(messages_of(key, ticket)["data"][0], "body") == "It has not arrived yet.");
  // Resend redelivers the event: the same Message-ID is not written twice.
  REQUIRE(resend_event(email_id, alias).status == 200);
  // Events Loket does not take are acknowledged (Resend would retry them for days otherwise).
  CHECK(resend_event(email_id, alias, "email.delivered").status == 200);
  // An email Resend no longer has is dead-lettered (redrive), never a ticket or a stuck partition.
  REQUIRE(resend_event("rcv_gone", alias).status == 200);
  REQUIRE(wait_until([] { return !resend().calls("/emails/receiving/rcv_gone").empty(); }, 15s));
  // An outage of Resend's API delays the mail, it does not lose it: inbound retries.
  const std::string later = loket::core::new_id("rcv");
  resend().receive(later, mail_from("citra@example.com", alias, "Another question", "Do you ship to Bali?"));
  resend().receiving_failures = 2;
  REQUIRE(resend_event(later, alias).status == 200);
  REQUIRE(wait_until([&] { return api("GET", "/api/v1/tickets", key).data()["items"].Size() == 2; }, 15s));
  CHECK(messages_of(key, ticket)["data"].Size() == 1);
  CHECK(resend_event(email_id, "someone@elsewhere.example").status == 404);
}

TEST_CASE("a customer's answers thread into their ticket: reply address, Message-IDs, [#n]; closed starts anew",
          "[email]") {
  auto [account, key] = new_workspace("Mail threads");
  const std::string alias = account + "@in.loket.test";
  const std::string customer = unique_email("budi");
  auto form =
      call(stack().api_url(), "POST", "/api/v1/public/tickets", "",
           R"({"accountId":")" + account + R"(","subject":"Resi belum muncul","body":"Order #1042?","email":")" +
               customer + R"(","name":"Budi"})");
  REQUIRE(form.status == 201);
  auto received = emails_to(customer, 1);
  REQUIRE(received.size() == 1);
  const std::string reply_to = str(received[0], "reply_to"), root = str(received[0]["headers"], "Message-ID");
  REQUIRE(reply_to.rfind("reply+", 0) == 0);
  const std::string ticket = str(api("GET", "/api/v1/tickets", key).data()["items"][0], "id");
  const std::string number = std::to_string(sql_number("SELECT number FROM tickets WHERE id = '" + ticket + "'"));
  auto count = [&](const std::string& id) { return messages_of(key, id)["data"].Size(); };

  // 1. The reply address (the envelope recipient): the new text, the quote kept apart, the original kept.
  const std::string answer = mail_from(customer, reply_to, "Re: Resi belum muncul [#" + number + "]",
                                       "Sudah sampai, terima kasih!\r\n\r\nOn Mon, Nov 30, 2026 Loket wrote:\r\n"
                                       "> We received your request\r\n",
                                       root);
  REQUIRE(deliver(reply_to, answer).status == 200);
  REQUIRE(wait_until([&] { return count(ticket) == 2; }, 15s));
  auto ms = messages_of(key, ticket);
  const auto& m = ms["data"][1];
  CHECK(str(m, "authorType") == "requester");
  CHECK(str(m, "body") == "Sudah sampai, terima kasih!");
  CHECK(str(m, "quotedText").rfind("On Mon, Nov 30, 2026 Loket wrote:", 0) == 0);
  CHECK(m["hasRaw"].GetBool());
  auto raw = http_get(stack().api_url() + "/api/v1/tickets/" + ticket + "/messages/" + str(m, "id") + "/raw", key);
  CHECK(raw.status == 200);
  CHECK(raw.body == answer);
  CHECK(raw.headers["content-type"] == "message/rfc822");
  CHECK(raw.headers["content-security-policy"].find("sandbox") != std::string::npos);
  CHECK(http_get(stack().api_url() + "/api/v1/tickets/" + ticket + "/messages/" + str(ms["data"][0], "id") + "/raw",
                 key)
            .status == 404);  // the form's message has no original
  auto [other_account, other_key] = new_workspace("Mail threads, someone else");
  CHECK(http_get(stack().api_url() + "/api/v1/tickets/" + ticket + "/messages/" + str(m, "id") + "/raw", other_key)
            .status == 404);
  CHECK(resend().emails_to(customer).size() == 1);  // no "we received your request" for an answer
  // The envelope recipient alone is enough: headers that name someone else, no In-Reply-To, no [#n].
  REQUIRE(deliver(reply_to, mail_from(customer, "team@shop.example", "Satu hal lagi", "Warna biru ya.")).status == 200);
  REQUIRE(wait_until([&] { return count(ticket) == 3; }, 15s));

  // 2. Through the alias (forwarded by the shop's support@), threaded by In-Reply-To alone.
  REQUIRE(deliver(alias, mail_from(customer, "support@shop.example", "Fwd", "Satu lagi.", root)).status == 200);
  REQUIRE(wait_until([&] { return count(ticket) == 4; }, 15s));
  // 3. By [#n] in the subject — only from the ticket's requester; anyone else opens a ticket.
  REQUIRE(deliver(alias, mail_from(customer, "support@shop.example", "Soal [#" + number + "]", "Dan ini.")).status ==
          200);
  REQUIRE(wait_until([&] { return count(ticket) == 5; }, 15s));
  const std::string stranger = unique_email("mallory");
  REQUIRE(deliver(alias, mail_from(stranger, "support@shop.example", "Soal [#" + number + "]", "Hi")).status == 200);
  REQUIRE(wait_until([&] { return ticket_count(account) == 2; }, 15s));
  CHECK(count(ticket) == 5);
  // A forged reply address (MAC altered) threads nothing: it is refused at the door.
  std::string forged = reply_to;
  forged[forged.find('@') - 1] = forged[forged.find('@') - 1] == '0' ? '1' : '0';
  CHECK(deliver(forged, mail_from(customer, forged, "Re", "x")).status == 404);

  // 4. A closed ticket is never reopened by mail: a late answer starts one new ticket, and the
  // next late answer in that conversation joins it.
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"closed"})").status == 200);
  REQUIRE(deliver(reply_to, mail_from(customer, reply_to, "Re: Resi", "Paket kedua?", root)).status == 200);
  REQUIRE(wait_until([&] { return ticket_count(account) == 3; }, 15s));
  REQUIRE(deliver(alias, mail_from(customer, alias, "Re: Resi", "Halo?", root)).status == 200);
  REQUIRE(wait_until(
      [&] {
        return sql_number(
                   "SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.workspace_id = '" +
                   account + "' AND t.status <> 'closed' AND m.body = 'Halo?'") == 1;
      },
      15s));
  CHECK(ticket_count(account) == 3);
  CHECK(str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "status") == "closed");
  CHECK(count(ticket) == 5);
}

TEST_CASE("automated mail opens a ticket but gets no auto-reply; parts are stored; too large is 413", "[email]") {
  auto [account, key, session] = new_signed_in_workspace("Mail loops");
  REQUIRE(api("PATCH", "/api/v1/workspace", session, R"({"autoReply":"Thanks, ticket #{{ticket.number}} is in."})")
              .status == 200);
  const std::string alias = account + "@in.loket.test";
  const std::string robot = unique_email("ooo");
  REQUIRE(deliver(alias, mail_from(robot, alias, "Out of office", "I am away.", "", "Auto-Submitted: auto-replied\r\n"))
              .status == 200);
  REQUIRE(wait_until([&] { return ticket_count(account) == 1; }, 15s));
  const std::string t1 = str(api("GET", "/api/v1/tickets", key).data()["items"][0], "id");
  // A person gets the workspace's auto-reply (a system message, emailed); the robot gets nothing.
  const std::string person = unique_email("sari");
  REQUIRE(deliver(alias, mail_from(person, alias, "Invoice", "Please resend the invoice.")).status == 200);
  auto to_person = emails_to(person, 1);
  REQUIRE(to_person.size() == 1);
  CHECK(str(to_person[0], "text").find("Thanks, ticket #") != std::string::npos);
  CHECK(str(to_person[0]["headers"], "Auto-Submitted") == "auto-replied");
  std::this_thread::sleep_for(1s);
  CHECK(resend().emails_to(robot).empty());
  CHECK(messages_of(key, t1)["data"].Size() == 1);
  CHECK(resend().emails_to(person).size() == 1);  // the auto-reply only, no second "received" email

  // A 2 MiB attachment (over ingress's 1 MiB JSON limit, under LOKET_EMAIL_MAX_BYTES) is stored.
  std::string file(2u << 20, '\0');
  for (std::size_t i = 0; i < file.size(); ++i) file[i] = static_cast<char>((i * 7919) >> 3);
  const std::string with_file =
      "From: " + person + "\r\nTo: " + alias + "\r\nSubject: Photo\r\nMessage-ID: <" + loket::core::new_id("mid") +
      "@mail.example>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n"
      "Content-Type: text/plain\r\n\r\nSee attached.\r\n--b\r\nContent-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename=\"scan.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
      loket::core::base64(file) + "\r\n--b--\r\n";
  REQUIRE(deliver(alias, with_file).status == 200);
  std::string attachment;
  REQUIRE(wait_until(
      [&] {
        auto list = api("GET", "/api/v1/tickets", key);  // kept: the loops read into it
        for (const auto& t : list.data()["items"].GetArray()) {
          auto ms = messages_of(key, str(t, "id"));
          for (const auto& msg : ms["data"].GetArray())
            if (str(msg, "body") == "See attached." && msg["attachments"].Size() == 1)
              attachment = str(msg["attachments"][0], "id");
        }
        return !attachment.empty();
      },
      20s));
  auto got = http_get(stack().api_url() + "/api/v1/attachments/" + attachment, key);
  CHECK(got.status == 200);
  CHECK(got.body == file);
  // Over LOKET_EMAIL_MAX_BYTES: 413, nothing published.
  std::string huge = mail_from(person, alias, "Huge", std::string(3u << 20, 'x'));
  CHECK(deliver(alias, huge).status == 413);
}

TEST_CASE("a real Postfix, configured as docs/channels/email.md says, pipes mail for the domain into Loket",
          "[email]") {
  // Postfix's own users (postfix, nobody) must reach its files: under /tmp, not the checkout,
  // whose parents may be private.
  const int port = free_port();
  const std::string dir = "/tmp/loket-mta-" + std::to_string(port), root = LOKET_SOURCE_DIR;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir + "/password") << "mta-secret\n";
  const std::string script = "bash " + root + "/tests/mail/postfix.sh ";
  REQUIRE(std::system((script + "start " + dir + " " + std::to_string(port) + " " + stack().ingress_url() + " " + dir +
                       "/password in.loket.test >" + dir + "/start.log 2>&1")
                          .c_str()) == 0);
  struct Stop {
    std::string cmd;
    ~Stop() { (void)std::system(cmd.c_str()); }
  } stop{script + "stop " + dir + " && rm -rf " + dir};
  // SMTP into Postfix, as a customer's mail server would.
  auto smtp = [&](const std::string& rcpt, const std::string& mail) {
    std::ofstream(dir + "/mail.eml", std::ios::binary) << mail;
    return std::system(("curl -sS --url smtp://127.0.0.1:" + std::to_string(port) +
                        " --mail-from sender@mail.example --mail-rcpt '" + rcpt + "' --upload-file " + dir +
                        "/mail.eml")
                           .c_str());
  };
  auto [account, key] = new_workspace("Mail through Postfix");
  const std::string alias = account + "@in.loket.test", customer = unique_email("rina");
  REQUIRE(smtp(alias, mail_from(customer, alias, "Tagihan ganda", "Saya ditagih dua kali.")) == 0);
  REQUIRE(wait_until([&] { return ticket_count(account) == 1; }, 30s));
  const std::string ticket = str(api("GET", "/api/v1/tickets", key).data()["items"][0], "id");
  CHECK(str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "requesterEmail") == customer);
  // Our answer's reply address (a '+' in it, percent-encoded by the helper) comes back to the ticket.
  auto reply = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Kami cek dulu."})");
  REQUIRE(reply.status == 201);
  auto sent = emails_to(customer, 1);  // the answer only: email tickets get no "received" notice
  REQUIRE(!sent.empty());
  const std::string reply_to = str(sent.back(), "reply_to");
  REQUIRE(reply_to.rfind("reply+", 0) == 0);
  REQUIRE(smtp(reply_to, mail_from(customer, reply_to, "Re: Tagihan ganda", "Terima kasih.")) == 0);
  REQUIRE(wait_until([&] { return messages_of(key, ticket)["data"].Size() == 3; }, 30s));
  CHECK(ticket_count(account) == 1);
  // Mail for an address no workspace has is bounced by Postfix (the helper's exit 67), not retried.
  REQUIRE(smtp("acc_000000000000000000000000@in.loket.test", mail_from(customer, alias, "x", "y")) == 0);
  REQUIRE(wait_until(
      [&] {
        std::ifstream log(dir + "/postfix/maillog");
        std::stringstream ss;
        ss << log.rdbuf();
        return ss.str().find("to=<acc_000000000000000000000000@in.loket.test>, relay=loket") != std::string::npos &&
               ss.str().find("status=bounced") != std::string::npos;
      },
      30s));
}

TEST_CASE("a bounce marks the mail it quotes failed, with the receiving server's reason", "[email]") {
  auto [account, key] = new_workspace("Mail bounces");
  const std::string alias = account + "@in.loket.test", customer = unique_email("typo");
  REQUIRE(deliver(alias, mail_from(customer, alias, "Refund", "Where is my refund?")).status == 200);
  REQUIRE(wait_until([&] { return ticket_count(account) == 1; }, 15s));
  const std::string ticket = str(api("GET", "/api/v1/tickets", key).data()["items"][0], "id");
  auto reply = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Sent today."})");
  REQUIRE(reply.status == 201);
  const std::string reply_id = str(reply.data(), "id");
  auto sent = emails_to(customer, 1);
  REQUIRE(sent.size() == 1);
  const std::string message_id = str(sent[0]["headers"], "Message-ID");
  REQUIRE(message_id == "<" + reply_id + "@mail.loket.test>");
  // It answers the customer's mail, under the ticket's root.
  const std::string customer_id = "<" +
                                  sql_text("SELECT external_message_id FROM messages WHERE ticket_id = '" + ticket +
                                           "' AND author_type = 'requester'") +
                                  ">";
  CHECK(str(sent[0]["headers"], "In-Reply-To") == customer_id);
  CHECK(str(sent[0]["headers"], "References") == "<ticket-" + ticket + "@mail.loket.test> " + customer_id);
  auto status = [&] {
    auto ms = messages_of(key, ticket);
    for (const auto& m : ms["data"].GetArray())
      if (str(m, "id") == reply_id && m["delivery"].IsObject())
        return str(m["delivery"], "status") + "|" + str(m["delivery"], "error");
    return std::string();
  };
  REQUIRE(wait_until([&] { return status().rfind("sent|", 0) == 0; }, 15s));
  // The customer's server refuses it later; the report comes back to the domain.
  std::string report = fixture("postfix_bounce.eml");
  report.replace(report.find("<msg_01HZBOUNCE@loket.example>"), 30, message_id);
  REQUIRE(deliver(alias, report).status == 200);
  REQUIRE(wait_until([&] { return status().rfind("failed|", 0) == 0; }, 15s));
  CHECK(status().find("550 5.1.1") != std::string::npos);
  CHECK(ticket_count(account) == 1);  // never a ticket of its own
  CHECK(messages_of(key, ticket)["data"].Size() == 2);
  // A report about mail of another workspace changes nothing there.
  auto [other, other_key] = new_workspace("Mail bounces, elsewhere");
  REQUIRE(deliver(other + "@in.loket.test", report).status == 200);
  std::this_thread::sleep_for(1s);
  CHECK(ticket_count(other) == 0);
}

TEST_CASE("a sender past its hourly ticket limit is throttled into its latest ticket, never dropped", "[email]") {
  auto [account, key, session] = new_signed_in_workspace("Mail storm");
  REQUIRE(api("PATCH", "/api/v1/workspace", session, R"({"autoReply":"Ticket #{{ticket.number}} is in."})").status ==
          200);
  const std::string alias = account + "@in.loket.test", noisy = unique_email("monitor");
  for (int i = 0; i < 8; ++i)  // a system that does not say it is one (no Auto-Submitted)
    REQUIRE(deliver(alias, mail_from(noisy, alias, "Alert " + std::to_string(i), "disk full " + std::to_string(i)))
                .status == 200);
  const std::string messages =
      "SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE "
      "t.workspace_id = '" +
      account + "' AND m.author_type = 'requester'";
  REQUIRE(wait_until([&] { return sql_number(messages) == 8; }, 20s));  // every mail kept
  CHECK(ticket_count(account) == 5);  // LOKET_TICKETS_PER_SENDER_HOUR in the test stack
  auto throttled = api("GET", "/api/v1/tickets?tag=throttled", key);
  REQUIRE(throttled.data()["items"].Size() == 1);
  CHECK(messages_of(key, str(throttled.data()["items"][0], "id"))["data"].Size() ==
        5);  // its own, its auto-reply, 3 more
  std::this_thread::sleep_for(1s);
  CHECK(resend().emails_to(noisy).size() == 5);  // one auto-reply per ticket, none for the throttled mail
  // Another sender is not affected.
  const std::string calm = unique_email("calm");
  REQUIRE(deliver(alias, mail_from(calm, alias, "Hello", "One question.")).status == 200);
  REQUIRE(wait_until([&] { return ticket_count(account) == 6; }, 15s));
}
