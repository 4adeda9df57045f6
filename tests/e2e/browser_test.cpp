// The hosted form and status page in headless Chromium (tests/browser/hosted_form.cjs).
#include <catch2/catch.hpp>

#include <cstdlib>

#include "harness.hpp"

using namespace e2e;

namespace {
// Runs tests/browser/<script> with the api's URL, `account` and `key`; its exit status.
int run_browser(const std::string& script, const std::string& account, const std::string& key) {
  std::string tools = env().bin_dir + "/../tools/node_modules";
  std::string cmd = "NODE_PATH='" + tools + "' node '" + std::string(LOKET_SOURCE_DIR) + "/tests/browser/" + script +
                    "' '" + stack().api_url() + "' '" + account + "' '" + key + "'";
  INFO(cmd);
  return std::system(cmd.c_str());
}
}  // namespace

TEST_CASE("a customer submits the form, follows the link, replies and rates in a real browser", "[browser]") {
  auto [account, key] = new_workspace("Toko <Browser>");
  CHECK(run_browser("hosted_form.cjs", account, key) == 0);
}

TEST_CASE("a visitor chats through the widget on another site, offline and in two tabs", "[browser]") {
  auto [account, key] = new_workspace("Toko Chat");
  CHECK(run_browser("chat_widget.cjs", account, key) == 0);
  // The transcript the visitor asked for in the panel arrived, with the agent's replies.
  auto transcript = [] {
    for (const auto& mail : resend().emails_to("sari@example.test"))
      if (mail.find("Transcript: ") != std::string::npos && mail.find("Anything else?") != std::string::npos)
        return true;
    return false;
  };
  CHECK(wait_until(transcript, std::chrono::seconds(30)));
}
