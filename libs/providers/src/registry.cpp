// The one list of providers and ticket channels. A new provider adds one line to standard().
#include "loket/providers/registry.hpp"

#include <cctype>

#include "loket/providers/api_channel/api_channel.hpp"
#include "loket/providers/discord/discord.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/email_mailbox/email_mailbox.hpp"
#include "loket/providers/instagram/instagram.hpp"
#include "loket/providers/resend/resend.hpp"
#include "loket/providers/slack/slack.hpp"
#include "loket/providers/telegram/telegram.hpp"
#include "loket/providers/twilio/twilio.hpp"
#include "loket/providers/vk/vk.hpp"
#include "loket/providers/whatsapp_cloud/whatsapp_cloud.hpp"

namespace loket::providers {

Registry Registry::standard(const Settings& settings) {
  std::vector<std::unique_ptr<Adapter>> all;
  all.push_back(telegram::make_adapter(settings));
  all.push_back(twilio::make_adapter(settings));
  all.push_back(whatsapp_cloud::make_adapter(settings));
  all.push_back(resend::make_adapter(settings));
  all.push_back(email::make_adapter(settings));
  all.push_back(email_mailbox::make_adapter(settings));
  all.push_back(slack::make_adapter(settings));
  all.push_back(discord::make_adapter(settings));
  all.push_back(api_channel::make_adapter(settings));
  all.push_back(instagram::make_adapter(settings));
  all.push_back(vk::make_adapter(settings));
  return Registry(std::move(all));
}

const std::vector<ChannelDescriptor>& channels() {
  static const std::vector<ChannelDescriptor> all = {
      {"web", "Web", ReplyTo::kEmail},
      {"email", "Email", ReplyTo::kEmail, false},
      {"phone", "Phone", ReplyTo::kEmail},
      {"whatsapp", "WhatsApp", ReplyTo::kPhone, true, 24, "", 0, true, true},
      {"telegram", "Telegram", ReplyTo::kThread, true, 0, "", 0, false, true},
      {"instagram", "Instagram", ReplyTo::kThread, true, 24, "HUMAN_AGENT", 7 * 24, false, true},
      {"vk", "VK", ReplyTo::kThread, true, 0, "", 0, false, true},
      // the visitor sees it arrive in the widget
      {"chat", "Chat", ReplyTo::kEmail, false, 0, "", 0, false, true},
      {"api", "Api", ReplyTo::kEmail, true, 0, "", 0, false, true},
      {"other", "Other", ReplyTo::kEmail},
  };
  return all;
}

const ChannelDescriptor* find_channel(std::string_view name) {
  for (const auto& c : channels())
    if (c.name == name) return &c;
  return nullptr;
}

std::optional<ReplyWindow> reply_window(const ChannelDescriptor& channel, std::int64_t customer_message_at_ms) {
  constexpr std::int64_t kHourMs = 3600 * 1000;
  if (channel.reply_window_hours <= 0 || customer_message_at_ms <= 0) return std::nullopt;
  ReplyWindow w;
  w.closes_at_ms = customer_message_at_ms + channel.reply_window_hours * kHourMs;
  if (!channel.window_tag.empty()) {
    w.tag = channel.window_tag;
    w.tag_closes_at_ms = customer_message_at_ms + channel.tag_window_hours * kHourMs;
  }
  return w;
}

std::string channel_label(std::string_view name) {
  if (name.empty()) return "Support";
  if (const auto* c = find_channel(name)) return c->label;
  std::string s(name);
  s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

Registry::Registry(std::vector<std::unique_ptr<Adapter>> adapters) : adapters_(std::move(adapters)) {
  for (std::size_t i = 0; i < adapters_.size(); ++i)
    for (std::size_t j = 0; j < i; ++j) {
      const auto &a = adapters_[i]->descriptor(), &b = adapters_[j]->descriptor();
      if (a.name == b.name || (!a.webhook.empty() && a.webhook == b.webhook))
        throw std::logic_error("two providers are named " + a.name + " / " + a.webhook);
    }
}

const Adapter* Registry::find(std::string_view name) const {
  for (const auto& a : adapters_)
    if (a->descriptor().name == name) return a.get();
  return nullptr;
}

const Adapter* Registry::find_webhook(std::string_view webhook) const {
  if (webhook.empty()) return nullptr;
  for (const auto& a : adapters_)
    if (a->descriptor().webhook == webhook) return a.get();
  return nullptr;
}

std::vector<std::string> Registry::names_on_channel(std::string_view channel) const {
  std::vector<std::string> out;
  for (const auto& a : adapters_)
    if (!channel.empty() && a->descriptor().channel == channel) out.push_back(a->descriptor().name);
  return out;
}

std::vector<const ProviderDescriptor*> Registry::platform() const {
  std::vector<const ProviderDescriptor*> out;
  for (const auto& a : adapters_)
    if (a->descriptor().platform) out.push_back(&a->descriptor());
  return out;
}

std::vector<std::string> Registry::mailer_names() const {
  std::vector<std::string> out;
  for (const auto& a : adapters_)
    if (a->descriptor().sends_email) out.push_back(a->descriptor().name);
  return out;
}

std::vector<std::string> Registry::webhook_topics() const {
  std::vector<std::string> out;
  for (const auto& a : adapters_)
    if (!a->descriptor().webhook.empty()) out.push_back("channel.webhook." + a->descriptor().webhook);
  return out;
}

std::vector<std::string> standard_webhook_topics() { return Registry::standard(Settings()).webhook_topics(); }

}  // namespace loket::providers
