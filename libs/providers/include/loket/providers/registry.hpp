#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loket/providers/adapter.hpp"

/// The one list of providers and of ticket channels (libs/providers/src/registry.cpp). Ingress,
/// inbound, writer, outbound, api, the dev broker and the e2e harness read it instead of
/// naming providers.
namespace loket::providers {

/// Where an agent's public reply on a ticket of a channel goes.
enum class ReplyTo {
  kEmail,   ///< the requester's email address, by the workspace's mailer (web, api, phone, …)
  kThread,  ///< the ticket's conversation (chat id) through the integration it came in on
  kPhone,   ///< the requester's E.164 number through the workspace's latest integration of the channel
};

/// A ticket channel (`web`, `email`, `whatsapp`, …): how it is named and where replies go.
struct ChannelDescriptor {
  std::string name;   ///< the ticket's `channel`
  std::string label;  ///< for people: "WhatsApp"; subjects read "<label> inquiry"
  ReplyTo reply_to = ReplyTo::kEmail;
  /// Whether a requester with an address gets the "we received your request" email when a
  /// ticket opens. Not on email: the workspace's auto-reply and the answers are the
  /// notifications there (issue 16, point 6).
  bool received_notice = true;
  /// Hours after the customer's last message in which the provider takes a free-form reply
  /// (WhatsApp and Instagram: 24); 0 = no window.
  int reply_window_hours = 0;
  /// The message tag that lets a person answer later (Instagram's "HUMAN_AGENT"), and until how
  /// many hours after the customer's last message; "" = none.
  std::string window_tag = "";
  int tag_window_hours = 0;
  /// Its providers have pre-approved message templates a reply may be sent as whatever the
  /// window (WhatsApp; Adapter::templates).
  bool message_templates = false;
  /// Its tickets' thread id names the person (a chat, a visitor, an API contact), so it is one of
  /// their contact's identities (issue 20) and a reply on this channel can reach them from
  /// another of their tickets.
  bool person_thread = false;
};

/// The reply window of a ticket: when a free-form reply stops being accepted, and how long a
/// tagged one still is (issue 19). Times in ms since the epoch.
struct ReplyWindow {
  std::int64_t closes_at_ms = 0;
  std::string tag;  ///< "" when the channel has none
  std::int64_t tag_closes_at_ms = 0;
  /// Whether a reply at `now_ms` is accepted, free-form or with `tag` ("" = none).
  bool open(std::int64_t now_ms, const std::string& with_tag = "") const {
    if (now_ms < closes_at_ms) return true;
    return !tag.empty() && with_tag == tag && now_ms < tag_closes_at_ms;
  }
};

/// The reply window of a ticket on `channel` whose customer last wrote at
/// `customer_message_at_ms`; std::nullopt for channels without one, or before the customer
/// has written (0). Pure.
std::optional<ReplyWindow> reply_window(const ChannelDescriptor& channel, std::int64_t customer_message_at_ms);

/// Every ticket channel, in the order the API documents them.
const std::vector<ChannelDescriptor>& channels();
/// The channel named `name`, or nullptr.
const ChannelDescriptor* find_channel(std::string_view name);
/// The label of `name`: its descriptor's, "Support" for "", else `name` capitalized.
std::string channel_label(std::string_view name);

/// The adapters of one process. Thread-safe after construction (adapters are const).
class Registry {
 public:
  /// A registry over `adapters` (tests build one with fakes).
  explicit Registry(std::vector<std::unique_ptr<Adapter>> adapters);
  /// Every provider Loket has, configured from `settings`: the explicit list.
  static Registry standard(const Settings& settings);

  const std::vector<std::unique_ptr<Adapter>>& adapters() const { return adapters_; }
  /// The adapter whose descriptor().name is `name` (the integration's provider), or nullptr.
  const Adapter* find(std::string_view name) const;
  /// The adapter whose descriptor().webhook is `webhook` (RawWebhook.provider), or nullptr.
  const Adapter* find_webhook(std::string_view webhook) const;
  /// The names of the providers whose conversations are on `channel`.
  std::vector<std::string> names_on_channel(std::string_view channel) const;
  /// The names of the providers that give workspaces an email sender.
  std::vector<std::string> mailer_names() const;
  /// The descriptors Loket keeps an integration of for every workspace (descriptor().platform).
  std::vector<const ProviderDescriptor*> platform() const;
  /// The `channel.webhook.<provider>` topics.
  std::vector<std::string> webhook_topics() const;

 private:
  std::vector<std::unique_ptr<Adapter>> adapters_;
};

/// The `channel.webhook.<provider>` topics of the standard registry, without any configuration
/// (for the dev broker and tests).
std::vector<std::string> standard_webhook_topics();

}  // namespace loket::providers
