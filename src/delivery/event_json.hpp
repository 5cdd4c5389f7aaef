#pragma once
// The few reads and edits the delivery engine makes on stored JSON: an event's identifying
// fields, the replay-name EventBridge adds to replayed events, and dead-letter records.

#include <optional>
#include <string>
#include <string_view>

namespace eventrouter::delivery {

struct EventFields {
  std::string id, source, detail_type;
};

// id, source and detail-type of an event envelope (empty when absent).
EventFields event_fields(std::string_view event_json);

// The event with a top-level "replay-name", as EventBridge marks replayed events; the result
// has spare capacity for simdjson's padding.
std::string with_replay_name(std::string_view event_json, std::string_view replay_name);

struct StoredDeadLetter {
  std::string rule, target;
  std::string event_json;  // minified
};
// One line of a dead-letter file, or nothing when it is not a record we wrote.
std::optional<StoredDeadLetter> parse_dead_letter(std::string_view line);

}  // namespace eventrouter::delivery
