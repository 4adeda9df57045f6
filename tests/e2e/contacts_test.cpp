// Contacts through the real services (issue 20): the writer and the api link every requester to
// a contact by address, phone number and channel identity; search, read, annotate, merge; a reply
// on another of the contact's channels, chosen explicitly.
#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/store/contacts.hpp"
#include "loket/store/tickets.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
std::string created(const Json& r) {
  INFO(r.raw);
  REQUIRE(r.status == 201);
  return str(r.data(), "id");
}

std::string contact_of(const std::string& key, const std::string& ticket) {
  auto t = api("GET", "/api/v1/tickets/" + ticket, key);
  INFO(t.raw);
  REQUIRE(t.status == 200);
  return t.data()["contactId"].IsString() ? str(t.data(), "contactId") : "";
}

std::vector<std::string> contact_ids(const std::string& key, const std::string& query) {
  auto r = api("GET", "/api/v1/contacts" + query, key);
  INFO(r.raw);
  REQUIRE(r.status == 200);
  std::vector<std::string> out;
  for (const auto& c : r.data()["items"].GetArray()) out.push_back(c["id"].GetString());
  return out;
}

// The newest ticket matching `query` once there is one (a channel's message reaching the writer).
std::string newest_ticket(const std::string& key, const std::string& query) {
  std::string id;
  REQUIRE(wait_until(
      [&] {
        auto ids = ticket_ids(key, query);
        if (!ids.empty()) id = ids[0];
        return !ids.empty();
      },
      15s));
  return id;
}
}  // namespace

TEST_CASE("contacts: requesters are linked by address, phone and channel; merged; replied to elsewhere", "[contacts]") {
  auto [acc, key] = new_workspace("Contact Co");
  const std::string email = unique_email("sari"), phone = "+6281" + random_digits(9);

  // One address in any case is one contact; a new address is another.
  const std::string t1 =
      created(api("POST", "/api/v1/tickets", key,
                  R"({"body":"Invoice?","requesterName":"Sari Dewi","requesterEmail":")" + email + "\"}"));
  std::string upper = email;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const std::string t2 =
      created(api("POST", "/api/v1/tickets", key, R"({"body":"And the refund?","requesterEmail":")" + upper + "\"}"));
  const std::string sari = contact_of(key, t1);
  REQUIRE(sari.rfind("con_", 0) == 0);
  CHECK(contact_of(key, t2) == sari);
  // A phone number seen with the address joins the same contact; seen alone later, it finds it.
  const std::string t3 =
      created(api("POST", "/api/v1/tickets", key,
                  R"({"body":"Called","requesterEmail":")" + email + R"(","requesterPhone":")" + phone + "\"}"));
  const std::string t4 =
      created(api("POST", "/api/v1/tickets", key, R"({"body":"Called again","requesterPhone":")" + phone + "\"}"));
  CHECK(contact_of(key, t3) == sari);
  CHECK(contact_of(key, t4) == sari);
  // A ticket without any identity has no contact.
  CHECK(contact_of(key, created(api("POST", "/api/v1/tickets", key, R"({"body":"Anonymous"})"))).empty());

  auto c = api("GET", "/api/v1/contacts/" + sari, key);
  INFO(c.raw);
  REQUIRE(c.status == 200);
  CHECK(str(c.data(), "name") == "Sari Dewi");
  REQUIRE(c.data()["emails"].Size() == 1);
  CHECK(std::string(c.data()["emails"][0].GetString()) == email);
  REQUIRE(c.data()["phoneNumbers"].Size() == 1);
  CHECK(std::string(c.data()["phoneNumbers"][0].GetString()) == phone);
  CHECK(c.data()["ticketCount"].GetInt() == 4);
  CHECK(c.data()["tickets"].Size() == 4);
  CHECK(c.data()["mergedIntoId"].IsNull());
  CHECK(api("GET", "/api/v1/tickets?contactId=" + sari, key).data()["items"].Size() == 4);

  // A Telegram customer: the writer links their chat to a contact of its own.
  auto [bot, secret] = connect_bot(key, bot_token("contactbot"));
  const long chat = std::stol(random_digits(9));
  REQUIRE(post_update(bot, secret, text_update(std::stol(random_digits(8)), chat, 1, "Halo, ini Sari", "Sari", "D"))
              .status == 200);
  const std::string tg_ticket = newest_ticket(key, "?channel=telegram");
  const std::string tg = contact_of(key, tg_ticket);
  REQUIRE(!tg.empty());
  CHECK(tg != sari);
  auto tgc = api("GET", "/api/v1/contacts/" + tg, key);
  REQUIRE(tgc.data()["channels"].Size() == 1);
  CHECK(str(tgc.data()["channels"][0], "channel") == "telegram");
  CHECK(str(tgc.data()["channels"][0], "threadId") == std::to_string(chat));
  CHECK(str(tgc.data()["channels"][0], "integrationId") == bot);

  // Search by name (a word's start, any case), address prefix, phone as typed; pages.
  CHECK(contact_ids(key, "?q=dewi") == std::vector<std::string>{sari});
  CHECK(contact_ids(key, "?q=" + email.substr(0, 6)) == std::vector<std::string>{sari});
  CHECK(contact_ids(key, "?q=%2B62%2081" + phone.substr(5, 3)) == std::vector<std::string>{sari});
  CHECK(contact_ids(key, "?q=nobody-like-this").empty());
  CHECK(contact_ids(key, "?q=%25").empty());  // LIKE's wildcard is a character here
  auto page = api("GET", "/api/v1/contacts?limit=1", key);
  REQUIRE(page.data()["items"].Size() == 1);
  REQUIRE(page.data()["nextCursor"].IsString());
  auto next = contact_ids(key, "?limit=1&cursor=" + str(page.data(), "nextCursor"));
  REQUIRE(next.size() == 1);
  CHECK(next[0] != str(page.data()["items"][0], "id"));
  CHECK(api("GET", "/api/v1/contacts?limit=0", key).status == 400);
  CHECK(api("GET", "/api/v1/contacts?q=" + std::string(101, 'a'), key).status == 400);

  // Notes and custom attributes; hostile shapes refused, nothing changed.
  auto patched = api("PATCH", "/api/v1/contacts/" + sari, key,
                     R"({"notes":"VIP since 2024","customAttributes":{"plan":"gold","seats":12,"trial":false}})");
  INFO(patched.raw);
  REQUIRE(patched.status == 200);
  CHECK(str(patched.data()["customAttributes"], "plan") == "gold");
  CHECK(patched.data()["customAttributes"]["seats"].GetInt() == 12);
  for (const char* bad : {R"({"customAttributes":[1]})", R"({"customAttributes":{"x":{"nested":1}}})",
                          R"({"customAttributes":{"":1}})", R"({"notes":7})", R"({"name":5})"})
    CHECK(api("PATCH", "/api/v1/contacts/" + sari, key, bad).status == 400);
  std::string many = "{\"customAttributes\":{";
  for (int i = 0; i < 51; ++i) many += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":1";
  CHECK(api("PATCH", "/api/v1/contacts/" + sari, key, many + "}}").status == 400);
  CHECK(
      api("PATCH", "/api/v1/contacts/" + sari, key, R"({"customAttributes":{"bio":")" + std::string(1001, 'x') + "\"}}")
          .status == 400);
  auto removed = api("PATCH", "/api/v1/contacts/" + sari, key, R"({"customAttributes":{"trial":null}})");
  CHECK_FALSE(removed.data()["customAttributes"].HasMember("trial"));
  CHECK(removed.data()["customAttributes"]["seats"].GetInt() == 12);
  CHECK(str(removed.data(), "notes") == "VIP since 2024");

  // Replying on another channel of the contact is refused while it has none there.
  auto no_route = api("POST", "/api/v1/tickets/" + t1 + "/messages", key, R"({"body":"x","via":"telegram"})");
  CHECK(no_route.status == 400);
  CHECK(no_route.raw.find("Telegram") != std::string::npos);
  CHECK(api("POST", "/api/v1/tickets/" + t1 + "/messages", key, R"({"body":"x","via":"pigeon"})").status == 400);
  CHECK(api("POST", "/api/v1/tickets/" + t1 + "/messages", key, R"({"body":"x","via":"chat"})").status == 400);
  CHECK(api("POST", "/api/v1/tickets/" + tg_ticket + "/messages", key, R"({"body":"x","via":"email"})").status == 400);
  CHECK(api("POST", "/api/v1/tickets/" + t1 + "/messages", key, R"({"body":"x","via":"telegram","internal":true})")
            .status == 400);

  // Merge: refused shapes first.
  const std::string merge = "/api/v1/contacts/" + sari + "/merge";
  CHECK(api("POST", merge, key, R"({"sourceContactIds":[]})").status == 400);
  CHECK(api("POST", merge, key, R"({"sourceContactIds":[")" + sari + "\"]}").status == 400);
  CHECK(api("POST", merge, key, R"({"sourceContactIds":["con_nobody"]})").status == 400);
  std::string fifty_one = "{\"sourceContactIds\":[";
  for (int i = 0; i < 51; ++i) fifty_one += (i ? "," : "") + std::string("\"con_") + std::to_string(i) + "\"";
  CHECK(api("POST", merge, key, fifty_one + "]}").status == 400);
  auto [other_acc, other_key] = new_workspace("Other Contact Co");
  const std::string stranger =
      contact_of(other_key, created(api("POST", "/api/v1/tickets", other_key,
                                        R"({"body":"x","requesterEmail":")" + unique_email("stranger") + "\"}")));
  CHECK(api("POST", merge, key, R"({"sourceContactIds":[")" + stranger + "\"]}").status == 400);
  CHECK(api("GET", "/api/v1/contacts/" + stranger, other_key).data()["mergedIntoId"].IsNull());

  const std::string hook_path = "/hooks/contacts-" + random_digits(6);
  created(api("POST", "/api/v1/webhook-endpoints", key,
              R"({"url":")" + receiver().base() + hook_path + R"(","events":["ticket.updated"]})"));
  // The Telegram contact merged into Sari: identities and tickets move, the loser points on.
  auto merged = api("POST", merge, key, R"({"sourceContactIds":[")" + tg + "\"]}");
  INFO(merged.raw);
  REQUIRE(merged.status == 200);
  CHECK(merged.data()["ticketCount"].GetInt() == 5);
  CHECK(merged.data()["channels"].Size() == 1);
  CHECK(str(merged.data(), "notes") == "VIP since 2024");
  CHECK(contact_of(key, tg_ticket) == sari);
  auto loser = api("GET", "/api/v1/contacts/" + tg, key);
  REQUIRE(loser.status == 200);
  CHECK(str(loser.data(), "mergedIntoId") == sari);
  CHECK(loser.data()["channels"].Size() == 0);
  CHECK(api("PATCH", "/api/v1/contacts/" + tg, key, R"({"notes":"x"})").status == 409);
  CHECK(api("POST", merge, key, R"({"sourceContactIds":[")" + tg + "\"]}").status == 400);  // merged already
  auto listed = contact_ids(key, "");
  CHECK(std::find(listed.begin(), listed.end(), tg) == listed.end());
  CHECK(std::find(listed.begin(), listed.end(), sari) != listed.end());
  // The move is a ticket.updated event with the contact's change (an integrator's webhook sees it).
  CHECK(wait_until(
      [&] {
        for (const auto& call : receiver().received(hook_path))
          if (call.body.find(tg_ticket) != std::string::npos &&
              call.body.find(R"("contactId":{"from":")" + tg + R"(","to":")" + sari + "\"}") != std::string::npos)
            return true;
        return false;
      },
      15s));
  // The chat's next ticket lands on the survivor.
  REQUIRE(api("PATCH", "/api/v1/tickets/" + tg_ticket, key, R"({"status":"closed"})").status == 200);
  REQUIRE(
      post_update(bot, secret, text_update(std::stol(random_digits(8)), chat, 2, "Saya lagi", "Sari", "D")).status ==
      200);
  REQUIRE(wait_until([&] { return ticket_ids(key, "?channel=telegram").size() == 2; }, 15s));
  CHECK(contact_of(key, ticket_ids(key, "?channel=telegram")[0]) == sari);

  // Replies across channels, chosen explicitly: the email ticket answered on Telegram, the
  // Telegram ticket answered by email.
  auto sends = telegram().calls("sendMessage").size();
  auto on_telegram =
      api("POST", "/api/v1/tickets/" + t1 + "/messages", key, R"({"body":"Refund sent, Sari","via":"telegram"})");
  INFO(on_telegram.raw);
  REQUIRE(on_telegram.status == 201);
  CHECK(settled_delivery(key, t1, str(on_telegram.data(), "id")).first == "sent");
  REQUIRE(telegram().calls("sendMessage").size() == sends + 1);
  const auto sent = telegram().calls("sendMessage").back();
  CHECK(sent.body.find(std::to_string(chat)) != std::string::npos);
  CHECK(sent.body.find("Refund sent, Sari") != std::string::npos);
  auto by_email =
      api("POST", "/api/v1/tickets/" + tg_ticket + "/messages", key, R"({"body":"Receipt attached","via":"email"})");
  INFO(by_email.raw);
  REQUIRE(by_email.status == 201);
  CHECK(settled_delivery(key, tg_ticket, str(by_email.data(), "id")).first == "sent");
  auto emails = resend().emails_to(email);
  CHECK(std::count_if(emails.begin(), emails.end(),
                      [](const std::string& e) { return e.find("Receipt attached") != std::string::npos; }) == 1);
  CHECK(telegram().calls("sendMessage").size() == sends + 1);  // not on Telegram too
}

TEST_CASE("merging tickets: one timeline in time order; a source's thread and status link lead to the target",
          "[contacts]") {
  auto [acc, key] = new_workspace("Merge Co");
  const std::string email = unique_email("budi");
  // Three conversations of one customer: Telegram, the hosted form, a ticket logged by hand.
  auto [bot, secret] = connect_bot(key, bot_token("mergebot"));
  const long chat = std::stol(random_digits(9));
  REQUIRE(post_update(bot, secret,
                      text_update(std::stol(random_digits(8)), chat, 1, "Paket saya belum sampai", "Budi", "S"))
              .status == 200);
  const std::string telegram_ticket = newest_ticket(key, "?channel=telegram");
  std::this_thread::sleep_for(20ms);  // distinct times, to check the merged order
  auto form = call(stack().api_url(), "POST", "/api/v1/public/tickets", "",
                   R"({"accountId":")" + acc + R"(","subject":"Order 55","body":"Where is order 55?","email":")" +
                       email + R"(","name":"Budi"})");
  INFO(form.raw);
  REQUIRE(form.status == 201);
  const std::string form_token = str(form.data(), "accessToken");
  const std::string form_ticket = ticket_ids(key, "?channel=web")[0];
  std::this_thread::sleep_for(20ms);
  const std::string target = created(api("POST", "/api/v1/tickets", key,
                                         R"({"body":"Budi called about order 55","requesterEmail":")" + email + "\"}"));
  const auto target_number = api("GET", "/api/v1/tickets/" + target, key).data()["number"].GetInt64();

  // Refused shapes and strangers; nothing merged by them.
  const std::string merge = "/api/v1/tickets/" + target + "/merge";
  CHECK(api("POST", merge, key, R"({"sourceTicketIds":[]})").status == 400);
  CHECK(api("POST", merge, key, R"({"sourceTicketIds":"all"})").status == 400);
  CHECK(api("POST", merge, key, R"({"sourceTicketIds":[")" + target + "\"]}").status == 400);
  CHECK(api("POST", merge, key, R"({"sourceTicketIds":["tkt_nobody"]})").status == 400);
  auto [other_acc, other_key] = new_workspace("Other Merge Co");
  const std::string stranger = created(api("POST", "/api/v1/tickets", other_key, R"({"body":"theirs"})"));
  CHECK(api("POST", merge, key, R"({"sourceTicketIds":[")" + stranger + "\"]}").status == 400);
  CHECK(api("POST", "/api/v1/tickets/" + stranger + "/merge", key, R"({"sourceTicketIds":[")" + form_ticket + "\"]}")
            .status == 404);
  std::string many = "{\"sourceTicketIds\":[";
  for (int i = 0; i < 51; ++i) many += (i ? "," : "") + std::string("\"tkt_") + std::to_string(i) + "\"";
  CHECK(api("POST", merge, key, many + "]}").status == 400);
  CHECK(str(api("GET", "/api/v1/tickets/" + form_ticket, key).data(), "status") == "open");

  const std::string hook_path = "/hooks/merge-" + random_digits(6);
  created(api("POST", "/api/v1/webhook-endpoints", key,
              R"({"url":")" + receiver().base() + hook_path + R"(","events":["ticket.updated"]})"));
  auto merged =
      api("POST", merge, key,
          R"({"sourceTicketIds":[")" + telegram_ticket + R"(",")" + form_ticket + R"(",")" + form_ticket + "\"]}");
  INFO(merged.raw);
  REQUIRE(merged.status == 200);
  CHECK(str(merged.data(), "id") == target);
  // The sources: closed, pointing at the target, their timelines moved.
  for (const auto& source : {telegram_ticket, form_ticket}) {
    auto s = api("GET", "/api/v1/tickets/" + source, key);
    CHECK(str(s.data(), "status") == "closed");
    CHECK(str(s.data(), "mergedIntoId") == target);
    CHECK(ticket_messages(key, source).data().Size() == 0);
  }
  // An event for every ticket involved, to an integrator's webhook too.
  auto event_for = [&](const std::string& ticket, const std::string& change) {
    for (const auto& call : receiver().received(hook_path))
      if (call.body.find(R"("id":")" + ticket + "\"") != std::string::npos &&
          call.body.find(change) != std::string::npos)
        return true;
    return false;
  };
  const std::string into_target = R"("mergedIntoId":{"from":null,"to":")" + target + "\"}";
  CHECK(wait_until(
      [&] {
        return event_for(target, R"("mergedTicketIds":{"from":[],"to":[")") &&
               event_for(telegram_ticket, into_target) && event_for(form_ticket, into_target);
      },
      15s));
  // The target: every message once, in the order written, each moved one saying where from.
  auto timeline = ticket_messages(key, target);
  INFO(timeline.raw);
  REQUIRE(timeline.data().Size() == 3);
  CHECK(str(timeline.data()[0], "body") == "Paket saya belum sampai");
  CHECK(str(timeline.data()[0], "mergedFromTicketId") == telegram_ticket);
  CHECK(str(timeline.data()[1], "body") == "Where is order 55?");
  CHECK(str(timeline.data()[1], "mergedFromTicketId") == form_ticket);
  CHECK(str(timeline.data()[2], "body") == "Budi called about order 55");
  CHECK_FALSE(timeline.data()[2].HasMember("mergedFromTicketId"));
  std::set<std::int64_t> seqs;
  for (const auto& m : timeline.data().GetArray()) seqs.insert(m["seq"].GetInt64());
  CHECK(seqs == std::set<std::int64_t>{1, 2, 3});  // renumbered after the target's own: no gaps, no repeats
  // Merged once: neither again, nor into a merged ticket.
  CHECK(api("POST", merge, key, R"({"sourceTicketIds":[")" + form_ticket + "\"]}").status == 400);
  CHECK(api("POST", "/api/v1/tickets/" + form_ticket + "/merge", key, R"({"sourceTicketIds":[")" + stranger + "\"]}")
            .status == 400);

  // The customer writes again on Telegram: the target gets it, the source stays closed, no new
  // ticket, and the target keeps its own reply route.
  REQUIRE(
      post_update(bot, secret, text_update(std::stol(random_digits(8)), chat, 2, "Halo? Masih menunggu", "Budi", "S"))
          .status == 200);
  CHECK(wait_until([&] { return ticket_messages(key, target).data().Size() == 4; }, 15s));
  CHECK(ticket_ids(key, "?channel=telegram").size() == 1);
  CHECK(str(api("GET", "/api/v1/tickets/" + telegram_ticket, key).data(), "status") == "closed");
  CHECK(api("GET", "/api/v1/tickets/" + target, key).data()["integrationId"].IsNull());

  // The form's status link shows the target and writes to it.
  auto status = api("GET", "/api/v1/public/tickets/" + form_token, "");
  INFO(status.raw);
  REQUIRE(status.status == 200);
  CHECK(status.data()["number"].GetInt64() == target_number);
  CHECK(api("POST", "/api/v1/public/tickets/" + form_token + "/messages", "", R"({"body":"Any news?"})").status == 201);
  CHECK(ticket_messages(key, target).data().Size() == 5);
  CHECK(ticket_messages(key, form_ticket).data().Size() == 0);
}

TEST_CASE(
    "tickets numbered outside their transaction: concurrent batches of one workspace, one contact, no number "
    "twice",
    "[contacts]") {
  // What the writer does (issue 16): numbers allocated in a short transaction of their own, then
  // the batch written without the workspace row held. Eight batches at once, each with a ticket
  // from the same new address and one of its own, must make one contact for the shared address
  // and number the sixteen tickets 1-16.
  auto [account, key] = new_workspace("Concurrent numbering");
  const auto keys = loket::crypto::Keyring::parse("k1:" + std::string(64, '5'));
  loket::store::Pool pool(env().database_url, 20);
  const std::string shared = unique_email("shared");
  auto ticket_from = [&](const std::string& email) {
    loket::store::NewTicket t;
    t.workspace_id = account;
    t.subject = "Where is my order?";
    t.channel = "email";
    t.external_thread_id = "<" + loket::core::new_id("m") + "@mail.example>";
    t.requester_email = email;
    return t;
  };
  std::vector<std::thread> batches;
  std::atomic<int> ready{0}, failed{0};
  for (int i = 0; i < 8; ++i)
    batches.emplace_back([&, i] {
      try {
        std::vector<loket::store::NewTicket> batch{ticket_from(shared), ticket_from(unique_email("own"))};
        loket::store::with_tx(pool, [&](pqxx::work& tx) {
          const auto numbers = loket::store::allocate_ticket_numbers(pool, batch);
          ++ready;
          // All allocated before any creates; bounded, so a batch failing early fails the test
          // below instead of hanging it.
          for (auto until = std::chrono::steady_clock::now() + 10s;
               ready < 8 && std::chrono::steady_clock::now() < until;)
            std::this_thread::yield();
          loket::store::create_tickets(tx, batch, keys, nullptr, &numbers);
          if (i % 2) std::this_thread::sleep_for(50ms);  // holding its locks a while
        });
      } catch (const std::exception& e) {
        INFO(e.what());
        ++failed;
      }
    });
  for (auto& t : batches) t.join();
  REQUIRE(failed == 0);
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + account + "'") == 16);
  CHECK(sql_number("SELECT count(DISTINCT number) FROM tickets WHERE workspace_id = '" + account +
                   "' AND number BETWEEN 1 AND 16") == 16);
  CHECK(sql_number("SELECT count(DISTINCT contact_id) FROM tickets WHERE workspace_id = '" + account +
                   "' AND requester_email = '" + shared + "'") == 1);
  CHECK(sql_number("SELECT count(*) FROM contact_identities WHERE workspace_id = '" + account +
                   "' AND kind = 'email' AND value = '" + shared + "'") == 1);
  CHECK(sql_number("SELECT count(*) FROM contacts WHERE workspace_id = '" + account + "'") == 9);

  // A batch that fails after its numbers were allocated leaves a gap; no number is handed out twice.
  try {
    loket::store::with_tx(pool, [&](pqxx::work& tx) {
      std::vector<loket::store::NewTicket> batch{ticket_from(unique_email("gone"))};
      const auto numbers = loket::store::allocate_ticket_numbers(pool, batch);
      CHECK(numbers.at(account) == 17);
      loket::store::create_tickets(tx, batch, keys, nullptr, &numbers);
      throw std::runtime_error("the batch fails");
    });
  } catch (const std::runtime_error&) {
  }
  auto next = loket::store::with_tx(pool, [&](pqxx::work& tx) {
    std::vector<loket::store::NewTicket> batch{ticket_from(unique_email("next"))};
    const auto numbers = loket::store::allocate_ticket_numbers(pool, batch);
    return loket::store::create_tickets(tx, batch, keys, nullptr, &numbers);
  });
  CHECK(next.at(0).number == 18);
  // Without allocated numbers (the API's path) numbering continues in the transaction itself.
  auto api_made = loket::store::with_tx(
      pool, [&](pqxx::work& tx) { return loket::store::create_tickets(tx, {ticket_from(shared)}, keys); });
  CHECK(api_made.at(0).number == 19);
  CHECK(api_made.at(0).contact_id.value_or("") ==
        sql_text("SELECT contact_id FROM contact_identities WHERE workspace_id = '" + account + "' AND value = '" +
                 shared + "'"));
}
