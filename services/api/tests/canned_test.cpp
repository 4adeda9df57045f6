// Canned responses' variables (issue 20): what a saved reply may say and how it is filled.
#include <catch2/catch.hpp>

#include "canned.hpp"

using namespace loket;

namespace {
const std::map<std::string, std::string> kValues = {{"requester.name", "Sari Dewi"},
                                                    {"requester.firstName", "Sari"},
                                                    {"ticket.number", "1042"},
                                                    {"agent.name", "Budi"},
                                                    {"workspace.name", "Acme"}};
}

TEST_CASE("canned responses: the known variables are filled, spaces inside the braces allowed") {
  CHECK(api::render_canned(
            "Hi {{requester.firstName}}, about #{{ ticket.number }}: done. {{agent.name}}, {{workspace.name}}",
            kValues) == "Hi Sari, about #1042: done. Budi, Acme");
  CHECK(api::render_canned("No variables at all.", kValues) == "No variables at all.");
  CHECK(api::render_canned("{{requester.email}}<", kValues) == "<");  // a known variable without a value is empty
  CHECK(api::render_canned("a {{ b", kValues) == "a {{ b");           // not closed: text
  // A value is never read again as a variable.
  CHECK(api::render_canned("{{requester.name}}", {{"requester.name", "{{agent.name}}"}}) == "{{agent.name}}");
}

TEST_CASE("canned responses: an unknown variable is refused by name, with the list of known ones") {
  CHECK(api::canned_body_error("Hi {{requester.firstName}}").empty());
  auto error = api::canned_body_error("Hi {{customer.name}}, {{ticket.number}}");
  CHECK(error.find("{{customer.name}}") != std::string::npos);
  CHECK(error.find("{{requester.firstName}}") != std::string::npos);
  CHECK_FALSE(api::canned_body_error("{{}}").empty());
  CHECK_FALSE(api::canned_body_error("{{ Requester.Name }}").empty());  // names are case-sensitive
  CHECK(api::canned_body_error(std::string(200, 'x') + "{{" + std::string(500, 'y') + "}}").size() < 400);
  CHECK_THROWS_AS(api::render_canned("{{agent.email}}", kValues), std::invalid_argument);
}
