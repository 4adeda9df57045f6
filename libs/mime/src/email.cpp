// Email messages through GMime (docs: GMime 3.2 reference, RFC 5322, RFC 2045–2049, RFC 3464
// for delivery status reports, RFC 3834 for automatic responses).
#include "loket/mime/email.hpp"

#include <gmime/gmime.h>

#include <algorithm>
#include <cctype>
#include <memory>

#include "gobject.hpp"
#include "loket/core/text.hpp"

namespace loket::mime {
namespace {

struct OptionsFree {
  void operator()(GMimeParserOptions* o) const { g_mime_parser_options_free(o); }
};

// Parser options of a mail client, not a validator: loose addresses, parameters and encoded
// words; undeclared 8-bit headers read as UTF-8, else windows-1252.
GMimeParserOptions* lenient_options() {
  static std::unique_ptr<GMimeParserOptions, OptionsFree> options([] {
    init_gmime();
    GMimeParserOptions* o = g_mime_parser_options_new();
    g_mime_parser_options_set_address_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_parameter_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_rfc2047_compliance_mode(o, GMIME_RFC_COMPLIANCE_LOOSE);
    g_mime_parser_options_set_allow_addresses_without_domain(o, TRUE);
    const char* fallback[] = {"UTF-8", "windows-1252", nullptr};
    g_mime_parser_options_set_fallback_charsets(o, fallback);
    return o;
  }());
  return options.get();
}

std::string str(const char* s) { return s != nullptr ? core::storable_text(s) : std::string(); }

// Text for storage: well-formed UTF-8 without NUL, without a byte order mark.
std::string clean_text(std::string s) {
  if (s.rfind("\xEF\xBB\xBF", 0) == 0) s.erase(0, 3);
  return core::storable_text(s);
}

void add_mailboxes(InternetAddressList* list, std::vector<Mailbox>& out) {
  if (list == nullptr) return;
  for (int i = 0, n = internet_address_list_length(list); i < n; ++i) {
    InternetAddress* ia = internet_address_list_get_address(list, i);
    if (INTERNET_ADDRESS_IS_GROUP(ia)) {
      add_mailboxes(internet_address_group_get_members(INTERNET_ADDRESS_GROUP(ia)), out);  // groups do not nest
    } else if (INTERNET_ADDRESS_IS_MAILBOX(ia)) {
      Mailbox m{str(internet_address_get_name(ia)),
                str(internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(ia)))};
      if (!m.address.empty()) out.push_back(std::move(m));
    }
  }
}

std::vector<std::string> message_ids(const char* header) {
  std::vector<std::string> out;
  if (header == nullptr) return out;
  GMimeReferences* refs = g_mime_references_parse(lenient_options(), header);
  if (refs == nullptr) return out;
  for (int i = 0, n = g_mime_references_length(refs); i < n; ++i)
    out.push_back(str(g_mime_references_get_message_id(refs, i)));
  g_mime_references_free(refs);
  return out;
}

std::string header(GMimeObject* obj, const char* name) { return core::trim(str(g_mime_object_get_header(obj, name))); }

// RFC 3834 and the headers auto-responders, list servers and bulk senders set in practice.
std::string automated_reason(GMimeObject* msg) {
  if (auto v = core::to_lower(header(msg, "Auto-Submitted")); !v.empty() && v != "no") return "auto-submitted";
  auto precedence = core::to_lower(header(msg, "Precedence"));
  if (precedence == "bulk" || precedence == "list" || precedence == "junk" || precedence == "auto_reply")
    return "precedence";
  for (const char* name : {"X-Autoreply", "X-Autorespond", "X-Loop", "List-Id", "List-Unsubscribe"})
    if (g_mime_object_get_header(msg, name) != nullptr) return core::to_lower(name);
  return "";
}

std::string mime_type(GMimeObject* obj) {
  char* t = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj));
  std::string out = core::to_lower(t != nullptr ? t : "application/octet-stream");
  g_free(t);
  return out;
}

std::string object_bytes(GMimeObject* obj) {
  Ref<GMimeStream> out(g_mime_stream_mem_new());
  g_mime_object_write_to_stream(obj, nullptr, out.get());
  GByteArray* bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(out.get()));
  return std::string(reinterpret_cast<const char*>(bytes->data), bytes->len);
}

// The value of `field` in an RFC 3464 report or a header block, unfolded, after its type
// ("Final-Recipient: rfc822; a@b" → "a@b"); "" when absent.
std::string report_field(const std::string& report, const std::string& field) {
  auto lines = core::split(report, '\n');
  const std::string key = core::to_lower(field) + ":";
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (core::to_lower(lines[i].substr(0, key.size())) != key) continue;
    std::string value = core::trim(lines[i].substr(key.size()));
    while (i + 1 < lines.size() && !lines[i + 1].empty() && (lines[i + 1][0] == ' ' || lines[i + 1][0] == '\t'))
      value += " " + core::trim(lines[++i]);
    if (auto semi = value.find(';'); semi != std::string::npos && semi < 16) value = core::trim(value.substr(semi + 1));
    return value;
  }
  return "";
}

struct Walk {
  ParsedEmail& mail;
  const EmailLimits& limits;
  std::size_t parts = 0;
  std::string report;      // message/delivery-status
  std::string bounced_id;  // Message-ID of the returned message or headers
  bool in_report = false;  // multipart/report; report-type=delivery-status
};

std::string extension_of(const std::string& type) {
  static const std::pair<const char*, const char*> known[] = {
      {"image/png", ".png"},       {"image/jpeg", ".jpg"}, {"image/gif", ".gif"},  {"image/webp", ".webp"},
      {"application/pdf", ".pdf"}, {"text/plain", ".txt"}, {"text/html", ".html"}, {"text/calendar", ".ics"}};
  for (const auto& [t, ext] : known)
    if (type == t) return ext;
  return ".bin";
}

void visit(GMimeObject*, GMimeObject* part, gpointer data) {
  auto& w = *static_cast<Walk*>(data);
  if (GMIME_IS_MULTIPART(part)) return;  // its children are visited too
  if (++w.parts > w.limits.max_parts) {
    w.mail.truncated = true;
    return;
  }
  const std::string type = mime_type(part);
  if (GMIME_IS_MESSAGE_PART(part)) {  // a forwarded or returned message
    GMimeMessage* inner = g_mime_message_part_get_message(GMIME_MESSAGE_PART(part));
    if (inner == nullptr) return;
    if (w.in_report && w.bounced_id.empty()) w.bounced_id = str(g_mime_message_get_message_id(inner));
    std::string subject = core::trim(str(g_mime_message_get_subject(inner)));
    std::replace_if(
        subject.begin(), subject.end(), [](char c) { return c == '/' || c == '\\'; }, '_');
    w.mail.attachments.push_back({(subject.empty() ? "forwarded" : subject.substr(0, 100)) + ".eml", "message/rfc822",
                                  "", false, object_bytes(GMIME_OBJECT(inner))});
    return;
  }
  if (!GMIME_IS_PART(part)) return;
  GMimePart* p = GMIME_PART(part);
  GMimeContentDisposition* disp = g_mime_object_get_content_disposition(part);
  const bool attachment = disp != nullptr && g_mime_content_disposition_is_attachment(disp);
  const char* filename = g_mime_part_get_filename(p);
  if (type == "message/delivery-status") {
    w.report = part_bytes(p);
    return;
  }
  if (GMIME_IS_TEXT_PART(part) && !attachment && filename == nullptr) {
    auto text = [&] {
      char* t = g_mime_text_part_get_text(GMIME_TEXT_PART(part));
      std::string s = clean_text(t != nullptr ? t : "");
      g_free(t);
      return s;
    };
    if (type == "text/plain" && w.mail.text.empty()) {
      w.mail.text = text();
      return;
    }
    if (type == "text/html" && w.mail.html.empty()) {
      w.mail.html = text();
      return;
    }
    if (type == "text/rfc822-headers") {
      if (w.bounced_id.empty())
        if (auto ids = message_ids(report_field(text(), "Message-ID").c_str()); !ids.empty())
          w.bounced_id = ids.front();
      return;
    }
  }
  EmailAttachment a;
  a.content_type = type;
  a.content_id = str(g_mime_part_get_content_id(p));
  a.is_inline = !attachment && !a.content_id.empty();
  a.filename = filename != nullptr ? core::trim(str(filename)) : "part-" + std::to_string(w.parts) + extension_of(type);
  a.data = part_bytes(p);
  w.mail.attachments.push_back(std::move(a));
}

// Containers (multipart/*, message/*) in the raw bytes bound GMime's recursive descent.
std::size_t containers(std::string_view raw) {
  auto at = [&](std::size_t i, std::string_view word) {
    if (raw.size() - i < word.size()) return false;
    for (std::size_t k = 0; k < word.size(); ++k)
      if (std::tolower(static_cast<unsigned char>(raw[i + k])) != word[k]) return false;
    return true;
  };
  std::size_t n = 0;
  for (std::size_t i = 0; i < raw.size(); ++i)
    if ((raw[i] == 'm' || raw[i] == 'M') && (at(i, "multipart/") || at(i, "message/"))) ++n;
  return n;
}

bool from_mailer_daemon(const ParsedEmail& m) {
  auto local = core::to_lower(m.from.address.substr(0, m.from.address.find('@')));
  return local == "mailer-daemon" || local == "postmaster";
}
}  // namespace

ParsedEmail parse_email(std::string_view raw, const EmailLimits& limits) {
  if (raw.size() > limits.max_bytes)
    throw EmailError("the message is " + std::to_string(raw.size()) + " bytes; the limit is " +
                     std::to_string(limits.max_bytes));
  if (std::size_t n = containers(raw); n > limits.max_nesting)
    throw EmailError("the message has " + std::to_string(n) + " multipart or message containers; the limit is " +
                     std::to_string(limits.max_nesting));
  GMimeParserOptions* options = lenient_options();
  Ref<GMimeStream> in(g_mime_stream_mem_new_with_buffer(raw.data(), raw.size()));
  Ref<GMimeParser> parser(g_mime_parser_new_with_stream(in.get()));
  Ref<GMimeMessage> msg(g_mime_parser_construct_message(parser.get(), options));
  if (!msg) throw EmailError("the bytes are not an email message (no header block)");
  GMimeObject* obj = GMIME_OBJECT(msg.get());

  ParsedEmail m;
  std::vector<Mailbox> from, reply_to;
  add_mailboxes(g_mime_message_get_from(msg.get()), from);
  if (!from.empty()) m.from = from.front();
  add_mailboxes(g_mime_message_get_reply_to(msg.get()), reply_to);
  if (!reply_to.empty()) m.reply_to = reply_to.front();
  add_mailboxes(g_mime_message_get_to(msg.get()), m.to);
  add_mailboxes(g_mime_message_get_cc(msg.get()), m.cc);
  m.subject = core::trim(str(g_mime_message_get_subject(msg.get())));
  m.message_id = str(g_mime_message_get_message_id(msg.get()));
  if (auto ids = message_ids(g_mime_object_get_header(obj, "In-Reply-To")); !ids.empty()) m.in_reply_to = ids.front();
  m.references = message_ids(g_mime_object_get_header(obj, "References"));
  if (GDateTime* date = g_mime_message_get_date(msg.get())) m.date_ms = g_date_time_to_unix(date) * 1000;
  m.automated = automated_reason(obj);

  Walk w{m, limits, 0, {}, {}, false};
  GMimeObject* top = g_mime_message_get_mime_part(msg.get());
  if (top != nullptr && GMIME_IS_MULTIPART(top)) {
    GMimeContentType* ct = g_mime_object_get_content_type(top);
    const char* report_type = g_mime_content_type_get_parameter(ct, "report-type");
    w.in_report = mime_type(top) == "multipart/report" && report_type != nullptr &&
                  core::to_lower(report_type) == "delivery-status";
  }
  g_mime_message_foreach(msg.get(), visit, &w);
  if (m.text.empty() && !m.html.empty()) m.text = html_to_text(m.html);

  if (w.in_report && !w.report.empty()) {
    std::string action = core::to_lower(report_field(w.report, "Action"));
    if (action.empty() || action == "failed") {
      Bounce b;
      b.original_message_id = w.bounced_id;
      b.recipient = report_field(w.report, "Final-Recipient");
      b.diagnostic = report_field(w.report, "Diagnostic-Code");
      if (b.diagnostic.empty()) b.diagnostic = report_field(w.report, "Status");
      m.bounce = std::move(b);
    }
  } else if (from_mailer_daemon(m)) {
    Bounce b;
    b.original_message_id = w.bounced_id;
    b.diagnostic = core::trim(m.text.substr(0, 500));
    m.bounce = std::move(b);
  }
  return m;
}

}  // namespace loket::mime
