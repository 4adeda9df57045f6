// The agent and integrator API against the real binaries (issue 3): people, sessions, keys,
// roles, tickets (filters, search, pagination under writes), attachments, idempotency,
// tenant isolation over every route, realtime across replicas, CORS and rate limits.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <set>
#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
const std::string kPassword = "correct horse battery";

std::string login_token(const std::string& email, const std::string& password) {
  auto r = api("POST", "/api/v1/auth/login", "", "{\"email\":\"" + email + "\",\"password\":\"" + password + "\"}");
  INFO(r.raw);
  REQUIRE(r.status == 201);
  return r.data()["token"].GetString();
}

std::string new_ticket(const std::string& key, const std::string& extra_json = "") {
  auto r = api("POST", "/api/v1/tickets", key,
               "{\"body\":\"Need help with order 1001\",\"requesterName\":\"Ann\"" + extra_json + "}");
  INFO(r.raw);
  REQUIRE(r.status == 201);
  return str(r.data(), "id");
}

std::vector<std::string> ids_of(const Json& page) {
  std::vector<std::string> out;
  for (const auto& t : page.data()["items"].GetArray()) out.push_back(t["id"].GetString());
  return out;
}

// Every ticket id of a full walk over the list with `query` (pages of 7).
std::vector<std::string> walk(
    const std::string& key, const std::string& query, const std::function<void()>& between_pages = [] {}) {
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 200; ++page) {
    auto r = api("GET", "/api/v1/tickets?limit=7&" + query + (cursor.empty() ? "" : "&cursor=" + cursor), key);
    INFO(r.raw);
    REQUIRE(r.status == 200);
    for (auto& id : ids_of(r)) seen.push_back(id);
    if (r.data()["nextCursor"].IsNull()) return seen;
    cursor = r.data()["nextCursor"].GetString();
    between_pages();
  }
  FAIL("pagination did not end");
  return seen;
}
}  // namespace

TEST_CASE("agents sign in, sign out, change passwords; failed sign-ins are throttled", "[api]") {
  std::string email = unique_email("owner");
  auto [acc, key] = new_workspace_with_owner("People", email, kPassword);
  std::string token = login_token(email, kPassword);
  REQUIRE(token.rfind("lks_", 0) == 0);

  auto me = api("GET", "/api/v1/me", token);
  REQUIRE(me.status == 200);
  CHECK(str(me.data()["agent"], "email") == email);
  CHECK(str(me.data()["agent"], "role") == "owner");
  CHECK(str(me.data()["workspace"], "id") == acc);
  CHECK(me.raw.find("argon2") == std::string::npos);
  CHECK(api("GET", "/api/v1/me", key).status == 403);  // an API key has no profile

  CHECK(
      api("POST", "/api/v1/auth/login", "", "{\"email\":\"" + email + "\",\"password\":\"wrong password!\"}").status ==
      401);
  CHECK(
      api("POST", "/api/v1/auth/login", "", "{\"email\":\"nobody@example.test\",\"password\":\"whatever12\"}").status ==
      401);

  SECTION("sign out revokes the session at once") {
    REQUIRE(api("POST", "/api/v1/auth/logout", token).status == 200);
    CHECK(api("GET", "/api/v1/tickets", token).status == 401);
  }
  SECTION("a password change revokes every session") {
    std::string other = login_token(email, kPassword);
    auto wrong = api("POST", "/api/v1/me/password", token,
                     "{\"currentPassword\":\"nope nope nope\",\"newPassword\":\"a new password 1\"}");
    CHECK(wrong.status == 400);
    auto ok = api("POST", "/api/v1/me/password", token,
                  "{\"currentPassword\":\"" + kPassword + "\",\"newPassword\":\"a new password 1\"}");
    INFO(ok.raw);
    REQUIRE(ok.status == 200);
    CHECK(api("GET", "/api/v1/me", token).status == 401);
    CHECK(api("GET", "/api/v1/me", other).status == 401);
    CHECK(api("GET", "/api/v1/me", ok.data()["token"].GetString()).status == 200);
    CHECK(api("POST", "/api/v1/auth/login", "", "{\"email\":\"" + email + "\",\"password\":\"" + kPassword + "\"}")
              .status == 401);
    login_token(email, "a new password 1");
  }
  SECTION("after 10 failures even the right password is refused for a while") {
    email = unique_email("throttled");
    new_workspace_with_owner("Throttled", email, kPassword);
    for (int i = 0; i < 10; ++i)
      REQUIRE(api("POST", "/api/v1/auth/login", "",
                  "{\"email\":\"" + email + "\",\"password\":\"guess " + std::to_string(i) + "xxxx\"}")
                  .status == 401);
    auto r = api("POST", "/api/v1/auth/login", "", "{\"email\":\"" + email + "\",\"password\":\"" + kPassword + "\"}");
    CHECK(r.status == 429);
    CHECK(std::stoi(call(stack().api_url(), "POST", "/api/v1/auth/login", "",
                         "{\"email\":\"" + email + "\",\"password\":\"x\"}")
                        .header("Retry-After")) > 0);
  }
}

TEST_CASE("roles: agents work tickets but cannot manage keys, channels or people", "[api]") {
  std::string owner_email = unique_email("owner");
  auto [acc, key] = new_workspace_with_owner("Roles", owner_email, kPassword);
  std::string owner = login_token(owner_email, kPassword);
  std::string admin_email = unique_email("admin"), agent_email = unique_email("agent");
  auto a1 =
      api("POST", "/api/v1/agents", owner,
          "{\"email\":\"" + admin_email + "\",\"name\":\"Ada\",\"role\":\"admin\",\"password\":\"" + kPassword + "\"}");
  INFO(a1.raw);
  REQUIRE(a1.status == 201);
  auto a2 = api(
      "POST", "/api/v1/agents", owner,
      "{\"email\":\"" + agent_email + "\",\"name\":\"Dewi\",\"role\":\"agent\",\"password\":\"" + kPassword + "\"}");
  REQUIRE(a2.status == 201);
  CHECK(api("POST", "/api/v1/agents", owner,
            "{\"email\":\"" + agent_email + "\",\"name\":\"Again\",\"password\":\"" + kPassword + "\"}")
            .status == 409);
  std::string admin = login_token(admin_email, kPassword), agent = login_token(agent_email, kPassword);

  CHECK(api("GET", "/api/v1/tickets", agent).status == 200);
  CHECK(api("GET", "/api/v1/agents", agent).status == 200);
  CHECK(api("POST", "/api/v1/api-keys", agent, "{\"name\":\"x\"}").status == 403);
  CHECK(api("GET", "/api/v1/api-keys", agent).status == 403);
  CHECK(api("POST", "/api/v1/channels", agent, "{\"provider\":\"telegram_bot\",\"botToken\":\"1:AA\"}").status == 403);
  CHECK(api("POST", "/api/v1/agents", agent, "{}").status == 403);
  CHECK(api("PATCH", "/api/v1/workspace", admin, "{\"name\":\"x\"}").status == 403);
  // Admins manage agents, not owners or admins.
  CHECK(api("POST", "/api/v1/agents", admin,
            "{\"email\":\"" + unique_email("o2") + "\",\"name\":\"O\",\"role\":\"owner\",\"password\":\"" + kPassword +
                "\"}")
            .status == 403);
  CHECK(api("PATCH", "/api/v1/agents/" + str(a2.data(), "id"), admin, "{\"name\":\"Dewi S\"}").status == 200);
  // The last owner stays.
  auto me = api("GET", "/api/v1/me", owner);
  CHECK(api("PATCH", "/api/v1/agents/" + str(me.data()["agent"], "id"), owner, "{\"role\":\"agent\"}").status == 409);
  // Deactivating an agent ends their sessions.
  REQUIRE(api("PATCH", "/api/v1/agents/" + str(a2.data(), "id"), admin, "{\"active\":false}").status == 200);
  CHECK(api("GET", "/api/v1/tickets", agent).status == 401);
}

TEST_CASE("API keys: shown once, listed by prefix and last use, revoked at once", "[api]") {
  std::string email = unique_email("owner");
  auto [acc, key] = new_workspace_with_owner("Keys", email, kPassword);
  std::string owner = login_token(email, kPassword);
  auto created = api("POST", "/api/v1/api-keys", owner, "{\"name\":\"Zapier\"}");
  INFO(created.raw);
  REQUIRE(created.status == 201);
  std::string secret = str(created.data(), "key");
  REQUIRE(secret.rfind("sk_live_", 0) == 0);
  REQUIRE(secret.size() >= 8 + 22);  // ≥ 128 bits of base64url randomness
  CHECK(secret.rfind(str(created.data(), "prefix"), 0) == 0);
  REQUIRE(api("GET", "/api/v1/tickets", secret).status == 200);
  auto list = api("GET", "/api/v1/api-keys", owner);
  REQUIRE(list.status == 200);
  CHECK(list.raw.find(secret) == std::string::npos);
  bool found = false;
  for (const auto& k : list.data().GetArray())
    if (str(k, "id") == str(created.data(), "id")) {
      found = true;
      CHECK(k["lastUsedAt"].IsString());
      CHECK(str(k, "createdBy") == str(api("GET", "/api/v1/me", owner).data()["agent"], "id"));
    }
  CHECK(found);
  REQUIRE(api("DELETE", "/api/v1/api-keys/" + str(created.data(), "id"), owner).status == 200);
  CHECK(api("GET", "/api/v1/tickets", secret).status == 401);
  CHECK(sql_number("SELECT count(*) FROM api_keys WHERE key_hash = sha256(convert_to('" + secret + "', 'UTF8'))") == 1);
  CHECK(sql_number("SELECT count(*) FROM api_keys k WHERE k::text LIKE '%" + secret.substr(12) + "%'") == 0);
}

TEST_CASE("tickets: manual logging, updates, filters and full-text search", "[api]") {
  std::string email = unique_email("owner");
  auto [acc, key] = new_workspace_with_owner("Tickets", email, kPassword);
  std::string owner = login_token(email, kPassword);
  std::string owner_id = str(api("GET", "/api/v1/me", owner).data()["agent"], "id");

  auto wa = api("POST", "/api/v1/tickets", owner,
                "{\"channel\":\"whatsapp\",\"body\":\"Paket saya belum sampai\\nsudah 3 "
                "hari\",\"requesterPhone\":\"+6281234567890\","
                "\"requesterEmail\":\"budi@example.com\",\"requesterName\":\"Budi\",\"tags\":[\"shipping\",\"vip\"],"
                "\"priority\":\"high\",\"assigneeId\":\"" +
                    owner_id + "\"}");
  INFO(wa.raw);
  REQUIRE(wa.status == 201);
  const auto& t = wa.data();
  CHECK(str(t, "subject") == "Paket saya belum sampai");
  CHECK(str(t, "channel") == "whatsapp");
  CHECK(str(t, "status") == "open");
  CHECK(str(t, "priority") == "high");
  CHECK(str(t, "assigneeId") == owner_id);
  CHECK(t["tags"].Size() == 2);
  CHECK(t["csat"].IsNull());
  CHECK(t["number"].GetInt64() >= 1);
  std::string wa_id = str(t, "id");
  CHECK(api("POST", "/api/v1/tickets", owner, "{\"channel\":\"whatsapp\",\"body\":\"x\",\"requesterPhone\":\"0812\"}")
            .status == 400);
  CHECK(api("POST", "/api/v1/tickets", owner, "{\"body\":\"x\",\"assigneeId\":\"agt_000000000000000000000000\"}")
            .status == 400);

  std::string web_id = new_ticket(key, ",\"subject\":\"Refund request\",\"requesterEmail\":\"ann@example.com\"");
  auto reply =
      api("POST", "/api/v1/tickets/" + web_id + "/messages", owner, "{\"body\":\"The courier lost parcel zebra-42\"}");
  REQUIRE(reply.status == 201);
  CHECK(str(reply.data(), "authorName") == "Owner Tickets");
  auto after = api("GET", "/api/v1/tickets/" + web_id, key);
  CHECK(str(after.data(), "status") == "pending");
  CHECK(after.data()["firstResponseAt"].IsString());

  auto patched = api(
      "PATCH", "/api/v1/tickets/" + web_id, owner,
      "{\"status\":\"resolved\",\"tags\":[\"refund\"],\"priority\":\"urgent\",\"assigneeId\":\"" + owner_id + "\"}");
  INFO(patched.raw);
  REQUIRE(patched.status == 200);
  CHECK(str(patched.data(), "status") == "resolved");
  CHECK(patched.data()["resolvedAt"].IsString());
  CHECK(api("PATCH", "/api/v1/tickets/" + web_id, owner, "{\"assigneeId\":null}").data()["assigneeId"].IsNull());
  CHECK(api("PATCH", "/api/v1/tickets/" + web_id, owner, "{\"status\":\"done\"}").status == 400);
  auto ids = [&](const std::string& q) {
    auto r = api("GET", "/api/v1/tickets?" + q, key);
    INFO(q << " " << r.raw);
    REQUIRE(r.status == 200);
    auto v = ids_of(r);
    return std::set<std::string>(v.begin(), v.end());
  };
  CHECK(ids("status=resolved") == std::set<std::string>{web_id});
  CHECK(ids("status=open,pending") == std::set<std::string>{wa_id});
  CHECK(ids("channel=whatsapp") == std::set<std::string>{wa_id});
  CHECK(ids("tag=vip") == std::set<std::string>{wa_id});
  CHECK(ids("assigneeId=" + owner_id) == std::set<std::string>{wa_id});
  CHECK(ids("assigneeId=none") == std::set<std::string>{web_id});
  CHECK(ids("requester=%2B6281234567890") == std::set<std::string>{wa_id});
  CHECK(ids("requester=ANN@example.com") == std::set<std::string>{web_id});
  CHECK(ids("q=zebra-42") == std::set<std::string>{web_id});     // a message body
  CHECK(ids("q=paket") == std::set<std::string>{wa_id});         // the subject, any case
  CHECK(ids("q=courier%20-refund") == std::set<std::string>{});  // websearch syntax
  // A ticket matches as a whole: its subject and every message together.
  CHECK(ids("q=order%201001%20zebra") == std::set<std::string>{web_id});  // words of two messages
  CHECK(ids("q=refund%20courier") == std::set<std::string>{web_id});      // the subject and a message
  CHECK(ids("q=-refund") == std::set<std::string>{wa_id});                // exclusions only
  CHECK(ids("q=paket%20or%20zebra") == std::set<std::string>{wa_id, web_id});
  CHECK(ids("q=%22lost%20parcel%22") == std::set<std::string>{web_id});  // a phrase
  CHECK(ids("q=%22parcel%20lost%22") == std::set<std::string>{});
  CHECK(ids("q=%21%21").empty());  // no words at all
  CHECK(ids("createdAfter=2000-01-01T00:00:00Z&createdBefore=2100-01-01T00:00:00Z").size() == 2);
  CHECK(ids("updatedAfter=2100-01-01T00:00:00Z").empty());
  CHECK(api("GET", "/api/v1/tickets?createdAfter=yesterday", key).status == 400);
  CHECK(api("GET", "/api/v1/tickets?sort=priority", key).status == 400);
  CHECK(api("GET", "/api/v1/tickets?status=new", key).status == 400);
  CHECK(api("GET", "/api/v1/tickets?cursor=zz", key).status == 400);
  auto oldest = api("GET", "/api/v1/tickets?sort=createdAt&limit=1", key);
  CHECK(ids_of(oldest) == std::vector<std::string>{wa_id});
}

TEST_CASE("pagination returns each ticket at most once while tickets are written", "[api]") {
  auto [acc, key] = new_workspace("Pages");
  std::vector<std::string> ids;
  for (int i = 0; i < 30; ++i) ids.push_back(new_ticket(key));
  for (const char* sort : {"sort=-createdAt", "sort=createdAt", "sort=-updatedAt", "sort=updatedAt"}) {
    int step = 0;
    auto seen = walk(key, sort, [&] {
      // Between pages: a new ticket, and an update that moves an early ticket to the front.
      new_ticket(key);
      const int i = step++;
      api("PATCH", "/api/v1/tickets/" + ids[static_cast<std::size_t>(i % 30)], key,
          "{\"priority\":\"" + std::string(i % 2 ? "low" : "high") + "\"}");
    });
    INFO(sort);
    std::set<std::string> unique(seen.begin(), seen.end());
    CHECK(unique.size() == seen.size());
    // Every ticket that existed before the walk and was not moved is seen.
    CHECK(seen.size() >= 30 - static_cast<std::size_t>(step));
  }
  // Walking quietly returns everything exactly once.
  auto all = walk(key, "sort=-updatedAt");
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == all.size());
  CHECK(static_cast<long long>(all.size()) ==
        sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + acc + "'"));
}

TEST_CASE("attachments: upload, attach to a reply, download; limits", "[api]") {
  auto [acc, key] = new_workspace("Files");
  std::string ticket = new_ticket(key);
  std::string pdf("%PDF-1.4\r\n\0\x01\xff binary", 23);
  auto up = upload(stack().api_url(), key, multipart("resi \xc3\xa9.pdf", "application/pdf", pdf));
  INFO(up.raw);
  REQUIRE(up.status == 201);
  std::string att = str(up.data(), "id");
  CHECK(str(up.data(), "filename") == "resi \xc3\xa9.pdf");
  CHECK(str(up.data(), "contentType") == "application/pdf");
  CHECK(up.data()["size"].GetInt64() == 23);
  CHECK(up.data()["createdAt"].IsString());

  auto msg = api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
                 "{\"body\":\"See the receipt\",\"attachmentIds\":[\"" + att + "\"]}");
  INFO(msg.raw);
  REQUIRE(msg.status == 201);
  REQUIRE(msg.data()["attachments"].Size() == 1);
  CHECK(str(msg.data()["attachments"][0], "id") == att);
  // Attached once only.
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
            "{\"body\":\"again\",\"attachmentIds\":[\"" + att + "\"]}")
            .status == 400);
  CHECK(api("POST", "/api/v1/tickets", key, "{\"body\":\"new\",\"attachmentIds\":[\"" + att + "\"]}").status == 400);
  // A rejected write leaves nothing behind: no message, no ticket, no ticket number used.
  CHECK(sql_number("SELECT count(*) FROM messages WHERE ticket_id = '" + ticket + "'") == 2);
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + acc + "'") == 1);
  CHECK(sql_number("SELECT ticket_seq FROM workspaces WHERE id = '" + acc + "'") == 1);

  auto dl = call(stack().api_url(), "GET", "/api/v1/attachments/" + att, key);
  REQUIRE(dl.status == 200);
  CHECK(dl.raw == pdf);
  CHECK(dl.header("Content-Type") == "application/pdf");
  CHECK(dl.header("Content-Disposition") == "attachment; filename=\"resi __.pdf\"; filename*=UTF-8''resi%20%C3%A9.pdf");
  auto full = api("GET", "/api/v1/tickets/" + ticket, key);
  CHECK(full.raw.find(att) != std::string::npos);

  std::string six = "[";
  for (int i = 0; i < 6; ++i)
    six += std::string(i ? "," : "") + "\"" +
           str(upload(stack().api_url(), key, multipart("a.txt", "text/plain", "x")).data(), "id") + "\"";
  CHECK(api("POST", "/api/v1/tickets/" + ticket + "/messages", key, "{\"body\":\"six\",\"attachmentIds\":" + six + "]}")
            .status == 400);
  CHECK(upload(stack().api_url(), key, "not multipart").status == 400);
  CHECK(call(stack().api_url(), "POST", "/api/v1/attachments", key, "{}").status == 400);

  std::string small = stack().start_api("api-small", {"LOKET_MAX_ATTACHMENT_BYTES=1000"});
  auto big = upload(small, key, multipart("big.bin", "application/octet-stream", std::string(1001, 'b')));
  CHECK(big.status == 413);
  CHECK(str(big.doc["error"], "code") == "PAYLOAD_TOO_LARGE");
  CHECK(upload(small, key, multipart("ok.bin", "application/octet-stream", std::string(1000, 'b'))).status == 201);
  // Far over the cap: the server refuses before reading it all.
  CHECK(upload(small, key, multipart("huge.bin", "application/octet-stream", std::string(3 << 20, 'h'))).status == 413);
}

TEST_CASE("Idempotency-Key returns the first result on a retry", "[api]") {
  auto [acc, key] = new_workspace("Idem");
  std::string body = "{\"body\":\"Called about invoice 77\",\"requesterName\":\"Rita\"}";
  std::vector<std::pair<std::string, std::string>> h = {{"Idempotency-Key", "retry-77"}};
  auto first = call(stack().api_url(), "POST", "/api/v1/tickets", key, body, h);
  auto second = call(stack().api_url(), "POST", "/api/v1/tickets", key, body, h);
  REQUIRE(first.status == 201);
  CHECK(second.status == 201);
  CHECK(second.raw == first.raw);
  CHECK(second.header("Idempotent-Replayed") == "true");
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + acc + "'") == 1);
  CHECK(call(stack().api_url(), "POST", "/api/v1/tickets", key, "{\"body\":\"other\"}", h).status == 422);
  // Keys are per workspace.
  auto [acc2, key2] = new_workspace("Idem2");
  CHECK(call(stack().api_url(), "POST", "/api/v1/tickets", key2, body, h).status == 201);
}

TEST_CASE("tenant isolation: every route with an id answers 404 for another workspace's id", "[api]") {
  // Workspace B owns one of everything.
  std::string b_email = unique_email("b");
  auto [b_acc, b_key] = new_workspace_with_owner("B", b_email, kPassword);
  std::string b_owner = login_token(b_email, kPassword);
  std::map<std::string, std::string> b_ids;
  b_ids["tickets"] = new_ticket(b_key, R"(,"requesterEmail":"b-requester@example.com")");
  b_ids["contacts"] = str(api("GET", "/api/v1/tickets/" + b_ids["tickets"], b_key).data(), "contactId");
  b_ids["attachments"] = str(upload(stack().api_url(), b_key, multipart("b.txt", "text/plain", "b")).data(), "id");
  b_ids["agents"] = str(api("GET", "/api/v1/me", b_owner).data()["agent"], "id");
  b_ids["api-keys"] = str(api("POST", "/api/v1/api-keys", b_owner, "{\"name\":\"b\"}").data(), "id");
  b_ids["channels"] = connect_bot(b_key, bot_token("tenantB")).first;
  b_ids["webhook-endpoints"] =
      str(api("POST", "/api/v1/webhook-endpoints", b_key,
              R"({"url":")" + receiver().base() + R"(/hooks/tenant-b","events":["ticket.created"]})")
              .data(),
          "id");
  b_ids["canned-responses"] =
      str(api("POST", "/api/v1/canned-responses", b_key, R"({"shortCode":"b","title":"B","body":"B's"})").data(), "id");
  b_ids["inboxes"] = str(api("POST", "/api/v1/inboxes", b_key, R"({"name":"B's"})").data(), "id");
  b_ids["teams"] = str(api("POST", "/api/v1/teams", b_key, R"({"name":"B's"})").data(), "id");
  b_ids["sla-policies"] = str(
      api("POST", "/api/v1/sla-policies", b_key, R"({"name":"B's","targets":{"normal":{"firstResponseMinutes":5}}})")
          .data(),
      "id");
  b_ids["macros"] =
      str(api("POST", "/api/v1/macros", b_key, R"({"name":"B","actions":[{"type":"status","value":"closed"}]})").data(),
          "id");

  std::string a_email = unique_email("a");
  auto [a_acc, a_key] = new_workspace_with_owner("A", a_email, kPassword);
  std::string a_owner = login_token(a_email, kPassword);

  int checked = 0;
  for (const auto& [method, pattern] : api_routes()) {
    const std::string route = method + " " + pattern;
    auto colon = pattern.find("/:");
    if (colon == std::string::npos) continue;
    // The requester's surface is keyed by access tokens and public ids, not by the caller's
    // workspace (public_test.cpp covers it), a chat visitor's by their session (chat_test.cpp);
    // static files are the same for everyone.
    bool not_workspace_keyed = false;
    for (const char* prefix : {"/api/v1/public/", "/support/", "/t/", "/assets/", "/api/v1/widget/"})
      not_workspace_keyed = not_workspace_keyed || pattern.rfind(prefix, 0) == 0;
    if (not_workspace_keyed) continue;
    std::string collection =
        pattern.substr(pattern.rfind('/', colon - 1) + 1, colon - pattern.rfind('/', colon - 1) - 1);
    INFO(route);
    REQUIRE(b_ids.count(collection) == 1);  // a new kind of id: add a resource of B above
    std::string path = pattern;
    path.replace(
        colon + 1,
        path.find('/', colon + 1) == std::string::npos ? std::string::npos : path.find('/', colon + 1) - colon - 1,
        b_ids[collection]);
    for (const auto& who : {a_key, a_owner}) {
      auto r = api(method, path, who, method == "GET" || method == "DELETE" ? "" : "{\"body\":\"x\",\"name\":\"x\"}");
      INFO(path << " " << r.raw);
      CHECK(r.status == 404);
    }
    ++checked;
  }
  CHECK(checked >= 8);
  // Nothing of B changed.
  CHECK(api("GET", "/api/v1/tickets/" + b_ids["tickets"], b_key).status == 200);
  auto hook = api("GET", "/api/v1/webhook-endpoints/" + b_ids["webhook-endpoints"], b_key);
  CHECK(hook.status == 200);
  CHECK(hook.data()["enabled"].GetBool());
  CHECK(api("GET", "/api/v1/tickets/" + b_ids["tickets"] + "/messages", b_key).data().Size() == 1);
  CHECK(sql_number("SELECT count(*) FROM api_keys WHERE id = '" + b_ids["api-keys"] + "' AND revoked_at IS NULL") == 1);
  CHECK(sql_number("SELECT count(*) FROM integrations WHERE id = '" + b_ids["channels"] + "' AND status = 'active'") ==
        1);
  CHECK(api("GET", "/api/v1/tickets", a_key).data()["items"].Size() == 0);
  CHECK(str(api("GET", "/api/v1/canned-responses/" + b_ids["canned-responses"], b_key).data(), "body") == "B's");
  CHECK(api("GET", "/api/v1/macros/" + b_ids["macros"], b_key).status == 200);
  CHECK(str(api("GET", "/api/v1/inboxes/" + b_ids["inboxes"], b_key).data(), "name") == "B's");
  CHECK(str(api("GET", "/api/v1/teams/" + b_ids["teams"], b_key).data(), "name") == "B's");
  CHECK(str(api("GET", "/api/v1/contacts/" + b_ids["contacts"], b_key).data(), "name") == "Ann");
  CHECK(api("GET", "/api/v1/contacts", a_key).data()["items"].Size() == 0);
}

TEST_CASE("realtime: events reach every agent on every replica, and only their workspace", "[api]") {
  std::string email = unique_email("rt");
  auto [acc, key] = new_workspace_with_owner("Realtime", email, kPassword);
  auto [other_acc, other_key] = new_workspace("Elsewhere");
  std::string token = login_token(email, kPassword);
  std::string second = stack().start_api("api-replica");

  CHECK(WsClient(stack().api_url(), "/api/v1/realtime").status() == 401);
  CHECK(WsClient(stack().api_url(), "/api/v1/realtime?access_token=lks_nope").status() == 401);
  WsClient a1(stack().api_url(), "/api/v1/realtime?access_token=" + token);
  WsClient a2(second, "/api/v1/realtime?access_token=" + key);
  WsClient b(second, "/api/v1/realtime?access_token=" + other_key);
  REQUIRE(a1.status() == 0);
  REQUIRE(a2.status() == 0);
  auto has = [](const WsClient& c, const std::string& needle) {
    for (const auto& m : c.messages())
      if (m.find(needle) != std::string::npos) return true;
    return false;
  };
  REQUIRE(wait_until([&] { return has(a1, "\"ready\"") && has(a2, "\"ready\"") && has(b, "\"ready\""); }, 5s));
  // Each replica's consumer joins its own group; warm up until both deliver.
  REQUIRE(wait_until(
      [&] {
        std::string id = new_ticket(key);
        return wait_until([&] { return has(a1, id) && has(a2, id); }, 1500ms);
      },
      30s));

  auto t0 = std::chrono::steady_clock::now();
  std::string id = new_ticket(key);
  REQUIRE(wait_until([&] { return has(a1, "\"ticket.created\"") && has(a1, id) && has(a2, id); }, 1s));
  auto latency = std::chrono::steady_clock::now() - t0;
  CHECK(latency < 1s);
  api("POST", "/api/v1/tickets/" + id + "/messages", key, "{\"body\":\"On it\"}");
  CHECK(wait_until([&] { return has(a1, "\"message.created\"") && has(a2, "\"ticket.updated\""); }, 1s));
  CHECK_FALSE(has(b, acc));

  // Sign out: the session's socket is closed.
  REQUIRE(api("POST", "/api/v1/auth/logout", token).status == 200);
  CHECK(wait_until([&] { return a1.closed(); }, 5s));
  CHECK_FALSE(a2.closed());
}

TEST_CASE("CORS for configured SPA origins", "[api]") {
  auto pre = call(stack().api_url(), "OPTIONS", "/api/v1/tickets", "", "",
                  {{"Origin", "https://app.example.test"},
                   {"Access-Control-Request-Method", "POST"},
                   {"Access-Control-Request-Headers", "authorization, content-type, idempotency-key"}});
  CHECK(pre.status == 204);
  CHECK(pre.header("Access-Control-Allow-Origin") == "https://app.example.test");
  CHECK(pre.header("Access-Control-Allow-Headers").find("Idempotency-Key") != std::string::npos);
  auto evil = call(stack().api_url(), "OPTIONS", "/api/v1/tickets", "", "",
                   {{"Origin", "https://evil.example"}, {"Access-Control-Request-Method", "POST"}});
  CHECK(evil.status == 403);
  CHECK(evil.header("Access-Control-Allow-Origin").empty());
  auto [acc, key] = new_workspace("Cors");
  auto get = call(stack().api_url(), "GET", "/api/v1/tickets", key, "", {{"Origin", "https://app.example.test"}});
  CHECK(get.header("Access-Control-Allow-Origin") == "https://app.example.test");
  CHECK(get.header("Access-Control-Expose-Headers").find("X-RateLimit-Remaining") != std::string::npos);
}

TEST_CASE("rate limits are shared by api replicas, with headers on every response", "[api]") {
  std::vector<std::string> limited = {"LOKET_RATE_LIMIT_PER_MINUTE=30", "LOKET_RATE_LIMIT_IP_PER_MINUTE=1000000"};
  std::string r1 = stack().start_api("api-limited-1", limited), r2 = stack().start_api("api-limited-2", limited);
  auto [acc, key] = new_workspace("Limits");
  // Start at the beginning of a window so it cannot reset halfway.
  auto probe = call(r1, "GET", "/api/v1/tickets", key);
  if (std::stoi(probe.header("X-RateLimit-Reset")) < 20)
    std::this_thread::sleep_for(std::chrono::seconds(std::stoi(probe.header("X-RateLimit-Reset")) + 1));
  auto [acc2, fresh] = new_workspace("Limits2");
  for (int i = 1; i <= 30; ++i) {
    auto r = call(i % 2 ? r1 : r2, "GET", "/api/v1/tickets", fresh);
    INFO(i);
    REQUIRE(r.status == 200);
    CHECK(r.header("X-RateLimit-Limit") == "30");
    CHECK(r.header("X-RateLimit-Remaining") == std::to_string(30 - i));
  }
  for (const auto& base : {r1, r2}) {
    auto over = call(base, "GET", "/api/v1/tickets", fresh);
    CHECK(over.status == 429);
    CHECK(str(over.doc["error"], "code") == "RATE_LIMITED");
    CHECK(std::stoi(over.header("Retry-After")) > 0);
    CHECK(over.header("X-RateLimit-Remaining") == "0");
  }
  CHECK(call(r1, "GET", "/api/v1/tickets", key).status == 200);  // another key is not affected
  // Headers on errors and unknown routes too.
  for (const auto& [path, token] : std::vector<std::pair<std::string, std::string>>{
           {"/api/v1/nope", ""}, {"/api/v1/tickets", ""}, {"/api/v1/tickets", "sk_live_revoked"}}) {
    auto r = call(r1, "GET", path, token);
    CHECK_FALSE(r.header("X-RateLimit-Limit").empty());
    CHECK_FALSE(r.header("X-RateLimit-Remaining").empty());
    CHECK_FALSE(r.header("X-RateLimit-Reset").empty());
  }
}

TEST_CASE("the live-chat widget's settings: admins read and change them, bad values are named", "[api]") {
  std::string owner_email = unique_email("owner"), agent_email = unique_email("agent");
  auto [acc, key] = new_workspace_with_owner("Widget", owner_email, kPassword);
  std::string owner = login_token(owner_email, kPassword);
  REQUIRE(
      api("POST", "/api/v1/agents", owner,
          "{\"email\":\"" + agent_email + "\",\"name\":\"Dewi\",\"role\":\"agent\",\"password\":\"" + kPassword + "\"}")
          .status == 201);
  CHECK(api("GET", "/api/v1/widget", login_token(agent_email, kPassword)).status == 403);  // the secret is admins'

  auto fresh = api("GET", "/api/v1/widget", key);
  REQUIRE(fresh.status == 200);
  CHECK_FALSE(fresh.data()["enabled"].GetBool());
  CHECK(fresh.data()["allowedOrigins"].Size() == 0);  // loads nowhere until origins are given
  CHECK(str(fresh.data()["preChatForm"], "phone") == "off");
  CHECK(fresh.data()["identitySecret"].IsNull());
  CHECK(fresh.data()["updatedAt"].IsNull());

  auto saved =
      api("PATCH", "/api/v1/widget", key,
          R"({"enabled":true,"color":"#FF6600","welcomeHeading":" Halo! ","welcomeTagline":"Kami siap membantu.",
                       "preChatForm":{"email":"required","phone":"optional"},"awayMessage":"Kami kembali jam 09:00.",
                       "allowedOrigins":["https://Shop.Example/","https://shop.example:443","http://127.0.0.1:8088"],
                       "requireIdentity":true})");
  INFO(saved.raw);
  REQUIRE(saved.status == 200);
  const auto& w = saved.data();
  CHECK(w["enabled"].GetBool());
  CHECK(str(w, "color") == "#ff6600");
  CHECK(str(w, "welcomeHeading") == "Halo!");
  CHECK(str(w["preChatForm"], "name") == "optional");  // untouched
  CHECK(str(w["preChatForm"], "email") == "required");
  CHECK(str(w["preChatForm"], "phone") == "optional");
  REQUIRE(w["allowedOrigins"].Size() == 2);  // normalized, the duplicate dropped
  CHECK(std::string(w["allowedOrigins"][0].GetString()) == "https://shop.example");
  CHECK(std::string(w["allowedOrigins"][1].GetString()) == "http://127.0.0.1:8088");
  CHECK(w["requireIdentity"].GetBool());
  const std::string secret = str(w, "identitySecret");
  CHECK(secret.size() == 64);
  auto data_of = [](const Json& j) { return j.raw.substr(0, j.raw.find(",\"error\":")); };  // not meta
  CHECK(data_of(api("GET", "/api/v1/widget", key)) == data_of(saved));                      // as stored
  // The secret is stored encrypted.
  CHECK(sql_number("SELECT count(*) FROM widgets WHERE workspace_id = '" + acc + "' AND position(convert_to('" +
                   secret + "', 'UTF8') IN identity_secret) = 0") == 1);

  for (const auto& [body, field] : std::vector<std::pair<std::string, std::string>>{
           {R"({"color":"orange"})", "color"},
           {R"({"welcomeHeading":"  "})", "welcomeHeading"},
           {R"({"awayMessage":")" + std::string(501, 'a') + R"("})", "awayMessage"},
           {R"({"preChatForm":{"email":"maybe"}})", "preChatForm.email"},
           {R"({"allowedOrigins":["https://shop.example/checkout"]})", "allowedOrigins"},
           {R"({"allowedOrigins":"https://shop.example"})", "allowedOrigins"},
           {R"({"enabled":"yes"})", "enabled"}}) {
    auto r = api("PATCH", "/api/v1/widget", key, body);
    INFO(body << " → " << r.raw);
    CHECK(r.status == 400);
    CHECK(str(r.doc["error"], "field") == field);
  }
  CHECK(api("PATCH", "/api/v1/widget", key, "{}").status == 400);
  CHECK(data_of(api("GET", "/api/v1/widget", key)) == data_of(saved));  // nothing refused stuck

  // Rotating the secret keeps every setting.
  auto rotated = api("POST", "/api/v1/widget/secret", key);
  REQUIRE(rotated.status == 200);
  CHECK(str(rotated.data(), "identitySecret").size() == 64);
  CHECK(str(rotated.data(), "identitySecret") != secret);
  CHECK(str(rotated.data(), "color") == "#ff6600");

  // Another workspace sees its own (default) widget.
  auto [other, other_key] = new_workspace("Other widget");
  CHECK_FALSE(api("GET", "/api/v1/widget", other_key).data()["enabled"].GetBool());
}

TEST_CASE("canned responses: personal and workspace-wide, searched by short code, rendered into a reply", "[api]") {
  std::string owner_email = unique_email("owner");
  auto [acc, key] = new_workspace_with_owner("Canned Co", owner_email, kPassword);
  std::string owner = login_token(owner_email, kPassword);
  std::string agent_email = unique_email("agent");
  REQUIRE(api("POST", "/api/v1/agents", owner,
              "{\"email\":\"" + agent_email + "\",\"name\":\"Dewi Lestari\",\"role\":\"agent\",\"password\":\"" +
                  kPassword + "\"}")
              .status == 201);
  std::string agent = login_token(agent_email, kPassword);
  const std::string base = "/api/v1/canned-responses";

  // The workspace's, by an admin (an API key here); an agent may not make workspace ones.
  auto shipping = api("POST", base, key,
                      R"({"shortCode":"Ship","title":"Shipping times","body":"Hi {{requester.firstName}}, ticket )"
                      R"(#{{ticket.number}} ships in 2 days. {{agent.name}} at {{workspace.name}}"})");
  INFO(shipping.raw);
  REQUIRE(shipping.status == 201);
  CHECK(str(shipping.data(), "shortCode") == "ship");
  CHECK(str(shipping.data(), "scope") == "workspace");
  CHECK(api("POST", base, agent, R"({"shortCode":"x","title":"x","body":"x","scope":"workspace"})").status == 403);
  // Hostile and wrong input: an unknown variable (named), a bad code, a taken code, no body.
  auto unknown = api("POST", base, key, R"({"shortCode":"bad","title":"Bad","body":"Hi {{customer.name}}"})");
  CHECK(unknown.status == 400);
  CHECK(unknown.raw.find("{{customer.name}}") != std::string::npos);
  CHECK(api("POST", base, key, R"({"shortCode":"a b","title":"x","body":"x"})").status == 400);
  CHECK(api("POST", base, key, R"({"shortCode":"-x","title":"x","body":"x"})").status == 400);
  CHECK(api("POST", base, key, R"({"shortCode":"SHIP","title":"Again","body":"x"})").status == 409);
  CHECK(api("POST", base, key, R"({"shortCode":"nobody","title":"x"})").status == 400);
  CHECK(api("POST", base, key, R"({"shortCode":"mine","title":"x","body":"x","scope":"personal"})").status == 400);

  // The agent's own: the same code as the workspace's is theirs to use, and listed first.
  auto mine = api("POST", base, agent, R"({"shortCode":"ship","title":"My shipping line","body":"Sent today!"})");
  REQUIRE(mine.status == 201);
  CHECK(str(mine.data(), "scope") == "personal");
  auto listed = api("GET", base + "?q=SH", agent);
  REQUIRE(listed.status == 200);
  REQUIRE(listed.data().Size() == 2);
  CHECK(str(listed.data()[0], "id") == str(mine.data(), "id"));
  CHECK(api("GET", base + "?q=shipping%20t", agent).data().Size() == 1);  // by title
  CHECK(api("GET", base + "?q=%25", agent).data().Size() == 0);           // '%' is literal
  CHECK(api("GET", base + "?limit=0", agent).status == 400);
  // Nobody else sees or changes it; the agent cannot change the workspace's.
  CHECK(api("GET", base, owner).data().Size() == 1);
  CHECK(api("GET", base + "/" + str(mine.data(), "id"), owner).status == 404);
  CHECK(api("PATCH", base + "/" + str(shipping.data(), "id"), agent, R"({"title":"Mine now"})").status == 403);
  CHECK(api("DELETE", base + "/" + str(shipping.data(), "id"), agent).status == 403);
  auto [other_acc, other_key] = new_workspace("Canned other");
  CHECK(api("GET", base + "/" + str(shipping.data(), "id"), other_key).status == 404);

  // A reply names one: rendered for the ticket and its author, stored as the message.
  auto ticket = api("POST", "/api/v1/tickets", key, R"({"body":"When does it ship?","requesterName":"Sari Dewi"})");
  REQUIRE(ticket.status == 201);
  const std::string path = "/api/v1/tickets/" + str(ticket.data(), "id") + "/messages";
  auto reply = api("POST", path, agent, R"({"cannedResponseId":")" + str(shipping.data(), "id") + "\"}");
  INFO(reply.raw);
  REQUIRE(reply.status == 201);
  CHECK(str(reply.data(), "body") == "Hi Sari, ticket #" + std::to_string(ticket.data()["number"].GetInt64()) +
                                         " ships in 2 days. Dewi Lestari at Canned Co");
  CHECK(api("POST", path, agent, R"({"cannedResponseId":"cr_nope"})").status == 400);
  CHECK(api("POST", path, owner, R"({"cannedResponseId":")" + str(mine.data(), "id") + "\"}").status ==
        400);  // another agent's
  CHECK(api("POST", path, agent, R"({"body":"x","cannedResponseId":")" + str(mine.data(), "id") + "\"}").status == 400);
  auto note = api("POST", path, agent, R"({"internal":true,"cannedResponseId":")" + str(mine.data(), "id") + "\"}");
  REQUIRE(note.status == 201);
  CHECK(str(note.data(), "body") == "Sent today!");

  // Changed and deleted by who may.
  auto changed = api("PATCH", base + "/" + str(shipping.data(), "id"), owner, R"({"body":"Bye {{requester.name}}"})");
  REQUIRE(changed.status == 200);
  CHECK(str(changed.data(), "body") == "Bye {{requester.name}}");
  CHECK(api("PATCH", base + "/" + str(shipping.data(), "id"), owner, R"({"body":"{{nope}}"})").status == 400);
  CHECK(api("DELETE", base + "/" + str(mine.data(), "id"), agent).status == 200);
  CHECK(api("GET", base + "/" + str(mine.data(), "id"), agent).status == 404);
}

TEST_CASE("macros: applied in bulk, each ticket wholly or not at all, with per-ticket results", "[api]") {
  std::string owner_email = unique_email("owner");
  auto [acc, key] = new_workspace_with_owner("Macro Co", owner_email, kPassword);
  std::string agent_email = unique_email("agent");
  auto created_agent = api(
      "POST", "/api/v1/agents", key,
      "{\"email\":\"" + agent_email + "\",\"name\":\"Dewi\",\"role\":\"agent\",\"password\":\"" + kPassword + "\"}");
  REQUIRE(created_agent.status == 201);
  const std::string agent_id = str(created_agent.data(), "id");
  std::string agent = login_token(agent_email, kPassword);
  auto thanks = api("POST", "/api/v1/canned-responses", key,
                    R"({"shortCode":"thanks","title":"Thanks","body":"Thanks {{requester.firstName}}, all done!"})");
  REQUIRE(thanks.status == 201);

  // Only owners and admins define macros; every action is checked when it is saved.
  const std::string actions = R"([{"type":"reply","cannedResponseId":")" + str(thanks.data(), "id") +
                              R"("},{"type":"status","value":"resolved"},{"type":"addTags","tags":["thanked"]},)"
                              R"({"type":"note","body":"Closed by the macro"}])";
  CHECK(api("POST", "/api/v1/macros", agent, R"({"name":"x","actions":[{"type":"status","value":"open"}]})").status ==
        403);
  for (const char* bad :
       {R"([{"type":"explode"}])", R"([{"type":"status","value":"done"}])",
        R"([{"type":"reply","body":"a"},{"type":"reply","body":"b"}])",
        R"([{"type":"reply","body":"a","cannedResponseId":"cr_1"}])", R"([{"type":"assign","agentId":"agt_nobody"}])",
        R"([{"type":"addTags","tags":[]}])", "[]", R"({"type":"status"})"})
    CHECK(api("POST", "/api/v1/macros", key, std::string(R"({"name":"Bad","actions":)") + bad + "}").status == 400);
  auto macro = api("POST", "/api/v1/macros", key, R"({"name":"Thank and resolve","actions":)" + actions + "}");
  INFO(macro.raw);
  REQUIRE(macro.status == 201);
  CHECK(macro.data()["actions"].Size() == 4);
  CHECK(api("POST", "/api/v1/macros", key, R"({"name":"THANK AND RESOLVE","actions":)" + actions + "}").status == 409);
  CHECK(api("GET", "/api/v1/macros", agent).data().Size() == 1);

  auto ticket = [&](const std::string& name) {
    auto r = api("POST", "/api/v1/tickets", key, R"({"body":"Help please","requesterName":")" + name + "\"}");
    REQUIRE(r.status == 201);
    return str(r.data(), "id");
  };
  const std::string t1 = ticket("Sari Dewi"), t2 = ticket("Budi"), full = ticket("Tag Heavy");
  std::string twenty = "[";
  for (int i = 0; i < 20; ++i) twenty += (i ? ",\"t" : "\"t") + std::to_string(i) + "\"";
  REQUIRE(api("PATCH", "/api/v1/tickets/" + full, key, R"({"tags":)" + twenty + "]}").status == 200);

  auto run = api("POST", "/api/v1/tickets/bulk", agent,
                 R"({"macroId":")" + str(macro.data(), "id") + R"(","ticketIds":[")" + t1 + R"(",")" + t2 + R"(",")" +
                     full + R"(","tkt_nope",")" + t1 + R"("]})");
  INFO(run.raw);
  REQUIRE(run.status == 200);
  CHECK(run.data()["applied"].GetInt() == 2);
  CHECK(run.data()["failed"].GetInt() == 2);
  const auto& results = run.data()["results"];
  REQUIRE(results.Size() == 4);  // the repeated id counts once
  CHECK(str(results[0], "status") == "applied");
  CHECK(str(results[1], "ticketId") == t2);
  CHECK(str(results[1], "status") == "applied");
  CHECK_FALSE(results[1].HasMember("error"));
  CHECK(str(results[2], "status") == "failed");
  CHECK(str(results[2]["error"], "code") == "VALIDATION_ERROR");  // a 21st tag
  CHECK(str(results[3]["error"], "code") == "NOT_FOUND");

  auto one = api("GET", "/api/v1/tickets/" + t1, key);
  CHECK(str(one.data(), "status") == "resolved");  // after the reply set it pending: the macro's order
  CHECK(one.raw.find("\"thanked\"") != std::string::npos);
  auto msgs = ticket_messages(key, t1);
  REQUIRE(msgs.data().Size() == 3);
  CHECK(str(msgs.data()[1], "body") == "Thanks Sari, all done!");
  CHECK(str(msgs.data()[1], "authorName") == "Dewi");
  CHECK(str(msgs.data()[2], "body") == "Closed by the macro");
  CHECK(msgs.data()[2]["internal"].GetBool());
  // The refused ticket is as it was: no reply, no note, same status and tags.
  CHECK(ticket_messages(key, full).data().Size() == 1);
  auto unchanged = api("GET", "/api/v1/tickets/" + full, key);
  CHECK(str(unchanged.data(), "status") == "open");
  CHECK(unchanged.raw.find("thanked") == std::string::npos);

  // Plain actions, no macro: assign and prioritise; wrong requests are refused whole.
  auto plain = api("POST", "/api/v1/tickets/bulk", agent,
                   R"({"ticketIds":[")" + t2 + R"("],"actions":[{"type":"assign","agentId":")" + agent_id +
                       R"("},{"type":"priority","value":"urgent"},{"type":"removeTags","tags":["thanked"]}]})");
  REQUIRE(plain.status == 200);
  CHECK(plain.data()["applied"].GetInt() == 1);
  auto two = api("GET", "/api/v1/tickets/" + t2, key);
  CHECK(str(two.data(), "assigneeId") == agent_id);
  CHECK(str(two.data(), "priority") == "urgent");
  CHECK(two.raw.find("thanked") == std::string::npos);
  std::string many = "[";
  for (int i = 0; i < 501; ++i) many += (i ? ",\"tkt_" : "\"tkt_") + std::to_string(i) + "\"";
  CHECK(api("POST", "/api/v1/tickets/bulk", agent,
            R"({"actions":[{"type":"status","value":"open"}],"ticketIds":)" + many + "]}")
            .status == 400);
  CHECK(api("POST", "/api/v1/tickets/bulk", agent,
            R"({"macroId":")" + str(macro.data(), "id") + R"(","actions":[],"ticketIds":[")" + t2 + "\"]}")
            .status == 400);
  CHECK(api("POST", "/api/v1/tickets/bulk", agent, R"({"macroId":"mac_nope","ticketIds":[")" + t2 + "\"]}").status ==
        404);

  // Changed and deleted by admins; another workspace sees none of it.
  auto renamed = api("PATCH", "/api/v1/macros/" + str(macro.data(), "id"), key, R"({"name":"Wrap up"})");
  REQUIRE(renamed.status == 200);
  CHECK(str(renamed.data(), "name") == "Wrap up");
  auto [other_acc, other_key] = new_workspace("Macro other");
  CHECK(api("GET", "/api/v1/macros/" + str(macro.data(), "id"), other_key).status == 404);
  CHECK(api("POST", "/api/v1/tickets/bulk", other_key,
            R"({"ticketIds":[")" + t2 + R"("],"actions":[{"type":"status","value":"closed"}]})")
            .data()["failed"]
            .GetInt() == 1);
  CHECK(api("DELETE", "/api/v1/macros/" + str(macro.data(), "id"), agent).status == 403);
  CHECK(api("DELETE", "/api/v1/macros/" + str(macro.data(), "id"), key).status == 200);
}
