// Messages the benchmarks send (tests/bench/; not a test).
#pragma once

#include <string>

#include "loket/core/ids.hpp"

namespace bench {

/// The text every benchmark message carries: "bench RUN_ID i <intended epoch ms>", so the
/// end-to-end latency can be computed in SQL from the committed message.
inline std::string text(const std::string& run, long long i, long long sent_ms) {
  return "bench " + run + " " + std::to_string(i) + " " + std::to_string(sent_ms);
}

/// One inbound email of kind `i % 4` (plain, HTML only, 100 KB attachment, ISO-2022-JP) from a
/// sender of its own, whose text (after decoding) starts with text(run, i, sent_ms).
inline std::string email_message(long long i, const std::string& run, long long sent_ms, const std::string& recipient) {
  static const std::string attachment = [] {
    std::string pdf = "%PDF-1.4\n";
    for (int k = 0; pdf.size() < 100 * 1024; ++k) pdf += "% invoice line " + std::to_string(k) + "\n";
    std::string b64 = loket::core::base64(pdf), folded;
    for (std::size_t at = 0; at < b64.size(); at += 76) folded += b64.substr(at, 76) + "\r\n";
    return folded;
  }();
  const std::string n = std::to_string(i), body = text(run, i, sent_ms);
  std::string m = "From: Bench Customer " + n + " <customer" + n + "@mail.example>\r\nTo: " + recipient +
                  "\r\nSubject: Order question " + n +
                  "\r\nDate: Thu, 1 Jan 2026 00:00:00 +0000\r\nMessage-ID: <bench." + run + "." + n +
                  "@mail.example>\r\nMIME-Version: 1.0\r\n";
  switch (i % 4) {
    case 0:
      return m + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body + " where is my parcel?\r\n";
    case 1:
      return m + "Content-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>" + body +
             " where is my <a href=\"https://shop.example/o/" + n + "\">order</a>?</p></body></html>\r\n";
    case 2:
      return m +
             "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; "
             "charset=utf-8\r\n\r\n" +
             body +
             " the invoice is attached\r\n--b1\r\nContent-Type: application/pdf; name=\"invoice.pdf\"\r\n"
             "Content-Disposition: attachment; filename=\"invoice.pdf\"\r\nContent-Transfer-Encoding: "
             "base64\r\n\r\n" +
             attachment + "--b1--\r\n";
    default:  // "お問い合わせです" (an inquiry) in ISO-2022-JP
      return m + "Content-Type: text/plain; charset=ISO-2022-JP\r\nContent-Transfer-Encoding: 7bit\r\n\r\n" + body +
             " \x1b$B$*Ld$$9g$o$;$G$9\x1b(B\r\n";
  }
}

}  // namespace bench
