// A workspace's own mailbox: reading what libcurl hands back from IMAP, and connect's checks
// that refuse a bad request before any connection.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "loket/core/json.hpp"
#include "loket/providers/email_mailbox/email_mailbox.hpp"
#include "loket/providers/error.hpp"

using namespace loket;
using namespace loket::providers;
using namespace loket::providers::email_mailbox;

TEST_CASE("UIDVALIDITY is read from an EXAMINE answer as Dovecot, Gmail and Outlook write it") {
  CHECK(read_uidvalidity("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)\r\n"
                         "* OK [PERMANENTFLAGS ()] Read-only mailbox.\r\n* 4 EXISTS\r\n* 0 RECENT\r\n"
                         "* OK [UIDVALIDITY 1796035472] UIDs valid\r\n* OK [UIDNEXT 5] Predicted next UID\r\n") ==
        1796035472);
  CHECK(read_uidvalidity("* OK [UIDVALIDITY 1] UIDs valid\n") == 1);
  CHECK(read_uidvalidity("* OK [UIDNEXT 5] Predicted next UID\r\n") == 0);
  CHECK(read_uidvalidity("* OK [UIDVALIDITY 0] zero is not a UIDVALIDITY\r\n") == 0);
  CHECK(read_uidvalidity("* OK [UIDVALIDITY 4294967296] past 32 bits\r\n") == 0);
  CHECK(read_uidvalidity("* OK [UIDVALIDITY 99999999999999999999999] overflow\r\n") == 0);
  CHECK(read_uidvalidity("A1 OK [UIDVALIDITY 7] tagged, not a response line\r\n") == 0);
  CHECK(read_uidvalidity("") == 0);
}

TEST_CASE("SEARCH answers give the UIDs above the cursor, ascending, once") {
  CHECK(read_search("* SEARCH 2 3 10\r\n", 0) == std::vector<std::uint64_t>{2, 3, 10});
  // "UID SEARCH UID 11:*" with nothing new still names the highest UID (RFC 3501 §6.4.8).
  CHECK(read_search("* SEARCH 10\r\n", 10).empty());
  CHECK(read_search("* SEARCH\r\n", 0).empty());
  CHECK(read_search("* SEARCH 9 4 4 7\r\n* SEARCH 12\r\n", 5) == std::vector<std::uint64_t>{7, 9, 12});
  CHECK(read_search("* SEARCH 5 x 6\r\n", 0) == std::vector<std::uint64_t>{5});         // stops at garbage
  CHECK(read_search("* SEARCH 4294967296 3\r\n", 0) == std::vector<std::uint64_t>{3});  // not a UID: passed over
}

TEST_CASE("FETCH answers give size and \\Seen per UID") {
  auto items = read_fetch_info(
      "* 1 FETCH (UID 3 RFC822.SIZE 1150 FLAGS (\\Seen))\r\n"
      "* 2 FETCH (UID 4 RFC822.SIZE 26214401 FLAGS (\\Recent))\r\n"
      "* 3 FETCH (FLAGS (\\Flagged \\SEEN) UID 9 RFC822.SIZE 12)\r\n"
      "* 4 FETCH (FLAGS ())\r\n"
      "* BYE going away\r\n");
  REQUIRE(items.size() == 3);
  CHECK(items[0].uid == 3);
  CHECK(items[0].size == 1150);
  CHECK(items[0].seen);
  CHECK(items[1].uid == 4);
  CHECK(items[1].size == 26214401);
  CHECK_FALSE(items[1].seen);
  CHECK(items[2].uid == 9);
  CHECK(items[2].seen);
  CHECK(read_fetch_info("* 1 FETCH (UID 0 RFC822.SIZE 5)\r\n").empty());
}

TEST_CASE("credentials survive their JSON form") {
  Credentials c;
  c.address = "support@shop.example";
  c.from_name = "Toko Anda";
  c.imap = {"imap.shop.example", 993, "ssl", "support@shop.example", "imap-pass"};
  c.smtp = {"smtp.shop.example", 587, "starttls", "support@shop.example", "smtp-pass"};
  c.folder = "Support/Inbox";
  c.mark_seen = true;
  auto back = credentials_from_json(to_json(c));
  CHECK(back.address == c.address);
  CHECK(back.from_name == c.from_name);
  CHECK(back.imap.host == "imap.shop.example");
  CHECK(back.imap.port == 993);
  CHECK(back.smtp.security == "starttls");
  CHECK(back.smtp.password == "smtp-pass");
  CHECK(back.folder == "Support/Inbox");
  CHECK(back.mark_seen);
  CHECK_THROWS_AS(credentials_from_json("{}"), std::invalid_argument);
}

TEST_CASE("connect refuses bad fields before connecting anywhere") {
  auto adapter = make_adapter(Settings());
  auto refused = [&](const std::string& json) {
    rapidjson::Document d;
    core::parse_json(d, json);
    try {
      adapter->connect(d);
    } catch (const Refusal& r) {
      return std::string(r.what());
    }
    return std::string();
  };
  const std::string imap = R"("imap":{"host":"imap.shop.example","security":"ssl","username":"u","password":"p"})";
  const std::string smtp = R"("smtp":{"host":"smtp.shop.example","security":"starttls","username":"u","password":"p"})";
  CHECK(refused(R"({"address":"not an address",)" + imap + "," + smtp + "}").find("address") != std::string::npos);
  CHECK(refused(R"({"address":"support@shop.example",)" + smtp + "}").find("imap is required") != std::string::npos);
  CHECK(refused(R"({"address":"support@shop.example",)" + imap + "}").find("smtp is required") != std::string::npos);
  CHECK(
      refused(
          R"({"address":"support@shop.example","imap":{"host":"imap.shop.example","security":"tls","username":"u","password":"p"},)" +
          smtp + "}")
          .find("security") != std::string::npos);
  CHECK(
      refused(
          R"({"address":"support@shop.example","imap":{"host":"evil.example/x?","security":"ssl","username":"u","password":"p"},)" +
          smtp + "}")
          .find("host") != std::string::npos);
  CHECK(
      refused(
          R"({"address":"support@shop.example","imap":{"host":"imap.shop.example","port":70000,"security":"ssl","username":"u","password":"p"},)" +
          smtp + "}")
          .find("port") != std::string::npos);
  CHECK(
      refused(
          R"({"address":"support@shop.example","imap":{"host":"imap.shop.example","security":"ssl","username":"u"},)" +
          smtp + "}")
          .find("password") != std::string::npos);
  CHECK(
      refused(
          R"({"address":"support@shop.example","imap":{"host":"imap.shop.example","security":"ssl","username":"u","password":"p","folder":"a\"b"},)" +
          smtp + "}")
          .find("folder") != std::string::npos);
  CHECK(refused(R"({"address":"support@shop.example","markSeen":"yes",)" + imap + "," + smtp + "}").find("markSeen") !=
        std::string::npos);
}

TEST_CASE("a mailbox on a private address is refused by the SSRF guard") {
  Credentials c;
  c.address = "support@shop.example";
  c.imap = {"127.0.0.1", 993, "ssl", "u", "p"};
  c.smtp = {"10.0.0.5", 587, "starttls", "u", "p"};
  // Unless the process runs with LOKET_OUTBOUND_ALLOW_PRIVATE=1 (the e2e suite, never production).
  if (std::getenv("LOKET_OUTBOUND_ALLOW_PRIVATE") == nullptr) {
    const TlsOptions tls;
    CHECK_THROWS_AS(ImapSession(c, tls), ProviderError);
    try {
      validate(c, tls);
      FAIL("validated a loopback IMAP host");
    } catch (const ProviderError& e) {
      CHECK_FALSE(e.retryable());
      CHECK(std::string(e.what()).find("refused") != std::string::npos);
    }
  }
}

TEST_CASE("UIDNEXT is read from an EXAMINE answer, 0 when the server names none") {
  CHECK(read_uidnext("* OK [UIDVALIDITY 1796035472] UIDs valid\r\n* OK [UIDNEXT 10001] Predicted next UID\r\n") ==
        10001);
  CHECK(read_uidnext("* OK [UIDVALIDITY 1] UIDs valid\r\n") == 0);
  CHECK(read_uidnext("A1 OK [UIDNEXT 5] not untagged\r\n") == 0);
}
