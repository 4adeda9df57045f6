#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

/// Email messages (RFC 5322, MIME RFC 2045–2049) read through GMime, for email-to-ticket
/// (issue 16; seed 000 "Email-to-ticket"). Everything returned is UTF-8: charsets (ISO-2022-JP,
/// Shift_JIS, windows-1252, KOI8-R, UTF-8 with a BOM) and encoded words (RFC 2047) are decoded.
namespace loket::mime {

/// An RFC 5322 mailbox.
struct Mailbox {
  std::string name;     ///< display name, decoded; "" when none
  std::string address;  ///< addr-spec as written, e.g. "budi@example.com"
};

/// A part of the message stored as a file: an attachment, an inline image, a forwarded message.
struct EmailAttachment {
  std::string filename;      ///< from Content-Disposition/Content-Type, or made up ("part-2.png", "forwarded.eml")
  std::string content_type;  ///< media type, e.g. "image/png"
  std::string content_id;    ///< Content-ID without angle brackets, "" when none (inline images have one)
  bool is_inline = false;    ///< Content-Disposition inline with a Content-ID: shown inside the HTML body
  std::string data;          ///< the decoded bytes
};

/// What a delivery failure report (RFC 3464, or a MAILER-DAEMON message without one) says.
struct Bounce {
  std::string original_message_id;  ///< Message-ID of the mail that bounced, "" when the report omits it
  std::string recipient;            ///< Final-Recipient address, "" when unknown
  std::string diagnostic;           ///< Diagnostic-Code or the report's first lines, for the agent
};

/// One email as a help desk needs it.
struct ParsedEmail {
  Mailbox from;
  std::optional<Mailbox> reply_to;
  std::vector<Mailbox> to, cc;          ///< group syntax flattened
  std::string subject;                  ///< decoded, "" when absent
  std::string message_id;               ///< without angle brackets, "" when absent
  std::string in_reply_to;              ///< the first Message-ID of In-Reply-To, "" when absent
  std::vector<std::string> references;  ///< References, oldest first, without angle brackets
  std::int64_t date_ms = 0;             ///< Date as Unix ms, 0 when absent or unreadable
  std::string text;                     ///< the first text/plain body; converted from the HTML body when there is none
  std::string html;                     ///< the first text/html body, "" when none
  std::vector<EmailAttachment> attachments;
  /// Why this mail must never get an automatic answer or a notification (RFC 3834 and the
  /// de-facto headers): "auto-submitted", "precedence", "x-autoreply", "x-autorespond",
  /// "x-loop", "list-id", "list-unsubscribe"; "" when a person sent it.
  std::string automated;
  std::optional<Bounce> bounce;  ///< set for delivery failure reports
  bool truncated = false;        ///< parts beyond EmailLimits::max_parts were left out
};

/// Bounds on what parse_email() reads from untrusted bytes.
struct EmailLimits {
  std::size_t max_bytes = 30u << 20;  ///< the whole message, bytes
  std::size_t max_parts = 200;        ///< MIME parts looked at; more are left out (truncated)
  std::size_t max_nesting = 16;       ///< multipart and message/* containers, counted in the raw bytes
};

/// Thrown for bytes that are not an email at all, or over a limit; the message says which.
struct EmailError : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// Parses the raw RFC 5322 message `raw`. Lenient like a mail client: missing headers give
/// empty fields, broken base64 and unknown charsets give best-effort text (ill-formed UTF-8 is
/// replaced by U+FFFD), so a person's mail always becomes a message. Thread-safe.
/// @throws EmailError when `raw` exceeds `limits.max_bytes` or `limits.max_nesting`, or has no
/// header block.
ParsedEmail parse_email(std::string_view raw, const EmailLimits& limits = {});

/// An email's text split into what the sender wrote now and what was trimmed.
struct ReplyParts {
  std::string reply;   ///< the new text
  std::string quoted;  ///< quoted history and signature, from the first trimmed line on ("" when none)
};

/// Splits a plain-text email body at the first quote header ("On … wrote:", "Pada … menulis:",
/// Outlook's "-----Original Message-----" or From/Sent block, "____" separators), signature
/// delimiter ("-- ") or mobile signature ("Sent from my iPhone", "Dikirim dari …"), or at a
/// trailing block of "> " lines — whichever comes first after some new text. A body that would
/// be left empty is not split. Table-driven, no regular expressions (linear in the input);
/// tested on Gmail, Outlook, Apple Mail, Thunderbird and Yahoo in English and Indonesian. Pure.
ReplyParts split_reply(std::string_view text);

/// Readable text of an HTML document (UTF-8): block elements and <br> become line breaks, list
/// items "- ", links "text (url)" when the URL is not the text, script/style/head dropped,
/// whitespace collapsed except in <pre>. Uses libxml2's HTML parser (lenient); walks the tree
/// without recursion. Thread-safe.
std::string html_to_text(std::string_view html);

/// A file sent with an email.
struct OutgoingAttachment {
  std::string filename;      ///< UTF-8; written as RFC 2231 when not ASCII
  std::string content_type;  ///< e.g. "application/pdf"; "" or unparsable → application/octet-stream
  std::string bytes;         ///< the file itself (base64 is the writer's job)
};

/// One email Loket sends itself (through a workspace's own SMTP server).
struct OutgoingEmail {
  std::string from, to;  ///< "Name <address>" or an address
  std::string reply_to;  ///< "" for none
  std::string subject;   ///< UTF-8; encoded words where needed
  std::string text;      ///< the text/plain body, UTF-8
  std::string html;      ///< "" for none; else multipart/alternative with the text
  /// Further header fields in order (Message-ID, In-Reply-To, References, Auto-Submitted, …).
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<OutgoingAttachment> attachments;  ///< none: the body alone; else multipart/mixed
};

/// The RFC 5322 message of `e` through GMime: CRLF line ends, a Date, MIME-Version, UTF-8
/// bodies in quoted-printable, non-ASCII header text as RFC 2047 encoded words; attachments
/// after the body in a multipart/mixed, base64, `Content-Disposition: attachment`. Thread-safe.
/// @throws std::invalid_argument when a header name or value holds CR or LF, or `from`/`to`
/// holds no address.
std::string compose_email(const OutgoingEmail& e);

}  // namespace loket::mime
