#include <catch2/catch.hpp>

#include "loket/store/tickets.hpp"

using loket::store::subject_from_text;

TEST_CASE("subject is the first non-empty line, trimmed, at most 120 characters") {
  CHECK(subject_from_text("Hi, my order\nsecond line", "chat") == "Hi, my order");
  CHECK(subject_from_text("\n\n   Where is it?  \nmore", "chat") == "Where is it?");
  std::string long_line(130, 'x');
  CHECK(subject_from_text(long_line, "chat") == std::string(120, 'x'));
  std::string accented;
  for (int i = 0; i < 130; ++i) accented += "\xc3\xa9";
  CHECK(subject_from_text(accented, "chat").size() == 240);
}

TEST_CASE("an empty message gets the channel's inquiry subject") {
  CHECK(subject_from_text("", "chat") == "Chat inquiry");
  CHECK(subject_from_text("  \n ", "whatsapp") == "WhatsApp inquiry");
}
