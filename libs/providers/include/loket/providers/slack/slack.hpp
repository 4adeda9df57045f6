#pragma once
#include <memory>
#include <string>

#include "loket/providers/adapter.hpp"

/// Slack incoming webhooks (shared/reference/providers.md §8; docs/channels/slack-discord.md):
/// a workspace's team notifications about new tickets and customer replies. Send-only: the
/// webhook URL is the credential (encrypted, never shown again).
namespace loket::providers::slack {

/// The integration provider name in the API and the database.
inline constexpr const char* kIntegration = "slack_webhook";

/// The Block Kit message of `n`: {"text": fallback, "blocks": [header section, the excerpt as
/// a quote, context]}. Customer texts are escaped for mrkdwn (&, <, >) so they cannot make
/// links or mentions; each section stays under Slack's 3,000 characters. Pure.
std::string notice_json(const TeamNotice& n);

/// The adapter. Hosts: LOKET_SLACK_WEBHOOK_HOSTS (comma-separated host[:port]), else
/// hooks.slack.com.
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::slack
