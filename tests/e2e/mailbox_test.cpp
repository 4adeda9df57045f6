// A workspace's own mailbox (issue 16, seed 004): a real Dovecot (IMAP, TLS verified) is
// imported exactly once without changing its flags, and agents' answers go out through a real
// Postfix (STARTTLS, AUTH through Dovecot) from the mailbox's address.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"

using namespace e2e;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {
std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The private mail servers of one test: Dovecot and a submission Postfix under /tmp (their
// users must reach the files), stopped and removed at the end.
struct MailServers {
  int imaps = free_port(), imap = free_port(), auth = free_port(), smtp = free_port();
  std::string dir = "/tmp/loket-imap-" + std::to_string(imaps), root = LOKET_SOURCE_DIR;

  MailServers() {
    // Mailboxes an earlier run left connected point at servers that are gone: not polled again.
    sql_exec("UPDATE integrations SET status = 'disconnected' WHERE provider = 'email_mailbox'");
    fs::remove_all(dir);
    fs::create_directories(dir);
    REQUIRE(std::system(("bash " + root + "/tests/mail/dovecot.sh start " + dir + " " + std::to_string(imaps) + " " +
                         std::to_string(imap) + " " + std::to_string(auth) + " >" + dir + "/dovecot-start.log 2>&1")
                            .c_str()) == 0);
    REQUIRE(std::system(("bash " + root + "/tests/mail/postfix.sh start-submission " + dir + " " +
                         std::to_string(smtp) + " " + std::to_string(auth) + " " + dir + "/dovecot/cert.pem " + dir +
                         "/dovecot/key.pem >" + dir + "/postfix-start.log 2>&1")
                            .c_str()) == 0);
    fs::copy_file(dir + "/dovecot/cert.pem", mail_ca_file(), fs::copy_options::overwrite_existing);
  }
  ~MailServers() {
    (void)std::system(("bash " + root + "/tests/mail/postfix.sh stop-submission " + dir + "; bash " + root +
                       "/tests/mail/dovecot.sh stop " + dir + "; rm -rf " + dir)
                          .c_str());
  }
  // How many times `user` logged in over IMAP (Dovecot's log).
  int imap_logins(const std::string& user) const {
    std::istringstream log(read_file(dir + "/dovecot/dovecot.log"));
    int n = 0;
    for (std::string line; std::getline(log, line);)
      if (line.find("imap-login: Info: Login: user=<" + user + ">") != std::string::npos) ++n;
    return n;
  }
  // Stops Dovecot (every connection to it drops) and starts it again on the same ports.
  void restart_imap() {
    REQUIRE(std::system(("bash " + root + "/tests/mail/dovecot.sh stop " + dir + " && bash " + root +
                         "/tests/mail/dovecot.sh start " + dir + " " + std::to_string(imaps) + " " +
                         std::to_string(imap) + " " + std::to_string(auth) + " >>" + dir + "/dovecot-start.log 2>&1")
                            .c_str()) == 0);
  }
  // A mailbox user with an empty maildir the tests can deliver into.
  void add_user(const std::string& user, const std::string& password) {
    std::ofstream(dir + "/dovecot/users", std::ios::app) << user << ":{PLAIN}" << password << "::::::\n";
    for (const char* sub : {"new", "cur", "tmp"}) {
      fs::create_directories(maildir(user) / sub);
      fs::permissions(maildir(user) / sub, fs::perms::all);
    }
    for (auto p = maildir(user); p != fs::path(dir + "/dovecot/mail"); p = p.parent_path())
      fs::permissions(p, fs::perms::all);
  }
  fs::path maildir(const std::string& user) const { return fs::path(dir) / "dovecot/mail" / user / "Maildir"; }
  // Delivers `mail` as an MTA does: a file in new/ (unseen), or in cur/ with the S flag.
  void deliver(const std::string& user, const std::string& mail, bool seen = false) {
    const std::string name = loket::core::new_id("m") + ".loket";
    fs::path tmp = maildir(user) / "tmp" / name;
    std::ofstream(tmp, std::ios::binary) << mail;
    fs::permissions(tmp, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                             fs::perms::others_read | fs::perms::others_write);
    fs::rename(tmp, seen ? maildir(user) / "cur" / (name + ":2,S") : maildir(user) / "new" / name);
  }
  // The messages the SMTP server delivered, oldest first.
  std::vector<std::string> sent() const {
    std::vector<fs::path> files;
    for (const auto& e : fs::directory_iterator(dir + "/submission/sink/new")) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(read_file(f));
    return out;
  }
};

std::string mail(const std::string& from, const std::string& to, const std::string& subject, const std::string& body) {
  return "From: " + from + "\r\nTo: " + to + "\r\nSubject: " + subject + "\r\nMessage-ID: <" +
         loket::core::new_id("mid") +
         "@mail.example>\r\nMIME-Version: 1.0\r\n"
         "Content-Type: text/plain; charset=UTF-8\r\n\r\n" +
         body + "\r\n";
}

std::string connect_body(const MailServers& s, const std::string& user, const std::string& imap_password,
                         const std::string& smtp_password) {
  return R"({"provider":"email_mailbox","address":")" + user +
         R"(","fromName":"Toko Anda","imap":{"host":"127.0.0.1","port":)" + std::to_string(s.imaps) +
         R"(,"security":"ssl","username":")" + user + R"(","password":")" + imap_password +
         R"("},"smtp":{"host":"127.0.0.1","port":)" + std::to_string(s.smtp) +
         R"(,"security":"starttls","username":")" + user + R"(","password":")" + smtp_password + R"("}})";
}

long long tickets_of(const std::string& account) {
  return sql_number("SELECT count(*) FROM tickets WHERE workspace_id = '" + account + "'");
}

// How many files of the maildir carry the \Seen flag (",S" in their info suffix).
int seen_files(const MailServers& s, const std::string& user) {
  int n = 0;
  for (const char* sub : {"new", "cur"})
    for (const auto& e : fs::directory_iterator(s.maildir(user) / sub)) {
      auto name = e.path().filename().string();
      auto info = name.find(":2,");
      if (info != std::string::npos && name.find('S', info) != std::string::npos) ++n;
    }
  return n;
}
}  // namespace

TEST_CASE("a workspace's own mailbox: validated live, imported once without touching flags, answered by its SMTP",
          "[mailbox]") {
  MailServers servers;
  auto [account, key] = new_workspace("Own mailbox");
  const std::string user = "support-" + loket::core::new_id("s").substr(2, 8) + "@shop.test";
  servers.add_user(user, "right-password");
  servers.deliver(user, mail("Budi <budi@customer.test>", user, "Paket belum sampai", "Sudah seminggu."));
  servers.deliver(user, mail("Citra <citra@customer.test>", user, "Invoice", "Tolong kirim invoice."), true);

  // Each half is checked live; a wrong password names its half, and nothing is stored.
  auto bad_imap = api("POST", "/api/v1/channels", key, connect_body(servers, user, "wrong", "right-password"));
  CHECK(bad_imap.status == 400);
  CHECK(bad_imap.raw.find("IMAP") != std::string::npos);
  auto bad_smtp = api("POST", "/api/v1/channels", key, connect_body(servers, user, "right-password", "wrong"));
  CHECK(bad_smtp.status == 400);
  CHECK(bad_smtp.raw.find("SMTP") != std::string::npos);
  CHECK(api("GET", "/api/v1/channels", key).data()["integrations"].Size() == 0);

  auto connected =
      api("POST", "/api/v1/channels", key, connect_body(servers, user, "right-password", "right-password"));
  REQUIRE(connected.status == 201);
  CHECK(connected.raw.find("right-password") == std::string::npos);  // credentials are never returned
  REQUIRE(wait_until([&] { return tickets_of(account) == 2; }, 30s));
  CHECK(seen_files(servers, user) == 1);  // the unseen mail stays unseen

  // New mail appears within seconds; nothing is imported twice.
  servers.deliver(user, mail("Dewi <dewi@customer.test>", user, "Retur", "Bisa retur?"));
  REQUIRE(wait_until([&] { return tickets_of(account) == 3; }, 30s));
  std::this_thread::sleep_for(2s);
  CHECK(tickets_of(account) == 3);
  CHECK(sql_number("SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.workspace_id = '" +
                   account + "'") == 3);

  // The server renumbers the folder (UIDVALIDITY changes): read again, still each mail once.
  for (const auto& e : fs::directory_iterator(servers.maildir(user)))  // its UID list and indexes
    if (e.path().filename().string().rfind("dovecot", 0) == 0) fs::remove(e.path());
  servers.deliver(user, mail("Eka <eka@customer.test>", user, "Ukuran", "Ada ukuran L?"));
  REQUIRE(wait_until([&] { return tickets_of(account) == 4; }, 30s));
  std::this_thread::sleep_for(2s);
  CHECK(tickets_of(account) == 4);

  // An agent's answer goes out through the mailbox's SMTP server, from its address, threaded.
  const std::string ticket =
      sql_text("SELECT id FROM tickets WHERE workspace_id = '" + account + "' AND subject = 'Paket belum sampai'");
  const std::string receipt =
      str(upload(stack().api_url(), key, multipart("resi.txt", "text/plain", "JNE 1234567890")).data(), "id");
  auto reply = api("POST", "/api/v1/tickets/" + ticket + "/messages", key,
                   R"({"body":"Kami cek ke kurir.","attachmentIds":[")" + receipt + R"("]})");
  REQUIRE(reply.status == 201);
  REQUIRE(wait_until([&] { return !servers.sent().empty(); }, 30s));
  const std::string out = servers.sent().back();
  CHECK(out.find("From: Toko Anda <" + user + ">") != std::string::npos);
  CHECK(out.find("To: budi@customer.test") != std::string::npos);
  CHECK(out.find("Subject: Re: Paket belum sampai") != std::string::npos);
  CHECK(out.find("In-Reply-To: <mid_") != std::string::npos);
  CHECK(out.find("Kami cek ke kurir.") != std::string::npos);
  CHECK(out.find("multipart/mixed") != std::string::npos);  // the agent's file goes with it
  CHECK(out.find("filename=resi.txt") != std::string::npos);
  CHECK(out.find(loket::core::base64("JNE 1234567890")) != std::string::npos);
  REQUIRE(wait_until(
      [&] {
        return sql_text("SELECT delivery_status FROM messages WHERE id = '" + std::string(str(reply.data(), "id")) +
                        "'") == "sent";
      },
      15s));
}

TEST_CASE("a mailbox with hundreds of mails waiting imports each once and leaves every flag as it was", "[mailbox]") {
  // Several fetch batches and flag restores (a UID STORE per batch), and answers to the size
  // queries long enough to trip libcurl's header accounting if they were asked in one command.
  MailServers servers;
  auto [account, key] = new_workspace("Full mailbox");
  const std::string user = "backlog-" + loket::core::new_id("s").substr(2, 8) + "@shop.test";
  servers.add_user(user, "pw");
  constexpr int kMails = 300;
  for (int i = 0; i < kMails; ++i)
    servers.deliver(user,
                    mail("Pelanggan " + std::to_string(i) + " <p" + std::to_string(i) + "@customer.test>", user,
                         "Pertanyaan " + std::to_string(i), "Isi " + std::to_string(i)),
                    i % 3 == 0);
  REQUIRE(api("POST", "/api/v1/channels", key, connect_body(servers, user, "pw", "pw")).status == 201);
  REQUIRE(wait_until([&] { return tickets_of(account) == kMails; }, 60s));
  std::this_thread::sleep_for(2s);
  CHECK(tickets_of(account) == kMails);
  CHECK(seen_files(servers, user) == kMails / 3);  // the read ones still read, the unread still unread

  // Polled every 500 ms on one kept connection: the check before connecting and the importer's
  // session are the only logins.
  CHECK(servers.imap_logins(user) <= 2);
  // The server goes away and comes back (every connection dropped): the next mail still arrives.
  servers.restart_imap();
  servers.deliver(user, mail("Baru <baru@customer.test>", user, "Setelah restart", "Masih diterima?"));
  CHECK(wait_until([&] { return tickets_of(account) == kMails + 1; }, 30s));
}

TEST_CASE("mail over the size limit is skipped and reported, and the import goes on", "[mailbox]") {
  MailServers servers;
  auto [account, key] = new_workspace("Big mailbox");
  const std::string user = "big-" + loket::core::new_id("s").substr(2, 8) + "@shop.test";
  servers.add_user(user, "pw");
  servers.deliver(user, mail("budi@customer.test", user, "Huge", std::string(4u << 20, 'x')));  // past 3 MiB
  servers.deliver(user, mail("citra@customer.test", user, "Small", "Just a question."));
  REQUIRE(api("POST", "/api/v1/channels", key, connect_body(servers, user, "pw", "pw")).status == 201);
  REQUIRE(wait_until([&] { return tickets_of(account) == 1; }, 30s));
  std::this_thread::sleep_for(2s);
  CHECK(tickets_of(account) == 1);
  CHECK(sql_text("SELECT subject FROM tickets WHERE workspace_id = '" + account + "'") == "Small");
}

TEST_CASE("a mailbox connected with markSeen marks what it imported as read, and only that", "[mailbox]") {
  MailServers servers;
  auto [account, key] = new_workspace("Seen mailbox");
  const std::string user = "seen-" + loket::core::new_id("s").substr(2, 8) + "@shop.test";
  servers.add_user(user, "pw");
  servers.deliver(user, mail("budi@customer.test", user, "One", "First."));
  servers.deliver(user, mail("citra@customer.test", user, "Two", "Second."));
  std::string body = connect_body(servers, user, "pw", "pw");
  body.insert(body.size() - 1, R"(,"markSeen":true)");
  REQUIRE(api("POST", "/api/v1/channels", key, body).status == 201);
  REQUIRE(wait_until([&] { return tickets_of(account) == 2; }, 30s));
  CHECK(wait_until([&] { return seen_files(servers, user) == 2; }, 10s));
  // Mail that arrives later is marked as it is imported.
  servers.deliver(user, mail("dewi@customer.test", user, "Three", "Third."));
  REQUIRE(wait_until([&] { return tickets_of(account) == 3; }, 30s));
  CHECK(wait_until([&] { return seen_files(servers, user) == 3; }, 10s));
}
