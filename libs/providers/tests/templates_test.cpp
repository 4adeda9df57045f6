// Message templates (issue 19): placeholders, filling with hostile values, and the providers'
// template lists in their real shapes (Graph API message_templates, Twilio ContentAndApprovals).
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>

#include "loket/providers/adapter.hpp"
#include "loket/providers/error.hpp"
#include "loket/providers/twilio/twilio.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"

using namespace loket;
using providers::MessageTemplate;
using Strings = std::vector<std::string>;

namespace {
std::string read(const std::string& path) {
  std::ifstream in(std::string(LOKET_SOURCE_DIR) + "/libs/providers/tests/fixtures/" + path);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const MessageTemplate kOrder{"HX1", "order_update", "en", "UTILITY", "Hi {{1}}, order {{2}} shipped.", {"1", "2"}};
}  // namespace

TEST_CASE("template placeholders: numbers in numeric order, then names in order of appearance") {
  CHECK(providers::template_placeholders("Hi {{1}}, order {{2}} shipped.") == Strings{"1", "2"});
  CHECK(providers::template_placeholders("{{10}} {{2}} {{1}} {{2}}") == Strings{"1", "2", "10"});
  CHECK(providers::template_placeholders("Hai {{ customer_name }}, {{topic}} {{customer_name}}") ==
        Strings{"customer_name", "topic"});
  // Not placeholders: empty, spaced, punctuated, unterminated, over-long names.
  CHECK(providers::template_placeholders("{{}} {{a b}} {{a-b}} {{1").empty());
  CHECK(providers::template_placeholders("{{" + std::string(33, 'x') + "}}").empty());
  CHECK(providers::template_placeholders("{{{1}}}") == Strings{"1"});
}

TEST_CASE("render_template replaces each placeholder, values are never re-read as placeholders") {
  CHECK(providers::render_template(kOrder.text, {{"1", "Ana"}, {"2", "#1042"}}) == "Hi Ana, order #1042 shipped.");
  CHECK(providers::render_template("{{1}} and {{1}}", {{"1", "{{2}}"}, {"2", "x"}}) == "{{2}} and {{2}}");
  CHECK(providers::render_template("Hai {{ name }}!", {{"name", "Sari"}}) == "Hai Sari!");
  CHECK(providers::render_template("kept {{3}}", {{"1", "a"}}) == "kept {{3}}");
}

TEST_CASE("fill_template takes one value per variable, in order, as WhatsApp accepts them") {
  auto ref = providers::fill_template(kOrder, {"Ana", "#1042"});
  CHECK(ref.id == "HX1");
  CHECK(ref.name == "order_update");
  CHECK(ref.language == "en");
  CHECK(ref.variables == std::vector<std::pair<std::string, std::string>>{{"1", "Ana"}, {"2", "#1042"}});
  CHECK_THROWS_AS(providers::fill_template(kOrder, {"Ana"}), providers::Refusal);
  CHECK_THROWS_AS(providers::fill_template(kOrder, {"Ana", "#1", "extra"}), providers::Refusal);
  CHECK_THROWS_WITH(providers::fill_template(kOrder, {"Ana", "line\nbreak"}), Catch::Contains("{{2}}"));
  CHECK_THROWS_AS(providers::fill_template(kOrder, {"Ana", "tab\there"}), providers::Refusal);
  CHECK_THROWS_AS(providers::fill_template(kOrder, {"Ana", "five     spaces"}), providers::Refusal);
  CHECK_NOTHROW(providers::fill_template(kOrder, {"Ana", "four    spaces"}));
  CHECK_THROWS_AS(providers::fill_template(kOrder, {"Ana", "   "}), providers::Refusal);
  CHECK_THROWS_AS(providers::fill_template(kOrder, {"Ana", std::string("nul\0byte", 8)}), providers::Refusal);
  CHECK_THROWS_AS(providers::fill_template(kOrder, {"Ana", "\xc3\x28"}), providers::Refusal);
  CHECK_THROWS_AS(providers::fill_template(kOrder, {"Ana", std::string(1025, 'x')}), providers::Refusal);
  CHECK_NOTHROW(providers::fill_template(kOrder, {"Ana", std::string(1024, 'x')}));
}

TEST_CASE("Cloud API: only approved templates Loket can fill are listed, with header and footer text") {
  std::string after;
  auto list = providers::whatsapp_cloud::templates_from_page(read("whatsapp_cloud/message_templates.json"), after);
  CHECK(after == "MjQZD");
  REQUIRE(list.size() == 2);  // not: an image header, pending, an OTP button, a URL button with a variable
  CHECK(list[0].id == "1190416925457735");
  CHECK(list[0].name == "order_shipped");
  CHECK(list[0].language == "en_US");
  CHECK(list[0].category == "UTILITY");
  CHECK(list[0].text ==
        "Your order is on its way\n\nHi {{1}}, order {{2}} has shipped and arrives {{3}}. Questions? Just "
        "reply.\n\nAcme Shop");
  CHECK(list[0].variables == Strings{"1", "2", "3"});
  CHECK(list[1].name == "follow_up");
  CHECK(list[1].language == "id");
  CHECK(list[1].variables == Strings{"customer_name", "topic"});

  std::string last = R"({"data":[],"paging":{"cursors":{"before":"QVFI","after":"QVFI"}}})";
  CHECK(providers::whatsapp_cloud::templates_from_page(last, after).empty());
  CHECK(after.empty());  // no `next`: the last page
  CHECK_THROWS_AS(providers::whatsapp_cloud::templates_from_page("<html>", after), providers::ProviderError);
  CHECK_THROWS_AS(providers::whatsapp_cloud::templates_from_page(R"({"data":{}})", after), providers::ProviderError);
  // Hostile items are skipped, never a crash.
  CHECK(
      providers::whatsapp_cloud::templates_from_page(
          R"({"data":[1,"x",{"status":"APPROVED"},{"status":"APPROVED","id":"1","name":"n","language":"en","components":"x"},)"
          R"({"status":"APPROVED","id":"2","name":"n","language":"en","components":[7,{"type":"BODY","text":5}]}]})",
          after)
          .empty());
}

TEST_CASE("Twilio: approved Content templates with their body, both approval shapes, every variable") {
  std::string next;
  auto list = providers::twilio::templates_from_page(read("twilio/content_and_approvals.json"), next);
  CHECK(next ==
        "https://content.twilio.com/v1/"
        "ContentAndApprovals?PageSize=500&Page=1&PageToken=PTHX5f1a2b3c4d5e6f708192a3b4c5d6e7f8");
  REQUIRE(list.size() == 3);  // not: the unsubmitted draft, the rejected one
  CHECK(list[0].id == "HXb5b62575e6e4ff6129ad7c8efe1f983e");
  CHECK(list[0].name == "order_update");
  CHECK(list[0].language == "en");
  CHECK(list[0].category == "UTILITY");
  CHECK(list[0].text == "Hi {{1}}, your order {{2}} has shipped.");
  CHECK(list[0].variables == Strings{"1", "2"});
  CHECK(list[1].name == "menu");  // approval keyed by channel
  CHECK(list[1].category == "MARKETING");
  CHECK(list[1].text == "Hola {{1}}, ¿en qué te ayudamos?");
  CHECK(list[2].name == "receipt_link");
  CHECK(list[2].variables == Strings{"1", "2"});  // {{2}} fills the button's URL, not the text
  CHECK_THROWS_AS(providers::twilio::templates_from_page("{}", next), providers::ProviderError);
  CHECK(providers::twilio::templates_from_page(R"({"contents":[null,{"approval_requests":[]},)"
                                               R"({"sid":"HX1","approval_requests":{"status":"approved"}}],"meta":{}})",
                                               next)
            .empty());
  CHECK(next.empty());
}
