// The writer's threading decisions without a database (DESIGN.md "Threading"): which messages
// open a ticket, which join one, which are duplicates, which belong to no integration.
#include <catch2/catch.hpp>

#include "writer.hpp"

using namespace loket;
using writer::Result;

namespace {
events::InboundMessage message(const std::string& integration, const std::string& thread, const std::string& id,
                               const std::string& channel = "whatsapp") {
  events::InboundMessage m;
  m.integration_id = integration;
  m.channel = channel;
  m.external_thread_id = thread;
  m.external_message_id = id;
  return m;
}

// Two workspaces: int_a1 and int_a2 in acc_a (two numbers of one shop), int_b in acc_b.
std::optional<std::string> workspace_of(const std::string& integration) {
  if (integration == "int_a1" || integration == "int_a2") return "acc_a";
  if (integration == "int_b") return "acc_b";
  return std::nullopt;
}
}  // namespace

TEST_CASE("the first message of a thread opens a ticket; the next ones join it") {
  auto r = writer::thread_batch(
      {message("int_a1", "+62811", "m1"), message("int_a1", "+62811", "m2"), message("int_a1", "+62822", "m3")},
      workspace_of, {}, {});
  CHECK(r == std::vector<Result>{Result::kCreatedTicket, Result::kAppended, Result::kCreatedTicket});
}

TEST_CASE("a thread with an open ticket joins it, whichever number of the workspace it came through") {
  std::set<store::ThreadKey> open{{"acc_a", "whatsapp", "+62811"}};
  auto r = writer::thread_batch({message("int_a2", "+62811", "m1"), message("int_b", "+62811", "m2")}, workspace_of, {},
                                open);
  // acc_b's customer with the same number is another workspace's requester: a ticket of its own.
  CHECK(r == std::vector<Result>{Result::kAppended, Result::kCreatedTicket});
}

TEST_CASE("the same thread id on another channel is another conversation") {
  auto r = writer::thread_batch({message("int_a1", "42", "m1", "chat"), message("int_a1", "42", "m2", "web")},
                                workspace_of, {}, {});
  CHECK(r == std::vector<Result>{Result::kCreatedTicket, Result::kCreatedTicket});
}

TEST_CASE("a message stored before, or earlier in the batch, is a duplicate and opens nothing") {
  std::set<store::MessageKey> stored{{"int_a1", "m1"}};
  auto r = writer::thread_batch({message("int_a1", "+62811", "m1"), message("int_a1", "+62811", "m2"),
                                 message("int_a1", "+62811", "m2"), message("int_a2", "+62811", "m2")},
                                workspace_of, stored, {});
  // m1 is stored: the thread's ticket comes from m2. The same provider id through another
  // integration is another message (dedup is per integration).
  CHECK(r == std::vector<Result>{Result::kDuplicate, Result::kCreatedTicket, Result::kDuplicate, Result::kAppended});
}

TEST_CASE("a message of an unknown or deleted integration is set apart and threads nothing") {
  auto r = writer::thread_batch({message("int_gone", "+62811", "m1"), message("int_a1", "+62811", "m1")}, workspace_of,
                                {}, {});
  CHECK(r == std::vector<Result>{Result::kUnknownIntegration, Result::kCreatedTicket});
}
