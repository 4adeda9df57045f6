// The requester's surface (issue 5, seed 002): hosted form API, status page API, CSAT,
// token-scoped attachments, rate limits, and the pages themselves.
#include <catch2/catch.hpp>

#include <future>

#include "harness.hpp"
#include "loket/core/ids.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {

Json submit(const std::string& base, const std::string& body,
            std::vector<std::pair<std::string, std::string>> headers = {}) {
  return call(base, "POST", "/api/v1/public/tickets", "", body, std::move(headers));
}

std::string form(const std::string& account, const std::string& subject = "Resi belum muncul",
                 const std::string& email = "budi@example.test") {
  return R"({"accountId":")" + account + R"(","subject":")" + subject +
         R"(","body":"Order #1042 sudah 2 hari belum ada resi.","email":")" + email + R"(","name":"Budi"})";
}

Json pub(const std::string& method, const std::string& path, const std::string& body = "") {
  return call(stack().api_url(), method, "/api/v1/public/tickets" + path, "", body);
}

std::string public_upload(const std::string& token, const std::string& name, const std::string& bytes) {
  loket::http::ClientRequest req;
  req.method = "POST";
  req.url = stack().api_url() + "/api/v1/public/tickets/" + token + "/attachments";
  req.headers = {{"Content-Type", "multipart/form-data; boundary=XyZ"}};
  req.body = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"" + name +
             "\"\r\nContent-Type: text/plain\r\n\r\n" + bytes + "\r\n--XyZ--\r\n";
  auto res = loket::http::fetch(req);
  REQUIRE(res.status == 201);
  rapidjson::Document d;
  d.Parse(res.body.c_str());
  return d["data"]["id"].GetString();
}
}  // namespace

TEST_CASE("the hosted form creates a web ticket and answers only its number and token", "[public]") {
  auto [account, key] = new_workspace("Form");
  auto res = submit(stack().api_url(), form(account));
  INFO(res.raw);
  REQUIRE(res.status == 201);
  REQUIRE(res.data().MemberCount() == 2);
  std::string token = str(res.data(), "accessToken");
  CHECK(token.size() >= 43);  // 256 bits of base64url
  CHECK(res.data()["number"].GetInt64() >= 1);
  CHECK(!res.header("x-ratelimit-limit").empty());
  auto list = api("GET", "/api/v1/tickets", key);
  REQUIRE(list.data()["items"].Size() == 1);
  const auto& t = list.data()["items"][0];
  CHECK(str(t, "channel") == "web");
  CHECK(str(t, "requesterEmail") == "budi@example.test");
  CHECK(str(t, "requesterName") == "Budi");
  // Stored hashed: the token's bytes are not in the row.
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE access_token_hash = sha256(convert_to('" + token +
                   "', 'UTF8'))") == 1);

  SECTION("field errors name the field; an unknown workspace is 404") {
    auto no_email = submit(stack().api_url(),
                           R"({"accountId":")" + account + R"(","subject":"x","body":"y","email":"not-an-email"})");
    CHECK(no_email.status == 400);
    CHECK(std::string(no_email.doc["error"]["field"].GetString()) == "email");
    auto long_subject = submit(stack().api_url(), R"({"accountId":")" + account + R"(","subject":")" +
                                                      std::string(301, 's') + R"(","body":"y","email":"a@b.test"})");
    CHECK(std::string(long_subject.doc["error"]["field"].GetString()) == "subject");
    auto empty_body =
        submit(stack().api_url(), R"({"accountId":")" + account + R"(","subject":"x","body":"  ","email":"a@b.test"})");
    CHECK(std::string(empty_body.doc["error"]["field"].GetString()) == "body");
    auto long_name = submit(stack().api_url(), R"({"accountId":")" + account +
                                                   R"(","subject":"x","body":"y","email":"a@b.test","name":")" +
                                                   std::string(201, 'n') + "\"}");
    CHECK(std::string(long_name.doc["error"]["field"].GetString()) == "name");
    CHECK(submit(stack().api_url(), form("acc_000000000000000000000000")).status == 404);
  }

  SECTION("the status view shows public messages only; replies reopen; CSAT after resolution") {
    std::string ticket = str(list.data()["items"][0], "id");
    REQUIRE(
        api("POST", "/api/v1/tickets/" + ticket + "/messages", key, R"({"body":"Internal: VIP buyer","internal":true})")
            .status == 201);
    REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
                R"({"body":"Halo Budi! <script>alert(1)</script>"})")
                .status == 201);
    auto view = pub("GET", "/" + token);
    REQUIRE(view.status == 200);
    CHECK(view.raw.find("Internal: VIP buyer") == std::string::npos);
    CHECK(view.raw.find("\"internal\"") == std::string::npos);
    CHECK(str(view.data(), "status") == "pending");
    REQUIRE(view.data()["messages"].Size() == 2);
    CHECK(str(view.data()["messages"][1], "authorType") == "agent");
    CHECK(view.data()["csat"].IsNull());
    CHECK(pub("GET", "/" + token + "x").status == 404);

    CHECK(pub("POST", "/" + token + "/csat", R"({"score":5})").status == 409);  // not resolved yet
    REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"resolved"})").status == 200);
    CHECK(pub("POST", "/" + token + "/csat", R"({"score":0})").status == 400);
    REQUIRE(pub("POST", "/" + token + "/csat", R"({"score":3,"comment":"ok"})").status == 201);
    REQUIRE(pub("POST", "/" + token + "/csat", R"({"score":5,"comment":"Cepat sekali!"})").status ==
            201);  // within 24 h
    auto rated = api("GET", "/api/v1/tickets/" + ticket, key);
    CHECK(rated.data()["csat"]["score"].GetInt() == 5);
    CHECK(str(rated.data()["csat"], "comment") == "Cepat sekali!");
    CHECK(pub("GET", "/" + token).data()["csat"]["score"].GetInt() == 5);
    // After the window the rating stands.
    sql_exec("UPDATE tickets SET csat_at = now() - interval '25 hours' WHERE id = '" + ticket + "'");
    CHECK(pub("POST", "/" + token + "/csat", R"({"score":1})").status == 409);

    // A requester reply reopens, also from closed.
    REQUIRE(api("PATCH", "/api/v1/tickets/" + ticket, key, R"({"status":"closed"})").status == 200);
    auto reply = pub("POST", "/" + token + "/messages", R"({"body":"Sudah masuk, terima kasih!"})");
    REQUIRE(reply.status == 201);
    CHECK(str(reply.data(), "status") == "open");
    CHECK(str(api("GET", "/api/v1/tickets/" + ticket, key).data(), "status") == "open");
  }

  SECTION("token-scoped attachments: upload, attach, download; nothing across tickets or from notes") {
    std::string ticket = str(list.data()["items"][0], "id");
    std::string att = public_upload(token, "receipt.txt", "paid 2026-11-20");
    auto reply = pub("POST", "/" + token + "/messages", R"({"body":"bukti bayar","attachmentIds":[")" + att + R"("]})");
    REQUIRE(reply.status == 201);
    auto file = http_get(stack().api_url() + "/api/v1/public/tickets/" + token + "/attachments/" + att);
    CHECK(file.status == 200);
    CHECK(file.body == "paid 2026-11-20");
    // Another requester's token cannot read it.
    auto other = submit(stack().api_url(), form(account, "Other", "ani@example.test"));
    std::string other_token = str(other.data(), "accessToken");
    CHECK(http_get(stack().api_url() + "/api/v1/public/tickets/" + other_token + "/attachments/" + att).status == 404);
    // A file on an internal note stays agent-only.
    loket::http::ClientRequest up;
    up.method = "POST";
    up.url = stack().api_url() + "/api/v1/attachments";
    up.headers = {{"Authorization", "Bearer " + key}, {"Content-Type", "multipart/form-data; boundary=XyZ"}};
    up.body =
        "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"note.txt\"\r\n\r\nsecret\r\n--XyZ--\r\n";
    rapidjson::Document d;
    d.Parse(loket::http::fetch(up).body.c_str());
    std::string note_att = d["data"]["id"].GetString();
    REQUIRE(api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
                R"({"body":"see file","internal":true,"attachmentIds":[")" + note_att + R"("]})")
                .status == 201);
    CHECK(http_get(stack().api_url() + "/api/v1/public/tickets/" + token + "/attachments/" + note_att).status == 404);
  }
}

TEST_CASE("the hosted pages are served with a strict CSP; unknown ids get a friendly 404", "[public]") {
  auto [account, key] = new_workspace("Pages");
  auto page = http_get(stack().api_url() + "/support/" + account);
  CHECK(page.status == 200);
  CHECK(page.headers["content-type"].rfind("text/html", 0) == 0);
  CHECK(page.headers["content-security-policy"].find("script-src 'self'") != std::string::npos);
  CHECK(page.body.find("data-account=\"" + account + "\"") != std::string::npos);
  CHECK(http_get(stack().api_url() + "/support/acc_000000000000000000000000").status == 404);
  CHECK(http_get(stack().api_url() + "/support/%3Cscript%3E").status == 404);
  auto created = submit(stack().api_url(), form(account));
  std::string token = str(created.data(), "accessToken");
  auto status = http_get(stack().api_url() + "/t/" + token);
  CHECK(status.status == 200);
  CHECK(status.headers["referrer-policy"] == "no-referrer");
  CHECK(status.headers["cache-control"] == "no-store");
  CHECK(http_get(stack().api_url() + "/t/not-a-real-token-at-all-xxxxxxxxx").status == 404);
  CHECK(http_get(stack().api_url() + "/assets/public.js").body.find("textContent") != std::string::npos);
  CHECK(http_get(stack().api_url() + "/assets/public.css").status == 200);
}

TEST_CASE("the hosted pages carry the workspace's name, escaped", "[public]") {
  auto [account, key] = new_workspace("Toko <b>\"Anda\"</b> & Co");
  const std::string escaped = "data-brand=\"Toko &lt;b&gt;&quot;Anda&quot;&lt;/b&gt; &amp; Co\"";
  auto form_page = http_get(stack().api_url() + "/support/" + account);
  CHECK(form_page.body.find(escaped) != std::string::npos);
  CHECK(form_page.body.find("<b>") == std::string::npos);  // never markup of its own
  auto created = submit(stack().api_url(), form(account));
  auto status = http_get(stack().api_url() + "/t/" + str(created.data(), "accessToken"));
  CHECK(status.body.find(escaped) != std::string::npos);
}

TEST_CASE("a flood of form posts from one IP is cut at the limit; other IPs are unaffected", "[public]") {
  auto [account, key] = new_workspace("Flood");
  // A replica with production-like limits, behind a trusted proxy (127.0.0.1) that forwards
  // the client address in X-Forwarded-For.
  std::string base =
      stack().start_api("api-flood", {"LOKET_RATE_LIMIT_IP_PER_MINUTE=30", "LOKET_TRUSTED_PROXIES=127.0.0.1"});
  std::vector<std::future<std::pair<int, int>>> workers;
  for (int w = 0; w < 4; ++w)
    workers.push_back(std::async(std::launch::async, [&, w] {
      int created = 0, limited = 0;
      for (int i = w; i < 1000; i += 4) {
        auto r = submit(base, form(account, "flood " + std::to_string(i)), {{"X-Forwarded-For", "203.0.113.7"}});
        if (r.status == 201) ++created;
        if (r.status == 429) {
          ++limited;
          if (r.header("retry-after").empty()) return std::pair{-1, -1};
        }
      }
      return std::pair{created, limited};
    }));
  int created = 0, limited = 0;
  for (auto& f : workers) {
    auto [c, l] = f.get();
    REQUIRE(c >= 0);
    created += c;
    limited += l;
  }
  CHECK(created <= 30 * 2);  // at most the limit per one-minute window (the run may straddle two)
  CHECK(created >= 1);
  CHECK(limited == 1000 - created);
  CHECK(sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + account + "'") == created);
  auto other = submit(base, form(account, "from elsewhere"), {{"X-Forwarded-For", "198.51.100.20"}});
  CHECK(other.status == 201);
}
