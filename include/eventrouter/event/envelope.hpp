#pragma once
// Checks and normalises the events of an ingest request, in both request formats:
// eventrouter's own (`POST /events`: an envelope or an array of them) and AWS PutEvents.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "eventrouter/event/event.hpp"
#include "eventrouter/util/expected.hpp"

namespace eventrouter::event {

struct EnvelopeOptions {
  std::size_t max_event_bytes = 262144;  // limit on one normalised event
  std::string default_account = "000000000000";
  std::string default_region = "us-east-1";
};

// Per entry, in request order: the accepted event or why it was refused.
using Entry = Expected<Event, EntryError>;

// A problem with the request as a whole (answered 400 with this code and message).
struct BodyError {
  std::string code;  // MalformedJSON | TooDeep | InvalidUTF8 | InvalidRequest | ValidationException
  std::string message;
};

// Deepest nesting of objects and arrays a request may have.
inline constexpr std::size_t kMaxJsonDepth = 1000;

// `POST /events` and `POST /buses/{bus}/events`: one event object, or a non-empty array of them.
Expected<std::vector<Entry>, BodyError> parse_events_request(std::string_view body,
                                                             std::string_view bus,
                                                             const EnvelopeOptions& options);

// AWS PutEvents (JSON 1.1): {"Entries": [{"Source", "DetailType", "Detail", ...}]}, 1 to 10.
// Entries without EventBusName go to `default_bus`.
Expected<std::vector<Entry>, BodyError> parse_put_events_request(std::string_view body,
                                                                 std::string_view default_bus,
                                                                 const EnvelopeOptions& options);

// When an object of the JSON text `json` repeats a key, says which and where (the same words
// ingest refuses such an event with); empty when none does or the text is not JSON.
std::string describe_duplicate_key(std::string_view json);

// Checks that `body` is JSON, saying where it is not: "malformed JSON at byte 17: ...".
// Empty when it is valid. Used on error paths only.
std::string describe_json_error(std::string_view body);

}  // namespace eventrouter::event
