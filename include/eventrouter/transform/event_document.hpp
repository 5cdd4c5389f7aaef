#pragma once
// An event read with simdjson's On-Demand API, so that what a target receives is cut out of the
// event's own text. simdjson's DOM would not do: it refuses numbers past 64-bit integers or the
// double range (valid JSON, which EventBridge and ingest accept), and writing a DOM value back
// out re-spells its numbers (2.50 becomes 2.5).

#include <string>
#include <string_view>

#include <simdjson.h>

#include "eventrouter/util/expected.hpp"

namespace eventrouter::transform {

// Starts reading `event_json`, which is copied (padded) into a buffer of this thread. The
// document belongs to this thread's parser: it stays valid until the next read_event() on the
// same thread. Reading checks the UTF-8 and the strings of the whole text, the structure it walks
// through and each scalar taken out; objects and arrays taken out are copied unchecked, which is
// safe because every event shaped has passed ingest, which validated it in full.
Expected<simdjson::ondemand::document, std::string> read_event(std::string_view event_json);

// The reason given when an event cannot be read: "the event is not valid JSON: ...".
std::string event_not_valid(simdjson::error_code error);

// Appends a value as the event spells it, minified: numbers (whatever their size), strings
// (escapes included) and every nested value keep their text; only whitespace between tokens
// goes.
simdjson::error_code append_as_written(simdjson::ondemand::value value, std::string& out);
simdjson::error_code append_as_written(simdjson::ondemand::document& document, std::string& out);

}  // namespace eventrouter::transform
