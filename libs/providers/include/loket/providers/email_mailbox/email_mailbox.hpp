#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "loket/providers/adapter.hpp"

/// A workspace's own mailbox (issue 16; seed 004 "Setting up email"): mail is imported from its
/// IMAP folder (RFC 3501) and the answers go out through its SMTP server, from its address.
/// IMAP and SMTP are libcurl's; TLS certificates are verified (LOKET_MAILBOX_CA_FILE adds a CA
/// bundle; LOKET_MAILBOX_TLS_INSECURE=1 is the operator's explicit way around it), and the hosts
/// go through the SSRF guard like every URL a user controls (docs/channels/email.md).
namespace loket::providers::email_mailbox {

inline constexpr const char* kProvider = "email_mailbox";  ///< the integration's provider

/// One server of the mailbox.
struct Server {
  std::string host;
  int port = 0;                  ///< 1–65535; defaults: IMAP 993 (ssl) / 143, SMTP 465 (ssl) / 587
  std::string security = "ssl";  ///< "ssl" (TLS from the first byte) or "starttls"
  std::string username, password;
};

/// What an `email_mailbox` integration keeps encrypted.
struct Credentials {
  std::string address;  ///< the mailbox's address, lower case: the From of every answer
  std::string from_name;
  Server imap, smtp;
  std::string folder = "INBOX";  ///< the IMAP folder imported
  bool mark_seen = false;        ///< set \Seen on imported mail (else flags are left as they were)
};
/// JSON text of `c`, for Keyring::encrypt.
std::string to_json(const Credentials& c);
/// Parses to_json() output. @throws std::invalid_argument when a field is missing.
Credentials credentials_from_json(const std::string& json);

/// How the mail clients of this process connect, and the largest mail taken (from Settings). Thread-safe after
/// construction.
struct TlsOptions {
  std::string ca_file;                        ///< extra CA bundle (LOKET_MAILBOX_CA_FILE), "" for the system's
  bool insecure = false;                      ///< LOKET_MAILBOX_TLS_INSECURE=1: certificates not verified
  std::size_t max_message_bytes = 25u << 20;  ///< LOKET_EMAIL_MAX_BYTES
};

/// Size and flags of one message, from `UID FETCH (RFC822.SIZE FLAGS)`.
using MessageInfo = MailboxMessage;

/// Readers of the untagged IMAP responses libcurl hands back (RFC 3501 §7). Pure; never throw.
/// UIDVALIDITY of an EXAMINE/SELECT response ("* OK [UIDVALIDITY 3857529045]"), 0 when absent.
std::uint64_t read_uidvalidity(std::string_view response);
/// The `[UIDNEXT n]` of an EXAMINE/SELECT answer (the next UID the folder will assign), 0 when absent.
std::uint64_t read_uidnext(std::string_view response);
/// The UIDs of "* SEARCH 4 9 10" lines greater than `after`, ascending, without duplicates.
std::vector<std::uint64_t> read_search(std::string_view response, std::uint64_t after);
/// The "* n FETCH (UID u RFC822.SIZE s FLAGS (...))" items of a response, in order.
std::vector<MessageInfo> read_fetch_info(std::string_view response);

/// One IMAP session on a mailbox folder through libcurl, which keeps the connection between
/// calls and between polls (Mailbox). Transport failures are retryable; a refused login, certificate or folder is
/// permanent. libcurl fetches BODY[] (one round trip a message: it passes on no literal of a
/// custom `UID FETCH`), which sets \Seen: when mark_seen is off, the flag is taken off the
/// messages that were unseen again, one `UID STORE` per fetch() call (the one change Loket
/// makes; a crash in between leaves them seen).
class ImapSession final : public Mailbox {
 public:
  /// @throws ProviderError (permanent) when the SSRF guard refuses the host.
  ImapSession(const Credentials& c, const TlsOptions& tls);
  ~ImapSession() override;
  ImapSession(const ImapSession&) = delete;
  ImapSession& operator=(const ImapSession&) = delete;
  const std::string& folder() const override;
  std::string webhook() const override;
  std::size_t max_message_bytes() const override;
  std::uint64_t select() override;
  std::vector<std::uint64_t> uids_after(std::uint64_t after, std::size_t limit) override;
  std::vector<MessageInfo> info(const std::vector<std::uint64_t>& uids) override;
  std::vector<std::string> fetch(std::uint64_t uidvalidity, const std::vector<MessageInfo>& messages) override;

 private:
  std::string run(const std::string& url_suffix, const std::string& command);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Checks a mailbox live before it is stored: IMAP login and SELECT of the folder, SMTP
/// greeting, TLS and AUTH. @throws ProviderError (permanent) naming which half failed.
void validate(const Credentials& c, const TlsOptions& tls);

/// Sends `raw` (an RFC 5322 message) from `from` to `to` through the mailbox's SMTP server.
/// @throws ProviderError: retryable for transport errors and 4xx replies, permanent for 5xx.
void send_smtp(const Credentials& c, const TlsOptions& tls, const std::string& from, const std::string& to,
               const std::string& raw);

/// The adapter: connect (validated live, nothing stored on failure), open_mailbox() for the
/// importer, mailer() through SMTP.
std::unique_ptr<Adapter> make_adapter(const Settings& settings);

}  // namespace loket::providers::email_mailbox
