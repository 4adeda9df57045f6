#pragma once
#include <string>
#include <string_view>
#include <vector>

#include "loket/events/events.hpp"

/// What every provider adapter shares: the shape of a normalized webhook, provider API base
/// URLs, and names for attachments the provider leaves unnamed.
namespace loket::providers {

/// What a provider's normalize() made of one webhook delivery: the customer messages in it,
/// delivery failures it reports for messages we sent, and one reason per item it dropped
/// (`status`, `edited_message`, `malformed`, …). Drops are counted and logged by the caller,
/// never silent.
struct Normalized {
  std::vector<events::InboundMessage> messages;
  std::vector<events::DeliveryReceipt> receipts;
  std::vector<std::string> dropped;
};

/// A new message from `raw` with a fresh event id and the routing fields filled: integration,
/// workspace, `provider` and `channel` (the ticket channel, e.g. "whatsapp").
events::InboundMessage new_message(const events::RawWebhook& raw, const std::string& provider,
                                   const std::string& channel);

/// A new `failed` receipt from `raw` for provider message `external_message_id`, sent to
/// `recipient`, with the provider's `error`.
events::DeliveryReceipt new_failure(const events::RawWebhook& raw, const std::string& provider,
                                    const std::string& recipient, const std::string& external_message_id,
                                    const std::string& error);

/// Base URLs of the provider APIs (no trailing '/'), so tests and staging point them at fakes.
struct Endpoints {
  std::string telegram = "https://api.telegram.org";
  std::string twilio = "https://api.twilio.com";
  std::string graph = "https://graph.facebook.com";
  std::string graph_version = "v21.0";
  /// Where the Graph API may send us to download media besides `graph` itself (its media
  /// URLs point at Meta's CDN); any other URL is refused.
  std::vector<std::string> graph_media_bases = {"https://lookaside.fbsbx.com"};
  std::string resend = "https://api.resend.com";
};

/// Endpoints from LOKET_TELEGRAM_API_BASE, LOKET_TWILIO_API_BASE, LOKET_GRAPH_API_BASE,
/// LOKET_GRAPH_API_VERSION, LOKET_GRAPH_MEDIA_BASES (comma-separated) and
/// LOKET_RESEND_API_BASE, defaults above.
Endpoints endpoints_from_env();

/// Whether `url` lies under `base` (scheme://host[:port]): equal to it or followed by '/'
/// or '?', so "https://a.example.evil" is not under "https://a.example".
bool url_under(std::string_view url, std::string_view base);

/// A name for the `n`-th (1-based) attachment of a message when the provider gives none,
/// from its MIME type: `photo-1.jpg`, `voice-2.ogg`, `video-1.mp4`, `document-1.pdf`,
/// `file-1` for unknown types.
std::string media_filename(std::string_view content_type, int n);

/// The readable text of a message that has only attachments:
/// `[attachment: photo-1.jpg]`, or `[attachment: a.jpg, b.pdf]` for several.
std::string attachment_placeholder(const std::vector<events::AttachmentRef>& files);

}  // namespace loket::providers
