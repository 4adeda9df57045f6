// /api/v1/attachments: multipart upload and download (issue 3 "Attachments").
#include <regex>

#include "api.hpp"
#include "loket/http/envelope.hpp"
#include "loket/mime/form_data.hpp"
#include "loket/store/tickets.hpp"

namespace loket::api {
namespace {
using store::Principal;
constexpr std::size_t kMaxFilenameBytes = 255;

// The last path component, without control characters, at most 255 bytes; "file" when empty.
std::string clean_filename(std::string name) {
  auto slash = name.find_last_of("/\\");
  if (slash != std::string::npos) name = name.substr(slash + 1);
  std::string out;
  for (unsigned char c : name)
    if (c >= 0x20 && c != 0x7f) out += static_cast<char>(c);
  if (out.size() > kMaxFilenameBytes) {
    std::size_t cut = kMaxFilenameBytes;
    while (cut > 0 && (static_cast<unsigned char>(out[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    out.resize(cut);
  }
  return out.empty() || out == "." || out == ".." ? "file" : out;
}

std::string clean_content_type(const std::string& t) {
  static const std::regex re(R"([A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,63}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126})");
  return std::regex_match(t, re) ? t : "application/octet-stream";
}

}  // namespace

http::Response upload_attachment(Context& ctx, const http::Request& req, const std::string& ws,
                                 const std::optional<std::string>& by) {
  std::vector<mime::FormPart> parts;
  try {
    parts = mime::parse_form_data(req.header("content-type"), req.body);
  } catch (const mime::FormDataError& e) {
    return http::json_error(400, "VALIDATION_ERROR",
                            std::string(e.what()) + "; send the file as multipart/form-data field \"file\"");
  }
  const mime::FormPart* file = nullptr;
  for (const auto& part : parts)
    if (part.name == "file") {
      if (file) return http::json_error(400, "VALIDATION_ERROR", "send one file per upload");
      file = &part;
    }
  if (!file) return http::json_error(400, "VALIDATION_ERROR", "the form has no \"file\" field");
  if (file->data.size() > ctx.options.max_attachment_bytes)
    return http::json_error(413, "PAYLOAD_TOO_LARGE",
                            "the file is " + std::to_string(file->data.size()) + " bytes; the limit is " +
                                std::to_string(ctx.options.max_attachment_bytes) + " bytes");
  auto a = store::with_tx(ctx.pool, [&](pqxx::work& tx) {
    return store::store_upload(tx, ws, by, clean_filename(file->filename), clean_content_type(file->content_type),
                               file->data);
  });
  return http::json_ok(201, attachment_json(a));
}

namespace {
// RFC 6266: an ASCII fallback plus the UTF-8 name in filename*.
std::string content_disposition(const std::string& name) {
  std::string ascii, encoded;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : name) {
    ascii += (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ? '_' : static_cast<char>(c);
    if (std::isalnum(c) || c == '.' || c == '-' || c == '_')
      encoded += static_cast<char>(c);
    else
      encoded += std::string("%") + hex[c >> 4] + hex[c & 15];
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace

http::Response send_attachment(pqxx::transaction_base& tx, const store::AttachmentRow& a) {
  auto bytes = store::postgres_blobs().get(tx, a.meta.id);
  if (!bytes) return http::json_error(404, "NOT_FOUND", "the provider could not serve this attachment");
  return send_file(std::move(*bytes), a.meta.content_type, a.meta.filename);
}

http::Response send_file(std::string bytes, const std::string& content_type, const std::string& filename) {
  http::Response res;
  res.content_type = content_type;
  res.headers.emplace_back("Content-Disposition", content_disposition(filename));
  res.headers.emplace_back("X-Content-Type-Options", "nosniff");
  // A customer's file is never a page of ours: an uploaded text/html or SVG opened in the
  // browser runs no script and reaches no cookie or origin.
  res.headers.emplace_back("Content-Security-Policy", "sandbox; default-src 'none'");
  res.headers.emplace_back("Cache-Control", "private, max-age=3600");
  res.body = std::move(bytes);
  return res;
}

namespace {
http::Response download(Context& ctx, const Principal& p, const std::string& id) {
  auto conn = ctx.pool.acquire();
  pqxx::read_transaction tx(*conn);
  auto a = store::load_attachment(tx, p.workspace_id, id);
  // A file on a message is the ticket's: outside the caller's inboxes it is not there. An upload
  // not sent yet belongs to the workspace's agents, as before.
  if (a && !a->ticket_id.empty() && !find_ticket(tx, p, a->ticket_id)) a.reset();
  if (!a) return http::json_error(404, "NOT_FOUND", "no such attachment");
  return send_attachment(tx, *a);
}
}  // namespace

void add_attachment_routes(http::Router& r, Context& ctx) {
  using Q = const http::Request&;
  using P = const Principal&;
  add(
      r, ctx, "POST", "/api/v1/attachments", Access::kAgent,
      [&ctx](Q q, P p) { return upload_attachment(ctx, q, p.workspace_id, uploader_of(p)); }, true);
  add(r, ctx, "GET", "/api/v1/attachments/:id", Access::kAgent,
      [&ctx](Q q, P p) { return download(ctx, p, q.params.at("id")); });
}

}  // namespace loket::api
