// IMAP and SMTP through libcurl for a workspace's own mailbox (issue 16): no protocol code of
// ours beyond reading the three untagged responses libcurl hands back.
#include <curl/curl.h>

#include <algorithm>
#include <charconv>
#include <functional>
#include <memory>

#include "loket/core/text.hpp"
#include "loket/http/ssrf.hpp"
#include "loket/http/url.hpp"
#include "loket/providers/email/email.hpp"
#include "loket/providers/email_mailbox/email_mailbox.hpp"
#include "loket/providers/error.hpp"

namespace loket::providers::email_mailbox {
namespace {
constexpr std::size_t kMaxResponseBytes = 4u << 20;  // SEARCH and FETCH-info answers
constexpr long kReceiveBuffer = 512L * 1024;         // libcurl's largest (CURL_MAX_READ_SIZE)
constexpr std::uint64_t kSearchWindow = 10000;       // UIDs per SEARCH: ≤ 10,000 × 11 bytes answered
// Messages per `UID FETCH (UID RFC822.SIZE FLAGS)`. libcurl 7.88 (with Debian's fix for
// CVE-2023-38039) counts an answer's lines against a 300 KB header limit once for every line
// still in its buffer after it, so n lines of b bytes arriving together count about n²·b/2: 200
// lines of 55 bytes failed with "Too large response headers". 25 lines stay under 80 KB even
// with 250-byte lines (many keywords).
constexpr std::size_t kInfoWindow = 25;

std::optional<std::uint64_t> number_at(std::string_view s, std::size_t& pos) {
  while (pos < s.size() && s[pos] == ' ') ++pos;
  std::uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data() + pos, s.data() + s.size(), n);
  if (ec != std::errc()) return std::nullopt;
  pos = static_cast<std::size_t>(end - s.data());
  return n;
}

std::vector<std::string_view> lines(std::string_view s) {
  std::vector<std::string_view> out;
  while (!s.empty()) {
    auto nl = s.find('\n');
    auto line = s.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.push_back(line);
    if (nl == std::string_view::npos) break;
    s.remove_prefix(nl + 1);
  }
  return out;
}

struct Sink {
  std::string* out;
  std::size_t limit;
  bool overflow = false;
};

size_t on_data(char* p, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  if (sink->out->size() + size * n > sink->limit) {
    sink->overflow = true;
    return 0;
  }
  sink->out->append(p, size * n);
  return size * n;
}

struct Upload {
  const std::string* data;
  std::size_t offset = 0;
};

size_t on_read(char* p, size_t size, size_t n, void* user) {
  auto* up = static_cast<Upload*>(user);
  std::size_t k = std::min(size * n, up->data->size() - up->offset);
  std::copy_n(up->data->data() + up->offset, k, p);
  up->offset += k;
  return k;
}

using Easy = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;

// The scheme and the pinned address of `s`: the host checked by the SSRF guard like every host a
// user gives, and the connection made to the address that was checked.
struct Target {
  std::string base;  // "imaps://host:port"
  std::string pin;   // "host:port:address" for CURLOPT_RESOLVE
};

Target target_of(const Server& s, const char* tls_scheme, const char* plain_scheme, const char* what) {
  http::Destination d;
  try {
    d = http::check_url("https://" + s.host + ":" + std::to_string(s.port) + "/", http::ssrf_policy());
  } catch (const http::SsrfRefused& e) {
    throw ProviderError(std::string(what) + ": " + s.host + " is refused: " + e.what(), 400, false);
  }
  const std::string host = d.host.find(':') != std::string::npos ? "[" + d.host + "]" : d.host;
  const std::string address = d.address.find(':') != std::string::npos ? "[" + d.address + "]" : d.address;
  return {std::string(s.security == "ssl" ? tls_scheme : plain_scheme) + "://" + host + ":" + std::to_string(s.port),
          d.host + ":" + std::to_string(s.port) + ":" + address};
}

// Options every mail connection shares: credentials, TLS (required, verified), the pinned
// address, timeouts.
void common_options(CURL* h, const Server& s, const TlsOptions& tls, curl_slist* pin, long timeout_ms) {
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_USERNAME, s.username.c_str());
  curl_easy_setopt(h, CURLOPT_PASSWORD, s.password.c_str());
  curl_easy_setopt(h, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_ALL));  // STARTTLS or fail: never in the clear
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, tls.insecure ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, tls.insecure ? 0L : 2L);
  if (!tls.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, tls.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_RESOLVE, pin);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "imap,imaps,smtp,smtps");
}

// The ProviderError of a failed libcurl call: a refused login or certificate, and 5xx SMTP
// replies are permanent; the rest (unreachable, timeouts, 4xx) retryable.
ProviderError mail_error(const char* what, CURLcode rc, long reply, const char* detail) {
  std::string msg = std::string(what) + ": " + (detail && *detail ? detail : curl_easy_strerror(rc));
  if (reply > 0) msg += " (server replied " + std::to_string(reply) + ")";
  bool permanent = rc == CURLE_LOGIN_DENIED || rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
                   rc == CURLE_USE_SSL_FAILED || rc == CURLE_REMOTE_FILE_NOT_FOUND || rc == CURLE_QUOTE_ERROR ||
                   reply >= 500;
  return ProviderError(msg, permanent ? 400 : 0, !permanent);
}

// One SMTP exchange with the mailbox's server (pinned, TLS required); `configure` adds what it
// does: only connect and authenticate, or send a message. @throws mail_error()'s ProviderError.
void smtp_exchange(const Credentials& c, const TlsOptions& tls, long timeout_ms,
                   const std::function<void(CURL*)>& configure) {
  auto target = target_of(c.smtp, "smtps", "smtp", "SMTP");
  Easy easy(curl_easy_init(), curl_easy_cleanup);
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> pin(curl_slist_append(nullptr, target.pin.c_str()),
                                                                  curl_slist_free_all);
  CURL* h = easy.get();
  common_options(h, c.smtp, tls, pin.get(), timeout_ms);
  curl_easy_setopt(h, CURLOPT_URL, target.base.c_str());
  configure(h);
  char detail[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
  if (CURLcode rc = curl_easy_perform(h); rc != CURLE_OK) {
    long reply = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    throw mail_error("SMTP", rc, reply, detail);
  }
}

std::string quoted(const std::string& folder) { return "\"" + folder + "\""; }
}  // namespace

namespace {
// The number after `key` ("[UIDVALIDITY ", "[UIDNEXT ") in an untagged OK line, 0 when none.
std::uint64_t read_code(std::string_view response, std::string_view key) {
  for (auto line : lines(response)) {
    auto at = line.find(key);
    if (line.rfind("* ", 0) != 0 || at == std::string_view::npos) continue;
    std::size_t pos = at + key.size();
    if (auto n = number_at(line, pos); n && *n > 0 && *n <= 0xFFFFFFFFull) return *n;
  }
  return 0;
}
}  // namespace

std::uint64_t read_uidvalidity(std::string_view response) { return read_code(response, "[UIDVALIDITY "); }

std::uint64_t read_uidnext(std::string_view response) { return read_code(response, "[UIDNEXT "); }

std::vector<std::uint64_t> read_search(std::string_view response, std::uint64_t after) {
  std::vector<std::uint64_t> out;
  for (auto line : lines(response)) {
    if (line.rfind("* SEARCH", 0) != 0) continue;
    std::size_t pos = 8;
    while (auto n = number_at(line, pos))
      if (*n > after && *n <= 0xFFFFFFFFull) out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<MessageInfo> read_fetch_info(std::string_view response) {
  std::vector<MessageInfo> out;
  for (auto line : lines(response)) {
    auto open = line.find(" FETCH (");
    if (line.rfind("* ", 0) != 0 || open == std::string_view::npos) continue;
    MessageInfo m;
    auto item = [&](std::string_view name) -> std::optional<std::uint64_t> {
      auto at = line.find(name, open);
      if (at == std::string_view::npos) return std::nullopt;
      std::size_t pos = at + name.size();
      return number_at(line, pos);
    };
    auto uid = item("UID "), size = item("RFC822.SIZE ");
    if (!uid || !size || *uid == 0) continue;
    m.uid = *uid;
    m.size = *size;
    auto flags = line.find("FLAGS (", open);
    auto close = flags == std::string_view::npos ? flags : line.find(')', flags);
    if (close != std::string_view::npos) {
      auto list = core::to_lower(line.substr(flags, close - flags));
      m.seen = list.find("\\seen") != std::string::npos;
    }
    out.push_back(m);
  }
  return out;
}

struct ImapSession::Impl {
  Credentials creds;
  TlsOptions tls;
  Target target;
  Easy easy{curl_easy_init(), curl_easy_cleanup};
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> pin{nullptr, curl_slist_free_all};
  std::uint64_t uidnext = 0;  ///< from the last select(); 0 when the server named none
};

ImapSession::ImapSession(const Credentials& c, const TlsOptions& tls) : impl_(std::make_unique<Impl>()) {
  impl_->creds = c;
  impl_->tls = tls;
  impl_->target = target_of(c.imap, "imaps", "imap", "IMAP");
  impl_->pin.reset(curl_slist_append(nullptr, impl_->target.pin.c_str()));
  if (!impl_->easy) throw ProviderError("IMAP: libcurl could not start", 0, true);
}

ImapSession::~ImapSession() = default;

const std::string& ImapSession::folder() const { return impl_->creds.folder; }

std::string ImapSession::webhook() const { return email::kWebhook; }

std::size_t ImapSession::max_message_bytes() const { return impl_->tls.max_message_bytes; }

std::string ImapSession::run(const std::string& url_suffix, const std::string& command) {
  CURL* h = impl_->easy.get();
  curl_easy_reset(h);  // the connection stays in the handle's cache
  common_options(h, impl_->creds.imap, impl_->tls, impl_->pin.get(), 120000L);
  std::string out;
  // A message is fetched only when its RFC822.SIZE was within the limit; the slack covers
  // servers that count line ends differently.
  Sink sink{&out, command.empty() ? impl_->tls.max_message_bytes + (1u << 20) : kMaxResponseBytes};
  const std::string url = impl_->target.base + "/" + url_suffix;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  if (!command.empty()) curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, command.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  // libcurl 7.88 hands back an untagged response line longer than its receive buffer with
  // pieces missing (a 45 KB SEARCH answer came back as 4.6 KB of it): the largest buffer, and
  // uids_after() asks in windows whose answers stay far below it.
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, kReceiveBuffer);
  char detail[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, detail);
  CURLcode rc = curl_easy_perform(h);
  if (sink.overflow) throw ProviderError("IMAP: the answer passed the size limit", 0, false);
  if (rc != CURLE_OK) {
    long reply = 0;
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply);
    throw mail_error("IMAP", rc, reply, detail);
  }
  return out;
}

std::uint64_t ImapSession::select() {
  // SELECT, not EXAMINE: libcurl keeps the folder it selected itself for the URLs that name it,
  // and on a kept connection a read-only EXAMINE would leave the flag restores refused.
  const std::string answer = run("", "SELECT " + quoted(impl_->creds.folder));
  impl_->uidnext = read_uidnext(answer);
  auto v = read_uidvalidity(answer);
  if (v == 0) throw ProviderError("IMAP: the server named no UIDVALIDITY for " + impl_->creds.folder, 0, true);
  return v;
}

std::vector<std::uint64_t> ImapSession::uids_after(std::uint64_t after, std::size_t limit) {
  // Windows of kSearchWindow UIDs (an answer of at most ~110 KB, see run()) up to UIDNEXT; a
  // server that named no UIDNEXT is asked for everything after `after` at once.
  const std::string folder = http::percent_encode(impl_->creds.folder);
  if (impl_->uidnext == 0) {
    auto uids = read_search(run(folder, "UID SEARCH UID " + std::to_string(after + 1) + ":*"), after);
    if (uids.size() > limit) uids.resize(limit);
    return uids;
  }
  std::vector<std::uint64_t> uids;
  for (std::uint64_t from = after + 1; from < impl_->uidnext && uids.size() < limit; from += kSearchWindow) {
    const std::uint64_t to = std::min(from + kSearchWindow - 1, impl_->uidnext - 1);
    for (auto uid :
         read_search(run(folder, "UID SEARCH UID " + std::to_string(from) + ":" + std::to_string(to)), after))
      if (uid >= from && uid <= to) uids.push_back(uid);
  }
  if (uids.size() > limit) uids.resize(limit);
  return uids;
}

std::vector<MessageInfo> ImapSession::info(const std::vector<std::uint64_t>& uids) {
  const std::string folder = http::percent_encode(impl_->creds.folder);
  std::vector<MessageInfo> out;
  for (std::size_t from = 0; from < uids.size() && from < 500; from += kInfoWindow) {
    std::string set;
    for (std::size_t i = from; i < std::min({uids.size(), from + kInfoWindow, std::size_t{500}}); ++i)
      set += (i > from ? "," : "") + std::to_string(uids[i]);
    for (auto& m : read_fetch_info(run(folder, "UID FETCH " + set + " (UID RFC822.SIZE FLAGS)"))) out.push_back(m);
  }
  return out;
}

std::vector<std::string> ImapSession::fetch(std::uint64_t uidvalidity, const std::vector<MessageInfo>& messages) {
  const std::string folder = http::percent_encode(impl_->creds.folder);
  std::vector<std::string> raws;
  std::string unseen;  // a UID set: BODY[] set \Seen on these
  for (const auto& m : messages) {
    if (raws.size() == 500) throw std::invalid_argument("ImapSession::fetch: more than 500 messages");
    raws.push_back(run(folder + ";UIDVALIDITY=" + std::to_string(uidvalidity) + ";UID=" + std::to_string(m.uid), ""));
    if (!m.seen) unseen += (unseen.empty() ? "" : ",") + std::to_string(m.uid);
  }
  if (!unseen.empty())  // the owner's flags back, or \Seen kept when the workspace asked for it
    run(folder,
        "UID STORE " + unseen + (impl_->creds.mark_seen ? " +FLAGS.SILENT (\\Seen)" : " -FLAGS.SILENT (\\Seen)"));
  return raws;
}

void validate(const Credentials& c, const TlsOptions& tls) {
  try {
    ImapSession(c, tls).select();
  } catch (const ProviderError& e) {
    throw ProviderError(
        std::string(e.what()) + " — check the IMAP host, port, security, user name, password and folder", 400, false);
  }
  try {
    smtp_exchange(c, tls, 30000L, [](CURL* h) {
      curl_easy_setopt(h, CURLOPT_CONNECT_ONLY, 1L);  // greeting, EHLO, STARTTLS and AUTH; no mail
    });
  } catch (const ProviderError& e) {
    throw ProviderError(std::string(e.what()) + " — check the SMTP host, port, security, user name and password", 400,
                        false);
  }
}

void send_smtp(const Credentials& c, const TlsOptions& tls, const std::string& from, const std::string& to,
               const std::string& raw) {
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> rcpt(curl_slist_append(nullptr, ("<" + to + ">").c_str()),
                                                                   curl_slist_free_all);
  const std::string mail_from = "<" + from + ">";
  Upload up{&raw};
  smtp_exchange(c, tls, 120000L, [&](CURL* h) {
    curl_easy_setopt(h, CURLOPT_MAIL_FROM, mail_from.c_str());
    curl_easy_setopt(h, CURLOPT_MAIL_RCPT, rcpt.get());
    curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(h, CURLOPT_READDATA, &up);
    curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
  });
}

}  // namespace loket::providers::email_mailbox
