// Writing the emails Loket sends through a workspace's own SMTP server (issue 16), with GMime:
// the same library that reads mail writes it, so encoded words and quoted-printable are its.
#include <ctime>
#include <stdexcept>

#include "gobject.hpp"
#include "loket/mime/email.hpp"

namespace loket::mime {
namespace {
void refuse_line_breaks(std::string_view what, std::string_view v) {
  if (v.find_first_of("\r\n") != std::string_view::npos)
    throw std::invalid_argument(std::string(what) + " must not contain a line break");
}

// Adds the addresses of `list_text` ("Name <a@b>", "a@b") to `into`; false when none parse.
bool add_addresses(InternetAddressList* into, const std::string& list_text) {
  Ref<InternetAddressList> parsed(internet_address_list_parse(nullptr, list_text.c_str()));
  if (!parsed || internet_address_list_length(parsed.get()) == 0) return false;
  internet_address_list_append(into, parsed.get());
  return true;
}

GMimeTextPart* text_part(const char* subtype, const std::string& body) {
  GMimeTextPart* part = g_mime_text_part_new_with_subtype(subtype);
  g_mime_text_part_set_text(part, body.c_str());
  g_mime_text_part_set_charset(part, "utf-8");
  g_mime_part_set_content_encoding(GMIME_PART(part), GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE);
  return part;
}

GMimePart* attachment_part(const OutgoingAttachment& a) {
  Ref<GMimeContentType> type(g_mime_content_type_parse(nullptr, a.content_type.c_str()));
  const bool typed = type && g_mime_content_type_get_media_type(type.get()) != nullptr &&
                     g_mime_content_type_get_media_subtype(type.get()) != nullptr &&
                     a.content_type.find('/') != std::string::npos;
  GMimePart* part = typed ? g_mime_part_new_with_type(g_mime_content_type_get_media_type(type.get()),
                                                      g_mime_content_type_get_media_subtype(type.get()))
                          : g_mime_part_new_with_type("application", "octet-stream");
  g_mime_part_set_filename(part, a.filename.empty() ? "attachment" : a.filename.c_str());
  Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(a.bytes.data(), a.bytes.size()));
  Ref<GMimeDataWrapper> content(g_mime_data_wrapper_new_with_stream(stream.get(), GMIME_CONTENT_ENCODING_DEFAULT));
  g_mime_part_set_content(part, content.get());
  g_mime_part_set_content_encoding(part, GMIME_CONTENT_ENCODING_BASE64);
  return part;
}
}  // namespace

std::string compose_email(const OutgoingEmail& e) {
  init_gmime();
  for (const auto* v : {&e.from, &e.to, &e.reply_to, &e.subject}) refuse_line_breaks("an address or the subject", *v);
  for (const auto& a : e.attachments) {
    refuse_line_breaks("an attachment's file name", a.filename);
    refuse_line_breaks("an attachment's content type", a.content_type);
  }
  for (const auto& [name, value] : e.headers) {
    refuse_line_breaks("a header name", name);
    refuse_line_breaks("header " + name, value);
  }
  Ref<GMimeMessage> message(g_mime_message_new(TRUE));
  if (!add_addresses(g_mime_message_get_from(message.get()), e.from))
    throw std::invalid_argument("From holds no address");
  if (!add_addresses(g_mime_message_get_to(message.get()), e.to)) throw std::invalid_argument("To holds no address");
  if (!e.reply_to.empty()) add_addresses(g_mime_message_get_reply_to(message.get()), e.reply_to);
  g_mime_message_set_subject(message.get(), e.subject.c_str(), "utf-8");
  GDateTime* now = g_date_time_new_now_utc();
  g_mime_message_set_date(message.get(), now);
  g_date_time_unref(now);
  for (const auto& [name, value] : e.headers) {
    if (g_ascii_strcasecmp(name.c_str(), "Message-ID") == 0) {
      std::string id = value;  // GMime writes the angle brackets itself
      if (id.size() >= 2 && id.front() == '<' && id.back() == '>') id = id.substr(1, id.size() - 2);
      g_mime_message_set_message_id(message.get(), id.c_str());
    } else {
      g_mime_object_set_header(GMIME_OBJECT(message.get()), name.c_str(), value.c_str(), "utf-8");
    }
  }
  Ref<GMimeTextPart> text(text_part("plain", e.text));
  Ref<GMimeMultipart> alternative;
  GMimeObject* body = GMIME_OBJECT(text.get());
  if (!e.html.empty()) {
    alternative.reset(g_mime_multipart_new_with_subtype("alternative"));
    g_mime_multipart_add(alternative.get(), GMIME_OBJECT(text.get()));
    Ref<GMimeTextPart> html(text_part("html", e.html));
    g_mime_multipart_add(alternative.get(), GMIME_OBJECT(html.get()));
    body = GMIME_OBJECT(alternative.get());
  }
  Ref<GMimeMultipart> mixed;
  if (!e.attachments.empty()) {
    mixed.reset(g_mime_multipart_new_with_subtype("mixed"));
    g_mime_multipart_add(mixed.get(), body);
    for (const auto& a : e.attachments) {
      Ref<GMimePart> part(attachment_part(a));
      g_mime_multipart_add(mixed.get(), GMIME_OBJECT(part.get()));
    }
    body = GMIME_OBJECT(mixed.get());
  }
  g_mime_message_set_mime_part(message.get(), body);
  GMimeFormatOptions* options = g_mime_format_options_new();
  g_mime_format_options_set_newline_format(options, GMIME_NEWLINE_FORMAT_DOS);
  char* written = g_mime_object_to_string(GMIME_OBJECT(message.get()), options);
  g_mime_format_options_free(options);
  std::string out = written ? written : "";
  g_free(written);
  return out;
}

}  // namespace loket::mime
