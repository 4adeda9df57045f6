// Signed reply addresses (issue 16; RFC 5321 §4.5.3.1.1 for the local part's 64 octets).
#include "loket/providers/email/reply_address.hpp"

#include <stdexcept>

#include "loket/core/ids.hpp"
#include "loket/core/text.hpp"

namespace loket::providers::email {
namespace {
constexpr std::string_view kAccountPrefix = "acc_";
constexpr std::size_t kAccountHex = 24;
constexpr std::size_t kMacHex = 16;  // 64 bits: a guess is right once in 1.8e19
constexpr std::string_view kPurpose = "reply-token";
constexpr std::int64_t kMaxNumber = 9999999999999999;  // 16 digits: "reply+" + token stays within 64 octets

bool lower_hex(std::string_view s) { return s.find_first_not_of("0123456789abcdef") == std::string_view::npos; }

std::string signed_part(std::string_view account_hex, std::int64_t number) {
  return std::string(account_hex) + "." + std::to_string(number);
}
}  // namespace

std::string reply_token(const crypto::Keyring& keys, std::string_view account_id, std::int64_t number) {
  std::string_view hex = account_id.substr(std::min(account_id.size(), kAccountPrefix.size()));
  if (account_id.substr(0, kAccountPrefix.size()) != kAccountPrefix || hex.size() != kAccountHex || !lower_hex(hex) ||
      number < 1 || number > kMaxNumber)
    throw std::invalid_argument("a reply token needs an acc_ id and a ticket number");
  std::string body = signed_part(hex, number);
  return body + "." + core::to_hex(keys.mac(kPurpose, body)).substr(0, kMacHex);
}

std::optional<ReplyTarget> read_reply_token(const crypto::Keyring& keys, std::string_view token) {
  std::string t = core::to_lower(token);
  auto first = t.find('.'), last = t.rfind('.');
  if (first != kAccountHex || last == first || t.size() - last - 1 != kMacHex) return std::nullopt;
  std::string hex = t.substr(0, first), digits = t.substr(first + 1, last - first - 1), mac = t.substr(last + 1);
  if (!lower_hex(hex) || !lower_hex(mac) || digits.empty() || digits.size() > 16 || digits[0] == '0' ||
      digits.find_first_not_of("0123456789") != std::string::npos)
    return std::nullopt;
  std::int64_t number = std::stoll(digits);
  std::string raw_mac;
  for (std::size_t i = 0; i < mac.size(); i += 2)
    raw_mac += static_cast<char>(std::stoi(mac.substr(i, 2), nullptr, 16));
  if (!keys.verify_mac(kPurpose, signed_part(hex, number), raw_mac)) return std::nullopt;
  return ReplyTarget{std::string(kAccountPrefix) + hex, number};
}

std::optional<std::string> token_in_address(std::string_view address, std::string_view domain) {
  std::string a = core::to_lower(core::trim(address)), d = core::to_lower(domain);
  const std::string prefix = "reply+";
  auto at = a.rfind('@');
  if (d.empty() || at == std::string::npos || a.substr(at + 1) != d || a.compare(0, prefix.size(), prefix) != 0)
    return std::nullopt;
  std::string token = a.substr(prefix.size(), at - prefix.size());
  if (token.empty()) return std::nullopt;
  return token;
}

std::string sent_message_id(const SentMail& mail, std::string_view domain) {
  const char* prefix = mail.kind == SentMail::Kind::kReceivedNotice ? "ticket-"
                       : mail.kind == SentMail::Kind::kCsatSurvey   ? "csat-"
                                                                    : "";
  return "<" + std::string(prefix) + mail.id + "@" + std::string(domain) + ">";
}

std::optional<SentMail> read_sent_message_id(std::string_view message_id) {
  if (!message_id.empty() && message_id.front() == '<') message_id.remove_prefix(1);
  auto at = message_id.find('@');
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view local = message_id.substr(0, at);
  auto well_formed = [](std::string_view id, std::string_view kind) {
    return id.size() == kind.size() + 25 && id.substr(0, kind.size()) == kind && id[kind.size()] == '_' &&
           id.find_first_not_of("0123456789abcdef", kind.size() + 1) == std::string_view::npos;
  };
  for (auto [prefix, kind] : {std::pair{std::string_view("ticket-"), SentMail::Kind::kReceivedNotice},
                              std::pair{std::string_view("csat-"), SentMail::Kind::kCsatSurvey}})
    if (local.substr(0, prefix.size()) == prefix && well_formed(local.substr(prefix.size()), "tkt"))
      return SentMail{kind, std::string(local.substr(prefix.size()))};
  if (well_formed(local, "tmsg")) return SentMail{SentMail::Kind::kMessage, std::string(local)};
  return std::nullopt;
}

}  // namespace loket::providers::email
