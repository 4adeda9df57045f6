// loket-bench-mime: what reading one inbound email costs the inbound worker (issue 16; not a
// test).
//   loket-bench-mime [ITERATIONS]
// Parses each kind of the email benchmark's messages (tests/bench/emails.hpp: plain text, HTML
// only, multipart/mixed with a 100 KB attachment, ISO-2022-JP) ITERATIONS times (default 2,000)
// on one thread, as the email provider's normalize does: mime::parse_email (GMime: headers,
// parts, charsets, HTML to text through libxml2, attachments decoded), then mime::split_reply.
// Prints one JSON line: microseconds per message for each kind and for the mix.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "emails.hpp"
#include "loket/mime/email.hpp"

int main(int argc, char** argv) {
  const long long iterations = argc > 1 ? std::atoll(argv[1]) : 2000;
  if (iterations <= 0) {
    std::fprintf(stderr, "usage: loket-bench-mime [ITERATIONS]\n");
    return 2;
  }
  const char* kinds[] = {"plain", "html_only", "attachment_100kb", "iso_2022_jp"};
  std::string json = "{\"iterations\":" + std::to_string(iterations);
  double mix = 0;
  for (int kind = 0; kind < 4; ++kind) {
    const std::string raw = bench::email_message(kind, "parse", 0, "support@in.loket.test");
    // One untimed pass (GMime's first use initialises its charset tables), which also checks
    // that the text came through: a benchmark that parsed nothing would measure nothing.
    const auto first = loket::mime::split_reply(loket::mime::parse_email(raw).text).reply;
    if (first.rfind("bench parse " + std::to_string(kind) + " ", 0) != 0) {
      std::fprintf(stderr, "loket-bench-mime: the %s message read as \"%s\"\n", kinds[kind], first.c_str());
      return 1;
    }
    std::size_t sink = 0;
    const auto start = std::chrono::steady_clock::now();
    for (long long i = 0; i < iterations; ++i) {
      auto parsed = loket::mime::parse_email(raw);
      auto parts = loket::mime::split_reply(parsed.text);
      sink += parts.reply.size() + parsed.attachments.size();
    }
    const double us =
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() / iterations;
    if (sink == 0) return 1;  // keeps the loop from being optimised away
    mix += us / 4;
    char field[96];
    std::snprintf(field, sizeof field, ",\"%s_us\":%.1f,\"%s_bytes\":%zu", kinds[kind], us, kinds[kind], raw.size());
    json += field;
  }
  char field[48];
  std::snprintf(field, sizeof field, ",\"mixed_us\":%.1f}", mix);
  std::printf("%s\n", (json + field).c_str());
  return 0;
}
