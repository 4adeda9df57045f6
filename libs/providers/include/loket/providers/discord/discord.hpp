#pragma once
#include <memory>
#include <string>

#include "loket/providers/adapter.hpp"

/// Discord webhooks (shared/reference/providers.md §9; docs/channels/slack-discord.md): a
/// workspace's team notifications about new tickets and customer replies, as embeds. Send-only:
/// the webhook URL (its token) is the credential (encrypted, never shown again).
namespace loket::providers::discord {

/// The integration provider name in the API and the database.
inline constexpr const char* kIntegration = "discord_webhook";

/// The execute-webhook body of `n`: `content` (one line), one embed (title "#<number> <subject>"
/// linking to the ticket, the excerpt, From and Channel fields, a footer, the timestamp) and
/// `allowed_mentions: {parse: []}`, so a customer's "@everyone" pings nobody. Texts are cut to
/// Discord's embed limits (title 256, description 4,096, field 1,024 characters). Pure.
std::string notice_json(const TeamNotice& n);

/// The adapter. Hosts: LOKET_DISCORD_WEBHOOK_HOSTS (comma-separated host[:port]), else
/// discord.com and discordapp.com.
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::discord
