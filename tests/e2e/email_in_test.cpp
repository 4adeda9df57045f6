// Email in (issue 16, first part): an MTA posts whole messages to the MIME ingress.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <thread>

#include "harness.hpp"
#include "loket/core/ids.hpp"
#include "loket/http/client.hpp"
#include "loket/http/url.hpp"

using namespace e2e;
using namespace std::chrono_literals;

namespace {
std::string fixture(const std::string& name) {
  std::ifstream in(std::string(LOKET_SOURCE_DIR) + "/libs/mime/tests/fixtures/email/" + name, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

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
}  // namespace

TEST_CASE("mail to a workspace's alias becomes an email ticket, once", "[email]") {
  auto [account, key] = new_workspace("Mail in");
  const std::string alias = account + "@in.loket.test";
  // The alias is the workspace's own: not among its connected channels.
  CHECK(api("GET", "/api/v1/channels", key).data()["integrations"].Size() == 0);
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
