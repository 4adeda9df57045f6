// The hosted form and status page in headless Chromium (tests/browser/hosted_form.cjs).
#include <catch2/catch.hpp>

#include <cstdlib>

#include "harness.hpp"

using namespace e2e;

TEST_CASE("a customer submits the form, follows the link, replies and rates in a real browser", "[browser]") {
  auto [account, key] = new_workspace("Toko <Browser>");
  stack();  // the services are up
  std::string tools = env().bin_dir + "/../tools/node_modules";
  std::string cmd = "NODE_PATH='" + tools + "' node '" + std::string(LOKET_SOURCE_DIR) +
                    "/tests/browser/hosted_form.cjs' '" + stack().api_url() + "' '" + account + "' '" + key + "'";
  INFO(cmd);
  CHECK(std::system(cmd.c_str()) == 0);
}
