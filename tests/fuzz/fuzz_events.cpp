// Every record reader (the records of every topic) on arbitrary bytes: a value or
// std::invalid_argument, nothing else.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "loket/events/events.hpp"
#include "loket/events/ticket_events.hpp"

namespace {
template <typename Read>
void read(Read r) {
  try {
    r();
  } catch (const std::invalid_argument&) {
  }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace loket::events;
  const std::string json(reinterpret_cast<const char*>(data), size);
  read([&] { to_json(ticket_event_from_json(json)); });
  read([&] { to_json(raw_webhook_from_json(json)); });
  read([&] { to_json(inbound_message_from_json(json)); });
  read([&] { to_json(delivery_receipt_from_json(json)); });
  read([&] { to_json(dead_letter_from_json(json)); });
  read([&] { to_json(delivery_retry_from_json(json)); });
  (void)is_delivery_receipt(json);
  return 0;
}
