// Signed reply addresses: round trip, rotation, and every way a token can be wrong.
#include <catch2/catch.hpp>

#include "loket/providers/email/reply_address.hpp"

using namespace loket;
namespace email = providers::email;

namespace {
const std::string kAccount = "acc_0123456789abcdef01234567";
crypto::Keyring ring(const std::string& spec = "k1:" + std::string(64, 'a')) { return crypto::Keyring::parse(spec); }
}  // namespace

TEST_CASE("a reply token names its workspace and ticket, fits a local part and reads back") {
  auto keys = ring();
  auto token = email::reply_token(keys, kAccount, 1042);
  CHECK(token.rfind("0123456789abcdef01234567.1042.", 0) == 0);
  CHECK(("reply+" + token).size() <= 64);
  CHECK(("reply+" + email::reply_token(keys, kAccount, 9999999999999999)).size() <= 64);
  auto target = email::read_reply_token(keys, token);
  REQUIRE(target);
  CHECK(target->account_id == kAccount);
  CHECK(target->number == 1042);
  // An MTA that upper-cases the local part changes nothing.
  std::string upper = token;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  CHECK(email::read_reply_token(keys, upper));
  // Still valid after the master key is rotated (the old key kept in LOKET_MASTER_KEY).
  CHECK(email::read_reply_token(ring("k2:" + std::string(64, 'b') + ",k1:" + std::string(64, 'a')), token));
  CHECK_THROWS_AS(email::reply_token(keys, "acc_short", 1), std::invalid_argument);
  CHECK_THROWS_AS(email::reply_token(keys, kAccount, 0), std::invalid_argument);
  CHECK_THROWS_AS(email::reply_token(keys, kAccount, 10000000000000000), std::invalid_argument);
}

TEST_CASE("a guessed, altered or malformed reply token names nothing") {
  auto keys = ring();
  auto token = email::reply_token(keys, kAccount, 7);
  auto other = email::reply_token(keys, "acc_ffffffffffffffffffffffff", 7);
  std::string number_changed = token;
  number_changed.replace(25, 1, "8");
  std::string account_changed = other.substr(0, 25) + token.substr(25);
  for (const std::string& bad :
       {number_changed, account_changed, token.substr(0, token.size() - 1), token + "0", std::string(""),
        std::string("0123456789abcdef01234567.7"), std::string("0123456789abcdef01234567..0000000000000000"),
        std::string("0123456789abcdef01234567.07.") + token.substr(token.size() - 16),
        std::string("0123456789abcdef01234567.99999999999999999999.") + token.substr(token.size() - 16),
        std::string("0123456789abcdef0123456z.7.") + token.substr(token.size() - 16), std::string(5000, '.')}) {
    INFO(bad);
    CHECK_FALSE(email::read_reply_token(keys, bad));
  }
  CHECK_FALSE(email::read_reply_token(ring("k1:" + std::string(64, 'c')), token));  // another deployment's key
}

TEST_CASE("the token is found only in a reply address of our domain") {
  CHECK(email::token_in_address("reply+abc.1.x@in.loket.example", "in.loket.example") == "abc.1.x");
  CHECK(email::token_in_address(" Reply+ABC@IN.Loket.Example ", "in.loket.example") == "abc");
  CHECK_FALSE(email::token_in_address("reply+abc@other.example", "in.loket.example"));
  CHECK_FALSE(email::token_in_address("reply+@in.loket.example", "in.loket.example"));
  CHECK_FALSE(email::token_in_address("support@in.loket.example", "in.loket.example"));
  CHECK_FALSE(email::token_in_address("reply+abc@in.loket.example", ""));
  CHECK_FALSE(email::token_in_address("reply+abc", "in.loket.example"));
}

TEST_CASE("the Message-IDs Loket sends name their ticket or message, and only well-formed ids are read back") {
  using email::SentMail;
  const std::string ticket = "tkt_0123456789abcdef01234567", message = "tmsg_0123456789abcdef01234567";
  CHECK(email::sent_message_id({SentMail::Kind::kReceivedNotice, ticket}, "mail.example") ==
        "<ticket-" + ticket + "@mail.example>");
  for (const auto& mail :
       {SentMail{SentMail::Kind::kReceivedNotice, ticket}, SentMail{SentMail::Kind::kCsatSurvey, ticket},
        SentMail{SentMail::Kind::kMessage, message}}) {
    auto id = email::sent_message_id(mail, "mail.example");
    INFO(id);
    for (const auto& form : {id, id.substr(1, id.size() - 2)}) {  // with and without angle brackets
      auto back = email::read_sent_message_id(form);
      REQUIRE(back);
      CHECK(back->kind == mail.kind);
      CHECK(back->id == mail.id);
    }
  }
  for (const char* other : {"CAJx8v9Q3@mail.gmail.com", "ticket-tkt_1@x", "tmsg_0123456789abcdef0123456@x",
                            "tmsg_0123456789ABCDEF01234567@x", "csat-tmsg_0123456789abcdef01234567@x",
                            "tmsg_0123456789abcdef01234567", "", "<>"}) {
    INFO(other);
    CHECK_FALSE(email::read_sent_message_id(other));
  }
}
