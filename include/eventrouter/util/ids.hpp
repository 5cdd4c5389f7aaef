#pragma once
// Identifiers and timestamps as EventBridge writes them.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace eventrouter {

// A random (version 4) UUID in its canonical lower-case form.
std::string make_uuid_v4();

// RFC 3339 in UTC with second precision, as EventBridge writes `time`: 2026-11-20T14:02:11Z.
std::string format_rfc3339(std::chrono::system_clock::time_point when);

// The same with millisecond precision (ingestion time): 2026-11-20T14:02:11.123Z.
std::string format_rfc3339_millis(std::chrono::system_clock::time_point when);

// Parses an RFC 3339 timestamp (date, 'T' or 't' or ' ', time, optional fraction, 'Z' or an
// offset). Returns nothing when the text is not one.
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

}  // namespace eventrouter
