#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "loket/events/events.hpp"
#include "loket/http/client.hpp"
#include "loket/http/message.hpp"

/// What every provider adapter shares: the shape of a normalized webhook, secret and field
/// helpers, and names for attachments the provider leaves unnamed.
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

/// Whether `given` is the secret whose SHA-256 is `stored_hash`, in constant time; an empty
/// secret or hash never matches.
bool secret_matches(std::string_view given, std::string_view stored_hash);

/// The string member `key` of a request body, trimmed; "" when absent or not a string.
std::string field(const rapidjson::Value& body, const char* key);

/// The first value of `key` in `m`, "" when absent.
std::string first_value(const std::multimap<std::string, std::string>& m, const std::string& key);

/// Whether `url` lies under `base` (scheme://host[:port]): equal to it or followed by '/'
/// or '?', so "https://a.example.evil" is not under "https://a.example".
bool url_under(std::string_view url, std::string_view base);

/// The webhook URL in field `key` of a connect body, checked before anything is sent to it:
/// https (http only when the SSRF policy allows it: LOKET_OUTBOUND_ALLOW_PRIVATE=1), no
/// user:password@, a host[:port] among `hosts` (lower-case; from the provider's
/// LOKET_<X>_WEBHOOK_HOSTS, else its own), and a path starting with `path_prefix`, without
/// spaces or control characters; at most 500 bytes. @throws Refusal (400) saying what is wrong.
std::string webhook_url_field(const rapidjson::Value& body, const char* key, const std::vector<std::string>& hosts,
                              std::string_view path_prefix, std::string_view example);

class Settings;

/// Credentials of a webhook-URL integration (Slack, Discord): {"webhookUrl"} as JSON text.
std::string webhook_credentials(const std::string& url);
/// The URL of webhook_credentials() output. @throws std::invalid_argument when it has none.
std::string webhook_url_of(const std::string& credentials);
/// POSTs JSON `body` to a user-given webhook `url` through the SSRF guard: 5 s timeout, at most
/// 64 KB of answer, no redirects. Never throws on network or HTTP errors.
http::ClientResponse post_webhook(const std::string& url, const std::string& body);

/// The hosts (or URL bases) of comma-separated setting `name` (trimmed, lower-case, without a
/// trailing '/'), or `fallback` when unset.
std::vector<std::string> host_list(const Settings& settings, const std::string& name,
                                   std::vector<std::string> fallback);

/// Meta's webhook signature (WhatsApp Cloud API, Instagram; shared/reference/providers.md §3–4):
/// whether `header` is `sha256=` + the lower-case hex HMAC-SHA256 of the raw `body` bytes under
/// `app_secret` (vectors M1, M2). Constant time; false for an empty secret.
bool valid_hub_signature(std::string_view app_secret, std::string_view body, std::string_view header);

struct Handshake;
/// Meta's verification handshake `GET …?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…`
/// (WhatsApp Cloud API, Instagram): the SHA-256 of the verify token (an integration's
/// webhook_secret_hash) and the challenge echoed as text/plain. @throws Refusal 400 when it is
/// not a subscribe request with a challenge of at most 256 token characters; 403 without a token.
Handshake hub_handshake(const http::Request& req);

/// Throws the ProviderError for a failed Graph API response (WhatsApp Cloud API, Instagram):
/// "<what>: (#131047) Re-engagement message: <details> (HTTP 400)", retryable for transport
/// errors, 408/429/5xx and Meta's temporary codes even on HTTP 400 (1, 2, 4, 17, 341, …). With
/// `token_gone`, error 190 (token expired or revoked) throws IntegrationGone.
[[noreturn]] void throw_graph_error(const std::string& what, const http::ClientResponse& res, bool token_gone = false);

/// A GET of `url` with `Authorization: Bearer <token>` and a 15 s timeout (Graph APIs).
http::ClientRequest bearer_request(const std::string& token, std::string url);

/// The JSON object a provider answered with. @throws ProviderError (502, retryable) naming
/// `what` when the body is not one.
rapidjson::Document json_object(const http::ClientResponse& res, const std::string& what);

/// A name for the `n`-th (1-based) attachment of a message when the provider gives none,
/// from its MIME type: `photo-1.jpg`, `voice-2.ogg`, `video-1.mp4`, `document-1.pdf`,
/// `file-1` for unknown types.
std::string media_filename(std::string_view content_type, int n);

/// The readable text of a message that has only attachments:
/// `[attachment: photo-1.jpg]`, or `[attachment: a.jpg, b.pdf]` for several.
std::string attachment_placeholder(const std::vector<events::AttachmentRef>& files);

}  // namespace loket::providers
