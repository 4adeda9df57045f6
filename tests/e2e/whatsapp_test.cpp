// WhatsApp end to end (issue 4, seeds 000 and 001): connect a Twilio number and a Cloud API
// number, customers write in with real payload shapes and real signatures, agents reply.
#include <algorithm>
#include <catch2/catch.hpp>
#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/core/json.hpp"
#include "loket/core/log.hpp"
#include "loket/core/time.hpp"
#include "loket/crypto/crypto.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/twilio/twilio.hpp"

using namespace e2e;
using namespace std::chrono_literals;
using loket::http::ClientResponse;

namespace {
// A number unique to this run: +62 812 + 8 random digits.
std::string unique_number() {
  auto hex = loket::core::to_hex(loket::core::random_bytes(4));
  return "+62812" + std::to_string(10000000 + std::stoul(hex, nullptr, 16) % 90000000);
}

std::string unique_sid(const char* prefix) { return prefix + loket::core::to_hex(loket::core::random_bytes(16)); }

struct TwilioNumber {
  std::string id, number, account_sid, token, webhook_url;
};

TwilioNumber connect_twilio(const std::string& key, const std::string& number, const std::string& token = "tw-token-1",
                            int expect = 201) {
  TwilioNumber t{"", number, "AC0123456789abcdef0123456789abcdef", token, ""};
  auto r = api("POST", "/api/v1/channels", key,
               R"({"provider":"whatsapp_twilio","accountSid":")" + t.account_sid + R"(","authToken":")" + token +
                   R"(","whatsappNumber":")" + number + R"("})");
  INFO(r.raw);
  REQUIRE(r.status == expect);
  t.id = str(r.data(), "id");
  t.webhook_url = str(r.data(), "webhookUrl");
  return t;
}

// Posts a Twilio inbound-message webhook for `t`, signed like Twilio signs it.
ClientResponse post_twilio(const TwilioNumber& t, std::vector<std::pair<std::string, std::string>> fields,
                           const std::string& url_override = "", const std::string& token_override = "") {
  std::multimap<std::string, std::string> params(fields.begin(), fields.end());
  std::string url = url_override.empty() ? t.webhook_url : url_override;
  loket::http::ClientRequest req;
  req.method = "POST";
  req.url = stack().ingress_url() + url.substr(url.find("/api/v1/"));
  req.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                 {"X-Twilio-Signature",
                  loket::providers::twilio::signature(token_override.empty() ? t.token : token_override, url, params)}};
  req.body = loket::http::build_query(fields);
  return loket::http::fetch(req);
}

std::vector<std::pair<std::string, std::string>> twilio_text(const TwilioNumber& t, const std::string& from,
                                                             const std::string& sid, const std::string& body,
                                                             const std::string& name = "Budi Santoso") {
  return {{"SmsMessageSid", sid},
          {"NumMedia", "0"},
          {"ProfileName", name},
          {"MessageType", "text"},
          {"SmsSid", sid},
          {"WaId", from.substr(1)},
          {"SmsStatus", "received"},
          {"Body", body},
          {"To", "whatsapp:" + t.number},
          {"NumSegments", "1"},
          {"ReferralNumMedia", "0"},
          {"MessageSid", sid},
          {"AccountSid", t.account_sid},
          {"From", "whatsapp:" + from},
          {"ApiVersion", "2010-04-01"}};
}

struct CloudNumber {
  std::string id, number, phone_number_id, app_secret, verify_token;
};

CloudNumber connect_cloud(const std::string& key, const std::string& number, const std::string& app_secret,
                          int expect = 201, const std::string& token = "EAAG-good-token",
                          const std::string& extra_fields = "") {
  CloudNumber c{"", number, std::to_string(100000000000000 + (std::stoull(number.substr(6)) * 7) % 900000000000000),
                app_secret, ""};
  std::string secret_field = app_secret.empty() ? "" : R"(,"appSecret":")" + app_secret + "\"";
  auto r = api("POST", "/api/v1/channels", key,
               R"({"provider":"whatsapp_cloud","accessToken":")" + token + R"(","phoneNumberId":")" +
                   c.phone_number_id + R"(","displayNumber":")" + number + "\"" + secret_field + extra_fields + "}");
  INFO(r.raw);
  REQUIRE(r.status == expect);
  c.id = str(r.data(), "id");
  c.verify_token = str(r.data(), "verifyToken");
  return c;
}

std::string cloud_text(const CloudNumber& c, const std::string& from, const std::string& wamid, const std::string& body,
                       const std::string& name = "Anna") {
  return R"({"object":"whatsapp_business_account","entry":[{"id":"1234567890987654321","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":")" +
         c.number.substr(1) + R"(","phone_number_id":")" + c.phone_number_id +
         R"("},"contacts":[{"profile":{"name":")" + name + R"("},"wa_id":")" + from.substr(1) +
         R"("}],"messages":[{"from":")" + from.substr(1) + R"(","id":")" + wamid + R"(","timestamp":")" +
         std::to_string(loket::core::now_ms() / 1000) + R"(","type":"text","text":{"body":")" +
         loket::core::json_escape(body) + R"("}}]},"field":"messages"}]}]})";
}

ClientResponse post_cloud(const std::string& body, const std::string& app_secret) {
  return post_hub_signed("/api/v1/webhooks/whatsapp-cloud", body, app_secret);
}

// The workspace's tickets whose requesterPhone is `phone`, newest first.
std::vector<std::string> tickets_of(const std::string& key, const std::string& phone) {
  auto r = api("GET", "/api/v1/tickets?requester=" + loket::http::percent_encode(phone), key);
  REQUIRE(r.status == 200);
  std::vector<std::string> out;
  for (const auto& t : r.data()["items"].GetArray()) out.push_back(t["id"].GetString());
  return out;
}

}  // namespace

TEST_CASE("Twilio: connect validates live, refreshes in place and owns its number", "[whatsapp]") {
  auto [account, key] = new_workspace("WA Twilio connect");
  const std::string number = unique_number();
  auto bad_sid =
      api("POST", "/api/v1/channels", key,
          R"({"provider":"whatsapp_twilio","accountSid":"XX1","authToken":"t","whatsappNumber":")" + number + "\"}");
  CHECK(bad_sid.status == 400);
  auto bad_number = api(
      "POST", "/api/v1/channels", key,
      R"({"provider":"whatsapp_twilio","accountSid":"AC0123456789abcdef0123456789abcdef","authToken":"t","whatsappNumber":"0812345"})");
  CHECK(bad_number.status == 400);
  connect_twilio(key, number, "a-bad-token", 400);
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE number = '" + number + "'") == 0);

  auto t = connect_twilio(key, number);
  CHECK(t.webhook_url.rfind(stack().ingress_url() + "/api/v1/webhooks/twilio/whatsapp?secret=", 0) == 0);
  auto first = api("GET", "/api/v1/channels", key);
  CHECK(first.raw.find("tw-token-1") == std::string::npos);
  CHECK(first.raw.find(t.webhook_url.substr(t.webhook_url.find("secret=") + 7)) == std::string::npos);
  CHECK(str(first.data()["integrations"][0], "number") == number);

  // Rotating the auth token: same integration, same webhook URL, new credentials in use.
  auto again = connect_twilio(key, number, "tw-token-2", 200);
  CHECK(again.id == t.id);
  CHECK(again.webhook_url == t.webhook_url);
  auto [other_account, other_key] = new_workspace("WA Twilio thief");
  auto stolen = api(
      "POST", "/api/v1/channels", other_key,
      R"({"provider":"whatsapp_twilio","accountSid":"AC0123456789abcdef0123456789abcdef","authToken":"x","whatsappNumber":")" +
          number + "\"}");
  CHECK(stolen.status == 409);
  auto stolen_cloud =
      api("POST", "/api/v1/channels", other_key,
          R"({"provider":"whatsapp_cloud","accessToken":"EAAG-x","phoneNumberId":"5550001","displayNumber":")" +
              number + "\"}");
  CHECK(stolen_cloud.status == 409);
}

TEST_CASE("Twilio: signed messages thread by phone, media is stored, replies go out", "[whatsapp]") {
  auto [account, key] = new_workspace("WA Twilio flow");
  auto t = connect_twilio(key, unique_number());
  const std::string customer = unique_number();

  // Forgeries: wrong signature key, wrong secret, unknown number.
  auto sid1 = unique_sid("SM");
  CHECK(post_twilio(t, twilio_text(t, customer, sid1, "hi"), "", "not-the-token").status == 403);
  std::string wrong_secret = t.webhook_url.substr(0, t.webhook_url.find("secret=") + 7) + "guessed";
  CHECK(post_twilio(t, twilio_text(t, customer, sid1, "hi"), wrong_secret).status == 403);
  TwilioNumber stranger = t;
  stranger.number = unique_number();
  CHECK(post_twilio(stranger, twilio_text(stranger, customer, sid1, "hi")).status == 404);

  // The real thing, delivered twice (Twilio retries): one ticket, one message.
  auto ok = post_twilio(t, twilio_text(t, customer, sid1, "Halo, pesanan saya belum sampai\nNomor #1001"));
  REQUIRE(ok.status == 200);
  CHECK(ok.body.find("<Response/>") != std::string::npos);
  REQUIRE(post_twilio(t, twilio_text(t, customer, sid1, "Halo, pesanan saya belum sampai\nNomor #1001")).status == 200);
  REQUIRE(wait_until([&] { return tickets_of(key, customer).size() == 1; }, 15s));
  std::string ticket = tickets_of(key, customer)[0];
  auto tk = api("GET", "/api/v1/tickets/" + ticket, key);
  CHECK(str(tk.data(), "channel") == "whatsapp");
  CHECK(str(tk.data(), "subject") == "Halo, pesanan saya belum sampai");
  CHECK(str(tk.data(), "requesterPhone") == customer);
  CHECK(str(tk.data(), "requesterName") == "Budi Santoso");
  CHECK(tk.data()["requesterEmail"].IsNull());

  // A photo-only message: readable text and the file, fetched with the account's credentials.
  auto sid2 = unique_sid("MM");
  auto fields = twilio_text(t, customer, sid2, "");
  std::string media_url = twilio().base() + "/2010-04-01/Accounts/" + t.account_sid + "/Messages/" + sid2 +
                          "/Media/ME" + loket::core::to_hex(loket::core::random_bytes(16));
  fields.insert(fields.end(), {{"MediaContentType0", "image/jpeg"}, {"MediaUrl0", media_url}});
  for (auto& [k, v] : fields)
    if (k == "NumMedia") v = "1";
  // A second message whose media URL points elsewhere: stored, attachment unavailable.
  auto sid3 = unique_sid("MM");
  auto evil = twilio_text(t, customer, sid3, "see attached");
  evil.insert(evil.end(),
              {{"MediaContentType0", "image/jpeg"},
               {"MediaUrl0", "http://127.0.0.2:9/2010-04-01/Accounts/" + t.account_sid + "/Messages/x/Media/y"}});
  for (auto& [k, v] : evil)
    if (k == "NumMedia") v = "1";
  REQUIRE(post_twilio(t, fields).status == 200);
  REQUIRE(post_twilio(t, evil).status == 200);
  REQUIRE(wait_until([&] { return ticket_messages(key, ticket).data().Size() == 3; }, 15s));
  auto ms = ticket_messages(key, ticket);
  const auto& photo = ms.data()[1];
  CHECK(str(photo, "body") == "[attachment: photo-1.jpg]");
  REQUIRE(photo["attachments"].Size() == 1);
  CHECK(str(photo["attachments"][0], "status") == "stored");
  auto file = http_get(stack().api_url() + "/api/v1/attachments/" + str(photo["attachments"][0], "id"), key);
  CHECK(file.status == 200);
  CHECK(file.body == twilio().media_bytes);
  const auto media_calls = twilio().calls("/Media/");
  REQUIRE_FALSE(media_calls.empty());
  CHECK(media_calls.back().auth == "Basic " + loket::core::base64(t.account_sid + ":" + t.token));
  CHECK(str(ms.data()[2], "body") == "see attached");
  CHECK(str(ms.data()[2]["attachments"][0], "status") == "unavailable");

  // The agent replies from the connected number through the workspace's Twilio account.
  auto before = twilio().calls("/Messages.json").size();
  auto reply_id = agent_reply(key, ticket, "Hai Budi, kami cek sekarang.");
  CHECK(settled_delivery(key, ticket, reply_id).first == "sent");
  auto sends = twilio().calls("/Messages.json");
  REQUIRE(sends.size() == before + 1);
  auto form = loket::http::parse_query(sends.back().body);
  CHECK(form.find("From")->second == "whatsapp:" + t.number);
  CHECK(form.find("To")->second == "whatsapp:" + customer);
  CHECK(form.find("Body")->second == "Hai Budi, kami cek sekarang.");
  CHECK(form.find("StatusCallback")->second == t.webhook_url);
  // Twilio reports later that the message could not be delivered: the agent sees why.
  const std::string sent_sid = sends.back().result;
  auto callback = post_twilio(t, {{"SmsSid", sent_sid},
                                  {"SmsStatus", "undelivered"},
                                  {"MessageStatus", "undelivered"},
                                  {"To", "whatsapp:" + customer},
                                  {"MessageSid", sent_sid},
                                  {"AccountSid", t.account_sid},
                                  {"ErrorCode", "63016"},
                                  {"From", "whatsapp:" + t.number},
                                  {"ApiVersion", "2010-04-01"}});
  REQUIRE(callback.status == 200);
  REQUIRE(wait_until([&] { return settled_delivery(key, ticket, reply_id).first == "failed"; }, 15s));
  CHECK(settled_delivery(key, ticket, reply_id).second.find("Twilio error 63016") == 0);
  CHECK(str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "status") == "pending");
  // Internal notes never leave.
  auto note = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"VIP customer","internal":true})");
  REQUIRE(note.status == 201);

  // Resolved keeps the thread (the follow-up reopens it); closed ends it.
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"resolved"})").status == 200);
  REQUIRE(post_twilio(t, twilio_text(t, customer, unique_sid("SM"), "masih belum sampai")).status == 200);
  REQUIRE(
      wait_until([&] { return str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "status") == "open"; }, 15s));
  CHECK(tickets_of(key, customer).size() == 1);
  CHECK(twilio().calls("/Messages.json").size() == before + 1);  // the note was not sent
  REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"closed"})").status == 200);
  REQUIRE(post_twilio(t, twilio_text(t, customer, unique_sid("SM"), "")).status == 200);  // empty: dropped
  REQUIRE(post_twilio(t, twilio_text(t, customer, unique_sid("SM"), "pesanan baru")).status == 200);
  REQUIRE(wait_until([&] { return tickets_of(key, customer).size() == 2; }, 15s));
  CHECK(str(api("GET", "/api/v1/tickets/" + tickets_of(key, customer)[0], key).data(), "subject") == "pesanan baru");
}

TEST_CASE("Twilio: a reply outside the 24-hour window fails once with Twilio's reason", "[whatsapp]") {
  auto [account, key] = new_workspace("WA window");
  auto t = connect_twilio(key, unique_number());
  const std::string customer = unique_number();
  REQUIRE(post_twilio(t, twilio_text(t, customer, unique_sid("SM"), "hello from last week")).status == 200);
  REQUIRE(wait_until([&] { return tickets_of(key, customer).size() == 1; }, 15s));
  std::string ticket = tickets_of(key, customer)[0];
  twilio().close_window(customer);
  auto before = twilio().calls("/Messages.json").size();
  auto reply_id = agent_reply(key, ticket, "Sorry for the wait!");
  auto [status, error] = settled_delivery(key, ticket, reply_id);
  CHECK(status == "failed");
  CHECK(error.find("63016") != std::string::npos);
  CHECK(error.find("outside the allowed window") != std::string::npos);
  std::this_thread::sleep_for(1s);
  CHECK(twilio().calls("/Messages.json").size() == before + 1);  // never retried
  CHECK(sql_number("SELECT delivery_attempts FROM messages WHERE id = '" + reply_id + "'") == 1);
}

TEST_CASE("Cloud API: handshake, signatures, dedup of Meta's retries, media and replies", "[whatsapp]") {
  auto [account, key] = new_workspace("WA Cloud");
  const std::string number = unique_number();
  connect_cloud(key, number, "app-secret-1", 400, "EAAG-bad-token");
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE number = '" + number + "'") == 0);
  auto c = connect_cloud(key, number, "app-secret-1");
  CHECK(c.verify_token.rfind("wsv_", 0) == 0);

  // Meta's verification handshake.
  const std::string hook = stack().ingress_url() + "/api/v1/webhooks/whatsapp-cloud?hub.mode=subscribe&hub.challenge=";
  auto hs = http_get(hook + "1158201444&hub.verify_token=" + loket::http::percent_encode(c.verify_token));
  CHECK(hs.status == 200);
  CHECK(hs.body == "1158201444");
  CHECK(http_get(hook + "1&hub.verify_token=wrong-token").status == 403);
  CHECK(http_get(hook + "1&hub.verify_token=").status == 403);
  // Reconnecting without a verify token keeps the one Meta already has.
  CHECK(connect_cloud(key, number, "app-secret-1", 200).verify_token == c.verify_token);

  const std::string customer = unique_number();
  const std::string wamid = "wamid." + loket::core::to_hex(loket::core::random_bytes(20));
  auto body = cloud_text(c, customer, wamid, "Where is my order?\nIt is late");
  CHECK(post_cloud(body, "").status == 403);                // unsigned, but a secret is stored
  CHECK(post_cloud(body, "another-secret").status == 403);  // forged
  for (int i = 0; i < 3; ++i) REQUIRE(post_cloud(body, c.app_secret).status == 200);  // Meta retries
  REQUIRE(wait_until([&] { return tickets_of(key, customer).size() == 1; }, 15s));
  std::string ticket = tickets_of(key, customer)[0];
  auto tk = api("GET", "/api/v1/tickets/" + ticket, key);
  CHECK(str(tk.data(), "subject") == "Where is my order?");
  CHECK(str(tk.data(), "requesterName") == "Anna");

  // A status receipt is accepted and ignored; an image is fetched through the Graph media API.
  std::string status_body =
      R"({"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":")" +
      number.substr(1) + R"(","phone_number_id":")" + c.phone_number_id +
      R"("},"statuses":[{"id":"wamid.x","status":"delivered","timestamp":"1767225601","recipient_id":")" +
      customer.substr(1) + R"("}]},"field":"messages"}]}]})";
  REQUIRE(post_cloud(status_body, c.app_secret).status == 200);
  std::string image = body;
  image.replace(image.find(wamid), wamid.size(), wamid + "IMG");
  image.replace(image.find(R"("type":"text","text":{"body":"Where is my order?\nIt is late"})"),
                std::string(R"("type":"text","text":{"body":"Where is my order?\nIt is late"})").size(),
                R"("type":"image","image":{"mime_type":"image/png","sha256":"x","id":"media123"})");
  REQUIRE(post_cloud(image, c.app_secret).status == 200);
  REQUIRE(wait_until([&] { return ticket_messages(key, ticket).data().Size() == 2; }, 15s));
  auto ms = ticket_messages(key, ticket);
  CHECK(str(ms.data()[1], "body") == "[attachment: photo-1.png]");
  auto file = http_get(stack().api_url() + "/api/v1/attachments/" + str(ms.data()[1]["attachments"][0], "id"), key);
  CHECK(file.body == graph().media_bytes);
  CHECK(graph().calls("/lookaside/media123").back().auth == "EAAG-good-token");

  // The reply goes to graph /{phone-number-id}/messages with the workspace's token.
  auto reply_id = agent_reply(key, ticket, "It ships today.");
  CHECK(settled_delivery(key, ticket, reply_id).first == "sent");
  auto sent = graph().calls("/" + c.phone_number_id + "/messages").back();
  CHECK(sent.auth == "EAAG-good-token");
  CHECK(sent.body.find("\"to\":\"" + customer.substr(1) + "\"") != std::string::npos);
  CHECK(sent.body.find("It ships today.") != std::string::npos);
  // Meta accepts the send, then reports the failure in a status notification.
  std::string failed_status = status_body;
  failed_status.replace(failed_status.find("wamid.x"), 7, sent.result);
  failed_status.replace(
      failed_status.find(R"("status":"delivered")"), 20,
      R"("status":"failed","errors":[{"code":131047,"title":"Re-engagement message","message":"Re-engagement message","error_data":{"details":"Message failed to send because more than 24 hours have passed since the customer last replied to this number."}}])");
  REQUIRE(post_cloud(failed_status, c.app_secret).status == 200);
  REQUIRE(wait_until([&] { return settled_delivery(key, ticket, reply_id).first == "failed"; }, 15s));
  CHECK(settled_delivery(key, ticket, reply_id).second.find("(#131047) Re-engagement message: Message failed") == 0);

  // Outside the 24-hour window: failed with Meta's reason, no retry.
  graph().close_window(customer.substr(1));
  auto late = agent_reply(key, ticket, "Anything else?");
  auto [status, error] = settled_delivery(key, ticket, late);
  CHECK(status == "failed");
  CHECK(error.find("131047") != std::string::npos);
}

TEST_CASE("Cloud API without an app secret, offsite media, and the most recent integration replies", "[whatsapp]") {
  auto [account, key] = new_workspace("WA both");
  auto t = connect_twilio(key, unique_number());
  auto c = connect_cloud(key, unique_number(), "");  // no app secret: routing + handshake only
  const std::string customer = unique_number();
  auto body = cloud_text(c, customer, "wamid." + loket::core::to_hex(loket::core::random_bytes(20)), "hello");
  body.replace(
      body.find(R"("type":"text","text":{"body":"hello")"),
      std::string(R"("type":"text","text":{"body":"hello"})").size(),
      R"("type":"document","document":{"filename":"invoice.pdf","mime_type":"application/pdf","id":"offsite"})");
  REQUIRE(post_cloud(body, "").status == 200);
  REQUIRE(wait_until([&] { return tickets_of(key, customer).size() == 1; }, 15s));
  std::string ticket = tickets_of(key, customer)[0];
  auto ms = ticket_messages(key, ticket);
  CHECK(str(ms.data()[0], "body") == "[attachment: invoice.pdf]");
  CHECK(str(ms.data()[0]["attachments"][0], "status") == "unavailable");  // its URL is on no allowed host

  // Cloud was connected last: the reply goes through Graph.
  auto graph_before = graph().calls("/messages").size();
  auto twilio_before = twilio().calls("/Messages.json").size();
  CHECK(settled_delivery(key, ticket, agent_reply(key, ticket, "via cloud")).first == "sent");
  CHECK(graph().calls("/messages").size() == graph_before + 1);
  // Reconnecting Twilio makes it the most recent: the next reply goes through Twilio.
  connect_twilio(key, t.number, "tw-token-1", 200);
  CHECK(settled_delivery(key, ticket, agent_reply(key, ticket, "via twilio")).first == "sent");
  CHECK(twilio().calls("/Messages.json").size() == twilio_before + 1);
  CHECK(loket::http::parse_query(twilio().calls("/Messages.json").back().body).find("To")->second ==
        "whatsapp:" + customer);

  // A ticket logged through the API with a phone and an email gets WhatsApp delivery too.
  const std::string phone = unique_number();
  auto created = api("POST", "/api/v1/tickets", key,
                     R"({"subject":"Logged by phone","channel":"whatsapp","requesterPhone":")" + phone +
                         R"(","requesterEmail":"budi@example.test","requesterName":"Budi","body":"called in"})");
  INFO(created.raw);
  REQUIRE(created.status == 201);
  std::string logged = str(created.data(), "id");
  CHECK(settled_delivery(key, logged, agent_reply(key, logged, "We got your call")).first == "sent");
  CHECK(loket::http::parse_query(twilio().calls("/Messages.json").back().body).find("To")->second ==
        "whatsapp:" + phone);

  // Disconnecting both: replies fail with a reason the agent can act on.
  REQUIRE(api("DELETE", "/api/v1/channels/" + t.id, key).status == 200);
  REQUIRE(api("DELETE", "/api/v1/channels/" + c.id, key).status == 200);
  auto [status, error] = settled_delivery(key, logged, agent_reply(key, logged, "hello?"));
  CHECK(status == "failed");
  CHECK(error.find("no WhatsApp number is connected") != std::string::npos);
}

TEST_CASE("Cloud API: unsigned mode is shown, warned about, and a workspace can forbid it", "[whatsapp]") {
  auto [account, key, session] = new_signed_in_workspace("Signed only");
  CHECK_FALSE(api("GET", "/api/v1/workspace", session).data()["requireSignedWebhooks"].GetBool());

  // Without an app secret: accepted (the seed's mode), but the integration says so and the
  // connect response warns.
  auto connect = [&](const std::string& number, const std::string& pnid, const std::string& extra) {
    return api("POST", "/api/v1/channels", key,
               R"({"provider":"whatsapp_cloud","accessToken":"EAAG-good-token","phoneNumberId":")" + pnid +
                   R"(","displayNumber":")" + number + "\"" + extra + "}");
  };
  auto new_pnid = [] { return std::to_string(200000000000000 + std::stoull(unique_number().substr(6))); };
  const std::string number = unique_number(), pnid = new_pnid();
  auto r = connect(number, pnid, "");
  INFO(r.raw);
  REQUIRE(r.status == 201);
  const std::string unsigned_id = str(r.data(), "id");
  CHECK_FALSE(r.data()["signatureVerified"].GetBool());
  CHECK(str(r.data(), "warning").find("appSecret") != std::string::npos);
  auto listed = api("GET", "/api/v1/channels", key);
  REQUIRE(listed.data()["integrations"].Size() == 1);
  CHECK_FALSE(listed.data()["integrations"][0]["signatureVerified"].GetBool());

  // Requiring signed webhooks while an unsigned number is connected: refused, naming it.
  auto refused = api("PATCH", "/api/v1/workspace", session, R"({"requireSignedWebhooks":true})");
  CHECK(refused.status == 409);
  CHECK(refused.raw.find(unsigned_id) != std::string::npos);
  CHECK(api("PATCH", "/api/v1/workspace", session, R"({"requireSignedWebhooks":"yes"})").status == 400);
  CHECK(api("PATCH", "/api/v1/workspace", key, R"({"requireSignedWebhooks":true})").status == 403);  // owners only

  // Reconnected with its app secret: verified, no warning; now the workspace can require it.
  auto again = connect(number, pnid, R"(,"appSecret":"app-secret-2")");
  REQUIRE(again.status == 200);
  CHECK(again.data()["signatureVerified"].GetBool());
  CHECK_FALSE(again.data().HasMember("warning"));
  auto set = api("PATCH", "/api/v1/workspace", session, R"({"requireSignedWebhooks":true})");
  REQUIRE(set.status == 200);
  CHECK(set.data()["requireSignedWebhooks"].GetBool());

  // From now on a number without an app secret cannot be connected, nor reconnected without one.
  auto bare = connect(unique_number(), new_pnid(), "");
  CHECK(bare.status == 400);
  CHECK(bare.raw.find("requireSignedWebhooks") != std::string::npos);
  CHECK(connect(number, pnid, "").status == 400);
  CHECK(api("GET", "/api/v1/channels", key).data()["integrations"].Size() == 1);  // nothing stored
  // Channels whose webhooks are always authenticated are unaffected.
  CHECK(connect_twilio(key, unique_number()).id.rfind("int_", 0) == 0);
  // Turning the requirement off again is always possible.
  CHECK_FALSE(api("PATCH", "/api/v1/workspace", session, R"({"requireSignedWebhooks":false})")
                  .data()["requireSignedWebhooks"]
                  .GetBool());
}

TEST_CASE("Cloud API: a text with NUL and ill-formed UTF-8 is stored cleaned and holds up nothing", "[whatsapp]") {
  auto [account_a, key_a] = new_workspace("Poison A");
  auto [account_b, key_b] = new_workspace("Poison B");
  auto a = connect_cloud(key_a, unique_number(), "");
  auto b = connect_cloud(key_b, unique_number(), "");
  const std::string customer = unique_number();
  auto wamid = [] { return "wamid." + loket::core::to_hex(loket::core::random_bytes(20)); };
  // JSON \u0000 (PostgreSQL text cannot hold NUL) and a lone 0xFF byte (not UTF-8).
  std::string poison = cloud_text(a, customer, wamid(), "order");
  poison.replace(poison.find(R"("body":"order")"), 14, "\"body\":\"or\\u0000der \xff!\"");
  REQUIRE(post_cloud(poison, "").status == 200);
  // Then other workspaces' customers (on every partition, 1 - (3/4)^12 ≈ 97% sure to share
  // the poison's) and the same customer again (certainly on its partition).
  std::vector<std::string> others;
  for (int i = 0; i < 12; ++i) {
    others.push_back(unique_number());
    REQUIRE(post_cloud(cloud_text(b, others.back(), wamid(), "normal " + std::to_string(i)), "").status == 200);
  }
  REQUIRE(post_cloud(cloud_text(a, customer, wamid(), "still there?"), "").status == 200);
  CHECK(wait_until(
      [&] {
        return sql_number("SELECT count(*) FROM messages WHERE workspace_id = '" + account_b + "'") == 12 &&
               sql_number("SELECT count(*) FROM messages WHERE workspace_id = '" + account_a + "'") == 2;
      },
      20s));
  auto tickets = tickets_of(key_a, customer);
  REQUIRE(tickets.size() == 1);
  auto ms = ticket_messages(key_a, tickets[0]);
  REQUIRE(ms.data().Size() == 2);
  CHECK(str(ms.data()[0], "body") == "order \xEF\xBF\xBD!");  // NUL removed, 0xFF replaced by U+FFFD
  CHECK(str(ms.data()[1], "body") == "still there?");
}

TEST_CASE("WhatsApp: a reply after the 24-hour window is refused up front; email is offered instead", "[whatsapp]") {
  auto [account, key] = new_workspace("WA window");
  auto t = connect_twilio(key, unique_number());
  const std::string customer = unique_number();
  REQUIRE(post_twilio(t, twilio_text(t, customer, unique_sid("SM"), "Pesanan saya?")).status == 200);
  REQUIRE(wait_until([&] { return tickets_of(key, customer).size() == 1; }, 15s));
  auto ticket = tickets_of(key, customer)[0];
  auto tk = api("GET", "/api/v1/tickets/" + ticket, key);
  REQUIRE(tk.data().HasMember("replyWindow"));
  CHECK(tk.data()["replyWindow"]["tag"].IsNull());

  // 25 hours after the customer's message (the clock moved in the database).
  const std::string address = unique_email("wa-customer");
  sql_exec("UPDATE tickets SET customer_message_at = now() - interval '25 hours', requester_email = '" + address +
           "' WHERE id = '" + ticket + "'");
  auto sends = twilio().calls("/Messages.json").size();
  auto refused = api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Maaf terlambat"})");
  CHECK(refused.status == 409);
  CHECK(refused.raw.find("REPLY_WINDOW_CLOSED") != std::string::npos);
  CHECK(refused.raw.find(address) != std::string::npos);
  CHECK(refused.raw.find("HUMAN_AGENT") == std::string::npos);
  CHECK(refused.raw.find("message template") != std::string::npos);
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"x","tag":"HUMAN_AGENT"})").status ==
        400);
  // By email instead: sent to the requester's address, nothing on WhatsApp.
  auto by_email =
      api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Maaf terlambat","via":"email"})");
  REQUIRE(by_email.status == 201);
  CHECK(settled_delivery(key, ticket, str(by_email.data(), "id")).first == "sent");
  // The reply, once. (Outbound may also send the "we received your request" email when it reads
  // ticket.created after the address was set above: a second email, not a second reply.)
  auto emails = resend().emails_to(address);
  CHECK(std::count_if(emails.begin(), emails.end(),
                      [](const std::string& e) { return e.find("Maaf terlambat") != std::string::npos; }) == 1);
  CHECK(twilio().calls("/Messages.json").size() == sends);
}

namespace {
// The approved templates GET /api/v1/channels/{id}/templates lists, by name.
std::map<std::string, std::pair<std::string, std::vector<std::string>>> listed_templates(const std::string& key,
                                                                                         const std::string& channel) {
  auto r = api("GET", "/api/v1/channels/" + channel + "/templates", key);
  INFO(r.raw);
  REQUIRE(r.status == 200);
  std::map<std::string, std::pair<std::string, std::vector<std::string>>> out;
  for (const auto& t : r.data()["templates"].GetArray()) {
    std::vector<std::string> vars;
    for (const auto& v : t["variables"].GetArray()) vars.push_back(v.GetString());
    out[t["name"].GetString()] = {t["text"].GetString(), vars};
  }
  return out;
}

// The last message of `ticket` (its body and author).
std::pair<std::string, std::string> last_message(const std::string& key, const std::string& ticket) {
  auto msgs = ticket_messages(key, ticket);
  const auto& list = msgs.data().GetArray();
  REQUIRE(list.Size() > 0);
  const auto& m = list[list.Size() - 1];
  return {str(m, "body"), str(m, "authorType")};
}
}  // namespace

TEST_CASE("Twilio: after the window an agent sends an approved Content template, rendered on the ticket",
          "[whatsapp]") {
  auto [account, key] = new_workspace("WA templates");
  auto t = connect_twilio(key, unique_number());
  const std::string customer = unique_number();
  REQUIRE(post_twilio(t, twilio_text(t, customer, unique_sid("SM"), "Di mana paket saya?")).status == 200);
  REQUIRE(wait_until([&] { return tickets_of(key, customer).size() == 1; }, 15s));
  const std::string ticket = tickets_of(key, customer)[0];
  sql_exec("UPDATE tickets SET customer_message_at = now() - interval '30 hours' WHERE id = '" + ticket + "'");
  twilio().close_window(customer);

  // Both pages of the Content API; the unsubmitted draft is not offered.
  auto listed = listed_templates(key, t.id);
  REQUIRE(listed.size() == 2);
  CHECK(listed["order_update"].first == "Hi {{1}}, your order {{2}} has shipped.");
  CHECK(listed["order_update"].second == std::vector<std::string>{"1", "2"});
  CHECK(listed["menu"].second == std::vector<std::string>{"1"});
  CHECK(api("GET", "/api/v1/channels/int_nope/templates", key).status == 404);
  auto [other_account, other_key] = new_workspace("WA templates other");
  CHECK(api("GET", "/api/v1/channels/" + t.id + "/templates", other_key).status == 404);  // not theirs

  const std::string path = "/api/v1/tickets/" + ticket + "/messages";
  auto sends = twilio().calls("/Messages.json").size();
  // Refused up front, nothing stored or sent: wrong count, a newline, unknown, both body and template.
  const std::string order = std::string(R"({"template":{"id":")") + FakeTwilio::kContentOrderUpdate + "\"";
  CHECK(api("POST", path, key, order + R"(,"variables":["Ana"]}})").status == 400);
  CHECK(api("POST", path, key, order + R"(,"variables":["Ana","#1\n042"]}})").status == 400);
  CHECK(api("POST", path, key, R"({"template":{"id":"HX00000000000000000000000000000000","variables":[]}})").status ==
        400);
  CHECK(api("POST", path, key, R"({"body":"hi",)" + order.substr(1) + R"(,"variables":["Ana","#1"]}})").status == 400);
  CHECK(api("POST", path, key, R"({"internal":true,)" + order.substr(1) + R"(,"variables":["Ana","#1"]}})").status ==
        400);
  CHECK(api("POST", path, key, R"({"template":"order_update"})").status == 400);
  auto web = api("POST", "/api/v1/tickets", key, R"({"body":"Order 1001?","requesterName":"Ann"})");
  REQUIRE(web.status == 201);
  auto not_whatsapp = api("POST", "/api/v1/tickets/" + str(web.data(), "id") + "/messages", key,
                          order + R"(,"variables":["Ana","#1"]}})");
  CHECK(not_whatsapp.status == 400);
  CHECK(not_whatsapp.raw.find("have no message templates") != std::string::npos);
  CHECK(api("POST", path, key, R"({"body":"Maaf terlambat"})").status == 409);  // free text is still refused

  auto sent = api("POST", path, key, order + R"(,"variables":["Budi","#1042"]}})");
  INFO(sent.raw);
  REQUIRE(sent.status == 201);
  CHECK(str(sent.data(), "body") == "Hi Budi, your order #1042 has shipped.");
  CHECK(settled_delivery(key, ticket, str(sent.data(), "id")).first == "sent");
  auto calls = twilio().calls("/Messages.json");
  REQUIRE(calls.size() == sends + 1);
  auto form = loket::http::parse_query(calls.back().body);
  CHECK(form.find("ContentSid")->second == FakeTwilio::kContentOrderUpdate);
  CHECK(form.find("ContentVariables")->second == R"({"1":"Budi","2":"#1042"})");
  CHECK(form.count("Body") == 0);
  CHECK(form.find("To")->second == "whatsapp:" + customer);
  CHECK(last_message(key, ticket) ==
        std::pair<std::string, std::string>{"Hi Budi, your order #1042 has shipped.", "agent"});

  // By name and language too (Twilio's language code as it lists it).
  auto menu = api("POST", path, key, R"({"template":{"name":"menu","language":"es","variables":["Budi"]}})");
  REQUIRE(menu.status == 201);
  CHECK(str(menu.data(), "body") == "Hola Budi, ¿en qué te ayudamos?");
  CHECK(settled_delivery(key, ticket, str(menu.data(), "id")).first == "sent");
}

TEST_CASE("Cloud API: templates come from the WhatsApp Business Account; named variables are sent by name",
          "[whatsapp]") {
  auto [account, key] = new_workspace("WA Cloud templates");
  const std::string number = unique_number();
  auto c = connect_cloud(key, number, "app-secret-t");
  const std::string customer = unique_number();
  REQUIRE(post_cloud(cloud_text(c, customer, "wamid.T" + unique_sid(""), "Halo?"), c.app_secret).status == 200);
  REQUIRE(wait_until([&] { return tickets_of(key, customer).size() == 1; }, 15s));
  const std::string ticket = tickets_of(key, customer)[0];
  const std::string path = "/api/v1/tickets/" + ticket + "/messages";
  const std::string follow_up =
      R"({"template":{"name":"follow_up","language":"id","variables":["Anna","pengiriman"]}})";

  // Connected without wabaId: listing (and so sending) says how to fix it.
  auto no_waba = api("GET", "/api/v1/channels/" + c.id + "/templates", key);
  CHECK(no_waba.status == 400);
  CHECK(no_waba.raw.find("wabaId") != std::string::npos);
  CHECK(api("POST", path, key, follow_up).status == 400);
  CHECK(api("POST", "/api/v1/channels", key,
            R"({"provider":"whatsapp_cloud","accessToken":"EAAG-good-token","phoneNumberId":")" + c.phone_number_id +
                R"(","displayNumber":")" + number + R"(","wabaId":"12ab"})")
            .status == 400);
  connect_cloud(key, number, "app-secret-t", 200, "EAAG-good-token", R"(,"wabaId":"102290129340398")");

  auto listed = listed_templates(key, c.id);  // two pages; pending and image-header templates left out
  REQUIRE(listed.size() == 2);
  CHECK(listed["order_shipped"].first ==
        "Your order is on its way\n\nHi {{1}}, order {{2}} has shipped. Questions? Just reply.\n\nAcme Shop");
  CHECK(listed["follow_up"].second == std::vector<std::string>{"customer_name", "topic"});
  CHECK(graph().calls("/102290129340398/message_templates").size() == 2);  // page 2 is served for `after` only

  // Inside the window a template may go too; the customer reads (and the ticket shows) its text.
  auto sends = graph().calls("/messages").size();
  auto sent = api("POST", path, key, follow_up);
  INFO(sent.raw);
  REQUIRE(sent.status == 201);
  CHECK(str(sent.data(), "body") == "Hai Anna, apakah masalah pengiriman sudah beres? Balas kapan saja.");
  CHECK(settled_delivery(key, ticket, str(sent.data(), "id")).first == "sent");
  auto calls = graph().calls("/" + c.phone_number_id + "/messages");
  REQUIRE(graph().calls("/messages").size() == sends + 1);
  rapidjson::Document d;
  d.Parse(calls.back().body.c_str());
  REQUIRE(d.IsObject());
  CHECK(std::string(d["type"].GetString()) == "template");
  CHECK(std::string(d["to"].GetString()) == customer.substr(1));
  const auto& tpl = d["template"];
  CHECK(std::string(tpl["name"].GetString()) == "follow_up");
  CHECK(std::string(tpl["language"]["code"].GetString()) == "id");
  const auto& params = tpl["components"][0]["parameters"];
  REQUIRE(params.Size() == 2);
  CHECK(std::string(params[0]["parameter_name"].GetString()) == "customer_name");
  CHECK(std::string(params[0]["text"].GetString()) == "Anna");
  CHECK(std::string(params[1]["parameter_name"].GetString()) == "topic");

  // After the window: positional parameters, no parameter names.
  sql_exec("UPDATE tickets SET customer_message_at = now() - interval '2 days' WHERE id = '" + ticket + "'");
  graph().close_window(customer.substr(1));
  auto late = api("POST", path, key, R"({"template":{"id":"1190416925457735","variables":["Anna","#77"]}})");
  REQUIRE(late.status == 201);
  CHECK(settled_delivery(key, ticket, str(late.data(), "id")).first == "sent");
  d.Parse(graph().calls("/" + c.phone_number_id + "/messages").back().body.c_str());
  CHECK(std::string(d["template"]["name"].GetString()) == "order_shipped");
  CHECK(std::string(d["template"]["language"]["code"].GetString()) == "en_US");
  CHECK_FALSE(d["template"]["components"][0]["parameters"][0].HasMember("parameter_name"));
  CHECK(std::string(d["template"]["components"][0]["parameters"][1]["text"].GetString()) == "#77");
}
