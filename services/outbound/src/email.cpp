#include "email.hpp"

#include <algorithm>
#include <cstdio>

#include "loket/core/log.hpp"
#include "loket/core/text.hpp"
#include "loket/providers/email/reply_address.hpp"
#include "loket/store/tickets.hpp"

namespace loket::outbound {
namespace {

std::string domain_of(const std::string& from) {
  auto at = from.rfind('@');
  if (at == std::string::npos) return "loket.invalid";
  std::string d = from.substr(at + 1);
  while (!d.empty() && (d.back() == '>' || d.back() == ' ')) d.pop_back();
  return d.empty() ? "loket.invalid" : d;
}

// "830 KB", "12.4 MB": a file's size as a person reads it (1 KB = 1,024 bytes).
std::string size_text(std::int64_t bytes) {
  char out[32];
  if (bytes < (1 << 20))
    std::snprintf(out, sizeof out, "%lld KB", static_cast<long long>((std::max<std::int64_t>(bytes, 0) + 1023) / 1024));
  else
    std::snprintf(out, sizeof out, "%.1f MB", static_cast<double>(bytes) / (1 << 20));
  return out;
}

// `s` as HTML text, its line breaks as <br>.
std::string html_text(const std::string& s) { return core::replace_all(core::html_escape(s), "\n", "<br>"); }
}  // namespace

std::optional<providers::Mailer> sender_for(const std::optional<store::Integration>& workspace_mailer,
                                            const crypto::Keyring& keys, const providers::Registry& providers) {
  if (const auto& integ = workspace_mailer; integ && !integ->credentials.empty())
    if (const auto* adapter = providers.find(integ->provider))
      return adapter->mailer(keys.decrypt(integ->credentials, integ->credentials_key_id, integ->id));
  for (const auto& adapter : providers.adapters())
    if (auto platform = adapter->platform_mailer()) return platform;
  return std::nullopt;
}

std::optional<store::Integration> mail_integration(pqxx::transaction_base& tx, const TicketMail& t,
                                                   const providers::Registry& providers) {
  if (!t.integration_id.empty())
    if (auto own = store::find_integration(tx, t.integration_id); own && own->status != "disconnected")
      if (const auto* adapter = providers.find(own->provider); adapter && adapter->descriptor().sends_email) return own;
  return store::latest_integration(tx, t.workspace_id, providers.mailer_names());
}

std::optional<TicketMail> load_ticket_mail(pqxx::transaction_base& tx, const std::string& workspace_id,
                                           const std::string& ticket_id, const crypto::Keyring& keys,
                                           const std::optional<std::string>& to) {
  auto ticket = store::load_ticket(tx, workspace_id, ticket_id);
  if (ticket && to) ticket->requester_email = to;
  if (!ticket || !ticket->requester_email) return std::nullopt;
  TicketMail t;
  t.ticket_id = ticket->id;
  t.workspace_id = ticket->workspace_id;
  t.number = ticket->number;
  t.subject = ticket->subject;
  t.status = ticket->status;
  t.channel = ticket->channel;
  t.requester_email = *ticket->requester_email;
  t.requester_name = ticket->requester_name.value_or("");
  t.integration_id = ticket->integration_id.value_or("");
  try {  // signed: ingress routes a reply by it without a lookup
    t.reply_token = providers::email::reply_token(keys, ticket->workspace_id, ticket->number);
  } catch (const std::invalid_argument&) {  // not an acc_ id of ours: no Reply-To
  }
  t.access_token = store::access_token_of(tx, ticket_id, keys);
  t.requester_message_ids = store::requester_email_ids(tx, ticket_id, 20);
  return t;
}

providers::Email compose(MailKind kind, const TicketMail& t, const providers::Mailer& s, const EmailOptions& opt,
                         const std::string& message_id, const std::string& author, const std::string& text) {
  providers::Email e;
  e.from = s.from;
  e.to = t.requester_email;
  const std::string domain = domain_of(s.from);
  using providers::email::SentMail;
  const std::string root = providers::email::sent_message_id({SentMail::Kind::kReceivedNotice, t.ticket_id}, domain);
  // A reply answers the customer's latest email (RFC 5322 §3.6.4), and References keeps the
  // whole conversation under the ticket's root, so every mail client threads it.
  std::string in_reply_to = root, references = root;
  for (const auto& id : t.requester_message_ids) {
    if (id.find_first_of("<>\r\n ") != std::string::npos) continue;  // not writable as a msg-id
    in_reply_to = "<" + id + ">";
    references += " " + in_reply_to;
  }
  // One header line: a CR or LF in a customer's subject would start a header of their own.
  std::string subject = t.subject;
  for (char& c : subject)
    if (c == '\r' || c == '\n') c = ' ';
  // The ticket number last, where a reply keeps it: "Re: <subject> [#<number>]".
  const std::string tag = subject + " [#" + std::to_string(t.number) + "]";
  const std::string link = opt.public_app_url + "/t/" + t.access_token;
  const std::string hello = t.requester_name.empty() ? "Hello," : "Hi " + t.requester_name + ",";
  std::string intro, outro;
  switch (kind) {
    case MailKind::kReceived:
      e.subject = tag;
      e.headers = {{"Message-ID", root}};
      e.idempotency_key = "loket-received-" + t.ticket_id;
      intro = hello + "\n\nWe received your request #" + std::to_string(t.number) + " (\"" + t.subject +
              "\"). We will answer here and by email.";
      outro = "Follow your request and reply (keep this link private):";
      break;
    case MailKind::kAutoReply:
    case MailKind::kReply:
      e.subject = "Re: " + tag;
      e.headers = {{"Message-ID", providers::email::sent_message_id({SentMail::Kind::kMessage, message_id}, domain)},
                   {"In-Reply-To", in_reply_to},
                   {"References", references}};
      e.idempotency_key = "loket-reply-" + message_id;
      intro = (author.empty() ? std::string("We") : author) + " replied to your request #" + std::to_string(t.number) +
              ":\n\n" + text;
      outro = "View the conversation and reply:";
      break;
    case MailKind::kCsatSurvey:
      e.subject = "How did we do? " + tag;
      e.headers = {
          {"Message-ID", providers::email::sent_message_id({SentMail::Kind::kCsatSurvey, t.ticket_id}, domain)},
          {"In-Reply-To", root},
          {"References", root}};
      e.idempotency_key = "loket-csat-" + t.ticket_id;
      intro = hello + "\n\nYour request #" + std::to_string(t.number) +
              " is resolved. Please rate our help from 1 to 5 — it takes one click.";
      outro = "Rate your experience:";
      break;
    case MailKind::kTranscript:
      e.subject = "Transcript: " + tag;
      e.headers = {{"Message-ID", "<transcript-" + message_id + "@" + domain + ">"},
                   {"In-Reply-To", root},
                   {"References", root}};
      e.idempotency_key = "loket-transcript-" + message_id;
      intro =
          hello + "\n\nHere is your conversation (request #" + std::to_string(t.number) + "), as you asked.\n\n" + text;
      outro = "Continue the conversation:";
      break;
  }
  // RFC 3834 §5: mail no person wrote says so, so auto-responders do not answer it.
  if (kind == MailKind::kReceived || kind == MailKind::kAutoReply)
    e.headers.emplace_back("Auto-Submitted", "auto-replied");
  if (kind == MailKind::kCsatSurvey || kind == MailKind::kTranscript)
    e.headers.emplace_back("Auto-Submitted", "auto-generated");
  e.text = intro + "\n\n" + outro + "\n" + link + "\n";
  e.html = "<p>" + html_text(intro) + "</p><p>" + html_text(outro) + "<br><a href=\"" + html_text(link) + "\">" +
           html_text(link) + "</a></p>";
  if (!opt.inbound_domain.empty() && !t.reply_token.empty())
    e.reply_to = "reply+" + t.reply_token + "@" + opt.inbound_domain;
  return e;
}

ReplyFiles load_reply_files(pqxx::transaction_base& tx, const std::vector<events::Attachment>& files,
                            std::size_t max_bytes) {
  ReplyFiles out;
  std::uint64_t total = 0;
  for (const auto& f : files)
    if (f.status == "stored") total += static_cast<std::uint64_t>(std::max<std::int64_t>(f.size, 0));
  for (const auto& f : files) {
    if (f.status != "stored") continue;
    if (total > max_bytes)
      out.linked.push_back(f);
    else if (auto bytes = store::postgres_blobs().get(tx, f.id))  // none: deleted since, nothing to send
      out.attached.push_back({f.filename, f.content_type, std::move(*bytes)});
  }
  return out;
}

void add_files(providers::Email& email, ReplyFiles files, const std::string& link) {
  email.attachments = std::move(files.attached);
  if (files.linked.empty()) return;
  std::string text = "\nToo large to attach; download from the page above:\n",
              html = "<p>Too large to attach; download from <a href=\"" + html_text(link) +
                     "\">your request's page</a>:</p><ul>";
  for (const auto& f : files.linked) {
    const std::string item = f.filename + " (" + size_text(f.size) + ")";
    text += "- " + item + "\n";
    html += "<li>" + html_text(item) + "</li>";
  }
  email.text += text;
  email.html += html + "</ul>";
}

std::string transcript_text(const std::vector<events::Message>& messages, std::int64_t through_seq,
                            std::size_t max_bytes, const std::string& status_link) {
  std::vector<std::string> parts;  // newest first, while they fit
  std::size_t total = 0;
  bool cut = false;
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    const auto& m = *it;
    if (m.internal || m.seq > through_seq) continue;
    std::string when = m.created_at.size() >= 16 ? m.created_at.substr(0, 10) + " " + m.created_at.substr(11, 5) : "";
    std::string who = m.author_type == "requester" ? "You" : (m.author_name.empty() ? "Support" : m.author_name);
    std::string part =
        who + " — " + when + " UTC\n" + core::replace_all(m.body, store::kStatusLinkPlaceholder, status_link) + "\n";
    for (const auto& f : m.attachments) part += "[file: " + f.filename + " (" + size_text(f.size) + ")]\n";
    if (total + part.size() + 1 > max_bytes) {
      cut = true;
      break;
    }
    total += part.size() + 1;
    parts.push_back(std::move(part));
  }
  std::string out = cut ? "(Earlier messages are on the conversation's page.)\n\n" : "";
  for (auto it = parts.rbegin(); it != parts.rend(); ++it) out += *it + (std::next(it) == parts.rend() ? "" : "\n");
  return out;
}

}  // namespace loket::outbound
