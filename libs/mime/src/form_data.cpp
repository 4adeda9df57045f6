#include "loket/mime/form_data.hpp"
#include "loket/core/text.hpp"

#include "gobject.hpp"

#include <algorithm>

namespace loket::mime {

std::vector<FormPart> parse_form_data(const std::string& content_type, const std::string& body) {
  if (core::to_lower(content_type).rfind("multipart/form-data", 0) != 0 ||
      core::to_lower(content_type).find("boundary=") == std::string::npos)
    throw FormDataError("Content-Type must be multipart/form-data with a boundary");
  if (content_type.find_first_of("\r\n") != std::string::npos) throw FormDataError("Content-Type must be one line");
  init_gmime();
  std::string doc = "Content-Type: " + content_type + "\r\n\r\n" + body;
  Ref<GMimeStream> in(g_mime_stream_mem_new_with_buffer(doc.data(), doc.size()));
  Ref<GMimeParser> parser(g_mime_parser_new_with_stream(in.get()));
  Ref<GMimeObject> root(g_mime_parser_construct_part(parser.get(), nullptr));
  if (!root || !GMIME_IS_MULTIPART(root.get())) throw FormDataError("the body is not a multipart document");
  auto* multipart = GMIME_MULTIPART(root.get());
  std::vector<FormPart> parts;
  int count = g_mime_multipart_get_count(multipart);
  for (int i = 0; i < count; ++i) {
    GMimeObject* obj = g_mime_multipart_get_part(multipart, i);
    if (!GMIME_IS_PART(obj)) continue;  // nested multipart (RFC 2388 "multipart/mixed") is not used by browsers
    FormPart p;
    if (GMimeContentDisposition* disp = g_mime_object_get_content_disposition(obj)) {
      if (const char* n = g_mime_content_disposition_get_parameter(disp, "name")) p.name = n;
      if (const char* f = g_mime_content_disposition_get_parameter(disp, "filename")) p.filename = f;
    }
    if (g_mime_object_get_header(obj, "Content-Type") != nullptr) {
      char* type = g_mime_content_type_get_mime_type(g_mime_object_get_content_type(obj));
      p.content_type = type;
      g_free(type);
    } else if (!p.filename.empty()) {
      p.content_type = "application/octet-stream";
    }
    p.data = part_bytes(GMIME_PART(obj));
    parts.push_back(std::move(p));
  }
  if (parts.empty()) throw FormDataError("the multipart body has no parts");
  return parts;
}

}  // namespace loket::mime
