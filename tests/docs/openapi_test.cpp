// docs/openapi.yaml and the api router describe the same routes (issue 3 "Integrators"): a
// route in the router but not in the document fails, and so does the reverse.
#include <catch2/catch.hpp>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "api.hpp"

namespace {
// "METHOD /path/:param" for every operation under `paths:`; {param} becomes :param.
std::set<std::string> documented_routes(const std::string& yaml_path) {
  std::ifstream in(yaml_path);
  REQUIRE(in.good());
  static const std::regex path_re(R"(^  (/\S*):\s*$)"), op_re(R"(^    (get|put|post|patch|delete|options|head):\s*$)"),
      top_re(R"(^\S.*$)"), param_re(R"(\{(\w+)\})");
  std::set<std::string> out;
  std::string line, path;
  bool in_paths = false;
  std::smatch m;
  while (std::getline(in, line)) {
    if (std::regex_match(line, top_re)) in_paths = line.rfind("paths:", 0) == 0;
    if (!in_paths) continue;
    if (std::regex_match(line, m, path_re))
      path = std::regex_replace(m[1].str(), param_re, ":$1");
    else if (std::regex_match(line, m, op_re)) {
      std::string method = m[1].str();
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      out.insert(method + " " + path);
    }
  }
  return out;
}
}  // namespace

TEST_CASE("every api route is in docs/openapi.yaml and every documented route exists") {
  loket::store::Pool pool("", 1);  // never connects: building the router needs no database
  auto keys = loket::crypto::Keyring::parse(std::string(64, '0'));
  auto providers = loket::providers::Registry::standard(loket::providers::Settings());
  loket::api::Context ctx{pool, keys, {}, providers};
  auto routes = loket::api::make_router(ctx).routes();
  std::set<std::string> in_router(routes.begin(), routes.end());
  auto in_doc = documented_routes(LOKET_SOURCE_DIR "/docs/openapi.yaml");
  REQUIRE(in_router.size() > 20);
  for (const auto& r : in_router) {
    INFO("in the router, missing from docs/openapi.yaml: " << r);
    CHECK(in_doc.count(r) == 1);
  }
  for (const auto& r : in_doc) {
    INFO("in docs/openapi.yaml, missing from the router: " << r);
    CHECK(in_router.count(r) == 1);
  }
}
