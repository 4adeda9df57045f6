// Quote and signature trimming of email replies: a table of what mail clients write above the
// history they quote (Gmail, Outlook desktop/web/mobile, Apple Mail, Thunderbird, Yahoo; English
// and Indonesian), matched per line without regular expressions.
#include <algorithm>
#include <string>
#include <vector>

#include "loket/core/text.hpp"
#include "loket/mime/email.hpp"

namespace loket::mime {
namespace {
constexpr std::size_t kMaxHeaderChars = 400;  // a quote header is one sentence, even when wrapped
constexpr std::size_t kMaxHeaderLines = 3;    // Gmail wraps "On … <address>\n wrote:"

// "<prefix> … <suffix>" over up to kMaxHeaderLines lines: the attribution line above a quote.
struct Attribution {
  const char* prefix;
  const char* suffix;
};
constexpr Attribution kAttributions[] = {
    {"on ", "wrote:"},       // Gmail, Apple Mail, Thunderbird, Yahoo (English)
    {"pada ", "menulis:"},   // the same clients in Indonesian
    {"pada ", "menulis :"},  //
    {"le ", "a écrit :"},    // French, common in Indonesian inboxes of international shops
    {"am ", "schrieb:"},     // German
};

// Lines that begin the quoted original on their own (lowercased, trimmed).
constexpr const char* kSeparators[] = {
    "-----original message-----", "----- original message -----",
    "-----pesan asli-----",       "----- pesan asli -----",
    "-----pesan awal-----",       "--- original message ---",
    "begin forwarded message:",   "---------- forwarded message ---------",
};

// Outlook's header block: a "From:" line followed by one of these within three lines.
constexpr const char* kFromLines[] = {"from:", "dari:"};
constexpr const char* kHeaderFollowers[] = {"sent:", "dikirim:", "date:", "tanggal:", "to:", "kepada:"};

// Signature starts (lowercased prefixes of a whole line).
constexpr const char* kSignatures[] = {
    "sent from my ",       "sent from outlook", "get outlook for ", "sent from yahoo mail",
    "sent from mail for ", "sent via ",         "dikirim dari ",    "kirim dari ",
    "diambil dari ",       "sent from samsung", "sent from gmail",  "envoyé de mon ",
};

bool starts_with(const std::string& s, std::string_view p) { return s.compare(0, p.size(), p) == 0; }
bool ends_with(const std::string& s, std::string_view p) {
  return s.size() >= p.size() && s.compare(s.size() - p.size(), p.size(), p) == 0;
}

// Lowercased ASCII (UTF-8 bytes above 0x7F kept), trimmed.
std::string folded(const std::string& line) { return core::to_lower(core::trim(line)); }

bool attribution_at(const std::vector<std::string>& low, std::size_t i) {
  for (const auto& a : kAttributions) {
    if (!starts_with(low[i], a.prefix)) continue;
    std::string joined;
    for (std::size_t k = i; k < low.size() && k < i + kMaxHeaderLines; ++k) {
      joined += (k == i ? "" : " ") + low[k];
      if (joined.size() > kMaxHeaderChars) break;
      if (ends_with(joined, a.suffix)) return true;
    }
  }
  return false;
}

bool separator_at(const std::vector<std::string>& low, std::size_t i) {
  for (const char* s : kSeparators)
    if (low[i] == s) return true;
  // Outlook web and mobile: a rule of underscores, then the From/Sent block.
  if (low[i].size() >= 10 && low[i].find_first_not_of('_') == std::string::npos) return true;
  for (const char* from : kFromLines) {
    if (!starts_with(low[i], from)) continue;
    for (std::size_t k = i + 1; k < low.size() && k <= i + kMaxHeaderLines; ++k)
      for (const char* f : kHeaderFollowers)
        if (starts_with(low[k], f)) return true;
  }
  return false;
}

bool signature_at(const std::vector<std::string>& raw, const std::vector<std::string>& low, std::size_t i) {
  if (raw[i] == "-- " || raw[i] == "--") return true;  // RFC 3676 §4.3
  for (const char* s : kSignatures)
    if (starts_with(low[i], s) && low[i].size() < 80) return true;
  return false;
}

std::string joined(const std::vector<std::string>& lines, std::size_t from, std::size_t to) {
  std::string out;
  for (std::size_t i = from; i < to; ++i) out += lines[i] + (i + 1 < to ? "\n" : "");
  return core::trim(out);
}

// The lines of `text`, empty ones kept, without their CR.
std::vector<std::string> lines_of(std::string_view text) {
  std::vector<std::string> out;
  for (std::size_t pos = 0; pos <= text.size();) {
    auto end = std::min(text.find('\n', pos), text.size());
    std::string line(text.substr(pos, end - pos));
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    pos = end + 1;
  }
  return out;
}
}  // namespace

ReplyParts split_reply(std::string_view text) {
  std::vector<std::string> raw = lines_of(text), low;
  for (const auto& l : raw) low.push_back(folded(l));
  std::size_t cut = raw.size();
  bool content = false;
  for (std::size_t i = 0; i < raw.size() && cut == raw.size(); ++i) {
    if (content && (attribution_at(low, i) || separator_at(low, i) || signature_at(raw, low, i))) cut = i;
    if (!low[i].empty()) content = true;
  }
  // A trailing block of "> " lines (and blank ones) after the new text.
  std::size_t tail = cut;
  while (tail > 0 && (low[tail - 1].empty() || low[tail - 1][0] == '>')) --tail;
  bool quotes = false;
  for (std::size_t i = tail; i < cut; ++i) quotes = quotes || !low[i].empty();
  if (quotes) {
    // The attribution right above the quote belongs to it.
    for (std::size_t j = tail > kMaxHeaderLines ? tail - kMaxHeaderLines : 0; j < tail; ++j)
      if (attribution_at(low, j)) {
        tail = j;
        break;
      }
    cut = tail;
  }
  ReplyParts out{joined(raw, 0, cut), joined(raw, cut, raw.size())};
  if (out.reply.empty()) return {core::trim(std::string(text)), ""};
  return out;
}

}  // namespace loket::mime
